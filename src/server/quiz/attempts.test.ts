import { beforeAll, describe, expect, it } from 'vitest';
import { quizSchema } from '../../schemas/quiz.ts';
import type { AttemptView, QuestionView } from '../../lib/quiz-view.ts';
import { loadCatalog, type CatalogQuiz } from './catalog.ts';
import { QuizError } from './attempts.ts';
import { rightAnswer, setupQuizEngineOn } from './attempts-test-kit.ts';
import { testStores } from '../store/store-test-kit.ts';
import { quizReport } from './item-report.ts';

const explanation = 'Because the lesson says so, in its own section.';
const fixture = quizSchema.parse({
  title: 'Deferred pooled quiz',
  lesson: 'l18-audit-logging-incident-response',
  feedback: 'deferred',
  attempts: 2,
  pools: [{ id: 'events', draw: 1 }],
  questions: [
    { id: 'one', type: 'single', section: '1-contain', prompt: 'Which is the first step?', explanation, options: [{ id: 'contain', text: 'Contain' }, { id: 'delete', text: 'Delete' }, { id: 'wait', text: 'Wait' }], correct: 'contain' },
    { id: 'many', type: 'multiple', section: '4-eradicate', prompt: 'Which are eradication steps?', explanation, options: [{ id: 'rotate', text: 'Rotate' }, { id: 'revoke', text: 'Revoke' }, { id: 'restart', text: 'Restart' }], correct: ['rotate', 'revoke'] },
    { id: 'p1', pool: 'events', type: 'text', section: '1-contain', prompt: 'Type the word contain.', explanation, accept: ['contain'] },
    { id: 'p2', pool: 'events', type: 'text', section: '1-contain', prompt: 'Type the word isolate.', explanation, accept: ['isolate'] },
  ],
});


const optionToken = (question: QuestionView, text: string) => {
  const list = 'options' in question ? question.options : [];
  return list.find((o) => o.text === text)!.id;
};

describe.each(testStores())('quiz engine: deferred feedback, pools, attempts limit on $name', (backend) => {
  const setup = (quizzes: Parameters<typeof setupQuizEngineOn>[1]) => setupQuizEngineOn(backend, quizzes);
  const quiz: CatalogQuiz = { slug: 'fixture', file: 'quizzes/fixture.yaml', hash: 'h', data: fixture, lesson: undefined };

  it('hides answers until submit, then grades everything with partial credit', async () => {
    const { engine, learners } = await setup([quiz]);
    const { learner } = await learners.create();
    const state = await engine.start(learner.id, 'fixture');
    const attempt = state.attempt!;
    expect(attempt.questions.map((q) => q.id).filter((id) => id.startsWith('p'))).toHaveLength(1);
    expect(attempt.questions).toHaveLength(3);
    const [one, many] = attempt.questions as [QuestionView, QuestionView];
    expect(await engine.answer(learner.id, 'fixture', attempt.id, 'one', optionToken(one, 'Contain'))).toEqual({ saved: true });
    // Deferred answers can be changed until submit.
    expect(await engine.answer(learner.id, 'fixture', attempt.id, 'one', optionToken(one, 'Delete'))).toEqual({ saved: true });
    await engine.answer(learner.id, 'fixture', attempt.id, 'many', [optionToken(many, 'Rotate')]);
    const before = await engine.state(learner.id, 'fixture');
    expect(before.attempt!.results).toEqual({});
    expect(JSON.stringify(before)).not.toMatch(/explanation|solution|"correct"/);

    const after = (await engine.submit(learner.id, 'fixture', attempt.id)).attempt!;
    expect(after.submitted).toBe(true);
    expect(after.results.one).toMatchObject({ correct: false, score: 0, explanation, section: { href: '/lessons/l18-audit-logging-incident-response#1-contain' } });
    expect(after.results.many).toMatchObject({ correct: false, score: 0.5, earned: 0.5 });
    const pooled = after.questions[2]!.id;
    // Unanswered in a failing, non-final attempt: graded zero, its solution withheld (reveal.test.ts).
    expect(after.results[pooled]).toMatchObject({ score: 0, feedback: expect.stringMatching(/^Not answered\. Its answer is shown once you pass the quiz or after your last attempt/), answer: undefined });
    expect(after.results[pooled]).not.toHaveProperty('solution');
    expect(after.score).toEqual({ earned: 0.5, max: 3, percent: 16.7, passed: false });
    await expect(engine.answer(learner.id, 'fixture', attempt.id, 'one', optionToken(one, 'Contain'))).rejects.toThrow(/already submitted/);
  });

  it('reshuffles and redraws per attempt, reproducibly within one, and enforces the attempts limit', async () => {
    const { engine, learners } = await setup([quiz]);
    const { learner } = await learners.create();
    const orders: string[] = [];
    const pools = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const attempt = (await engine.start(learner.id, 'fixture')).attempt!;
      // Starting again while one is open resumes it, with the same order and the same tokens.
      expect((await engine.start(learner.id, 'fixture')).attempt!.questions).toEqual(attempt.questions);
      expect((await engine.state(learner.id, 'fixture')).attempt!.questions).toEqual(attempt.questions);
      orders.push(JSON.stringify(attempt.questions.map((q) => ('options' in q ? q.options : []))));
      pools.add(attempt.questions[2]!.id);
      await engine.submit(learner.id, 'fixture', attempt.id);
    }
    expect(orders[0]).not.toBe(orders[1]);
    const error = await (async () => {
      try {
        await engine.start(learner.id, 'fixture');
      } catch (e) {
        return e as QuizError;
      }
    })();
    expect(error).toBeInstanceOf(QuizError);
    expect(error?.status).toBe(403);
    expect(error?.message).toBe('you have used all 2 attempts at this quiz');
    expect((await engine.state(learner.id, 'fixture')).attemptsUsed).toBe(2);
  });

  it('refuses answers in the wrong shape, with unknown tokens, or to someone else\'s attempt', async () => {
    const { engine, learners } = await setup([quiz]);
    const alice = (await learners.create()).learner;
    const bob = (await learners.create()).learner;
    const attempt = (await engine.start(alice.id, 'fixture')).attempt!;
    await expect(engine.answer(alice.id, 'fixture', attempt.id, 'many', 'not-a-list')).rejects.toThrow(QuizError);
    try {
      await engine.answer(alice.id, 'fixture', attempt.id, 'many', 'x');
    } catch (e) {
      expect((e as QuizError).problems?.[0]).toMatchObject({ file: 'answer', message: expect.stringContaining('expected array') });
    }
    await expect(engine.answer(alice.id, 'fixture', attempt.id, 'one', 'contain')).rejects.toThrow(/"contain" is not an option/);
    await expect(engine.answer(bob.id, 'fixture', attempt.id, 'one', 'x')).rejects.toThrow(/no attempt/);
    await expect(engine.submit(bob.id, 'fixture', attempt.id)).rejects.toThrow(/no attempt/);
    await expect(engine.answer(alice.id, 'fixture', attempt.id, 'nope', 'x')).rejects.toThrow(/not part of this attempt/);
    await expect(engine.state(alice.id, 'missing')).rejects.toThrow(/no quiz "missing"/);
  });
});

describe.each(testStores())('quiz engine on the L18 quiz: immediate feedback on $name', (backend) => {
  const setup = (quizzes: Parameters<typeof setupQuizEngineOn>[1]) => setupQuizEngineOn(backend, quizzes);
  let l18: CatalogQuiz;
  beforeAll(async () => {
    l18 = (await loadCatalog(process.cwd())).get('l18')!;
  });


  it('never sends a key before grading, grades each check once, and scores 100% for right answers', async () => {
    const { engine, learners, store } = await setup([l18]);
    const { learner } = await learners.create();
    const attempt: AttemptView = (await engine.start(learner.id, 'l18')).attempt!;
    expect(attempt.questions.length).toBe(l18.data.questions.length - 2);
    const sent = JSON.stringify(attempt);
    expect(sent).not.toMatch(/"(correct|accept|patterns|match|explanation|solution|feedback|section)"/);
    for (const q of l18.data.questions) {
      expect(sent).not.toContain(q.explanation.slice(0, 40));
      for (const list of ['options', 'items', 'pairs', 'choices'] as const) if (list in q) for (const o of (q as unknown as Record<string, Array<{ id: string }>>)[list]!) expect(sent).not.toContain(`"${o.id}"`);
    }
    for (const view of attempt.questions) {
      const question = l18.data.questions.find((q) => q.id === view.id)!;
      if (question.type === 'text') expect(JSON.stringify(view)).not.toContain(question.accept[0]);
      // No token is shared between a question's lists: a shared one would reveal a match.
      const tokens = [...('options' in view ? view.options : []), ...('items' in view ? view.items : []), ...('pairs' in view ? view.pairs : []), ...('choices' in view ? view.choices : [])].map((o) => o.id);
      expect(new Set(tokens).size).toBe(tokens.length);
      if (question.type === 'audit-event') expect(view.type === 'audit-event' && view.event).toBe(JSON.stringify(question.event, null, 2));
    }
    for (const view of attempt.questions) {
      const question = l18.data.questions.find((q) => q.id === view.id)!;
      const { result } = await engine.answer(learner.id, 'l18', attempt.id, view.id, rightAnswer(question, view));
      expect(result).toMatchObject({ correct: true, score: 1, explanation: question.explanation });
      expect(result!.section.href).toBe(`/lessons/l18-audit-logging-incident-response#${question.section}`);
      await expect(engine.answer(learner.id, 'l18', attempt.id, view.id, rightAnswer(question, view))).rejects.toThrow(/already checked/);
    }
    const done = await engine.submit(learner.id, 'l18', attempt.id);
    expect(done.attempt!.score).toMatchObject({ percent: 100, passed: true });
    expect(done.bestPercent).toBe(100);
    const report = await quizReport(store, l18);
    expect(report).toMatchObject({ learners: 1, attempts: 1, meanPercent: 100 });
  });

  it('feeds the item report from first attempts across learners', async () => {
    const { engine, learners, store } = await setup([l18]);
    const ids: string[] = [];
    // Five learners: learner i answers the first i+1 asked questions right and the rest wrong or not at all.
    for (let i = 0; i < 5; i++) {
      const { learner } = await learners.create();
      ids.push(learner.id);
      const attempt = (await engine.start(learner.id, 'l18')).attempt!;
      for (const view of attempt.questions.slice(0, 10 * (i + 1))) {
        const question = l18.data.questions.find((q) => q.id === view.id)!;
        await engine.answer(learner.id, 'l18', attempt.id, view.id, rightAnswer(question, view));
      }
      await engine.submit(learner.id, 'l18', attempt.id);
      // A second attempt does not count in the statistics.
      await engine.submit(learner.id, 'l18', (await engine.start(learner.id, 'l18')).attempt!.id);
    }
    const report = await quizReport(store, l18);
    expect(report).toMatchObject({ learners: 5, attempts: 10 });
    // A class's statistics: its members' attempts only.
    const ofClass = await quizReport(store, l18, new Set(ids.slice(0, 2)));
    expect(ofClass).toMatchObject({ learners: 2, attempts: 4 });
    expect(ofClass.items.find((i) => i.id === 'first-step')).toMatchObject({ n: 2 });
    const first = report.items.find((i) => i.id === 'first-step')!;
    expect(first).toMatchObject({ n: 5, facility: 1 });
    expect(first.flags.some((f) => f.startsWith('too easy'))).toBe(true);
    expect(first.options.find((o) => o.correct)).toMatchObject({ picks: 5 });
    // Questions past a learner's last answer were submitted unanswered: counted apart, never as wrong.
    for (const item of report.items) {
      // (Pools draw some questions for some learners only.)
      expect(item.n + item.unanswered, item.id).toBeLessThanOrEqual(5);
      if (item.n > 0) expect(item.facility, item.id).toBe(1);
      expect(item.flags.some((f) => f.startsWith('too hard')), item.id).toBe(false);
    }
    expect(report.items.some((i) => i.unanswered > 0)).toBe(true);
  });
});
