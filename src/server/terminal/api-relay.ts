/**
 * The one door out of the shell's network namespace: a Unix socket, bound into the sandbox, that
 * leads to the learner's own API server and nowhere else. Inside, socat listens on the API
 * server's loopback address and port and forwards to this socket, so the unchanged kubeconfig
 * (https://127.0.0.1:PORT, its certificates and all) works, while every other port on the
 * host's loopback (other learners' etcd and API servers, irlab itself) is unreachable.
 */
import { chownSync, rmSync } from 'node:fs';
import net from 'node:net';
import { parse } from 'yaml';

export interface ApiServerAddress {
  host: string;
  port: number;
}

/** The API server a (flattened, single-context) kubeconfig talks to. */
export function apiServerOf(kubeconfigYaml: string): ApiServerAddress {
  const config = parse(kubeconfigYaml) as { clusters?: Array<{ cluster?: { server?: string } }> };
  const server = config.clusters?.[0]?.cluster?.server;
  if (!server) throw new Error('the kubeconfig names no API server (clusters[0].cluster.server)');
  const url = new URL(server);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port };
}

export interface ApiRelay {
  socketPath: string;
  close(): void;
}

/** Listens on `socketPath` (owned by the sandbox user) and pipes each connection to `target`. */
export async function startApiRelay(socketPath: string, target: ApiServerAddress, owner: { uid: number; gid: number } | null): Promise<ApiRelay> {
  rmSync(socketPath, { force: true });
  const open = new Set<net.Socket>();
  const server = net.createServer((inside) => {
    const outside = net.connect(target.port, target.host);
    for (const socket of [inside, outside]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => {
        inside.destroy();
        outside.destroy();
      });
    }
    inside.pipe(outside).pipe(inside);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  if (owner) chownSync(socketPath, owner.uid, owner.gid);
  return {
    socketPath,
    close() {
      server.close();
      for (const socket of open) socket.destroy();
      rmSync(socketPath, { force: true });
    },
  };
}
