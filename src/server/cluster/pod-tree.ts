// A pod's own filesystem on an embedded cluster: the directory that becomes
// `/` when `kubectl exec` runs in the pod (engine/podsandbox). Every pod gets
// a small userland (Debian's busybox-static and its applet links), its
// hostname and an empty /tmp; a scenario's files are written over that.
//
// The tree is written once, before anyone can exec into the pod. Learners can
// later plant symlinks in it, so nothing here follows one: directories are
// created component by component after lstat, files with O_EXCL.
//
// The pod's root is an unprivileged host uid (podOwner), so the tree is given
// to that uid: the pod can write its own files, like a container's writable
// layer, and nothing else.

import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { chmod, copyFile, lchown, lstat, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

/** Where Debian's busybox-static installs the static binary. */
export const BUSYBOX = '/bin/busybox';

/** Where a pod's tree and logs live inside a cluster's directory. */
export function podPaths(clusterDir: string, namespace: string, pod: string) {
  return {
    /** Host directory that is `/` inside the pod. */
    rootfs: join(clusterDir, 'pods', namespace, pod, 'rootfs'),
    /** Outside the tree (learners cannot touch it): the uid of the pod whose default tree was written. */
    prepared: join(clusterDir, 'pods', namespace, pod, 'prepared'),
    /** Container logs in CRI format, `<container>.log`; kwok-controller reads them for `kubectl logs`. */
    logs: join(clusterDir, 'pod-logs', namespace, pod),
  };
}

/** Host uid and gid of a cluster's pods' root. */
export interface PodOwner {
  uid: number;
  gid: number;
}

/** Pod uids start here; the learner shells use 200000-299999. */
export const POD_UID_BASE = 300_000;

/**
 * The host uid every pod of a cluster runs as (root inside the pod's user namespace):
 * 300000 + the API server's port, unique among a machine's live clusters. The pod
 * sandbox (engine/podsandbox/supervisor.go) computes the same from kwok's kubeconfig.
 */
export function podOwner(server: string): PodOwner {
  let port = Number.NaN;
  try {
    port = Number(new URL(server).port);
  } catch {
    // reported below
  }
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new Error(`cannot tell the pods' host uid: the API server address ${JSON.stringify(server)} has no port`);
  }
  return { uid: POD_UID_BASE + port, gid: POD_UID_BASE + port };
}

/**
 * Gives a tree to the pod's root: lchown of every entry, descending only into real
 * directories. Only while nothing runs in the pod (before its Exec exists, or while a
 * scenario is seeded): a rename racing the walk could otherwise redirect it.
 */
export async function chownTree(path: string, owner: PodOwner): Promise<void> {
  await lchown(path, owner.uid, owner.gid);
  if (!(await lstat(path)).isDirectory()) return;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(child, owner);
    else await lchown(child, owner.uid, owner.gid);
  }
}

const applets = new Map<string, Promise<string[]>>();

/** busybox's applets as install paths (`bin/sh`, `usr/bin/tar`, ...). */
export function busyboxApplets(busybox = BUSYBOX): Promise<string[]> {
  const cached = applets.get(busybox);
  if (cached) return cached;
  const listed = promisify(execFile)(busybox, ['--list-full']).then(({ stdout }) =>
    stdout
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.includes('..') && line !== 'bin/busybox' && line !== 'linuxrc'),
  );
  applets.set(busybox, listed);
  return listed;
}

/** mkdir -p inside `root` that refuses to pass through a symlink. */
export async function mkdirInside(root: string, rel: string): Promise<string> {
  let path = root;
  for (const part of rel.split(/[\\/]/).filter(Boolean)) {
    if (part === '..') throw new Error(`refusing path ${rel}: it leaves the pod tree`);
    path = join(path, part);
    try {
      const info = await lstat(path);
      if (!info.isDirectory()) throw new Error(`${path} is not a directory (a symlink or file was planted there)`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(path).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
    }
  }
  return path;
}

/** Writes a new file; an existing file (or planted symlink) is left alone. */
async function createFile(root: string, rel: string, content: string, mode = 0o644): Promise<void> {
  const dir = await mkdirInside(root, dirname(rel));
  await writeFile(join(dir, rel.split('/').pop()!), content, { flag: 'wx', mode }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
}

export interface PodTreeSpec {
  name: string;
  namespace: string;
  ip?: string;
}

/**
 * The default tree: busybox with its applet links, /etc (hostname, hosts,
 * passwd, group), /root, /tmp (1777), /home, and the /proc and /dev mount
 * points. Files a scenario already wrote are kept. With an owner, the whole
 * tree is then given to it.
 */
export async function writeDefaultTree(rootfs: string, pod: PodTreeSpec, busybox = BUSYBOX, owner?: PodOwner): Promise<void> {
  // pods/<ns>/<pod> is ours (learners only ever see what is inside rootfs).
  await mkdir(dirname(rootfs), { recursive: true });
  await mkdirInside(dirname(rootfs), basename(rootfs));
  for (const dir of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'root', 'home', 'var/log', 'proc', 'dev']) {
    await mkdirInside(rootfs, dir);
  }
  await chmod(await mkdirInside(rootfs, 'tmp'), 0o1777);
  // A copy, not a link: the pod may write to its own /bin/busybox.
  await copyFile(busybox, join(await mkdirInside(rootfs, 'bin'), 'busybox'), constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE).catch(
    (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    },
  );
  for (const applet of await busyboxApplets(busybox)) {
    const dir = await mkdirInside(rootfs, dirname(applet));
    await symlink('/bin/busybox', join(dir, applet.split('/').pop()!)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  }
  await createFile(rootfs, 'etc/hostname', `${pod.name}\n`);
  await createFile(rootfs, 'etc/hosts', `127.0.0.1\tlocalhost\n${pod.ip ? `${pod.ip}\t${pod.name}\n` : ''}`);
  await createFile(rootfs, 'etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  await createFile(rootfs, 'etc/group', 'root:x:0:\nnogroup:x:65534:\n');
  if (owner) await chownTree(rootfs, owner);
}
