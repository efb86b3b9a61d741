import { useEffect, useRef, useState } from 'react';
import type { AnswerValue, QuestionResult, QuestionView } from '../lib/quiz-view.ts';
import QuizText from './QuizText.tsx';

/**
 * The answer controls of one question, by type. All native controls (radios, checkboxes,
 * selects, buttons, text inputs), so keyboard and screen-reader support come from the browser.
 * After grading they are read-only and each option says in words whether it was right.
 */
interface Props {
  question: QuestionView;
  value: AnswerValue | undefined;
  result: QuestionResult | undefined;
  locked: boolean;
  onChange: (value: AnswerValue) => void;
  announce: (message: string) => void;
  describedBy?: string;
}

function Marks({ correct, chosen }: { correct: boolean | undefined; chosen: boolean }) {
  if (correct === undefined) return null;
  return (
    <span className="quiz-marks">
      {correct ? <span className="quiz-mark quiz-mark-correct"><span aria-hidden="true">✓ </span>correct answer</span> : null}
      {chosen && !correct ? <span className="quiz-mark quiz-mark-wrong"><span aria-hidden="true">✗ </span>your answer</span> : null}
      {chosen && correct ? <span className="quiz-mark"> · your answer</span> : null}
    </span>
  );
}

export default function QuizInputs({ question, value, result, locked, onChange, announce, describedBy }: Props) {
  const name = `q-${question.id}`;
  const solution = result?.solution;

  if (question.type === 'single' || question.type === 'multiple' || question.type === 'audit-event') {
    const multiple = question.type === 'multiple' || (question.type === 'audit-event' && question.multiple);
    const picked = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
    const correct = solution?.type === 'choice' ? solution.correct : undefined;
    return (
      <ul className="quiz-options" role="presentation">
        {question.options.map((option) => {
          const id = `${name}-${option.id}`;
          const checked = picked.includes(option.id);
          return (
            <li key={option.id}>
              <input
                id={id}
                type={multiple ? 'checkbox' : 'radio'}
                name={name}
                value={option.id}
                checked={checked}
                disabled={locked}
                aria-describedby={describedBy}
                onChange={(e) => {
                  if (!multiple) onChange(option.id);
                  else onChange(e.target.checked ? [...picked, option.id] : picked.filter((p) => p !== option.id));
                }}
              />
              <label htmlFor={id}>
                <QuizText text={option.text} />
                <Marks correct={correct ? correct.includes(option.id) : undefined} chosen={checked} />
              </label>
            </li>
          );
        })}
      </ul>
    );
  }

  if (question.type === 'ordering') return <OrderingInput question={question} value={value} solution={solution?.type === 'ordering' ? solution.order : undefined} locked={locked} onChange={onChange} announce={announce} />;

  if (question.type === 'matching') {
    const given = value && typeof value === 'object' && !Array.isArray(value) ? value : {};
    const right = solution?.type === 'matching' ? solution.pairs : undefined;
    const textOf = (id: string | undefined) => question.choices.find((c) => c.id === id)?.text ?? '';
    return (
      <ul className="quiz-matching" role="presentation">
        {question.pairs.map((pair) => {
          const id = `${name}-${pair.id}`;
          const ok = right ? right[pair.id] === given[pair.id] : undefined;
          return (
            <li key={pair.id}>
              <label htmlFor={id}>
                <QuizText text={pair.text} />
              </label>
              <select id={id} value={given[pair.id] ?? ''} disabled={locked} aria-describedby={describedBy} onChange={(e) => onChange({ ...given, [pair.id]: e.target.value })}>
                <option value="">Choose…</option>
                {question.choices.map((choice) => (
                  <option key={choice.id} value={choice.id}>
                    {choice.text.replace(/`/g, '')}
                  </option>
                ))}
              </select>
              {ok === undefined ? null : ok ? (
                <span className="quiz-mark quiz-mark-correct"><span aria-hidden="true">✓ </span>correct</span>
              ) : (
                <span className="quiz-mark quiz-mark-wrong">
                  <span aria-hidden="true">✗ </span>should be: <QuizText text={textOf(right?.[pair.id])} />
                </span>
              )}
            </li>
          );
        })}
      </ul>
    );
  }

  // Free text.
  const text = typeof value === 'string' ? value : '';
  const id = `${name}-text`;
  return (
    <div className="quiz-text">
      <label htmlFor={id}>Your answer</label>
      {question.multiline ? (
        <textarea id={id} value={text} disabled={locked} rows={4} aria-describedby={describedBy} placeholder={question.placeholder} onChange={(e) => onChange(e.target.value)} />
      ) : (
        <input id={id} type="text" value={text} disabled={locked} autoComplete="off" spellCheck={false} aria-describedby={describedBy} placeholder={question.placeholder} onChange={(e) => onChange(e.target.value)} />
      )}
      {solution?.type === 'text' ? (
        <p className="quiz-model-answer">
          Model answer: <code>{solution.answer}</code>
        </p>
      ) : null}
    </div>
  );
}

function OrderingInput({ question, value, solution, locked, onChange, announce }: {
  question: Extract<QuestionView, { type: 'ordering' }>;
  value: AnswerValue | undefined;
  solution: string[] | undefined;
  locked: boolean;
  onChange: (value: AnswerValue) => void;
  announce: (message: string) => void;
}) {
  const order = Array.isArray(value) && value.length === question.items.length ? value : question.items.map((i) => i.id);
  const textOf = (id: string) => question.items.find((i) => i.id === id)?.text ?? id;
  // Keep keyboard focus on the button that was pressed, even though its item moved.
  const [focusTarget, setFocusTarget] = useState<string | undefined>();
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    if (!focusTarget) return;
    list.current?.querySelector<HTMLButtonElement>(`[data-focus-key="${focusTarget}"]`)?.focus();
    setFocusTarget(undefined);
  }, [focusTarget, order]);

  const move = (index: number, delta: -1 | 1) => {
    const target = index + delta;
    if (target < 0 || target >= order.length) return;
    const next = [...order];
    [next[index], next[target]] = [next[target]!, next[index]!];
    onChange(next);
    const id = order[index]!;
    const edge = (delta < 0 && target === 0) || (delta > 0 && target === order.length - 1);
    setFocusTarget(`${id}:${edge ? (delta < 0 ? 'down' : 'up') : delta < 0 ? 'up' : 'down'}`);
    announce(`${textOf(id).replace(/`/g, '')} moved to position ${target + 1} of ${order.length}.`);
  };

  return (
    <ol className="quiz-ordering" ref={list}>
      {order.map((id, index) => {
        const plain = textOf(id).replace(/`/g, '');
        const placed = solution ? solution[index] === id : undefined;
        return (
          <li key={id}>
            <span className="quiz-ordering-text">
              <QuizText text={textOf(id)} />
              {placed === undefined ? null : placed ? (
                <span className="quiz-mark quiz-mark-correct"><span aria-hidden="true"> ✓ </span>right position</span>
              ) : (
                <span className="quiz-mark quiz-mark-wrong"><span aria-hidden="true"> ✗ </span>belongs at position {solution!.indexOf(id) + 1}</span>
              )}
            </span>
            {locked ? null : (
              <span className="quiz-ordering-buttons">
                <button type="button" data-focus-key={`${id}:up`} disabled={index === 0} aria-label={`Move “${plain}” up`} onClick={() => move(index, -1)}>
                  ↑<span className="visually-hidden"> up</span>
                </button>
                <button type="button" data-focus-key={`${id}:down`} disabled={index === order.length - 1} aria-label={`Move “${plain}” down`} onClick={() => move(index, 1)}>
                  ↓<span className="visually-hidden"> down</span>
                </button>
              </span>
            )}
          </li>
        );
      })}
    </ol>
  );
}
