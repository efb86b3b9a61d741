/**
 * What the quiz engine's tests share: an engine on an in-memory store with a deterministic clock
 * and ids, and the right answer to any authored question in one attempt's option tokens.
 */
import type { Question } from '../../schemas/quiz.ts';
import type { AnswerValue, QuestionView } from '../../lib/quiz-view.ts';
import { openStore } from '../store/database.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { sqliteStore } from '../store/sqlite-store.ts';
import { onTestFinished } from 'vitest';
import type { TestBackend } from '../store/store-test-kit.ts';
import { allMigrations } from '../store/migrations.ts';
import { learnerService } from '../learners/learners.ts';
import type { LearningEvents } from '../learners/learning-events.ts';
import type { CatalogQuiz, QuizCatalog } from './catalog.ts';
import { quizEngine } from './attempts.ts';

export function setupQuizEngine(catalogQuizzes: CatalogQuiz[], events?: LearningEvents) {
  const store: SqlStore = sqliteStore(openStore(':memory:', allMigrations));
  let n = 0;
  const catalog: QuizCatalog = { get: (slug) => catalogQuizzes.find((q) => q.slug === slug), all: () => catalogQuizzes };
  const engine = quizEngine({ store, catalog, newId: (kind) => `${kind}-${++n}`, clock: () => new Date(Date.UTC(2026, 10, 27, 10, 0, n)), ...(events ? { events } : {}) });
  const learners = learnerService({ store });
  return { store, engine, learners };
}

/** The same on a backend's new store (SQLite or PostgreSQL), closed when the test finishes. */
export async function setupQuizEngineOn(backend: TestBackend, catalogQuizzes: CatalogQuiz[], events?: LearningEvents) {
  const store = await backend.open();
  onTestFinished(() => store.close());
  let n = 0;
  const catalog: QuizCatalog = { get: (slug) => catalogQuizzes.find((q) => q.slug === slug), all: () => catalogQuizzes };
  const engine = quizEngine({ store, catalog, newId: (kind) => `${kind}-${++n}`, clock: () => new Date(Date.UTC(2026, 10, 27, 10, 0, n)), ...(events ? { events } : {}) });
  return { store, engine, learners: learnerService({ store }) };
}

/** The right answer for a question, in the attempt's tokens, worked out from the quiz file. */
export function rightAnswer(question: Question, view: QuestionView): AnswerValue {
  const token = (text: string, list: Array<{ id: string; text: string }>) => list.find((o) => o.text === text)!.id;
  switch (question.type) {
    case 'single':
    case 'multiple':
    case 'audit-event': {
      const keys = ([] as string[]).concat(question.correct).map((id) => token(question.options.find((o) => o.id === id)!.text, (view as { options: Array<{ id: string; text: string }> }).options));
      return Array.isArray(question.correct) ? keys : keys[0]!;
    }
    case 'ordering':
      return question.items.map((item) => token(item.text, (view as { items: Array<{ id: string; text: string }> }).items));
    case 'matching': {
      const v = view as { pairs: Array<{ id: string; text: string }>; choices: Array<{ id: string; text: string }> };
      return Object.fromEntries(question.pairs.map((p) => [token(p.text, v.pairs), token(question.choices.find((c) => c.id === p.match)!.text, v.choices)]));
    }
    case 'text':
      return question.accept[0]!;
  }
}
