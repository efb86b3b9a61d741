// Issue 21's multi-process test: 2 fronts and 3 cells (real serve.ts over the built site on one
// PostgreSQL database), each cell in a network namespace this test makes (cell-namespaces.ts: veth
// on the test's own /30s, PostgreSQL reached through a forwarder on the veth's host side). Proves
// the isolation (a cell's etcd and kube-apiserver, on its namespace's loopback, answer inside it
// and from nowhere else: neither the host nor another cell's namespace), that a learner's lab (Start,
// checks) and terminal work through either front on the cell that holds them, that placements
// spread over the three cells, and the cell-kill case: its placements are lost, a check answers 503
// with the lost message, a fresh Start lands on a live cell, and the cell on its return reaps what
// its killed process left.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOST_MESSAGE } from '../../src/server/front/front-proxy.ts';
import { engineChecked, startRealServer, type RealServer } from '../integration/hostile/real-server.ts';
import { clusterPorts, makeCellNamespaces, postgresForwarder, probe, startNamespacedCell, type CellNamespaces, type Forwarder, type NamespacedCell } from './cell-namespaces.ts';
import { freshDatabase } from './fresh-database.ts';
import { call, query, TerminalClient, until } from './lab-client.ts';

const KEY = randomBytes(48).toString('base64');
let database: { url: string; drop(): Promise<void> } | undefined;
let spaces: CellNamespaces | undefined;
const forwarders: Forwarder[] = [];
const cells: NamespacedCell[] = [];
const fronts: RealServer[] = [];
const leftRoots: string[] = [];
let sharedEnv: Record<string, string> = {};
const sql = <T>(text: string, params: unknown[] = []) => query<T>(database!.url, text, params);

async function startCell(n: number, options: { root?: string; port?: number } = {}): Promise<NamespacedCell> {
  const ns = spaces!.namespaces[n]!;
  return startNamespacedCell(ns, `cell-${n + 1}`, { ...sharedEnv, IRLAB_DATABASE_URL: forwarders[n]!.url, IRLAB_CELL_CAPACITY: '4' }, options);
}

beforeAll(async () => {
  database = await freshDatabase('irlab_netns');
  sharedEnv = { IRLAB_CELL_FORWARD_KEY: KEY, IRLAB_CELL_HEARTBEAT_SECONDS: '1', IRLAB_CELL_EXPIRE_SECONDS: '4' };
  spaces = await makeCellNamespaces(3);
  for (const ns of spaces.namespaces) forwarders.push(await postgresForwarder(database.url, ns.hostAddress));
  // The first migrates; the others find the tables.
  for (let n = 0; n < 3; n++) cells.push(await startCell(n));
  for (let i = 0; i < 2; i++) fronts.push(await startRealServer({ ...sharedEnv, IRLAB_DATABASE_URL: database.url, IRLAB_ROLE: 'front' }));
  await until('three cells live in the registry', async () => ((await sql<{ id: string }>("SELECT id FROM cells WHERE state = 'live'")).length === 3 ? true : undefined));
  for (const cell of cells) await engineChecked(cell);
}, 300_000);

afterAll(async () => {
  for (const server of [...fronts, ...cells]) await server.stop().catch((error: unknown) => console.error(`stopping a server: ${String(error)}`));
  for (const forwarder of forwarders) await forwarder.close();
  // Last: kills whatever is left in the namespaces (a killed cell's clusters), then checks none is left.
  await spaces?.teardown();
  for (const dir of leftRoots) await rm(dir, { recursive: true, force: true });
  await database?.drop();
}, 180_000);

type Started = { error?: string; run?: { cluster: string } };
type Checked = { error?: string; result?: { criteria: unknown[] } };

describe('two fronts and three cells, each cell in a network namespace of its own', () => {
  const learners: Array<{ cookie: string; cluster: string; cellId: string }> = [];

  it('runs labs and terminals through either front, spread over the three cells, each cluster unreachable outside its namespace', async () => {
    // Three learners start through alternate fronts: one slot each, on three cells.
    for (let i = 0; i < 3; i++) {
      const started = await call<Started>(fronts[i % 2]!.base, '/api/labs/l18/start', { body: {} });
      expect(started.status, started.body.error).toBe(200);
      learners.push({ cookie: started.cookie, cluster: started.body.run!.cluster, cellId: '' });
    }
    const placements = await sql<{ cell_id: string; learner_id: string }>('SELECT cell_id, learner_id FROM placements WHERE lost = 0 ORDER BY created_at');
    expect(placements).toHaveLength(3);
    expect(new Set(placements.map((p) => p.cell_id))).toEqual(new Set(['cell-1', 'cell-2', 'cell-3']));
    placements.forEach((p, i) => (learners[i]!.cellId = p.cell_id));

    // Each learner's checks through either front: the same verdicts, graded by their cell.
    for (const learner of learners) {
      const viaFirst = await call<Checked>(fronts[0]!.base, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: learner.cookie });
      const viaSecond = await call<Checked>(fronts[1]!.base, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: learner.cookie });
      expect([viaFirst.status, viaSecond.status], viaFirst.body.error ?? viaSecond.body.error).toEqual([200, 200]);
      expect(viaFirst.body.result?.criteria.length).toBeGreaterThan(0);
      expect(JSON.stringify(viaSecond.body.result?.criteria)).toBe(JSON.stringify(viaFirst.body.result?.criteria));
    }

    // The terminal, opened through one front and relayed through the other, on the learner's cluster.
    for (const [learner, [openVia, relayVia]] of [
      [learners[0]!, [fronts[0]!, fronts[1]!]],
      [learners[1]!, [fronts[1]!, fronts[0]!]],
    ] as const) {
      const opened = await call<{ socketPath: string; cluster: string | null; error?: string }>(openVia.base, '/api/terminal/session', { body: { cols: 200, rows: 50 }, cookie: learner.cookie });
      expect(opened.status, opened.body.error).toBe(200);
      expect(opened.body.cluster).toBe(learner.cluster);
      const client = new TerminalClient();
      await client.connect(`ws://127.0.0.1:${relayVia.port}${opened.body.socketPath}`, { cookie: learner.cookie, origin: relayVia.base });
      expect(await client.run('kubectl get ns')).toMatch(/kube-system/);
      client.ws!.close();
    }

    // Isolation: each cell's etcd and kube-apiserver answer on its namespace's loopback only.
    for (const [n, cell] of cells.entries()) {
      const [ports] = await clusterPorts(path.join(cell.root, 'kwok'));
      expect(ports?.cluster, `cell ${cell.id} made no cluster`).toBe(learners.find((l) => l.cellId === cell.id)?.cluster);
      for (const port of [ports!.etcd, ports!.apiserver]) {
        expect(await probe(cell.ns, '127.0.0.1', port)).toBe('open');
        expect(await probe(undefined, '127.0.0.1', port)).not.toBe('open');
        expect(await probe(undefined, cell.ns.cellAddress, port)).not.toBe('open');
        const other = cells[(n + 1) % 3]!;
        expect(await probe(other.ns, '127.0.0.1', port)).not.toBe('open');
        expect(await probe(other.ns, cell.ns.cellAddress, port)).not.toBe('open');
      }
      // While the cell itself is reachable from the host namespace at its address.
      expect(await probe(undefined, cell.ns.cellAddress, cell.port)).toBe('open');
    }
  }, 420_000);

  it('loses a killed cell\'s placement, starts the learner again on a live cell, and the cell reaps on its return', async () => {
    const learner = learners[0]!;
    const index = cells.findIndex((c) => c.id === learner.cellId);
    const victim = cells[index]!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    // Its clusters outlive it in its namespace until it returns.
    const [orphan] = await clusterPorts(path.join(victim.root, 'kwok'));
    expect(await probe(victim.ns, '127.0.0.1', orphan!.apiserver)).toBe('open');

    await until('the placement marked lost', async () => (Number((await sql<{ lost: string }>('SELECT lost FROM placements WHERE cell_id = $1', [victim.id]))[0]?.lost) === 1 ? true : undefined), 60_000);
    for (const front of fronts) {
      const lost = await call<{ error: string; lost?: boolean }>(front.base, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: learner.cookie });
      expect(lost.status).toBe(503);
      expect(lost.body.error).toBe(LOST_MESSAGE);
    }
    // The others' placements are untouched.
    expect((await sql<{ cell_id: string }>('SELECT cell_id FROM placements WHERE lost = 1')).map((p) => p.cell_id)).toEqual([victim.id]);

    const again = await call<Started>(fronts[1]!.base, '/api/labs/l18/start', { body: {}, cookie: learner.cookie });
    expect(again.status, again.body.error).toBe(200);
    const [moved] = await sql<{ cell_id: string; lost: string }>("SELECT p.cell_id, p.lost FROM placements p JOIN cells c ON c.id = p.cell_id WHERE c.state = 'live' AND p.created_at = (SELECT MAX(created_at) FROM placements)");
    expect(moved?.lost).toBe('0');
    expect(moved?.cell_id).not.toBe(victim.id);
    const checked = await call<Checked>(fronts[0]!.base, '/api/labs/l18/check', { body: { step: 'audit-policy' }, cookie: learner.cookie });
    expect(checked.status, checked.body.error).toBe(200);

    // The cell returns in its namespace on its directory: it reaps the cluster its killed process left.
    const back = await startCell(index, { root: victim.root, port: victim.port });
    cells[index] = back;
    leftRoots.push(victim.root);
    await until('the returning cell to reap', async () => (back.output.some((line) => /reaped \d+ cluster/.test(line)) ? true : undefined), 120_000);
    await until('the orphaned kube-apiserver gone', async () => ((await probe(victim.ns, '127.0.0.1', orphan!.apiserver)) !== 'open' ? true : undefined), 60_000);
  }, 300_000);
});
