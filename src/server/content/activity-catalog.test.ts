import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { labEngineOn } from '../../lib/lab-engine.ts';
import { activityCatalog, questionsPerAttempt } from './activity-catalog.ts';

// The project's own content is the fixture: two labs and two quizzes on lesson L18, whose
// frontmatter names the l18 lab and the l18 quiz as its own.
const LESSON = 'l18-audit-logging-incident-response';

describe('activityCatalog', () => {
  it('lists every lab with its lesson, step count and the lesson\'s quizzes, the lesson\'s own first', async () => {
    const catalog = await activityCatalog(process.cwd(), labEngineOn('embedded'));
    expect(catalog.labs.map((l) => l.slug).sort()).toEqual(['l18', 'leaked-ci-token', 'node-escape']);
    const l18 = catalog.lab('l18')!;
    const authored = parse(readFileSync('labs/l18/lab.yaml', 'utf8')) as { steps: unknown[] };
    expect(l18.steps).toBe(authored.steps.length);
    expect(l18.lesson).toEqual({ slug: LESSON, title: 'L18: Audit Logging and Incident Response in Kubernetes', href: `/lessons/${LESSON}` });
    expect(l18.quizzes.map((q) => q.slug)).toEqual(['l18', 'node-escape', 'leaked-ci-token']);
    expect(catalog.lab('leaked-ci-token')!.quizzes[0]!.slug).toBe('l18');
  });

  it('lists every quiz with its lesson and the lesson\'s labs, the lesson\'s own first', async () => {
    const catalog = await activityCatalog(process.cwd(), labEngineOn('embedded'));
    const quiz = catalog.quiz('leaked-ci-token')!;
    expect(quiz.lesson?.href).toBe(`/lessons/${LESSON}`);
    expect(quiz.labs.map((l) => l.href)).toEqual(['/labs/l18', '/labs/node-escape', '/labs/leaked-ci-token']);
    expect(catalog.quiz('no-such-quiz')).toBeUndefined();
  });

  it('counts the questions one attempt asks: unpooled ones plus each pool\'s draw', () => {
    const quiz = { pools: [{ draw: 2 }], questions: [{}, { pool: 'p' }, { pool: 'p' }, { pool: 'p' }] };
    expect(questionsPerAttempt(quiz)).toBe(3);
  });
});
