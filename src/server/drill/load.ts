/**
 * Reads `scenarios/<slug>/drill.yaml` for every scenario that has one, and validates it with its
 * cross-references: the lab exists and seeds this scenario, scoreboard and `unless` steps are
 * lab steps, inject and expectation ids are unique, attack steps name the scenario's identities
 * and placeholders, and every technique has a name. All problems at once, friendly.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { drillSchema, offsetMs, type Drill } from '../../schemas/drill.ts';
import { RUNTIME_PLACEHOLDERS } from '../../schemas/scenario.ts';
import { formatPath, locate, nearest, parseLocatedYaml, problemsFromZod, yamlSyntaxProblems, type ContentProblem } from '../content/friendly-errors.ts';
import { CHECK_CRITERIA, NEEDS_APPLIED_POLICY } from '../lab/check-catalogue.ts';
import type { LoadedLab } from '../lab/labs.ts';
import { KINDS } from '../scenarios/kinds.ts';
import type { LoadedScenario } from '../scenarios/load.ts';
import { placeholders } from '../scenarios/template.ts';

export const DRILL_FILE = 'drill.yaml';

export interface LoadedDrill {
  /** The scenario's slug: a drill is named by its scenario. */
  slug: string;
  file: string;
  drill: Drill;
  scenario: LoadedScenario;
  lab: LoadedLab;
}

export interface DrillReferences {
  scenarios: LoadedScenario[];
  labs: LoadedLab[];
}

export async function validateDrills(root: string, references: DrillReferences) {
  const problems: ContentProblem[] = [];
  const drills: LoadedDrill[] = [];
  for (const scenario of references.scenarios) {
    const file = path.join('scenarios', scenario.slug, DRILL_FILE);
    const text = await readFile(path.resolve(root, file), 'utf8').catch(() => undefined);
    if (text === undefined) continue; // drills are optional per scenario
    const located = parseLocatedYaml(text);
    const syntax = yamlSyntaxProblems(file, located);
    if (syntax.length) {
      problems.push(...syntax);
      continue;
    }
    const result = drillSchema.safeParse(located.doc.toJS() ?? {}, { reportInput: true });
    if (!result.success) {
      problems.push(...problemsFromZod(file, drillSchema, result.error.issues, located));
      continue;
    }
    const drill = result.data;
    const before = problems.length;
    const problem = (at: PropertyKey[], message: string, hint?: string) =>
      problems.push({ file, ...locate(located, at), path: formatPath(at), message, ...(hint ? { hint } : {}) });
    const reference = (at: PropertyKey[], value: string, known: string[], what: string) => {
      if (known.includes(value)) return true;
      const guess = nearest(value, known);
      problem(at, `no ${what} "${value}"`, guess.length ? `did you mean "${guess[0]}"?` : `known: ${known.join(', ') || 'none'}`);
      return false;
    };

    const lab = references.labs.find((l) => l.slug === drill.lab);
    if (reference(['lab'], drill.lab, references.labs.map((l) => l.slug), 'lab') && lab && lab.lab.scenario !== scenario.slug) {
      problem(['lab'], `lab "${drill.lab}" seeds scenario "${lab.lab.scenario}", not "${scenario.slug}"`, 'name a lab built on this scenario');
    }
    const steps = lab?.lab.steps.map((s) => s.id) ?? [];
    // A drill has no Apply button: a check that grades an applied audit policy could never pass.
    const gradable = (at: PropertyKey[], stepId: string) => {
      const needing = (lab?.lab.steps.find((s) => s.id === stepId)?.checks ?? []).filter((c) => NEEDS_APPLIED_POLICY.has(c));
      if (needing.length) problem(at, `step "${stepId}" is graded by ${needing.join(', ')}, which needs a policy applied through the lab's Apply; drills have none`, 'score or condition on another step');
    };
    const seen = new Set<string>();
    drill.scoreboard.forEach((row, index) => {
      if (lab && reference(['scoreboard', index, 'step'], row.step, steps, `step in lab ${drill.lab}`)) gradable(['scoreboard', index, 'step'], row.step);
      if (seen.has(row.step)) problem(['scoreboard', index, 'step'], `step "${row.step}" is on the scoreboard twice`);
      seen.add(row.step);
    });
    if (new Set(drill.roles).size !== drill.roles.length) problem(['roles'], 'a role is listed twice', 'list every role once');

    const { scenario: scene } = scenario;
    const identities = Object.keys(scene.identities);
    const techniques = [...scene.attack, ...drill.techniques].map((t) => t.id);
    const known = new Set([...Object.keys(scene.params), ...Object.keys(scene.targets), ...RUNTIME_PLACEHOLDERS]);
    const checkPlaceholders = (value: unknown, at: PropertyKey[], extra: string[] = []) => {
      for (const name of placeholders(value)) {
        if (known.has(name) || extra.includes(name)) continue;
        const guess = nearest(name, [...known, ...extra]);
        problem(at, `unknown placeholder {{ ${name} }}`, guess.length ? `did you mean {{ ${guess[0]} }}?` : `the scenario's params, targets and ${RUNTIME_PLACEHOLDERS.join(', ')} may be used`);
      }
    };

    const injectIds = new Set<string>();
    let lastAt = -1;
    drill.injects.forEach((inject, index) => {
      const at = ['injects', index];
      if (injectIds.has(inject.id)) problem([...at, 'id'], `inject id "${inject.id}" is used twice`, 'give every inject its own id');
      injectIds.add(inject.id);
      const ms = offsetMs(inject.at);
      if (ms < lastAt) problem([...at, 'at'], `inject "${inject.id}" at ${inject.at} comes before the inject above it`, 'keep injects in time order');
      lastAt = Math.max(lastAt, ms);
      if (ms > drill.defaultDurationMinutes * 60_000) problem([...at, 'at'], `${inject.at} is after the default duration of ${drill.defaultDurationMinutes}m`, 'fire it earlier or lengthen defaultDurationMinutes');
      checkPlaceholders(inject.title, [...at, 'title']);
      checkPlaceholders(inject.body, [...at, 'body']);
      if (inject.unless && lab && reference([...at, 'unless', 'step'], inject.unless.step, steps, `step in lab ${drill.lab}`)) {
        gradable([...at, 'unless', 'step'], inject.unless.step);
        const checks = lab.lab.steps.find((s) => s.id === inject.unless!.step)?.checks ?? [];
        const criteria = checks.flatMap((c) => CHECK_CRITERIA[c] ?? []);
        inject.unless.criteria?.forEach((c, j) => reference([...at, 'unless', 'criteria', j], c, criteria, `criterion of step ${inject.unless!.step}`));
      }
      inject.attack?.forEach((step, j) => {
        const here = [...at, 'attack', j];
        reference([...here, 'as'], step.as, identities, `identity in scenario ${scenario.slug}`);
        if (step.forEach !== undefined && !scene.params[step.forEach]?.sample) {
          problem([...here, 'forEach'], `forEach needs a sample param, "${step.forEach}" is not one`);
        }
        if (step.from !== 'pod') checkPlaceholders(step.from, [...here, 'from'], step.forEach ? ['item'] : []);
        checkPlaceholders(step.request, [...here, 'request'], step.forEach ? ['item'] : []);
        // An inject's attack fires at the inject's `at`, all at once; `after` spaces only a scenario's timeline.
        if (step.after !== undefined) problem([...here, 'after'], 'an inject\'s attack steps fire together at the inject\'s "at"', 'remove after, or split the attack into injects at different times');
        const kind = KINDS[step.request.kind];
        if (!kind) problem([...here, 'request', 'kind'], `unknown kind "${step.request.kind}"`, `scenarios may use ${Object.keys(KINDS).join(', ')}`);
        else if (kind.apiVersion !== step.request.apiVersion) problem([...here, 'request', 'apiVersion'], `${step.request.kind} is apiVersion "${kind.apiVersion}"`);
        if (['get', 'patch', 'delete', 'exec'].includes(step.request.verb) && !step.request.name) problem([...here, 'request', 'name'], `${step.request.verb} needs a name`);
        if (['create', 'patch'].includes(step.request.verb) && !step.request.body) problem([...here, 'request', 'body'], `${step.request.verb} needs a body`);
        if (!step.technique) problem([...here], 'an attack step in a drill needs a technique (its ATT&CK id) for the report', 'add technique: T1613 (or the id that fits)');
        else reference([...here, 'technique'], step.technique, techniques, 'technique named in the scenario\'s attack list or the drill\'s techniques');
      });
    });
    const expectationIds = new Set<string>();
    drill.expectations.forEach((expectation, index) => {
      if (expectationIds.has(expectation.id)) problem(['expectations', index, 'id'], `expectation id "${expectation.id}" is used twice`);
      expectationIds.add(expectation.id);
    });
    if (problems.length === before && lab) drills.push({ slug: scenario.slug, file, drill, scenario, lab });
  }
  return { drills, problems };
}
