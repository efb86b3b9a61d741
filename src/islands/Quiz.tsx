import { useEffect, useRef, useState } from 'react';
import type { QuestionView } from '../lib/quiz-view.ts';
import { isEmptyAnswer, round, useQuizStore } from '../stores/quiz-store.ts';
import QuizQuestion from './QuizQuestion.tsx';
import QuizText from './QuizText.tsx';

interface Props {
  /** Quiz slug (`quizzes/<slug>.yaml`). */
  slug: string;
  /** Heading level for the quiz title: 2 inside a lesson's quiz section, 1 on its own page. */
  headingLevel?: 2 | 3;
}

/**
 * The quiz island. Server-rendered as a loading notice; once hydrated it loads the learner's
 * attempt from the API (lesson pages are prerendered and cannot know who is reading).
 */
export default function Quiz({ slug, headingLevel = 3 }: Props) {
  const store = useQuizStore();
  const { status, quiz, drafts, questionErrors, busy, error, announcement } = store;
  const [politeMessage, setPoliteMessage] = useState('');
  const scoreHeading = useRef<HTMLHeadingElement>(null);
  const firstQuestion = useRef<HTMLOListElement>(null);
  const [checkedHere, setCheckedHere] = useState(false);
  const Heading = `h${headingLevel}` as 'h2' | 'h3';

  useEffect(() => {
    void store.load(slug);
  }, [slug]);
  useEffect(() => setPoliteMessage(announcement), [announcement]);

  const attempt = quiz?.attempt;
  const submitted = attempt?.submitted ?? false;
  useEffect(() => {
    if (submitted && checkedHere) scoreHeading.current?.focus();
  }, [submitted, checkedHere]);

  const live = (
    <p className="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="quiz-announcer">
      {politeMessage}
    </p>
  );

  if (status !== 'ready' || !quiz) {
    return (
      <div className="quiz" aria-busy={status === 'loading'}>
        {live}
        {status === 'error' ? (
          <p className="quiz-error" role="alert">
            The quiz could not be loaded: {error?.error}. {error?.hint}
          </p>
        ) : (
          <p className="muted">Loading the quiz…</p>
        )}
      </div>
    );
  }

  const attemptsLeft = quiz.attemptsAllowed === undefined ? undefined : quiz.attemptsAllowed - quiz.attemptsUsed;
  const canStart = attemptsLeft === undefined || attemptsLeft > 0;
  const immediate = quiz.feedback === 'immediate';
  const questions: QuestionView[] = attempt?.questions ?? [];
  const unanswered = questions.filter((q) => (immediate ? !attempt?.results[q.id] : isEmptyAnswer(q, drafts[q.id]))).length;
  const startLabel = attempt ? 'Try again' : 'Start the quiz';

  const startButton = canStart ? (
    <button type="button" className="quiz-primary" onClick={() => void store.start().then(() => firstQuestion.current?.querySelector<HTMLElement>('input, select, textarea, button')?.focus())} disabled={busy === 'start'}>
      {busy === 'start' ? 'Starting…' : startLabel}
    </button>
  ) : (
    <p>You have used all {quiz.attemptsAllowed} attempts at this quiz.</p>
  );

  return (
    <div className="quiz" data-quiz={quiz.slug} data-attempt={attempt?.id}>
      {live}
      <Heading className="quiz-title">{quiz.title}</Heading>
      {quiz.description ? <p>{quiz.description}</p> : null}
      <p className="muted quiz-meta">
        {quiz.questionCount} questions · {immediate ? 'feedback after each question' : 'feedback when you submit'} · pass at {quiz.passPercent}%
        {quiz.attemptsAllowed !== undefined ? ` · attempt ${Math.min(quiz.attemptsUsed + (attempt && !submitted ? 1 : 0), quiz.attemptsAllowed)} of ${quiz.attemptsAllowed}` : ''}
        {quiz.bestPercent !== undefined ? ` · best so far ${quiz.bestPercent}%` : ''}
      </p>
      {error ? (
        <p className="quiz-error" role="alert">
          <span aria-hidden="true">⚠ </span>
          {error.error}
          {error.hint ? `: ${error.hint}` : ''}
        </p>
      ) : null}

      {submitted && attempt?.score ? (
        <section className={`quiz-score ${attempt.score.passed ? 'quiz-score-pass' : 'quiz-score-fail'}`} aria-labelledby="quiz-score-title">
          <Heading id="quiz-score-title" tabIndex={-1} ref={scoreHeading}>
            Your score: {round(attempt.score.earned)} of {attempt.score.max} points ({attempt.score.percent}%)
          </Heading>
          <p>
            <span aria-hidden="true">{attempt.score.passed ? '✓ ' : '✗ '}</span>
            {attempt.score.passed ? 'Passed.' : `Not passed yet: ${quiz.passPercent}% needed.`} Attempt {attempt.number}
            {quiz.attemptsAllowed !== undefined ? ` of ${quiz.attemptsAllowed}` : ''}.{' '}
            {Object.values(attempt.results).every((r) => r.explanation !== undefined)
              ? 'Every answer is explained below.'
              : `Your answers are explained below; the answers to questions you left open are shown once you pass${quiz.attemptsAllowed !== undefined ? ' or after your last attempt' : ''}.`}
          </p>
          {startButton}
        </section>
      ) : null}

      {!attempt ? startButton : null}

      {attempt ? (
        <form
          className="quiz-form"
          aria-label={`${quiz.title}, attempt ${attempt.number}`}
          onSubmit={(e) => {
            e.preventDefault();
            setCheckedHere(true);
            void store.submit();
          }}
        >
          <ol className="quiz-questions" ref={firstQuestion}>
            {questions.map((question) => (
              <QuizQuestion
                key={`${attempt.id}-${question.id}`}
                question={question}
                total={questions.length}
                value={drafts[question.id]}
                result={attempt.results[question.id]}
                error={questionErrors[question.id] || undefined}
                immediate={immediate}
                submitted={submitted}
                busy={busy === question.id}
                focusFeedback={checkedHere}
                onChange={(value) => store.setDraft(question.id, value)}
                onCheck={() => {
                  setCheckedHere(true);
                  void store.check(question.id);
                }}
                announce={setPoliteMessage}
              />
            ))}
          </ol>
          {!submitted ? (
            <div className="quiz-submit">
              <p className="muted" id="quiz-submit-note">
                {unanswered > 0
                  ? `${unanswered} question${unanswered === 1 ? '' : 's'} ${immediate ? 'not checked yet' : 'not answered yet'}; ${unanswered === 1 ? 'it counts' : 'they count'} as zero.`
                  : immediate
                    ? 'All questions checked.'
                    : 'All questions answered.'}
              </p>
              <button type="submit" className="quiz-primary" disabled={busy === 'submit'} aria-describedby="quiz-submit-note">
                {busy === 'submit' ? 'Submitting…' : immediate ? 'Finish the quiz' : 'Submit answers'}
              </button>
            </div>
          ) : null}
        </form>
      ) : null}
      {quiz.lesson && !attempt ? (
        <p className="muted">
          Based on the lesson <a href={quiz.lesson.href}><QuizText text={quiz.lesson.title} /></a>.
        </p>
      ) : null}
    </div>
  );
}
