/**
 * irlab's own RSA key pair as an LTI tool: it signs Deep Linking responses and the client
 * assertions of grade passback's token requests; platforms fetch its public half from the JWKS
 * endpoint (/lti/jwks). Generated once and kept, so the platforms' cached copies of our key stay
 * valid across restarts: in the data directory (mode 0600) for one process on SQLite; in the
 * database on PostgreSQL, where several servers (fronts) must all sign with the one key the
 * platform holds (`sharedToolKey`).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JWK } from 'jose';
import type { SqlStore } from '../store/sql-store.ts';

export interface ToolKey {
  kid: string;
  privateKey: KeyObject;
  /** The public key as a JWK with kid, alg and use: what /lti/jwks lists. */
  publicJwk: JWK;
}

/** RFC 7638 thumbprint of an RSA public key: a stable kid. */
function thumbprint(jwk: JWK): string {
  return createHash('sha256').update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n })).digest('base64url');
}

export function toolKeyFrom(privateKey: KeyObject): ToolKey {
  const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const kid = thumbprint(publicJwk);
  return { kid, privateKey, publicJwk: { kty: publicJwk.kty!, n: publicJwk.n!, e: publicJwk.e!, kid, alg: 'RS256', use: 'sig' } };
}

/** The key in `<dataDir>/lti/tool-key.pem`, generated (2048-bit RSA, 0600) the first time. */
export function ensureToolKey(dataDir: string): ToolKey {
  const dir = path.join(dataDir, 'lti');
  const file = path.join(dir, 'tool-key.pem');
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    // wx: two servers starting at once on one data dir must not overwrite each other's key.
    try {
      writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
    } catch (caught) {
      if ((caught as NodeJS.ErrnoException).code !== 'EEXIST') throw caught;
      pem = readFileSync(file, 'utf8');
    }
  }
  chmodSync(file, 0o600);
  return toolKeyFrom(createPrivateKey(pem));
}

/**
 * The one key of every server on this PostgreSQL database. The first to start puts in its data
 * directory's key if it has one (a single server moving to PostgreSQL keeps the key its platforms
 * cached), else a new one; the others, and it, take whichever was stored first.
 */
export async function sharedToolKey(store: SqlStore, dataDir: string): Promise<ToolKey> {
  const stored = async () => (await store.get<{ pem: string }>('SELECT pem FROM lti_tool_key WHERE id = 1'))?.pem;
  let pem = await stored();
  if (!pem) {
    const file = path.join(dataDir, 'lti', 'tool-key.pem');
    const mine = existsSync(file) ? readFileSync(file, 'utf8') : (generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
    await store.run('INSERT INTO lti_tool_key (id, pem, created_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING', [mine, new Date().toISOString()]);
    pem = await stored();
    if (!pem) throw new Error('the LTI tool key could not be stored in the database');
  }
  return toolKeyFrom(createPrivateKey(pem));
}
