/**
 * `irlab new lab|scenario|quiz <slug>`: a small, working example of each kind that passes
 * `irlab validate` and `irlab test`, to edit into the real thing. docs/authoring.md walks
 * through it.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

const SLUG = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function scenarioFiles(slug: string): Record<string, string> {
  return {
    'scenario.yaml': `# yaml-language-server: $schema=../../schemas/scenario.schema.json
# ${slug}: a pod's service account reads a secret it should not need. Edit the story, then
# "npx irlab scenario validate" and "npx irlab scenario seed ${slug} --cluster <name>".
title: ${slug.replace(/-/g, ' ')}
summary: >-
  A workload in the shop namespace is reading secrets it has no business reading. Find out what
  it read and contain it.
attack:
  - { id: T1552.007, name: "Unsecured Credentials: Container API" }
params:
  outsideIp: { ip: 198.51.100.0/24 }
  secretName: { pick: [db-password, api-token, smtp-password] }
identities:
  app: { serviceAccount: shop/app }
compromisedPod:
  namespace: shop
  selector: { app: shop }
  files: pod-files
  logs: pod-logs.txt
  knownGoodImage: registry.example.internal/shop:1.0.1
world:
  - { apiVersion: v1, kind: Namespace, metadata: { name: shop } }
  - { apiVersion: v1, kind: ServiceAccount, metadata: { name: app, namespace: shop } }
  - apiVersion: v1
    kind: Secret
    metadata: { name: "{{ secretName }}", namespace: shop }
    type: Opaque
    stringData: { value: "change-me" }
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: { name: app, namespace: shop }
    rules: [{ apiGroups: [""], resources: [secrets], verbs: [get, list] }]
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: { name: app, namespace: shop }
    roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: app }
    subjects: [{ kind: ServiceAccount, name: app, namespace: shop }]
  - apiVersion: apps/v1
    kind: Deployment
    metadata: { name: shop, namespace: shop }
    spec:
      replicas: 1
      selector: { matchLabels: { app: shop } }
      template:
        metadata: { labels: { app: shop } }
        spec:
          serviceAccountName: app
          containers: [{ name: shop, image: "registry.example.internal/shop:1.0.0" }]
# Pauses are real (the API server stamps each event): after: 40s waits 40 s, times
# IRLAB_SCENARIO_TIME_SCALE (docs/authoring.md, "Time: the pauses are real").
startAfter: 30s
timeline:
  - as: app
    from: pod
    userAgent: curl/8.5.0
    note: discovery first, as attackers do
    malicious: true
    technique: T1613
    request: { verb: get, path: /apis }
  - as: app
    from: pod
    userAgent: curl/8.5.0
    after: 40s
    malicious: true
    signal: secret-enumeration
    technique: T1552.007
    request: { verb: get, apiVersion: v1, kind: Secret, namespace: shop, name: "{{ secretName }}" }
`,
    'pod-files/etc/hostname': '{{ compromisedPod }}\n',
    'pod-files/tmp/loot.txt': 'secret: {{ secretName }} from {{ compromisedPodIp }}\n',
    'pod-logs.txt': 'shop 1.0.0 listening on :8080\n{{ outsideIp }} GET /debug?cmd=id 200\n',
  };
}

function labFiles(slug: string, scenario: string, lesson: string): Record<string, string> {
  return {
    'lab.yaml': `# yaml-language-server: $schema=../../schemas/lab.schema.json
# ${slug}: one step to start from. "npx irlab test ${slug}" proves it on a fresh cluster.
title: ${slug.replace(/-/g, ' ')}
summary: Contain the compromised pod without deleting it, then carry on with your own steps.
lesson: ${lesson}
scenario: ${scenario}
steps:
  - id: contain
    title: Contain the pod
    body: |
      Label the compromised pod \`quarantine=true\` and apply a NetworkPolicy that selects that label
      with \`policyTypes: [Ingress, Egress]\` and no rules.
    checks: [quarantine]
    hints:
      - { text: "The lesson's quarantine policy works as is.", cost: 0.2 }
    solution:
      - kubectl label pod {{ key.compromisedPod.name }} -n {{ key.compromisedPod.namespace }} quarantine=true
      - |
        kubectl apply -f - <<'YAML'
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: quarantine, namespace: {{ key.compromisedPod.namespace }}}
        spec:
          podSelector: {matchLabels: {quarantine: "true"}}
          policyTypes: ["Ingress", "Egress"]
        YAML
`,
  };
}

function quizFile(slug: string, lesson: string, section: string): Record<string, string> {
  return {
    [`${slug}.yaml`]: `# yaml-language-server: $schema=../schemas/quiz.schema.json
title: "${slug.replace(/-/g, ' ')}"
description: A first question to start from; add more of any type (see src/schemas/quiz.ts).
lesson: ${lesson}
feedback: immediate
# No attempts limit: a last attempt would show every answer, and anonymous learners reach it with
# empty attempts (docs/grading.md, "## quiz").
passPercent: 70
questions:
  - id: first-step
    type: single
    section: ${section}
    prompt: What comes first when a pod is compromised?
    options:
      - { id: contain, text: Contain it with a quarantine label and a deny-all NetworkPolicy }
      - { id: delete, text: Delete it, feedback: Deleting destroys the evidence. }
    correct: contain
    explanation: Contain first, keep the pod for evidence, then investigate.
`,
  };
}

async function writeAll(dir: string, files: Record<string, string>) {
  for (const [name, content] of Object.entries(files)) {
    const target = path.join(dir, name);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content, { flag: 'wx' });
  }
}

export interface ScaffoldOptions {
  root: string;
  kind: 'lab' | 'scenario' | 'quiz';
  slug: string;
  scenario?: string;
  lesson?: string;
  /** A heading anchor of the lesson, for the quiz's section link. */
  section?: string;
}

export async function scaffold(options: ScaffoldOptions): Promise<string[]> {
  const { root, kind, slug } = options;
  if (!SLUG.test(slug)) throw new Error(`"${slug}" is not a slug: use lowercase letters, digits and "-"`);
  const target = kind === 'quiz' ? path.join(root, 'quizzes', `${slug}.yaml`) : path.join(root, `${kind}s`, slug);
  if (await stat(target).catch(() => undefined)) throw new Error(`${path.relative(root, target)} already exists; pick another slug`);
  if (kind === 'scenario') {
    const files = scenarioFiles(slug);
    await writeAll(target, files);
    return Object.keys(files).map((f) => path.join('scenarios', slug, f));
  }
  if (!options.lesson) throw new Error(`irlab new ${kind} needs --lesson <slug> (a lesson under src/content/lessons/)`);
  if (kind === 'lab') {
    if (!options.scenario) throw new Error('irlab new lab needs --scenario <slug> (a scenario under scenarios/)');
    await writeAll(target, labFiles(slug, options.scenario, options.lesson));
    return [path.join('labs', slug, 'lab.yaml')];
  }
  if (!options.section) throw new Error('irlab new quiz needs a lesson with at least one heading');
  await writeAll(path.join(root, 'quizzes'), quizFile(slug, options.lesson, options.section));
  return [path.join('quizzes', `${slug}.yaml`)];
}
