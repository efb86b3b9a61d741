/**
 * Issue #16: finishing an attempt with most questions unanswered showed every correct answer,
 * so a throwaway learner (a new cookie) harvested the key by submitting empty attempts. A
 * submitted attempt reveals the solution and explanation of the questions the learner answered;
 * the rest stay hidden until a passing attempt or the quiz's last allowed attempt.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { quizSchema, type Question } from '../../schemas/quiz.ts';
import type { QuestionView, QuizState } from '../../lib/quiz-view.ts';
import { loadCatalog, type CatalogQuiz } from './catalog.ts';
import { QuizError } from './attempts.ts';
import { rightAnswer, setupQuizEngineOn } from './attempts-test-kit.ts';
import { testStores } from '../store/store-test-kit.ts';


/** Everything of the key a response could carry: explanations, correct option texts, model answers. */
function keyFragments(question: Question): string[] {
  const fragments = [question.explanation.slice(0, 40)];
  if (question.type === 'single' || question.type === 'multiple' || question.type === 'audit-event') {
    const correct = ([] as string[]).concat(question.correct);
    fragments.push(...question.options.filter((o) => correct.includes(o.id)).map((o) => o.text));
  }
  if (question.type === 'text') fragments.push(...question.accept);
  return fragments;
}


describe.each(testStores())('quiz review reveals answers only for what the learner answered on $name', (backend) => {
  const setup = (quizzes: Parameters<typeof setupQuizEngineOn>[1]) => setupQuizEngineOn(backend, quizzes);
  let l18: CatalogQuiz;
  beforeAll(async () => {
    l18 = (await loadCatalog(process.cwd())).get('l18')!;
  });
  const authored = (id: string) => l18.data.questions.find((q) => q.id === id)!;

  it('a throwaway learner who finishes an empty attempt learns nothing of the key', async () => {
    const { engine, learners } = await setup([l18]);
    const { learner } = await learners.create();
    const attempt = (await engine.start(learner.id, 'l18')).attempt!;
    const done: QuizState = await engine.submit(learner.id, 'l18', attempt.id);
    expect(done.attempt!.score).toMatchObject({ earned: 0, passed: false });
    // The questions themselves show every option; the results must not say which is right.
    const results = JSON.stringify(done.attempt!.results);
    expect(JSON.stringify(done)).not.toMatch(/"(solution|explanation)"/);
    for (const view of done.attempt!.questions) {
      for (const fragment of keyFragments(authored(view.id))) expect(results, view.id).not.toContain(fragment);
      // Still says which lesson section to read: where to look, not the answer.
      expect(done.attempt!.results[view.id]).toMatchObject({ score: 0, correct: false, answer: undefined, section: { href: expect.stringContaining('#') } });
    }
    // Reloading the state of the finished attempt shows no more than the submit did.
    expect(await engine.state(learner.id, 'l18')).toEqual(done);
  });

  it('on L18 no number of empty attempts reveals the key (no final attempt to reach)', async () => {
    const { engine, learners } = await setup([l18]);
    const { learner } = await learners.create();
    for (let i = 0; i < 12; i++) {
      const done = await engine.submit(learner.id, 'l18', (await engine.start(learner.id, 'l18')).attempt!.id);
      expect(JSON.stringify(done), `attempt ${i + 1}`).not.toMatch(/"(solution|explanation)"/);
    }
  });

  it('reveals the solution and explanation of answered questions only, in a failing attempt', async () => {
    const { engine, learners } = await setup([l18]);
    const { learner } = await learners.create();
    const attempt = (await engine.start(learner.id, 'l18')).attempt!;
    const [right, wrong, ...rest] = attempt.questions.filter((q) => q.type === 'single') as [QuestionView, QuestionView, ...QuestionView[]];
    await engine.answer(learner.id, 'l18', attempt.id, right.id, rightAnswer(authored(right.id), right));
    const wrongPick = (wrong as { options: Array<{ id: string }> }).options.find((o) => o.id !== rightAnswer(authored(wrong.id), wrong))!.id;
    await engine.answer(learner.id, 'l18', attempt.id, wrong.id, wrongPick);
    const results = (await engine.submit(learner.id, 'l18', attempt.id)).attempt!.results;
    expect(results[right.id]).toMatchObject({ correct: true, explanation: authored(right.id).explanation, solution: { type: 'choice' } });
    expect(results[wrong.id]).toMatchObject({ correct: false, explanation: authored(wrong.id).explanation, solution: { type: 'choice' } });
    for (const view of rest) {
      expect(results[view.id]!.solution, view.id).toBeUndefined();
      expect(results[view.id]!.explanation, view.id).toBeUndefined();
    }
  });

  it('a passing attempt reveals every answer, the unanswered ones too', async () => {
    const { engine, learners } = await setup([l18]);
    const { learner } = await learners.create();
    const attempt = (await engine.start(learner.id, 'l18')).attempt!;
    const answered = attempt.questions.slice(0, Math.ceil(attempt.questions.length * 0.8));
    for (const view of answered) await engine.answer(learner.id, 'l18', attempt.id, view.id, rightAnswer(authored(view.id), view));
    const done = (await engine.submit(learner.id, 'l18', attempt.id)).attempt!;
    expect(done.score!.passed).toBe(true);
    for (const view of done.questions) expect(done.results[view.id], view.id).toMatchObject({ explanation: authored(view.id).explanation, solution: expect.anything() });
    // The next attempt starts clean: nothing is shown before it is answered.
    const next = (await engine.start(learner.id, 'l18')).attempt!;
    expect(next.results).toEqual({});
  });

  it('refuses an empty answer in immediate mode, so an empty "check" cannot reveal a solution', async () => {
    const { engine, learners } = await setup([l18]);
    const { learner } = await learners.create();
    const attempt = (await engine.start(learner.id, 'l18')).attempt!;
    const text = attempt.questions.find((q) => q.type === 'text')!;
    const multiple = attempt.questions.find((q) => q.type === 'multiple')!;
    const matching = attempt.questions.find((q) => q.type === 'matching')!;
    for (const [view, empty] of [[text, '  '], [multiple, []], [matching, {}]] as const) {
      const error = await (async () => {
        try {
          await engine.answer(learner.id, 'l18', attempt.id, view.id, empty);
        } catch (e) {
          return e as QuizError;
        }
      })();
      expect(error, view.id).toBeInstanceOf(QuizError);
      expect(error!.status).toBe(400);
    }
    const results = (await engine.submit(learner.id, 'l18', attempt.id)).attempt!.results;
    for (const view of [text, multiple, matching]) expect(results[view.id]!.solution, view.id).toBeUndefined();
  });
});

describe.each(testStores())('the last allowed attempt reveals everything on $name', (backend) => {
  const setup = (quizzes: Parameters<typeof setupQuizEngineOn>[1]) => setupQuizEngineOn(backend, quizzes);
  const explanation = 'Because the lesson says so, in its own section.';
  const data = quizSchema.parse({
    title: 'Two attempts, deferred',
    lesson: 'l18-audit-logging-incident-response',
    feedback: 'deferred',
    attempts: 2,
    questions: [
      { id: 'one', type: 'single', section: '1-contain', prompt: 'Which is the first step?', explanation, options: [{ id: 'contain', text: 'Contain' }, { id: 'delete', text: 'Delete' }], correct: 'contain' },
      { id: 'many', type: 'multiple', section: '4-eradicate', prompt: 'Which are eradication steps?', explanation, options: [{ id: 'rotate', text: 'Rotate' }, { id: 'revoke', text: 'Revoke' }, { id: 'restart', text: 'Restart' }], correct: ['rotate', 'revoke'] },
      { id: 'word', type: 'text', section: '1-contain', prompt: 'Type the word contain.', explanation, accept: ['contain'] },
    ],
  });
  const quiz: CatalogQuiz = { slug: 'two', file: 'quizzes/two.yaml', hash: 'h', data, lesson: undefined };

  it('hides unanswered questions in the first attempt and shows them in the last', async () => {
    const { engine, learners } = await setup([quiz]);
    const { learner } = await learners.create();
    const first = (await engine.start(learner.id, 'two')).attempt!;
    const one = first.questions[0] as QuestionView & { options: Array<{ id: string; text: string }> };
    await engine.answer(learner.id, 'two', first.id, 'one', one.options.find((o) => o.text === 'Delete')!.id);
    // Deferred: an empty answer clears a saved one, so the question counts as unanswered.
    await engine.answer(learner.id, 'two', first.id, 'word', 'contain');
    await engine.answer(learner.id, 'two', first.id, 'word', '');
    const firstResults = (await engine.submit(learner.id, 'two', first.id)).attempt!.results;
    expect(firstResults.one).toMatchObject({ explanation, solution: { type: 'choice' } });
    expect(firstResults.many!.solution).toBeUndefined();
    expect(firstResults.word).toMatchObject({ answer: undefined, score: 0 });
    expect(firstResults.word).not.toHaveProperty('solution');
    expect(firstResults.word!.feedback).not.toContain('contain');

    const last = (await engine.start(learner.id, 'two')).attempt!;
    const lastResults = (await engine.submit(learner.id, 'two', last.id)).attempt!.results;
    for (const id of ['one', 'many', 'word']) expect(lastResults[id], id).toMatchObject({ explanation, solution: expect.anything() });
    expect(lastResults.word!.solution).toEqual({ type: 'text', answer: 'contain' });
  });
});
