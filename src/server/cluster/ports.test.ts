import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { isPortConflict } from './embedded-create.ts';
import { kwokctlConfigYaml } from './kwokctl-config.ts';
import { pickClusterPorts, pickFreePorts } from './ports.ts';

describe('port selection', () => {
  it('skips a port another process listens on, and never repeats one', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen({ port: 0, host: '127.0.0.1' }, resolve));
    const address = taken.address();
    const busy = typeof address === 'object' && address ? address.port : 0;
    // Candidates in order: the busy port (if in range), a repeat, then fresh ones.
    const low = 20_000;
    const span = 32_700 - low;
    const wanted = [busy >= low && busy < 32_700 ? busy : low + 1, low + 1, low + 1, low + 2, low + 3];
    let i = 0;
    const random = () => ((wanted[i++] ?? low + 100 + i) - low) / span;
    try {
      const ports = await pickFreePorts(3, random);
      expect(new Set(ports).size).toBe(3);
      expect(ports).not.toContain(busy);
    } finally {
      taken.close();
    }
  });

  it('gives six distinct ports and a loopback-only kwokctl config', async () => {
    const ports = await pickClusterPorts();
    expect(new Set(Object.values(ports)).size).toBe(6);
    const config = parse(kwokctlConfigYaml(ports)) as { kind: string; options: Record<string, unknown> };
    expect(config.kind).toBe('KwokctlConfiguration');
    expect(config.options).toEqual({ bindAddress: '127.0.0.1', ...ports, enableCRDs: ['Exec', 'Logs'] });
  });

  it('recognises the errors of a lost port race', () => {
    expect(isPortConflict(new Error('kwok-controller exited at startup:\nlisten tcp 127.0.0.1:32741: bind: address already in use'))).toBe(true);
    expect(isPortConflict(new Error('loading audit policy file: omitStages[0]: Invalid value'))).toBe(false);
  });
});
