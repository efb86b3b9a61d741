/**
 * What a learner may ask irlab to collect from their lab's kind node (never a shell on it), as
 * the lab page offers it and the server plans it (src/server/cluster/node-evidence.ts). Pure.
 */

/** The node directories a `files` collection may list (names, sizes, hashes; never contents). */
export const NODE_PATHS: Readonly<Record<string, string>> = {
  tmp: '/tmp',
  'dev-shm': '/dev/shm',
  'cron-d': '/etc/cron.d',
  'systemd-system': '/etc/systemd/system',
  'kubelet-pki': '/var/lib/kubelet/pki',
};

export const NODE_EVIDENCE_COLLECTIONS = ['containers', 'container', 'pod-logs', 'pod-log', 'files'] as const;
export type NodeEvidenceCollection = (typeof NODE_EVIDENCE_COLLECTIONS)[number];

/** For the page: what each collection takes and gives. */
export const NODE_EVIDENCE_HELP: Readonly<Record<NodeEvidenceCollection, { args: string; gives: string }>> = {
  containers: { args: 'none', gives: 'every container on the node, exited ones too (crictl ps -a)' },
  container: { args: 'a container id', gives: 'one container\'s full details: image, mounts, privileges, pod (crictl inspect)' },
  'pod-logs': { args: 'none', gives: 'the log directories of every pod on the node (/var/log/pods)' },
  'pod-log': { args: '<namespace>_<pod>_<uid> and a container name', gives: 'that container\'s log files as the kubelet keeps them' },
  files: { args: Object.keys(NODE_PATHS).join(', '), gives: 'names, sizes, times and SHA-256 of the files there, never their content' },
};
