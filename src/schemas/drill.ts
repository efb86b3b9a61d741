import { z } from 'zod';
import { attackTechniqueSchema } from './lesson.ts';
import { stepSchema as scenarioStepSchema } from './scenario.ts';

/**
 * A tabletop drill (`scenarios/<slug>/drill.yaml`): a team responds together to the scenario's
 * incident on one shared cluster. The scenario is seeded as for a lab (world, benign activity,
 * the initial compromise); the drill adds a clock, scripted injects (messages and live attacker
 * actions) and a scoreboard made of a lab's steps. docs/drills.md describes the format.
 */

/** NIST SP 800-61 incident response phases (rev. 2), as kebab-case ids. */
export const NIST_PHASES = ['preparation', 'detection-analysis', 'containment-eradication-recovery', 'post-incident'] as const;

/** Drill clock offsets: `90s`, `5m`, `1m30s`. */
const offset = z.string().regex(/^(?=\d)(\d+m)?(\d+s)?$/, 'write a time like "5m", "90s" or "1m30s"');

/** Milliseconds of a validated `at` value. */
export function offsetMs(at: string): number {
  const match = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(at);
  return ((Number(match?.[1] ?? 0) * 60) + Number(match?.[2] ?? 0)) * 1000;
}

export const scoreboardRowSchema = z.strictObject({
  /** Id of a step of the drill's lab; its checks are evaluated against the drill cluster. */
  step: z.string().regex(/^[a-z][a-z0-9-]*$/),
  /** The NIST SP 800-61 phase this step's work belongs to, for the report. */
  phase: z.enum(NIST_PHASES),
  /** The report metric this step's first green measures (time to contain, to eradicate...). */
  measures: z.enum(['contain', 'eradicate', 'preserve-evidence', 'identify']).optional(),
});

export const injectSchema = z.strictObject({
  /** Stable id, unique in the file; the facilitator fires an inject early by it. */
  id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'use lowercase letters, digits and "-"'),
  /** Drill clock time at which the inject fires, e.g. "5m". */
  at: offset,
  /** Headline shown in the incident log when the inject fires. */
  title: z.string().min(3).max(120),
  /** Markdown shown to everyone when it fires; may use the scenario's `{{ placeholders }}`. */
  body: z.string().min(1),
  /**
   * Fire only if this lab step's checks do NOT all pass at fire time; with `criteria`, only if
   * not all of those criteria of the step pass (e.g. the stolen token is not revoked yet).
   */
  unless: z.strictObject({
    step: z.string().regex(/^[a-z][a-z0-9-]*$/),
    /** Criterion ids of the step's checks that must all pass to stop the inject. */
    criteria: z.array(z.string().regex(/^[a-z][a-z0-9-]*$/)).min(1).optional(),
  }).optional(),
  /**
   * Live attacker actions run when the inject fires: timeline steps exactly as in scenario.yaml
   * (identity, X-Forwarded-For address, request), each one real request with that identity's
   * own credentials. Give each a `technique` for the report.
   */
  attack: z.array(scenarioStepSchema).optional(),
});

export const expectationSchema = z.strictObject({
  /** Stable id, unique in the file. */
  id: z.string().regex(/^[a-z][a-z0-9-]*$/),
  /** What the facilitator looks for (e.g. "The IC names a communications lead"). */
  text: z.string().min(5).max(300),
});

export const drillSchema = z.strictObject({
  /** Title shown when choosing a scenario for a drill. */
  title: z.string().min(5).max(120),
  /** What the team is told before it starts (no answers here). */
  summary: z.string().min(20).max(800),
  /** Suggested length; the facilitator may change it. */
  defaultDurationMinutes: z.number().int().min(5).max(240),
  /** Roles participants pick from (the facilitator may edit the list per drill). */
  roles: z.array(z.string().min(2).max(40)).min(1).max(12),
  /** Slug of the lab (`labs/<slug>/lab.yaml`) whose steps form the scoreboard; it must use this scenario. */
  lab: z.string().regex(/^[a-z0-9-]+$/),
  /** The lab steps shown on the scoreboard, in order, each with its NIST phase. */
  scoreboard: z.array(scoreboardRowSchema).min(1),
  /** ATT&CK techniques the injects use beyond the scenario's own `attack` list. */
  techniques: z.array(attackTechniqueSchema).default([]),
  /** The scripted timeline of the drill. */
  injects: z.array(injectSchema).default([]),
  /** What the facilitator marks during the drill. */
  expectations: z.array(expectationSchema).default([]),
});

export type Drill = z.infer<typeof drillSchema>;
export type DrillInject = z.infer<typeof injectSchema>;
export type DrillScoreboardRow = z.infer<typeof scoreboardRowSchema>;
export type NistPhase = (typeof NIST_PHASES)[number];
