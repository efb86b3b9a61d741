// What an attacker left, with the modes a real attacker's files have: a copied private key (the
// node-escape scenario's stolen kubelet credential) is 0600 as `cp` of the kubelet's 0600 file
// leaves it, on this machine and in the archive written into the kind node.
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KindNode } from '../cluster/kind-workloads.ts';
import { nodeRunner, type Runner } from '../cluster/runtime.ts';
import { writeNodeEvidence, writePodTree } from './pod-evidence.ts';

const run = promisify(execFile);
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'sec1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
/** What the kubelet keeps in kubelet-client-current.pem: its certificate and its key in one file. */
const kubeletPem = `-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n${privateKey}`;
const values = { nodeCredentialPem: kubeletPem, agentSuffix: 'x7k2', outsideIp: '203.0.113.7', c2Port: '8443' };
const mode = async (file: string) => (await stat(file)).mode & 0o777;

let work: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-pod-evidence-'));
});
afterEach(() => rm(work, { recursive: true, force: true }));

describe('the files an attacker left', () => {
  it('a copied private key is 0600, a script 0755, anything else 0644', async () => {
    const templates = path.join(work, 'templates');
    await run('mkdir', ['-p', path.join(templates, 'dev/shm/.kcache'), path.join(templates, 'tmp')]);
    await writeFile(path.join(templates, 'dev/shm/.kcache/kubelet-client.pem'), '{{ nodeCredentialPem }}');
    await writeFile(path.join(templates, 'tmp/.escape.sh'), '#!/bin/sh\n');
    await writeFile(path.join(templates, 'tmp/notes'), 'beacon {{ outsideIp }}\n');
    const rootfs = path.join(work, 'rootfs');
    await writePodTree(templates, rootfs, values);
    expect(await mode(path.join(rootfs, 'dev/shm/.kcache/kubelet-client.pem'))).toBe(0o600);
    expect(await readFile(path.join(rootfs, 'dev/shm/.kcache/kubelet-client.pem'), 'utf8')).toBe(kubeletPem);
    expect(await mode(path.join(rootfs, 'tmp/.escape.sh'))).toBe(0o755);
    expect(await mode(path.join(rootfs, 'tmp/notes'))).toBe(0o644 & ~process.umask());
  });

  it("node-escape's files reach the node with those modes: the archive unpacked there holds the stolen key as 0600", async () => {
    // The node's side is `docker exec <node> sh -c '... | tar -x -C /'`: keep the archive it is given.
    const archives: Buffer[] = [];
    const runner: Runner = {
      run: async (command, args, options) => {
        if (command !== 'docker') return nodeRunner.run(command, args, options);
        archives.push(Buffer.from(args.at(-1)!, 'base64'));
        return { code: 0, stdout: '', stderr: '' };
      },
    };
    const node: KindNode = { engine: { engine: 'docker', env: {}, ours: false }, container: 'lab-1-control-plane', runner };
    const files = await writeNodeEvidence(node, path.join(process.cwd(), 'scenarios/node-escape/node-files'), values);
    expect(files.map((f) => f.path)).toContain('/dev/shm/.kcache/kubelet-client.pem');
    expect(archives).toHaveLength(1);
    await writeFile(path.join(work, 'node.tar'), archives[0]!);
    const listing = (await run('tar', ['-tvf', path.join(work, 'node.tar')])).stdout.split('\n').filter(Boolean);
    const modeOf = (file: string) => listing.find((line) => line.endsWith(` ${file}`))?.split(/\s+/)[0];
    expect(modeOf('dev/shm/.kcache/kubelet-client.pem')).toBe('-rw-------');
    expect(modeOf('tmp/.kh')).toBe('-rw-r--r--');
  });
});
