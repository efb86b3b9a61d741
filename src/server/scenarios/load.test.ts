import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadScenario, validateScenarios } from './load.ts';
import { formatProblems } from '../content/friendly-errors.ts';

const SOURCE = path.resolve('scenarios/compromised-web-app');
let root: string | undefined;

/** A copy of the real scenario with `edit` applied to its YAML text. */
async function scenarioWith(edit: (text: string) => string) {
  root = await mkdtemp(path.join(tmpdir(), 'irlab-scenario-'));
  const dir = path.join(root, 'scenarios/broken');
  await cp(SOURCE, dir, { recursive: true });
  const file = path.join(dir, 'scenario.yaml');
  await writeFile(file, edit(await readFile(file, 'utf8')));
  return { root, dir };
}
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = undefined;
});

describe('scenario validation', () => {
  it('accepts the shipped scenarios', async () => {
    const { problems, scenarios } = await validateScenarios(process.cwd());
    expect(formatProblems(problems)).toBe('');
    expect(scenarios.map((s) => s.slug)).toContain('compromised-web-app');
  });

  it('reports a kind typo, an unknown field, an unknown identity and a missing file, all at once', async () => {
    const { root: project, dir } = await scenarioWith((text) =>
      text
        .replace('kind: ClusterRole\n    metadata: { name: web-app-config-reader }', 'kind: ClusterRol\n    metadata: { name: web-app-config-reader }')
        .replace('    kind: Deployment\n    metadata: { name: web-app, namespace: production, labels: { app: web-app } }\n    spec:\n      replicas: 2', '    kind: Deployment\n    metadata: { name: web-app, namespace: production, labels: { app: web-app } }\n    spec:\n      replcas: 2')
        .replace('  - as: stolen-ci\n', '  - as: stolen-cl\n')
        .replace('logs: pod-logs.txt', 'logs: pod-log.txt'),
    );
    const { problems } = await loadScenario(project, path.relative(project, dir));
    const summary = problems.map((p) => `${p.path} | ${p.message} | ${p.hint ?? ''}`);
    expect(summary).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^world\[\d+\]\.kind \| unknown kind "ClusterRol" \| did you mean "ClusterRole"\?/),
        expect.stringMatching(/^world\[\d+\]\.spec\.replcas \| unknown field "replcas" in Deployment \| did you mean "replicas"\?/),
        expect.stringMatching(/^timeline\[\d+\]\.as \| no identity "stolen-cl" \| did you mean "stolen-ci"\?/),
        expect.stringMatching(/^compromisedPod\.logs \| file broken\/pod-log\.txt is missing/),
      ]),
    );
    expect(problems.every((p) => p.file === 'scenarios/broken/scenario.yaml' && typeof p.line === 'number')).toBe(true);
  });

  it('names the schema problems with their lines and fixes', async () => {
    const { root: project, dir } = await scenarioWith((text) =>
      text.replace('title: Compromised web-app pod', 'titel: Compromised web-app pod').replace('outsideIp: { ip: 203.0.113.0/24 }', 'outsideIp: { ip: 203.0.113.0/24, pick: [a] }'),
    );
    const { problems } = await loadScenario(project, path.relative(project, dir));
    expect(problems.find((p) => p.path === 'titel')).toMatchObject({ message: 'unknown field "titel"', hint: 'did you mean "title"?', line: 6 });
    expect(problems.find((p) => p.path === 'title')?.message).toContain('missing required field');
    expect(problems.find((p) => p.path === 'params.outsideIp')?.message).toBe('give only one of pick, ip');
  });

  it('catches placeholders that no param declares, and wrong apiVersions', async () => {
    const { root: project, dir } = await scenarioWith((text) =>
      text.replace('name: "{{ bindingName }}"', 'name: "{{ bindingNme }}"').replace('apiVersion: networking.k8s.io/v1\n    kind: NetworkPolicy', 'apiVersion: v1\n    kind: NetworkPolicy'),
    );
    const { problems } = await loadScenario(project, path.relative(project, dir));
    expect(problems.map((p) => `${p.message} ${p.hint ?? ''}`)).toEqual(
      expect.arrayContaining([
        'unknown placeholder {{ bindingNme }} did you mean {{ bindingName }}?',
        'NetworkPolicy is apiVersion "networking.k8s.io/v1", not "v1" write apiVersion: networking.k8s.io/v1',
      ]),
    );
  });

  it('says so when scenario.yaml is missing', async () => {
    root = await mkdtemp(path.join(tmpdir(), 'irlab-scenario-'));
    await cp(SOURCE, path.join(root, 'scenarios/empty'), { recursive: true });
    await rm(path.join(root, 'scenarios/empty/scenario.yaml'));
    const { problems } = await validateScenarios(root);
    expect(problems).toMatchObject([{ file: 'scenarios/empty/scenario.yaml', message: 'missing scenario.yaml' }]);
  });
});
