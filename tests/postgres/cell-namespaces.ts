/**
 * Cells in network namespaces of their own, for the fronts-and-cells tests (issue 21): per cell a
 * namespace `irlab-t<random>-c<n>`, a veth pair on a /30 of 10.213.0.0/16 that no route of the
 * machine covers (host side .1, cell side .2), `lo` up inside; the cell process (serve.ts) runs in
 * it through `ip netns exec`, listens on its namespace address, and reaches PostgreSQL, which
 * listens on the host's loopback only, through a TCP forwarder this module opens on the veth's host
 * side (bounded, closed at teardown). Teardown kills what runs in the namespaces (only processes
 * this module started can be in them), deletes the links and the namespaces, and checks that none
 * is left. Needs root (`ip netns`).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startRealServer, type RealServer } from '../integration/hostile/real-server.ts';

const run = promisify(execFile);
const ip = async (...args: string[]) => (await run('ip', args, { timeout: 30_000 })).stdout;

export interface CellNamespace {
  name: string;
  /** The veth's address on the host side (where this cell's PostgreSQL forwarder listens). */
  hostAddress: string;
  /** The cell's address inside its namespace (where it listens; fronts reach it there). */
  cellAddress: string;
  hostLink: string;
}

/** A /24 of 10.213.0.0/16 that no route or address of the machine overlaps. */
async function freeSubnet(): Promise<string> {
  const taken = `${await ip('-4', 'route', 'show', 'table', 'all')}\n${await ip('-4', '-o', 'addr')}`;
  for (let attempt = 0; attempt < 50; attempt++) {
    const prefix = `10.213.${1 + Math.floor(Math.random() * 254)}`;
    // Anything in 10.213.x or a route covering all of 10.0.0.0/8 or 10.213.0.0/16 is a clash.
    if (!taken.includes(`${prefix}.`) && !/\b10\.0\.0\.0\/8\b|\b10\.213\.0\.0\/16\b/.test(taken)) return prefix;
  }
  throw new Error('no /24 of 10.213.0.0/16 is free of the machine\'s routes; see `ip route`');
}

export interface CellNamespaces {
  tag: string;
  namespaces: CellNamespace[];
  /** Runs a command inside a namespace. */
  exec(ns: CellNamespace, command: string[]): Promise<string>;
  teardown(): Promise<void>;
}

/** Another link (another test file's namespaces, made at the same moment) with an address in `prefix`. */
async function clashes(prefix: string, ours: string[]): Promise<boolean> {
  return (await ip('-4', '-o', 'addr')).split('\n').some((line) => line.includes(` ${prefix}.`) && !ours.some((link) => line.includes(` ${link} `) || line.includes(` ${link}@`)));
}

export async function makeCellNamespaces(count: number): Promise<CellNamespaces> {
  if (process.getuid?.() !== 0) throw new Error('cell-namespaces: making network namespaces and veth pairs (`ip netns`) needs root; run the postgres stage as root');
  for (let attempt = 1; ; attempt++) {
    const made = await makeOn(await freeSubnet(), count);
    if (!(await clashes(made.prefix, made.namespaces.map((ns) => ns.hostLink)))) return made;
    await made.teardown();
    if (attempt >= 5) throw new Error('the test\'s /24s kept clashing with another test\'s; see `ip -4 addr`');
  }
}

async function makeOn(prefix: string, count: number): Promise<CellNamespaces & { prefix: string }> {
  const tag = randomBytes(3).toString('hex');
  const namespaces: CellNamespace[] = [];
  const teardown = async () => {
    const problems: string[] = [];
    for (const ns of namespaces) {
      // Whatever still runs in it was started here (a cell, its clusters, its shells).
      const pids = (await ip('netns', 'pids', ns.name).catch(() => '')).split(/\s+/).filter(Boolean);
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await ip('link', 'del', ns.hostLink).catch(() => undefined);
      await ip('netns', 'del', ns.name).catch((error: unknown) => problems.push(`deleting ${ns.name}: ${String(error)}`));
    }
    const left = `${await ip('netns', 'list')}\n${await ip('-o', 'link')}`;
    if (left.includes(`irlab-t${tag}`) || left.includes(`it${tag}`)) problems.push(`left behind:\n${left}`);
    if (problems.length) throw new Error(`tearing down the cell namespaces: ${problems.join('; ')}`);
  };
  try {
    for (let n = 1; n <= count; n++) {
      const ns: CellNamespace = { name: `irlab-t${tag}-c${n}`, hostAddress: `${prefix}.${4 * n + 1}`, cellAddress: `${prefix}.${4 * n + 2}`, hostLink: `it${tag}h${n}` };
      const cellLink = `it${tag}c${n}`;
      await ip('netns', 'add', ns.name);
      namespaces.push(ns);
      await ip('link', 'add', ns.hostLink, 'type', 'veth', 'peer', 'name', cellLink, 'netns', ns.name);
      await ip('addr', 'add', `${ns.hostAddress}/30`, 'dev', ns.hostLink);
      await ip('link', 'set', ns.hostLink, 'up');
      await ip('-n', ns.name, 'addr', 'add', `${ns.cellAddress}/30`, 'dev', cellLink);
      await ip('-n', ns.name, 'link', 'set', cellLink, 'up');
      await ip('-n', ns.name, 'link', 'set', 'lo', 'up');
      // kube-apiserver picks its advertise address from the default route (as a pod's is its
      // veth): the host side (with ip_forward off, as here, the host routes nothing on to another cell).
      await ip('-n', ns.name, 'route', 'add', 'default', 'via', ns.hostAddress);
    }
  } catch (error) {
    await teardown().catch(() => undefined);
    throw error;
  }
  return { tag, prefix, namespaces, exec: async (ns, command) => (await run('ip', ['netns', 'exec', ns.name, ...command], { timeout: 30_000 })).stdout, teardown };
}

export interface Forwarder {
  url: string;
  close(): Promise<void>;
}

/**
 * A TCP forwarder on `listenHost` to PostgreSQL's loopback port, with at most `maxConnections`
 * at once; `databaseUrl` rewritten to go through it.
 */
// 64: well above the one cell's pool that uses it (postgres-store.ts: 10 connections).
export async function postgresForwarder(databaseUrl: string, listenHost: string, maxConnections = 64): Promise<Forwarder> {
  const target = new URL(databaseUrl);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => undefined); // a paused PostgreSQL refuses; both ends are closed below
    }
    client.pipe(upstream).on('close', () => client.destroy());
    upstream.pipe(client);
    upstream.once('close', () => client.destroy());
    client.once('close', () => upstream.destroy());
  });
  server.maxConnections = maxConnections;
  await new Promise<void>((resolve, reject) => (server.once('error', reject), server.listen(0, listenHost, resolve)));
  const address = server.address();
  const url = new URL(databaseUrl);
  url.hostname = listenHost;
  url.port = String(typeof address === 'object' && address ? address.port : 0);
  return {
    url: url.toString(),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Whether something answers a TCP connect at host:port, from the host namespace (ns undefined) or
 * from inside `ns`: 'open', or the error's code (ECONNREFUSED, ENETUNREACH, ETIMEDOUT...).
 */
export async function probe(ns: CellNamespace | undefined, host: string, port: number): Promise<string> {
  const script = `const s=require('node:net').connect({host:${JSON.stringify(host)},port:${port}});s.setTimeout(3000);s.on('connect',()=>{console.log('open');s.destroy()});s.on('timeout',()=>{console.log('ETIMEDOUT');s.destroy()});s.on('error',(e)=>console.log(e.code))`;
  const command = ns ? ['ip', ['netns', 'exec', ns.name, process.execPath, '-e', script]] as const : [process.execPath, ['-e', script]] as const;
  return (await run(command[0], [...command[1]], { timeout: 20_000 })).stdout.trim();
}

/**
 * Whether something in `ns` (undefined: the host's namespace) listens on `port` itself. A loopback
 * port is per namespace, so a connection there that succeeds while this is true reached that
 * namespace's own process (another test's cluster on the host, another cell's on the same port),
 * never the cell's being probed.
 */
export async function listensIn(ns: CellNamespace | undefined, port: number): Promise<boolean> {
  const ss = ['ss', '-Hltn', `sport = :${port}`];
  const [command, ...args] = ns ? ['ip', 'netns', 'exec', ns.name, ...ss] : ss;
  return (await run(command!, args, { timeout: 20_000 })).stdout.trim() !== '';
}

/** The etcd and kube-apiserver ports of the clusters a cell made (from kwokctl's saved configuration). */
export async function clusterPorts(kwokDir: string): Promise<Array<{ cluster: string; etcd: number; apiserver: number }>> {
  const clusters = path.join(kwokDir, 'clusters');
  if (!existsSync(clusters)) return [];
  const found = [];
  for (const cluster of await readdir(clusters)) {
    const file = path.join(clusters, cluster, 'kwok.yaml');
    if (!existsSync(file)) continue;
    const text = await readFile(file, 'utf8');
    const etcd = /etcdPort:\s*(\d+)/.exec(text)?.[1];
    const apiserver = /kubeApiserverPort:\s*(\d+)/.exec(text)?.[1];
    if (etcd && apiserver) found.push({ cluster, etcd: Number(etcd), apiserver: Number(apiserver) });
  }
  return found;
}

export interface NamespacedCell extends RealServer {
  ns: CellNamespace;
  id: string;
  /** The directory holding data/ and kwok/ (a restarted cell starts on it again). */
  root: string;
}

/**
 * serve.ts as a cell inside `ns`, listening on the namespace's address (as real-server.ts starts
 * one on the loopback): resolves once /api/health answers from the host namespace.
 */
export async function startNamespacedCell(ns: CellNamespace, id: string, env: Record<string, string>, options: { root?: string; port?: number } = {}): Promise<NamespacedCell> {
  const dir = options.root ?? (await mkdtemp(path.join(tmpdir(), 'irlab-netns-cell-')));
  // A new namespace has every port free.
  const port = options.port ?? 20_000 + Math.floor(Math.random() * 10_000);
  const base = `http://${ns.cellAddress}:${port}`;
  const server = await startRealServer(
    { PORT: String(port), IRLAB_ROLE: 'cell', IRLAB_CELL_ID: id, IRLAB_CELL_URL: base, ...env },
    { root: dir, within: ['ip', 'netns', 'exec', ns.name], host: ns.cellAddress, startTimeoutMs: 90_000 },
  );
  // A directory made here goes with the cell; a caller's (a restart on it) stays.
  const stop = async () => {
    await server.stop();
    if (!options.root) await rm(dir, { recursive: true, force: true });
  };
  return { ...server, stop, ns, id, root: dir };
}
