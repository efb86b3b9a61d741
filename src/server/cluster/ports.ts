// Loopback ports for an embedded cluster's six listeners. kwokctl's own
// allocator walks down from 32767 in every process, so clusters created at
// the same time by separate processes (parallel tests, several learners) pick
// the same ports and one component dies with "address already in use".
// Random ports below the kernel's ephemeral range (which starts at 32768 on
// Linux) make such collisions improbable; all candidates are held open until
// the whole set is found, so the six are distinct and free at that moment.

import { createServer, type Server } from 'node:net';

export interface ClusterPorts {
  kubeApiserverPort: number;
  etcdPort: number;
  etcdPeerPort: number;
  kwokControllerPort: number;
  kubeControllerManagerPort: number;
  kubeSchedulerPort: number;
}

const LOW = 20_000;
const HIGH = 32_700;

export async function pickClusterPorts(random: () => number = Math.random): Promise<ClusterPorts> {
  const [a, b, c, d, e, f] = await pickFreePorts(6, random);
  if (f === undefined || a === undefined || b === undefined || c === undefined || d === undefined || e === undefined) {
    throw new Error('could not find 6 free loopback ports');
  }
  return {
    kubeApiserverPort: a,
    etcdPort: b,
    etcdPeerPort: c,
    kwokControllerPort: d,
    kubeControllerManagerPort: e,
    kubeSchedulerPort: f,
  };
}

export async function pickFreePorts(count: number, random: () => number = Math.random): Promise<number[]> {
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    for (let attempt = 0; ports.length < count; attempt++) {
      if (attempt > 200) throw new Error(`no ${count} free loopback ports in ${LOW}-${HIGH}`);
      const port = LOW + Math.floor(random() * (HIGH - LOW));
      if (ports.includes(port)) continue;
      const server = await listen(port);
      if (!server) continue;
      held.push(server);
      ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

function listen(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

/**
 * KwokctlConfiguration passed with --config. bindAddress: kwokctl defaults to
 * 0.0.0.0 and has no flag for it; 127.0.0.1 keeps every component (etcd
 * included) on loopback. The rest of the configuration (CRDs, component
 * tuning) is in kwokctl-config.ts.
 */
export function portOptions(ports: ClusterPorts): Record<string, string | number> {
  return { bindAddress: '127.0.0.1', ...ports };
}
