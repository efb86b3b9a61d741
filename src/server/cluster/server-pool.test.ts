import { describe, expect, it } from 'vitest';

import { poolConfigFromEnv } from './server-pool.ts';

describe('poolConfigFromEnv', () => {
  it('defaults to one warm cluster, 30 minutes idle, state in the data dir', () => {
    expect(poolConfigFromEnv({}, '/srv/irlab')).toEqual({
      size: 1,
      idleTtlMs: 1_800_000,
      stateDir: '/srv/irlab/.irlab/data/cluster-pool',
      watchdog: { intervalMs: 5_000, readyzEveryMs: 30_000 },
    });
  });

  it('reads size, TTL and IRLAB_DATA_DIR', () => {
    const env = { IRLAB_WARM_POOL_SIZE: '3', IRLAB_WARM_POOL_IDLE_TTL_SECONDS: '600', IRLAB_DATA_DIR: '/var/lib/irlab' };
    expect(poolConfigFromEnv(env, '/srv')).toEqual({ size: 3, idleTtlMs: 600_000, stateDir: '/var/lib/irlab/cluster-pool', watchdog: { intervalMs: 5_000, readyzEveryMs: 30_000 } });
  });

  it('reads the watchdog settings; 0 turns it off', () => {
    expect(poolConfigFromEnv({ IRLAB_WATCHDOG_SECONDS: '2', IRLAB_WATCHDOG_READYZ_SECONDS: '10' }, '/srv').watchdog).toEqual({ intervalMs: 2_000, readyzEveryMs: 10_000 });
    expect(poolConfigFromEnv({ IRLAB_WATCHDOG_SECONDS: '0' }, '/srv').watchdog).toBeUndefined();
    expect(() => poolConfigFromEnv({ IRLAB_WATCHDOG_SECONDS: 'often' })).toThrow(/IRLAB_WATCHDOG_SECONDS="often" is not a whole number from 0 to 3600/);
  });

  it('says what is wrong with a bad value and how to fix it', () => {
    expect(() => poolConfigFromEnv({ IRLAB_WARM_POOL_SIZE: 'two' })).toThrow(/IRLAB_WARM_POOL_SIZE="two" is not a whole number from 0 to 50/);
    expect(() => poolConfigFromEnv({ IRLAB_WARM_POOL_IDLE_TTL_SECONDS: '1' })).toThrow(/from 10 to/);
  });
});
