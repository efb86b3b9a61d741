import type { Migration } from '../store/database.ts';

export const quizMigrations: Migration[] = [
  {
    module: 'quiz',
    version: 1,
    name: 'quiz attempts and answers',
    sql: `
      CREATE TABLE quiz_attempts (
        id TEXT PRIMARY KEY,
        learner_id TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
        quiz TEXT NOT NULL,
        quiz_hash TEXT NOT NULL,
        -- Everything random about the attempt (pool draws, option order, option tokens) derives from it.
        seed TEXT NOT NULL,
        -- JSON list of the question ids asked, in order.
        question_ids TEXT NOT NULL,
        started_at TEXT NOT NULL,
        submitted_at TEXT,
        earned REAL,
        max REAL
      );
      CREATE INDEX quiz_attempts_by_learner ON quiz_attempts(quiz, learner_id, started_at);
      CREATE TABLE quiz_answers (
        attempt_id TEXT NOT NULL REFERENCES quiz_attempts(id) ON DELETE CASCADE,
        question_id TEXT NOT NULL,
        -- JSON, in authored ids; NULL when the attempt was submitted without an answer.
        answer TEXT,
        -- 0..1 once graded; NULL while a deferred-feedback answer is only saved.
        score REAL,
        answered_at TEXT NOT NULL,
        PRIMARY KEY (attempt_id, question_id)
      );
    `,
  },
];
