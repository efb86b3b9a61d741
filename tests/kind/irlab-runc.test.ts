import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// engine/kind/irlab-runc, dockerd's default runtime: drops CAP_SYS_RESOURCE from a container's
// capability sets only when the host's bounding set lacks it, then runs the real runc with the
// same arguments. A fake runc records what it was given and what the bundle said at that moment.

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const WRAPPER = path.join(root, 'engine/kind/irlab-runc');
const FIXTURE = path.join(import.meta.dirname, 'fixtures/privileged-config.json');
const LACKS_SYS_RESOURCE = '000001fffeffffff'; // this VM's CapBnd: bit 24 clear
const HAS_ALL = '000001ffffffffff';

interface Capabilities {
  [set: string]: string[];
}

let dir: string;
let fakeRunc: string;
let record: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'irlab-runc-'));
  record = path.join(dir, 'record');
  fakeRunc = path.join(dir, 'fake-runc');
  // Records its arguments (one a line), then the file named by IRLAB_TEST_SHOW as runc saw it.
  await writeFile(
    fakeRunc,
    '#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "$IRLAB_TEST_RECORD"\n' +
      '[[ -n ${IRLAB_TEST_SHOW:-} ]] && cp "$IRLAB_TEST_SHOW" "$IRLAB_TEST_RECORD.file"\nexit "${IRLAB_TEST_EXIT:-0}"\n',
  );
  await chmod(fakeRunc, 0o755);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function wrapper(args: string[], opts: { capbnd: string; show?: string; exit?: number; cwd?: string }) {
  const env = {
    ...process.env,
    IRLAB_RUNC: fakeRunc,
    IRLAB_CAPBND: opts.capbnd,
    IRLAB_TEST_RECORD: record,
    IRLAB_TEST_SHOW: opts.show ?? '',
    IRLAB_TEST_EXIT: String(opts.exit ?? 0),
  };
  return run(WRAPPER, args, { env, cwd: opts.cwd ?? dir });
}

async function bundle(): Promise<string> {
  const b = path.join(dir, 'bundle');
  await run('mkdir', ['-p', b]);
  await copyFile(FIXTURE, path.join(b, 'config.json'));
  await chmod(path.join(b, 'config.json'), 0o600);
  return b;
}

const json = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
const argsSeen = async () => (await readFile(record, 'utf8')).trimEnd().split('\n');

describe('irlab-runc', () => {
  it('removes CAP_SYS_RESOURCE from every set of config.json on create when CapBnd lacks it', async () => {
    const b = await bundle();
    const config = path.join(b, 'config.json');
    const args = ['--root', '/run/irlab-docker/runtime', '--log', `${b}/log.json`, '--log-format', 'json', 'create', '--bundle', b, '--pid-file', `${b}/pid`, 'c1'];
    await wrapper(args, { capbnd: LACKS_SYS_RESOURCE, show: config });

    expect(await argsSeen()).toEqual(args);
    const before = await json(FIXTURE);
    const seen = await json(`${record}.file`);
    const caps = (seen.process as { capabilities: Capabilities }).capabilities;
    for (const set of ['bounding', 'effective', 'inheritable', 'permitted']) {
      expect(caps[set]).toEqual(['CAP_CHOWN', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN', 'CAP_SYS_TIME']);
    }
    // Nothing else changes, and the file keeps its mode.
    const { capabilities: _a, ...restBefore } = before.process as Record<string, unknown>;
    const { capabilities: _b, ...restSeen } = seen.process as Record<string, unknown>;
    expect(restSeen).toEqual(restBefore);
    expect({ ...seen, process: undefined }).toEqual({ ...before, process: undefined });
    expect((await stat(config)).mode & 0o777).toBe(0o600);
  });

  it('changes nothing when the host has CAP_SYS_RESOURCE', async () => {
    const b = await bundle();
    const config = path.join(b, 'config.json');
    await wrapper(['create', '--bundle', b, 'c1'], { capbnd: HAS_ALL });
    expect(await readFile(config, 'utf8')).toBe(await readFile(FIXTURE, 'utf8'));
    expect(await argsSeen()).toEqual(['create', '--bundle', b, 'c1']);
  });

  it('changes nothing when CapBnd cannot be read', async () => {
    const b = await bundle();
    await wrapper(['create', '--bundle', b, 'c1'], { capbnd: 'not-hex' });
    expect(await readFile(path.join(b, 'config.json'), 'utf8')).toBe(await readFile(FIXTURE, 'utf8'));
  });

  it('reads --bundle=DIR, -b DIR and, for run without a bundle, the working directory', async () => {
    const forms = [(b: string) => ['create', `--bundle=${b}`, 'c1'], (b: string) => ['run', '-b', b, '--detach', 'c1'], () => ['run', 'c1']];
    for (const form of forms) {
      const b = await bundle();
      await wrapper(form(b), { capbnd: LACKS_SYS_RESOURCE, cwd: b });
      const caps = ((await json(path.join(b, 'config.json'))).process as { capabilities: Capabilities }).capabilities;
      expect(caps.bounding).not.toContain('CAP_SYS_RESOURCE');
    }
  });

  it('removes it from the --process file on exec, whose capabilities sit at the top level', async () => {
    const proc = path.join(dir, 'process.json');
    const before = (await json(FIXTURE)).process as Record<string, unknown>;
    await writeFile(proc, JSON.stringify(before));
    const args = ['--root', '/run/x', 'exec', '--process', proc, '--detach', 'c1'];
    await wrapper(args, { capbnd: LACKS_SYS_RESOURCE, show: proc });
    const seen = await json(`${record}.file`);
    expect((seen.capabilities as Capabilities).effective).toEqual(['CAP_CHOWN', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN', 'CAP_SYS_TIME']);
    expect(seen.args).toEqual(before.args);
    expect(await argsSeen()).toEqual(args);
  });

  it('leaves a config without capabilities and other commands alone', async () => {
    const b = await bundle();
    const config = path.join(b, 'config.json');
    const bare = { ...(await json(FIXTURE)), process: { args: ['/bin/true'], cwd: '/' } };
    await writeFile(config, JSON.stringify(bare));
    await wrapper(['create', '--bundle', b, 'c1'], { capbnd: LACKS_SYS_RESOURCE });
    expect(await json(config)).toEqual(bare);
    await copyFile(FIXTURE, config);
    await wrapper(['state', 'c1'], { capbnd: LACKS_SYS_RESOURCE, cwd: b });
    expect(await readFile(config, 'utf8')).toBe(await readFile(FIXTURE, 'utf8'));
  });

  it("passes runc's exit code through", async () => {
    const b = await bundle();
    const failed = await wrapper(['create', '--bundle', b, 'c1'], { capbnd: LACKS_SYS_RESOURCE, exit: 3 }).catch((e: { code: number }) => e);
    expect((failed as { code: number }).code).toBe(3);
  });
});
