import { chmod, lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { kwokObjectsFor } from './pod-runtime.ts';
import { mkdirInside, podOwner, podPaths, writeDefaultTree } from './pod-tree.ts';

let dir: string;
let busybox: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irlab-pod-tree-'));
  // Stands in for busybox-static: answers --list-full like it does.
  busybox = join(dir, 'busybox');
  await writeFile(busybox, '#!/bin/sh\nprintf "bin/sh\\nbin/busybox\\nusr/bin/tar\\nlinuxrc\\nbin/../../escape\\n"\n');
  await chmod(busybox, 0o755);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the default pod tree', () => {
  it('holds busybox, its applet links, hostname, passwd, /tmp 1777 and the mount points', async () => {
    const { rootfs } = podPaths(join(dir, 'cluster'), 'production', 'web-1');
    await writeDefaultTree(rootfs, { name: 'web-1', namespace: 'production', ip: '10.0.0.7' }, busybox);
    expect(await readlink(join(rootfs, 'bin/sh'))).toBe('/bin/busybox');
    expect(await readlink(join(rootfs, 'usr/bin/tar'))).toBe('/bin/busybox');
    expect((await lstat(join(rootfs, 'bin/busybox'))).isFile()).toBe(true);
    expect(await readFile(join(rootfs, 'etc/hostname'), 'utf8')).toBe('web-1\n');
    expect(await readFile(join(rootfs, 'etc/hosts'), 'utf8')).toContain('10.0.0.7\tweb-1');
    expect((await lstat(join(rootfs, 'tmp'))).mode & 0o7777).toBe(0o1777);
    for (const mountPoint of ['proc', 'dev']) expect((await lstat(join(rootfs, mountPoint))).isDirectory()).toBe(true);
    await expect(lstat(join(rootfs, 'linuxrc'))).rejects.toThrow(/ENOENT/);
    await expect(lstat(join(dir, 'cluster', 'escape'))).rejects.toThrow(/ENOENT/);
  });

  it('keeps what a scenario wrote and never follows a planted symlink', async () => {
    const { rootfs } = podPaths(join(dir, 'cluster'), 'production', 'web-1');
    const outside = join(dir, 'outside');
    await mkdir(outside);
    await mkdir(join(rootfs, 'etc'), { recursive: true });
    await writeFile(join(rootfs, 'etc/hostname'), 'from-the-scenario\n');
    await symlink(join(outside, 'hosts'), join(rootfs, 'etc/hosts'));
    await writeDefaultTree(rootfs, { name: 'web-1', namespace: 'production' }, busybox);
    expect(await readFile(join(rootfs, 'etc/hostname'), 'utf8')).toBe('from-the-scenario\n');
    await expect(lstat(join(outside, 'hosts'))).rejects.toThrow(/ENOENT/);
    await symlink(outside, join(rootfs, 'usr-link'));
    await expect(mkdirInside(rootfs, 'usr-link/bin')).rejects.toThrow(/not a directory/);
    await expect(mkdirInside(rootfs, '../x')).rejects.toThrow(/leaves the pod tree/);
  });
});

describe("the pods' owner", () => {
  it('is 300000 + the API server port, for the tree and the sandbox alike', () => {
    expect(podOwner('https://127.0.0.1:28590')).toEqual({ uid: 328_590, gid: 328_590 });
    expect(() => podOwner('https://127.0.0.1')).toThrow(/has no port/);
    expect(() => podOwner('')).toThrow(/has no port/);
  });

  // lchown needs root (the server runs as root; so do these tests on CI).
  it.skipIf(process.getuid?.() !== 0)('is given the whole tree, and nothing a planted symlink points at', async () => {
    const { rootfs } = podPaths(join(dir, 'cluster'), 'production', 'web-1');
    const outside = join(dir, 'outside');
    await writeFile(outside, 'host file\n');
    await mkdir(join(rootfs, 'tmp'), { recursive: true });
    await symlink(outside, join(rootfs, 'tmp', 'link'));
    const owner = podOwner('https://127.0.0.1:28590');
    await writeDefaultTree(rootfs, { name: 'web-1', namespace: 'production' }, busybox, owner);
    for (const path of ['.', 'bin/busybox', 'bin/sh', 'etc/hostname', 'tmp', 'tmp/link']) {
      expect((await lstat(join(rootfs, path))).uid, path).toBe(328_590);
    }
    expect((await lstat(outside)).uid).toBe(0);
  });
});

describe('kwok objects for a pod', () => {
  it('name the pod in IRLAB_POD, pass literal env, point logs at the container files, and are owned by the pod', () => {
    const { exec, logs } = kwokObjectsFor(
      {
        metadata: { name: 'web-1', namespace: 'production', uid: 'u-1' },
        spec: {
          containers: [
            { name: 'web', env: [{ name: 'MODE', value: 'prod' }, { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] },
            { name: 'sidecar' },
          ],
        },
      },
      '/c/pod-logs/production/web-1',
    );
    expect(exec.spec.execs[0]).toEqual({
      containers: ['web'],
      local: { envs: [{ name: 'IRLAB_POD', value: 'production/web-1' }, { name: 'IRLAB_ENV_MODE', value: 'prod' }] },
    });
    expect(logs.spec.logs[1]).toEqual({ containers: ['sidecar'], logsFile: '/c/pod-logs/production/web-1/sidecar.log', follow: true });
    expect(exec.metadata.ownerReferences[0]).toMatchObject({ kind: 'Pod', name: 'web-1', uid: 'u-1' });
  });
});
