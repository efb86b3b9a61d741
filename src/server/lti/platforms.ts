/**
 * The LMS platforms (Moodle, Canvas, ...) the operator registered irlab with: one file
 * (IRLAB_LTI_PLATFORMS, YAML or JSON) listing, per platform, what its LMS administrator's tool
 * registration page shows: issuer, client id, deployment ids, and its login, key set and token
 * URLs. Validated at boot, every problem at once (config.ts); a launch from anything not listed
 * here is refused.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** https, or http on a loopback host (a platform simulator on the same machine). */
const endpoint = z.string().refine(
  (raw) => {
    if (!URL.canParse(raw)) return false;
    const url = new URL(raw);
    if (url.username || url.password || url.hash) return false;
    return url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname));
  },
  { message: 'is not an https URL (http is accepted only on localhost, for a platform simulator); copy it from the LMS\'s tool registration page' },
);

const platformSchema = z.object({
  /** A name for logs and error pages ("Moodle (university)"). */
  name: z.string().trim().min(1).max(100).optional(),
  /** The platform's issuer (`iss` of its id_tokens), exactly as the LMS shows it. */
  issuer: z.string().trim().min(1, 'is empty; copy the platform ID / issuer from the LMS'),
  /** The client id the LMS gave irlab's registration. */
  clientId: z.string().trim().min(1, 'is empty; copy the client ID from the LMS'),
  /** The deployments (installations of the tool) launches may come from. */
  deploymentIds: z.array(z.string().trim().min(1)).min(1, 'lists no deployment; copy the deployment ID(s) from the LMS'),
  /** Where irlab sends the browser to authenticate (OIDC auth request). */
  authLoginUrl: endpoint,
  /** The platform's public keys (its id_tokens' signatures). */
  jwksUrl: endpoint,
  /** The platform's OAuth 2 token endpoint (Assignment and Grade Services). */
  tokenUrl: endpoint,
});

const fileSchema = z.object({ platforms: z.array(platformSchema).min(1, 'lists no platform') }).strict();

export interface Platform {
  name: string;
  issuer: string;
  clientId: string;
  deploymentIds: string[];
  authLoginUrl: string;
  jwksUrl: string;
  tokenUrl: string;
}

export class PlatformFileError extends Error {
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(`${file}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join('\n  ')}`}`);
    this.name = 'PlatformFileError';
    this.problems = problems;
  }
}

/** Parses the text of a platforms file; throws PlatformFileError listing every problem. */
export function parsePlatforms(text: string, file: string): Platform[] {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new PlatformFileError(file, [`is not YAML or JSON: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`]);
  }
  const parsed = fileSchema.safeParse(data);
  if (!parsed.success) {
    throw new PlatformFileError(
      file,
      parsed.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(the file)'} ${issue.message.replace(/^Invalid input: /, 'is invalid: ')}`),
    );
  }
  const platforms = parsed.data.platforms.map((p) => ({ ...p, name: p.name ?? p.issuer }));
  const problems: string[] = [];
  const seen = new Set<string>();
  platforms.forEach((p, index) => {
    const key = `${p.issuer}\n${p.clientId}`;
    if (seen.has(key)) problems.push(`platforms.${index} registers issuer ${p.issuer} with client ID ${p.clientId} a second time; remove one of them`);
    seen.add(key);
  });
  if (problems.length) throw new PlatformFileError(file, problems);
  return platforms;
}

/** Reads and parses the platforms file (at boot). */
export function loadPlatforms(file: string): Platform[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new PlatformFileError(file, [`cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); check IRLAB_LTI_PLATFORMS names an existing file`]);
  }
  return parsePlatforms(text, file);
}

/** The registration a login or launch names: by issuer, and by client id when the request has one. */
export function findPlatform(platforms: readonly Platform[], issuer: string, clientId: string | undefined): Platform | undefined {
  const candidates = platforms.filter((p) => p.issuer === issuer && (clientId === undefined || p.clientId === clientId));
  // Two registrations of one issuer need the client id to tell them apart.
  return candidates.length === 1 ? candidates[0] : undefined;
}
