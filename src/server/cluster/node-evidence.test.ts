import { describe, expect, it } from 'vitest';
import { collect, isNodeContainerName, NODE_PATHS, planCollection, spawnExec, type NodeExec } from './node-evidence.ts';

const plan = (collection: unknown, args?: unknown) => planCollection(collection, args);

describe('planCollection', () => {
  it('gives each collection its fixed argv', () => {
    expect(plan('containers')).toEqual({ ok: true, plan: { collection: 'containers', file: 'crictl-ps.json', commands: [['crictl', 'ps', '-a', '-o', 'json']] } });
    const id = '3f95ab57fe5f86bebfe7b587d90d675808726aa871cbf36eab706a0574868133';
    expect(plan('container', [id])).toMatchObject({ ok: true, plan: { file: `crictl-inspect-${id}.json`, commands: [['crictl', 'inspect', '-o', 'json', id]] } });
    const files = plan('files', ['dev-shm']);
    expect(files.ok && files.plan.commands.every((argv) => argv.slice(0, 3).join(' ') === `find -P ${NODE_PATHS['dev-shm']}`)).toBe(true);
    const log = plan('pod-log', ['observability_node-monitor-ks7tc_0b1c2d3e-1111-2222-3333-444455556666', 'monitor']);
    expect(log).toMatchObject({ ok: true, plan: { commands: [['find', '-P', '/var/log/pods/observability_node-monitor-ks7tc_0b1c2d3e-1111-2222-3333-444455556666/monitor', '-maxdepth', '1', '-type', 'f', '-name', '*.log', '-exec', 'cat', '{}', '+']] } });
  });

  it('refuses hostile names, traversal and anything off the allow-list, saying what it takes', () => {
    const refused = [
      plan('shell', ['id']),
      plan(undefined),
      plan({ toString: () => 'containers' }),
      plan('containers', ['-a']),
      plan('container', ['../../etc/shadow']),
      plan('container', ['3f95ab57fe5f; rm -rf /']),
      plan('container', ['--help']),
      plan('container', ['3F95AB57FE5F']),
      plan('container', [['3f95ab57fe5f']]),
      plan('files', ['/etc']),
      plan('files', ['../kubelet-pki']),
      plan('files', ['constructor']),
      plan('files', ['__proto__']),
      plan('pod-log', ['..', 'monitor']),
      plan('pod-log', ['observability_node-monitor_../../../etc', 'x']),
      plan('pod-log', ['observability_node-monitor-ks7tc_0b1c2d3e-1111-2222-3333-444455556666', '../../x']),
      plan('pod-log', ['a_b_c_d', 'monitor']),
      plan('containers', 'crictl ps'),
      plan('files', ['tmp', 'x', 'y']),
    ];
    for (const result of refused) expect(result.ok).toBe(false);
    expect(plan('files', ['/etc'])).toEqual({ ok: false, reason: expect.stringContaining('tmp, dev-shm') });
  });

  it('accepts only kind node container names', () => {
    expect(isNodeContainerName('lab-c1bfa3-control-plane')).toBe(true);
    expect(isNodeContainerName('lab-worker2')).toBe(true);
    for (const bad of ['irlab-server', '--privileged', 'x-control-plane;id', '-control-plane', 'a/b-control-plane']) expect(isNodeContainerName(bad)).toBe(false);
  });
});

describe('collect', () => {
  const node = { engine: 'docker', env: {}, container: 'lab-1-control-plane' };

  it('runs `<engine> exec <node> <argv>` per command, argv only, outputs joined', async () => {
    const calls: Array<{ command: string; args: readonly string[] }> = [];
    const exec: NodeExec = async (command, args) => (calls.push({ command, args }), { code: 0, stdout: Buffer.from(`${args.at(-1)}\n`), stderr: '', truncated: false });
    const planned = planCollection('files', ['tmp']);
    if (!planned.ok) throw new Error(planned.reason);
    const out = await collect(node, planned.plan, AbortSignal.timeout(5000), exec);
    expect(calls.map((c) => [c.command, ...c.args.slice(0, 3)])).toEqual([['docker', 'exec', 'lab-1-control-plane', 'find'], ['docker', 'exec', 'lab-1-control-plane', 'find']]);
    expect(out).toMatchObject({ file: 'files-tmp.txt', exitCode: 0, truncated: false });
  });

  it('refuses a node container that is not a kind node', async () => {
    const planned = planCollection('containers', []);
    if (!planned.ok) throw new Error(planned.reason);
    await expect(collect({ ...node, container: 'irlab; id' }, planned.plan, AbortSignal.timeout(5000))).rejects.toThrow(/not a kind node/);
  });

  it('cuts a huge output at the cap, kills the command and says so in the file', async () => {
    const huge = await spawnExec('head', ['-c', '50000000', '/dev/zero'], { env: process.env, signal: AbortSignal.timeout(10_000), maxBytes: 4096 });
    expect(huge.truncated).toBe(true);
    expect(huge.stdout.length).toBe(4096);
    const exec: NodeExec = (_command, _args, options) => spawnExec('head', ['-c', '50000000', '/dev/zero'], options);
    const planned = planCollection('containers', []);
    if (!planned.ok) throw new Error(planned.reason);
    const out = await collect(node, planned.plan, AbortSignal.timeout(10_000), exec, 1000);
    expect(out.truncated).toBe(true);
    expect(out.content.length).toBeLessThan(1100);
    expect(out.content.toString()).toContain('output cut at 1000 bytes');
  });

  it('reports a failing node command with its exit code and message, not as a thrown error', async () => {
    const exec: NodeExec = async () => ({ code: 1, stdout: Buffer.alloc(0), stderr: 'container "abc" not found\n', truncated: false });
    const planned = planCollection('container', ['0123456789ab']);
    if (!planned.ok) throw new Error(planned.reason);
    expect(await collect(node, planned.plan, AbortSignal.timeout(5000), exec)).toMatchObject({ exitCode: 1, error: 'container "abc" not found' });
  });

  it('stops when its time is spent', async () => {
    const exec: NodeExec = (_command, _args, options) => spawnExec('sleep', ['30'], options);
    const planned = planCollection('containers', []);
    if (!planned.ok) throw new Error(planned.reason);
    const started = Date.now();
    const out = await collect(node, planned.plan, AbortSignal.timeout(200), exec).catch((error: unknown) => error);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(out).toBeDefined();
  });
});
