/**
 * `npm run bench:quiz`: how long the quiz engine takes for what a learner and an instructor do,
 * against a real SQLite file (WAL) in a temp directory, on the L18 quiz. Prints figures; asserts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadCatalog } from '../src/server/quiz/catalog.ts';
import { quizEngine } from '../src/server/quiz/attempts.ts';
import { quizReport } from '../src/server/quiz/item-report.ts';
import { learnerService } from '../src/server/learners/learners.ts';
import { openSqliteStore, allMigrations } from '../src/server/store/index.ts';
import type { AnswerValue, QuestionView } from '../src/lib/quiz-view.ts';

const LEARNERS = Number(process.env.BENCH_LEARNERS ?? 300);
const dir = mkdtempSync(path.join(tmpdir(), 'irlab-bench-quiz-'));
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const ms = (x: number) => `${x.toFixed(2)} ms`;

try {
  let t = performance.now();
  const catalog = await loadCatalog(process.cwd());
  const loadMs = performance.now() - t;
  const db = await openSqliteStore(path.join(dir, 'irlab.db'), allMigrations);
  const engine = quizEngine({ store: db, catalog });
  const learners = learnerService({ store: db });
  const quiz = catalog.get('l18')!;

  // A plausible answer per question: the first option(s), the order as shown, the first choice everywhere, a typed command.
  const answerFor = (view: QuestionView, i: number): AnswerValue => {
    switch (view.type) {
      case 'single':
        return view.options[i % view.options.length]!.id;
      case 'multiple':
        return view.options.slice(0, 1 + (i % 3)).map((o) => o.id);
      case 'audit-event':
        return view.multiple ? [view.options[0]!.id] : view.options[i % view.options.length]!.id;
      case 'ordering':
        return view.items.map((o) => o.id);
      case 'matching':
        return Object.fromEntries(view.pairs.map((p, j) => [p.id, view.choices[(i + j) % view.choices.length]!.id]));
      case 'text':
        return i % 2 ? 'kubectl label pod compromised-pod quarantine=true -n production' : 'no idea';
    }
  };

  const starts: number[] = [];
  const answers: number[] = [];
  const submits: number[] = [];
  const states: number[] = [];
  t = performance.now();
  for (let n = 0; n < LEARNERS; n++) {
    const { learner } = await learners.create();
    let s = performance.now();
    const attempt = (await engine.start(learner.id, 'l18')).attempt!;
    starts.push(performance.now() - s);
    for (const [i, view] of attempt.questions.entries()) {
      s = performance.now();
      await engine.answer(learner.id, 'l18', attempt.id, view.id, answerFor(view, i + n));
      answers.push(performance.now() - s);
    }
    s = performance.now();
    await engine.submit(learner.id, 'l18', attempt.id);
    submits.push(performance.now() - s);
    s = performance.now();
    await engine.state(learner.id, 'l18');
    states.push(performance.now() - s);
  }
  const totalS = (performance.now() - t) / 1000;
  t = performance.now();
  const report = await quizReport(db, quiz);
  const reportMs = performance.now() - t;

  console.log(`quiz bench: L18 quiz (${quiz.data.questions.length} questions, ${starts.length ? 'SQLite WAL file' : ''}), ${LEARNERS} learners, node ${process.version}`);
  console.log(`  load + validate catalog       ${ms(loadMs)}`);
  console.log(`  start attempt        p50 ${ms(quantile(starts, 0.5))}  p95 ${ms(quantile(starts, 0.95))}`);
  console.log(`  answer (grade+store) p50 ${ms(quantile(answers, 0.5))}  p95 ${ms(quantile(answers, 0.95))}`);
  console.log(`  submit attempt       p50 ${ms(quantile(submits, 0.5))}  p95 ${ms(quantile(submits, 0.95))}`);
  console.log(`  quiz state (reload)  p50 ${ms(quantile(states, 0.5))}  p95 ${ms(quantile(states, 0.95))}`);
  console.log(`  whole run: ${totalS.toFixed(1)} s for ${answers.length} graded answers`);
  console.log(`  instructor item report over ${report.learners} learners: ${ms(reportMs)}`);
  await db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
