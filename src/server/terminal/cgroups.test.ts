import { describe, expect, it } from 'vitest';
import { DEFAULT_SHELL_LIMITS, knobsFor, locateCgroups, shellLimitsFromEnv } from './cgroups.ts';
import { parseMountinfo } from './mountinfo.ts';

// Where the shells' groups go on the layouts irlab meets. The real hierarchy of this host (v1)
// is exercised by tests/integration/terminal-budgets.test.ts.
const v1Host = parseMountinfo(`31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`);
const v1Self = '9:name=systemd:/\n8:pids:/\n4:memory:/process_api/0a06\n2:cpu,cpuacct:/\n0::/\n';

describe('cgroups', () => {
  it('nests under our own group in each v1 hierarchy (cpu,cpuacct mounted together included)', () => {
    expect(locateCgroups(v1Host, v1Self)).toEqual({
      version: 1,
      dirs: { pids: '/sys/fs/cgroup/pids', memory: '/sys/fs/cgroup/memory/process_api/0a06', cpu: '/sys/fs/cgroup/cpu,cpuacct' },
    });
  });

  it('uses the unified hierarchy when the controllers are not on v1, with a mount root of a subtree (a container)', () => {
    const v2 = parseMountinfo('29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot');
    expect(locateCgroups(v2, '0::/system.slice/irlab.service\n')).toEqual({ version: 2, dir: '/sys/fs/cgroup/system.slice/irlab.service' });
    const container = parseMountinfo('40 30 0:26 /kubepods/pod1 /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw');
    expect(locateCgroups(container, '0::/kubepods/pod1/app\n')).toEqual({ version: 2, dir: '/sys/fs/cgroup/app' });
    expect(locateCgroups([], '0::/\n')).toEqual({ problem: expect.stringMatching(/no cgroup hierarchy has the pids, memory and cpu controllers/) });
  });

  it('writes pids, memory with no swap on top, and an equal CPU share, in each version\'s files', () => {
    const limits = { pidsMax: 128, memoryBytes: 256 * 1024 * 1024, cpuWeight: 100 };
    expect(knobsFor(1, limits).map((k) => `${k.file}=${k.value}`)).toEqual(['pids.max=128', 'memory.limit_in_bytes=268435456', 'memory.memsw.limit_in_bytes=268435456', 'cpu.shares=1024']);
    expect(knobsFor(2, limits).map((k) => `${k.file}=${k.value}`)).toEqual(['pids.max=128', 'memory.max=268435456', 'memory.swap.max=0', 'cpu.weight=100']);
  });

  it('reads its limits from the environment and refuses nonsense', () => {
    expect(shellLimitsFromEnv({})).toEqual(DEFAULT_SHELL_LIMITS);
    expect(shellLimitsFromEnv({ IRLAB_SHELL_PIDS_MAX: '64', IRLAB_SHELL_MEMORY_MB: '128', IRLAB_SHELL_CPU_WEIGHT: '50' })).toEqual({ pidsMax: 64, memoryBytes: 128 * 1024 * 1024, cpuWeight: 50 });
    expect(() => shellLimitsFromEnv({ IRLAB_SHELL_PIDS_MAX: '-1' })).toThrow(/IRLAB_SHELL_PIDS_MAX="-1" must be a whole number/);
    expect(() => shellLimitsFromEnv({ IRLAB_SHELL_CPU_WEIGHT: '20000' })).toThrow(/from 1 to 10000/);
  });
});
