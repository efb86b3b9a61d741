/**
 * The engine labs run on, as the site tells a learner: its name, what is real and what is
 * simulated there, and whether a lab that needs another engine can start on this server. Pure
 * and shared: the composition root builds one `LabEngine` (src/server/app/services.ts), the lab
 * service and the /labs catalog give each lab its `LabEngineView`, the browser only renders it.
 */

/** What a lab needs (lab.yaml's `engine`): whatever engine the server runs labs on, or kind. */
export const LAB_ENGINE_NEEDS = ['any', 'kind'] as const;
export type LabEngineNeed = (typeof LAB_ENGINE_NEEDS)[number];

/** The cluster engines (the cluster module's provider names). */
export type EngineName = 'embedded' | 'kind';

/** One thing a learner may rely on, or may not: `real` says which. */
export interface EngineFact {
  aspect: string;
  real: boolean;
  text: string;
}

export interface EngineDescription {
  name: EngineName;
  /** The badge's words. */
  label: string;
  /** One sentence: what the engine means for the learner. */
  summary: string;
  facts: EngineFact[];
}

/** What a page shows about one lab's engine. */
export interface LabEngineView {
  /** The engine the lab runs on here or, when it cannot start here, the engine it needs. */
  engine: EngineName;
  badge: string;
  summary: string;
  facts: EngineFact[];
  /** Present when the lab cannot start on this server: why, and what an operator can do. */
  unavailable?: { reason: string; operator: string };
}

export const ENGINES: Readonly<Record<EngineName, EngineDescription>> = {
  embedded: {
    name: 'embedded',
    label: 'Embedded engine',
    summary: 'A real Kubernetes API server with simulated pods: RBAC and the audit log are real, containers and network traffic are not.',
    facts: [
      { aspect: 'API server', real: true, text: 'a real kube-apiserver, etcd and controllers: every kubectl request is answered by Kubernetes itself' },
      { aspect: 'RBAC and audit log', real: true, text: 'real authorization decisions, recorded in a real audit log' },
      { aspect: 'Pods', real: false, text: 'no container runs: each pod is a sandboxed file tree that answers exec, logs and cp' },
      { aspect: 'NetworkPolicy', real: false, text: 'stored and evaluated by the checks, not enforced: no traffic is really blocked' },
    ],
  },
  kind: {
    name: 'kind',
    label: 'kind engine',
    summary: 'A real node: pods are real containers and NetworkPolicy really blocks traffic.',
    facts: [
      { aspect: 'API server', real: true, text: 'a real control plane on a kind node, RBAC and audit log included' },
      { aspect: 'Pods', real: true, text: 'real containers on a real node (containerd), with their own processes and filesystems' },
      { aspect: 'NetworkPolicy', real: true, text: 'enforced: a denied connection really fails' },
    ],
  },
};

/** The engine this server runs labs on, and how each lab fits it. */
export interface LabEngine {
  description: EngineDescription;
  fit(need: LabEngineNeed): LabEngineView;
}

/**
 * What runs on an engine (`activity`, plural: labs, drills) and what an operator can do for one
 * that needs another engine. The same fit, badge and refusal serve labs and drills.
 */
export interface EngineSeat {
  activity: string;
  operator: (wanted: EngineName, here: EngineName) => string;
}

/** Labs run on the engine IRLAB_LAB_ENGINE names (src/server/app/config.ts). */
export const LAB_SEAT: EngineSeat = {
  activity: 'labs',
  operator: (wanted) =>
    `labs run on the engine IRLAB_LAB_ENGINE names: start the server with IRLAB_LAB_ENGINE=${wanted}${wanted === 'kind' ? ' (after `irlab engine build --kind`; each learner then gets a kind cluster of their own and a bounded credential on it, docs/engine.md, "Learners on kind")' : ''}`,
};

/**
 * Drills run on the server's embedded warm pool whatever IRLAB_LAB_ENGINE says: each participant
 * gets a certificate bound to the responder role, signed by a CA the embedded engine keeps on the
 * host, not the bounded learner identity a kind node needs (docs/engine.md, "What is left").
 */
export const DRILL_SEAT: EngineSeat = {
  activity: 'drills',
  operator: (wanted, here) =>
    `drills run on the ${here} engine on every server (IRLAB_LAB_ENGINE moves labs, not drills: a drill participant's credential is not yet bounded for a ${wanted} node); run this incident as its lab instead, on a server started with IRLAB_LAB_ENGINE=${wanted}`,
};

export function labEngineOn(name: EngineName, seat: EngineSeat = LAB_SEAT): LabEngine {
  const description = ENGINES[name];
  const view = (engine: EngineDescription): LabEngineView => ({ engine: engine.name, badge: engine.label, summary: engine.summary, facts: engine.facts });
  return {
    description,
    fit(need) {
      if (need === 'any' || need === name) return view(description);
      const wanted = ENGINES[need];
      return {
        ...view(wanted),
        badge: `Needs ${wanted.name}`,
        unavailable: {
          reason: `needs the ${wanted.name} engine: real containers and enforced NetworkPolicy; this server runs ${seat.activity} on the ${name} engine`,
          operator: seat.operator(wanted.name, name),
        },
      };
    },
  };
}
