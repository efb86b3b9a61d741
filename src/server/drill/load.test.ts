import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { validateContent } from '../content/validate.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A copy of the project's content with drill.yaml edited. */
async function withDrill(edit: (text: string) => string) {
  const root = await mkdtemp(path.join(tmpdir(), 'irlab-drill-load-'));
  dirs.push(root);
  for (const dir of ['scenarios', 'labs', 'quizzes', 'src/content']) await cp(dir, path.join(root, dir), { recursive: true });
  const file = path.join(root, 'scenarios/compromised-web-app/drill.yaml');
  await writeFile(file, edit(await readFile(file, 'utf8')));
  return validateContent(root);
}

describe('drill.yaml validation', () => {
  it('accepts the shipped drill', async () => {
    const report = await withDrill((t) => t);
    expect(report.problems).toEqual([]);
    expect(report.counts.drills).toBe(2);
  });

  it('reports every broken cross-reference at once, with line and fix', async () => {
    const report = await withDrill((text) =>
      text
        .replace('- { step: contain, phase', '- { step: contian, phase')
        .replace('unless: { step: eradicate, criteria: [legacy-token-revoked] }', 'unless: { step: eradicte }')
        .replace('unless: { step: eradicate, criteria: [pod-tokens-revoked] }', 'unless: { step: eradicate, criteria: [pod-token-revoked] }')
        .replace('id: legal\n', 'id: brief\n')
        .replace('technique: T1611', 'technique: T1612')
        .replace('- as: stolen-ci', '- as: stolen-cl')
        .replace('{{ compromisedPodIp }}', '{{ compromisedPodIP }}'),
    );
    const messages = report.problems.map((p) => `${p.path}: ${p.message} (${p.hint ?? ''}) @${p.line}`);
    expect(report.problems.every((p) => p.file === 'scenarios/compromised-web-app/drill.yaml' && typeof p.line === 'number')).toBe(true);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^scoreboard\[0\]\.step: no step in lab l18 "contian" \(did you mean "contain"\?\)/),
        expect.stringMatching(/unless\.step: no step in lab l18 "eradicte" \(did you mean "eradicate"\?\)/),
        expect.stringMatching(/unless\.criteria\[0\]: no criterion of step eradicate "pod-token-revoked" \(did you mean "pod-tokens-revoked"\?\)/),
        expect.stringMatching(/inject id "brief" is used twice/),
        expect.stringMatching(/technique: no technique .* "T1612"/),
        expect.stringMatching(/as: no identity in scenario compromised-web-app "stolen-cl" \(did you mean "stolen-ci"\?\)/),
        expect.stringMatching(/unknown placeholder \{\{ compromisedPodIP \}\} \(did you mean \{\{ compromisedPodIp \}\}\?\)/),
      ]),
    );
  });

  it('refuses to score a step whose check needs a policy applied through the lab\'s Apply (drills have none)', async () => {
    const report = await withDrill((text) =>
      text.replace('- { step: scope, phase: detection-analysis }', '- { step: scope, phase: detection-analysis }\n  - { step: audit-policy, phase: preparation }'),
    );
    const messages = report.problems.map((p) => `${p.path}: ${p.message}`);
    expect(messages).toEqual([expect.stringMatching(/^scoreboard\[4\]\.step: step "audit-policy" is graded by audit-policy, which needs a policy applied through the lab's Apply; drills have none$/)]);
  });

  it('explains schema mistakes through the friendly-error helper', async () => {
    const report = await withDrill((text) => text.replace('at: 5m', 'at: 5 minutes').replace('phase: detection-analysis', 'phase: analysis'));
    const messages = report.problems.map((p) => `${p.path}: ${p.message}`);
    expect(messages.join('\n')).toContain('write a time like "5m"');
    expect(messages.join('\n')).toMatch(/phase/);
  });
});
