import { useEffect, useRef } from 'react';
import type { AnswerValue, QuestionResult, QuestionView } from '../lib/quiz-view.ts';
import { resultSummary } from '../stores/quiz-store.ts';
import QuizInputs from './QuizInputs.tsx';
import QuizText from './QuizText.tsx';

interface Props {
  question: QuestionView;
  total: number;
  value: AnswerValue | undefined;
  result: QuestionResult | undefined;
  error: string | undefined;
  immediate: boolean;
  submitted: boolean;
  busy: boolean;
  /** Move focus to the feedback when it first appears (after the learner pressed Check). */
  focusFeedback: boolean;
  onChange: (value: AnswerValue) => void;
  onCheck: () => void;
  announce: (message: string) => void;
}

/**
 * One question as a fieldset whose legend is the question, so a screen reader announces the
 * question with every control in it. The feedback says right or wrong in words and symbols,
 * never colour alone.
 */
export default function QuizQuestion({ question, total, value, result, error, immediate, submitted, busy, focusFeedback, onChange, onCheck, announce }: Props) {
  const feedback = useRef<HTMLDivElement>(null);
  const locked = submitted || result !== undefined;
  const errorId = `q-${question.id}-error`;
  const hadResult = useRef(result !== undefined);
  useEffect(() => {
    if (result && !hadResult.current && focusFeedback) feedback.current?.focus();
    hadResult.current = result !== undefined;
  }, [result, focusFeedback]);

  const verdictClass = result ? (result.correct ? 'correct' : result.score > 0 ? 'partial' : 'incorrect') : '';
  const symbol = result ? (result.correct ? '✓' : result.score > 0 ? '◐' : '✗') : '';

  return (
    <li className={`quiz-question ${verdictClass ? `quiz-question-${verdictClass}` : ''}`} data-question={question.id} data-type={question.type}>
      <fieldset>
        <legend>
          <span className="quiz-number">
            Question {question.number} of {total}
            {question.points !== 1 ? ` · ${question.points} points` : ''}
          </span>
          <span className="quiz-prompt">
            <QuizText text={question.prompt} />
          </span>
        </legend>
        {question.type === 'audit-event' ? (
          <pre className="quiz-event" tabIndex={0} role="region" aria-label={`Audit event for question ${question.number}`}>
            <code>{question.event}</code>
          </pre>
        ) : null}
        {question.type === 'multiple' || (question.type === 'audit-event' && question.multiple) ? <p className="quiz-instructions">Select all that apply.</p> : null}
        {question.type === 'ordering' ? <p className="quiz-instructions">Use the Move up and Move down buttons to put the items in order, first at the top.</p> : null}
        <QuizInputs question={question} value={value} result={result} locked={locked} onChange={onChange} announce={announce} describedBy={error ? errorId : undefined} />
        {error ? (
          <p id={errorId} className="quiz-error">
            <span aria-hidden="true">⚠ </span>
            {error}
          </p>
        ) : null}
        {immediate && !locked ? (
          <button type="button" className="quiz-check" onClick={onCheck} disabled={busy} aria-describedby={error ? errorId : undefined}>
            {busy ? 'Checking…' : `Check answer ${question.number}`}
          </button>
        ) : null}
      </fieldset>
      {result ? (
        <div className={`quiz-feedback quiz-feedback-${verdictClass}`} ref={feedback} tabIndex={-1} aria-label={`Feedback on question ${question.number}`} role="group">
          <p className="quiz-verdict">
            <span aria-hidden="true">{symbol} </span>
            {resultSummary(result)}
          </p>
          <p>
            <QuizText text={result.feedback} />
          </p>
          {result.explanation !== undefined ? (
            <p className="quiz-explanation">
              <strong>Why: </strong>
              <QuizText text={result.explanation} />
            </p>
          ) : null}
          <p>
            <a href={result.section.href}>Read the lesson section “{result.section.title}”</a>
          </p>
        </div>
      ) : null}
    </li>
  );
}
