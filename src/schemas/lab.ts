import { z } from 'zod';
import { LAB_ENGINE_NEEDS } from '../lib/lab-engine.ts';

/**
 * A lab (`labs/<slug>/lab.yaml`): the scenario to seed, then ordered steps that a learner works
 * through in their own cluster, each proven by checks on the server.
 */

/** A hint; taking it costs points from the step. */
export const hintSchema = z.strictObject({
  /** Markdown shown when the learner asks. */
  text: z.string().min(5),
  /** Points taken from the step's score, 0 to 1 (share of the step). */
  cost: z.number().min(0).max(0.5).default(0.1),
});

/** A question the learner answers in the lab panel, graded against their own answer key. */
export const questionSchema = z.strictObject({
  /** Stable id; also the name of the answer-key fact it is graded against. The investigation
   * check grades identity … first-request and, for an incident that reached its node, node-identity,
   * node-secrets, node-source-ips and node-decision; the scope check identities, stolen-credentials, reach. */
  id: z.enum(['identity', 'secrets', 'binding', 'exec-command', 'source-ips', 'first-request', 'node-identity', 'node-secrets', 'node-source-ips', 'node-decision', 'identities', 'stolen-credentials', 'reach']),
  /** The question as the learner reads it. */
  prompt: z.string().min(5),
  /** Placeholder text in the answer box. */
  placeholder: z.string().optional(),
});

export const stepSchema = z.strictObject({
  /** Stable id, used in URLs and progress records. */
  id: z.string().regex(/^[a-z][a-z0-9-]*$/),
  title: z.string().min(3).max(80),
  /** What to do, in Markdown. */
  body: z.string().min(10),
  /** Names of registered checks (src/server/lab/checks) that prove the step. */
  checks: z.array(z.string()).min(1),
  hints: z.array(hintSchema).default([]),
  /** Questions answered in the panel (investigation steps). */
  questions: z.array(questionSchema).default([]),
  /** The reference solution: shell commands run in the learner's workspace, in order. */
  solution: z.array(z.string()).min(1),
  /** Answers the reference solution gives to this step's questions, with `{{ key.path }}` from the answer key. */
  solutionAnswers: z.record(z.string(), z.string()).default({}),
});

export const labSchema = z.strictObject({
  title: z.string().min(5).max(120),
  /** What the learner is about to do. */
  summary: z.string().min(20).max(400),
  /** Slug of the lesson the lab belongs to. */
  lesson: z.string().regex(/^[a-z0-9-]+$/),
  /** Slug of the scenario seeded into the learner's cluster. */
  scenario: z.string().regex(/^[a-z0-9-]+$/),
  /**
   * The engine the lab needs. `any` (default): whatever engine the server runs labs on (today the
   * embedded one: real API server, RBAC and audit log; simulated pods; NetworkPolicy evaluated by
   * the checks, not enforced). `kind`: real containers and enforced NetworkPolicy; the lab is
   * listed everywhere but starts only where labs run on kind (docs/labs.md, "Engine").
   */
  engine: z.enum(LAB_ENGINE_NEEDS).default('any'),
  steps: z.array(stepSchema).min(1),
});

export type Lab = z.infer<typeof labSchema>;
export type LabStep = z.infer<typeof stepSchema>;
