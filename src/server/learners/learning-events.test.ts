// The learning-event bus: emitting waits for its listeners' writes but never fails because of one; the quiz
// engine tells it of attempts launched, answers saved and attempts submitted, with scores.
import { describe, expect, it } from 'vitest';
import { quizSchema } from '../../schemas/quiz.ts';
import type { CatalogQuiz } from '../quiz/catalog.ts';
import { rightAnswer, setupQuizEngine } from '../quiz/attempts-test-kit.ts';
import { LearningEvents, type LearningEvent } from './learning-events.ts';

const event: LearningEvent = { type: 'launched', learnerId: 'lrn_x', activity: { kind: 'lab', slug: 'l18', title: 'L18' }, runId: 'r', at: '2026-12-07T10:00:00.000Z' };

describe('LearningEvents', () => {
  it('tells every listener, even after one throws or rejects, reports each failure and never rejects', async () => {
    const failures: string[] = [];
    const bus = new LearningEvents((error) => failures.push((error as Error).message));
    const heard: string[] = [];
    bus.subscribe(() => {
      throw new Error('sync boom');
    });
    bus.subscribe(async () => {
      throw new Error('async boom');
    });
    const off = bus.subscribe((e) => void heard.push(e.type));
    await expect(bus.emit(event)).resolves.toBeUndefined();
    expect(heard).toEqual(['launched']);
    expect(failures.toSorted()).toEqual(['async boom', 'sync boom']);
    off();
    await bus.emit(event);
    expect(heard).toEqual(['launched']);
  });

  it('resolves only once every listener has settled (its durable write is done when the emitter goes on)', async () => {
    const bus = new LearningEvents();
    let release!: () => void;
    let written = false;
    bus.subscribe(() => new Promise<void>((resolve) => (release = resolve)).then(() => void (written = true)));
    const emitted = bus.emit(event);
    let settled = false;
    void emitted.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    release();
    await emitted;
    expect(written).toBe(true);
  });
});

const quizData = quizSchema.parse({
  title: 'Events quiz',
  lesson: 'l18-audit-logging-incident-response',
  feedback: 'deferred',
  passPercent: 50,
  questions: [
    { id: 'a', type: 'text', section: '1-contain', prompt: 'Type the word contain.', explanation: 'Because the lesson says so, in its own section.', accept: ['contain'] },
    { id: 'b', type: 'text', section: '1-contain', prompt: 'Type the word isolate.', explanation: 'Because the lesson says so, in its own section.', accept: ['isolate'] },
  ],
});
const quiz: CatalogQuiz = { slug: 'events', file: 'quizzes/events.yaml', hash: 'h', data: quizData, lesson: undefined };

/** A quiz engine on a bus that records what it hears, and one learner's first attempt. */
async function listening() {
  const bus = new LearningEvents();
  const heard: LearningEvent[] = [];
  bus.subscribe((e) => void heard.push(e));
  const { engine, learners } = setupQuizEngine([quiz], bus);
  const { learner } = await learners.create();
  return { engine, heard, learner, attempt: (await engine.start(learner.id, 'events')).attempt! };
}

describe('the quiz engine tells the bus', () => {
  it('launched on a new attempt, answered per saved answer, passed and completed with the score on submit', async () => {
    const { engine, heard, learner, attempt } = await listening();
    await engine.start(learner.id, 'events'); // the attempt in progress: no second launch
    const first = attempt.questions.find((q) => q.id === 'a')!;
    await engine.answer(learner.id, 'events', attempt.id, 'a', rightAnswer(quizData.questions[0]!, first));
    await engine.submit(learner.id, 'events', attempt.id);
    await engine.submit(learner.id, 'events', attempt.id); // already submitted: nothing new
    const activity = { kind: 'quiz', slug: 'events', title: 'Events quiz' };
    expect(heard.map((e) => e.type)).toEqual(['launched', 'answered', 'passed', 'completed']);
    expect(heard[0]).toMatchObject({ learnerId: learner.id, activity, runId: attempt.id });
    expect(heard[1]).toMatchObject({ question: { id: 'a' } });
    expect(heard[1]).not.toHaveProperty('success');
    expect(heard[3]).toMatchObject({ runId: attempt.id, success: true, score: { scaled: 0.5, raw: 1, max: 2 } });
  });

  it('a failed attempt is completed without success and not passed', async () => {
    const { engine, heard, learner, attempt } = await listening();
    await engine.submit(learner.id, 'events', attempt.id);
    expect(heard.map((e) => e.type)).toEqual(['launched', 'completed']);
    expect(heard[1]).toMatchObject({ success: false, score: { scaled: 0, raw: 0, max: 2 } });
  });
});
