/**
 * The instructor's dashboard figures, from the store: each member's latest run of each assigned lab
 * (step standing through the lab module's own `stepStanding`, so a score reads as the learner's) and
 * latest quiz attempts; the stuck rule on an injected clock. A step's standing comes from the
 * lab module through `standing` (today its synchronous `stepStanding` on the SQLite connection;
 * awaited here, so the lab module's async one drops in).
 */
import type { CatalogQuiz } from '../quiz/catalog.ts';
import type { LoadedLab } from '../lab/labs.ts';
import type { stepStanding } from '../lab/step-view.ts';
import type { SqlStore } from '../store/sql-store.ts';
import type { DashboardLearner, DashboardView, LabCell, QuizCell, StepCell, StuckFlag } from '../../lib/class-view.ts';
import type { Assignment, ClassRecord, ClassService } from './classes.ts';

/** A lab step's standing in a run (hints taken, checks, score), as the lab module computes it. */
export type StepStanding = Awaited<ReturnType<typeof stepStanding>>;
export type StandingOf = (run: { id: string } | undefined, step: LoadedLab['lab']['steps'][number]) => StepStanding | Promise<StepStanding>;

export interface DashboardSources {
  store: SqlStore;
  standing: StandingOf;
  classes: ClassService;
  labs: readonly LoadedLab[];
  quizzes: readonly CatalogQuiz[];
  now: Date;
  publicUrl: string;
  /** Whether the learner has a live lab terminal (the instructor may watch it). */
  liveTerminal: (learnerId: string) => boolean;
}

interface RunRow {
  id: string;
  started_at: string;
  ended_at: string | null;
}

const minutesBetween = (from: number, to: number) => Math.max(0, Math.floor((to - from) / 60_000));
const percent = (share: number) => Math.round(share * 100);

/** One lab's cells for one learner, and the stuck flag when its current step qualifies. */
export async function labCell(
  { store, standing }: Pick<DashboardSources, 'store' | 'standing'>,
  learnerId: string,
  lab: LoadedLab,
  dueAt: string | undefined,
  now: Date,
  stuckAfterSeconds: number,
): Promise<{ cell: LabCell; stuck: StuckFlag | null }> {
  // The id breaks a tie of two runs started in the same millisecond (a total order on both backends).
  const run = await store.get<RunRow>('SELECT id, started_at, ended_at FROM lab_runs WHERE learner_id = ? AND lab = ? ORDER BY started_at DESC, attempt DESC, id DESC LIMIT 1', [learnerId, lab.slug]);
  const until = run?.ended_at ? Date.parse(run.ended_at) : now.getTime();
  let since = run ? Date.parse(run.started_at) : 0;
  let stuck: StuckFlag | null = null;
  let current = true;
  const standings: StepStanding[] = [];
  for (const step of lab.lab.steps) standings.push(await standing(run, step));
  const steps: StepCell[] = lab.lab.steps.map((step, index) => {
    const standing = standings[index]!;
    const firstPass = standing.results.find((r) => r.passed === 1);
    const end = firstPass ? Date.parse(firstPass.checked_at) : until;
    const last = standing.results.at(-1);
    const cell: StepCell = {
      step: step.id,
      title: step.title,
      status: standing.passed ? 'passed' : standing.results.length ? 'failing' : 'not started',
      scorePercent: percent(standing.score),
      minutes: run ? minutesBetween(since, end) : 0,
      hints: standing.taken.size,
      checks: standing.results.length,
    };
    // The current step: the first not passed. Stuck when its last check failed and it has been
    // current longer than the class's threshold (on a run that is still going).
    if (current && !standing.passed) {
      current = false;
      if (run && !run.ended_at && last && last.passed === 0 && now.getTime() - since >= stuckAfterSeconds * 1000) {
        stuck = { lab: lab.slug, step: step.id, stepTitle: step.title, minutes: minutesBetween(since, now.getTime()) };
      }
    }
    if (firstPass) since = Math.max(since, Date.parse(firstPass.checked_at));
    return cell;
  });
  const score = steps.reduce((sum, s) => sum + s.scorePercent, 0) / steps.length;
  return { cell: { slug: lab.slug, title: lab.lab.title, dueAt, running: Boolean(run && !run.ended_at), scorePercent: Math.round(score), steps }, stuck };
}

export async function quizCell(store: SqlStore, learnerId: string, quiz: { slug: string; title: string }, dueAt: string | undefined): Promise<QuizCell> {
  const started = (await store.get('SELECT 1 AS started FROM quiz_attempts WHERE learner_id = ? AND quiz = ? LIMIT 1', [learnerId, quiz.slug])) !== undefined;
  // The latest submitted attempt counts; one in progress after it does not hide it.
  const submitted = await store.get<{ earned: number | null; max: number | null }>(
    'SELECT earned, max FROM quiz_attempts WHERE learner_id = ? AND quiz = ? AND submitted_at IS NOT NULL ORDER BY submitted_at DESC, id DESC LIMIT 1',
    [learnerId, quiz.slug],
  );
  const status = submitted ? 'submitted' : started ? 'in progress' : 'not started';
  const scorePercent = submitted && submitted.max ? percent((submitted.earned ?? 0) / submitted.max) : null;
  return { slug: quiz.slug, title: quiz.title, dueAt, status, scorePercent };
}

export async function classDashboard(klass: ClassRecord, sources: DashboardSources): Promise<DashboardView> {
  type Resolved = Assignment & { title: string; lab: LoadedLab | undefined };
  const assignments = (await sources.classes.assignments(klass.id)).flatMap((a): Resolved[] => {
    if (a.kind === 'lab') {
      const lab = sources.labs.find((l) => l.slug === a.slug);
      return lab ? [{ ...a, title: lab.lab.title, lab }] : [];
    }
    const quiz = sources.quizzes.find((q) => q.slug === a.slug);
    return quiz ? [{ ...a, title: quiz.data.title, lab: undefined }] : [];
  });
  const learners: DashboardLearner[] = [];
  for (const member of await sources.classes.members(klass.id)) {
    let stuck: StuckFlag | null = null;
    const labs: LabCell[] = [];
    const quizzes: QuizCell[] = [];
    for (const a of assignments) {
      if (a.lab) {
        const { cell, stuck: flag } = await labCell(sources, member.learnerId, a.lab, a.dueAt, sources.now, klass.stuckAfterSeconds);
        labs.push(cell);
        stuck ??= flag;
      } else {
        quizzes.push(await quizCell(sources.store, member.learnerId, { slug: a.slug, title: a.title }, a.dueAt));
      }
    }
    learners.push({ id: member.learnerId, name: member.name, stuck, watchable: sources.liveTerminal(member.learnerId), labs, quizzes });
  }
  return {
    class: {
      id: klass.id,
      name: klass.name,
      joinCode: klass.joinCode,
      joinUrl: new URL(`/classes/join/${klass.joinCode}`, sources.publicUrl).href,
      closed: klass.closedAt !== undefined,
      stuckAfterSeconds: klass.stuckAfterSeconds,
      ...(klass.schedule ? { schedule: klass.schedule } : {}),
    },
    assignments: assignments.map(({ kind, slug, title, dueAt }) => ({ kind, slug, title, dueAt })),
    learners,
  };
}
