import { describe, expect, it } from 'vitest';
import { createQuizStore, isEmptyAnswer, type Fetch } from '../../src/stores/quiz-store.ts';
import { quizSchema } from '../../src/schemas/quiz.ts';
import { openStore } from '../../src/server/store/database.ts';
import { allMigrations } from '../../src/server/store/migrations.ts';
import { learnerService } from '../../src/server/learners/learners.ts';
import { sqliteStore } from '../../src/server/store/sqlite-store.ts';
import { quizEngine, type QuizError } from '../../src/server/quiz/attempts.ts';
import type { CatalogQuiz } from '../../src/server/quiz/catalog.ts';
import type { QuestionView } from '../../src/lib/quiz-view.ts';

// The island's store talking to the real engine (SQLite in memory) through a transport that
// routes the four quiz endpoints in-process, as the Astro endpoints do over HTTP.
const explanation = 'Because the lesson says so, in its own section.';
const quiz: CatalogQuiz = {
  slug: 'deferred',
  file: 'quizzes/deferred.yaml',
  hash: 'h',
  lesson: undefined,
  data: quizSchema.parse({
    title: 'A deferred quiz',
    lesson: 'l18-audit-logging-incident-response',
    feedback: 'deferred',
    questions: [
      { id: 'one', type: 'single', section: '1-contain', prompt: 'Which is the first step?', explanation, options: [{ id: 'contain', text: 'Contain' }, { id: 'delete', text: 'Delete' }], correct: 'contain' },
      { id: 'order', type: 'ordering', section: 'the-incident-response-playbook', prompt: 'Order the playbook steps.', explanation, items: [{ id: 'c', text: 'Contain' }, { id: 'p', text: 'Preserve' }, { id: 'i', text: 'Investigate' }] },
      { id: 'typed', type: 'text', section: '1-contain', prompt: 'Type the label key used for quarantine.', explanation, accept: ['quarantine'] },
    ],
  }),
};

function transport(): { fetch: Fetch; calls: string[] } {
  const store = openStore(':memory:', allMigrations);
  const engine = quizEngine({ store: sqliteStore(store), catalog: { get: (s) => (s === quiz.slug ? quiz : undefined), all: () => [quiz] } });
  // Created before the first request: the fetch below awaits it.
  const created = learnerService({ store: sqliteStore(store) }).create();
  const calls: string[] = [];
  const fetch: Fetch = async (url, init) => {
    calls.push(`${init?.method ?? 'GET'} ${url}`);
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    const [, , , slug, , attempt, action] = url.split('/');
    try {
      let result: unknown;
      const { learner } = await created;
      if (!init?.method) result = await engine.state(learner.id, slug!);
      else if (!attempt) result = await engine.start(learner.id, slug!);
      else if (action === 'answers') result = await engine.answer(learner.id, slug!, attempt, body.questionId, body.answer);
      else result = await engine.submit(learner.id, slug!, attempt);
      return new Response(JSON.stringify(result), { status: 200 });
    } catch (error) {
      const e = error as QuizError;
      return new Response(JSON.stringify({ error: e.message, hint: e.hint }), { status: e.status ?? 500 });
    }
  };
  return { fetch, calls };
}

describe('quiz store with deferred feedback', () => {
  it('keeps answers as drafts, sends them on submit, and shows every result only then', async () => {
    const { fetch, calls } = transport();
    const store = createQuizStore(fetch);
    await store.getState().load('deferred');
    expect(store.getState().quiz?.attempt).toBeUndefined();
    await store.getState().start();
    const attempt = store.getState().quiz!.attempt!;
    const [one, order] = attempt.questions as [QuestionView, QuestionView];
    // An ordering question starts answered with the order shown.
    expect(store.getState().drafts[order.id]).toEqual(order.type === 'ordering' && order.items.map((i) => i.id));
    const contain = one.type === 'single' ? one.options.find((o) => o.text === 'Contain')!.id : '';
    store.getState().setDraft('one', contain);
    store.getState().setDraft('typed', '  Quarantine ');
    // Every item one place off: no credit.
    const byText = (text: string) => (order.type === 'ordering' ? order.items.find((i) => i.text === text)!.id : '');
    store.getState().setDraft('order', ['Investigate', 'Contain', 'Preserve'].map(byText));
    expect(calls.filter((c) => c.includes('/answers'))).toEqual([]);
    await store.getState().submit();
    // One save per answered question, then the submit.
    expect(calls.slice(-4).map((c) => c.split(' ')[0] + ' ' + c.split('/').slice(-1)[0])).toEqual(['POST answers', 'POST answers', 'POST answers', 'POST submit']);
    const done = store.getState().quiz!.attempt!;
    expect(done.submitted).toBe(true);
    expect(done.results.one).toMatchObject({ correct: true });
    expect(done.results.typed).toMatchObject({ correct: true });
    expect(done.results.order).toMatchObject({ score: 0, feedback: '0 of 3 items are in the right position: no credit.' });
    expect(store.getState().announcement).toMatch(/^Quiz submitted\. Score: 2 of 3 points, 66.7%\. Not passed yet\.$/);
  });

  it('says what is missing instead of sending an empty answer', async () => {
    const { fetch, calls } = transport();
    const store = createQuizStore(fetch);
    await store.getState().load('deferred');
    await store.getState().start();
    const before = calls.length;
    expect(await store.getState().check('typed')).toBeUndefined();
    expect(store.getState().questionErrors.typed).toBe('Type an answer before checking.');
    expect(calls.length).toBe(before);
  });

  it('reports server errors readably', async () => {
    const store = createQuizStore(transport().fetch);
    await store.getState().load('missing');
    expect(store.getState()).toMatchObject({ status: 'error', error: { error: 'no quiz "missing"' } });
  });

  it('knows when an answer is empty', () => {
    const matching = { id: 'm', number: 1, prompt: 'p', points: 1, type: 'matching' as const, pairs: [{ id: 'a', text: 'A' }, { id: 'b', text: 'B' }], choices: [] };
    expect(isEmptyAnswer(matching, { a: 'x' })).toBe(true);
    expect(isEmptyAnswer(matching, { a: 'x', b: 'y' })).toBe(false);
  });
});
