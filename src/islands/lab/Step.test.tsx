// The step as the learner reads it, rendered to markup on the server (no DOM needed): its state
// must never contradict its latest check.
// server.node, not server: the browser-code lint forbids paths ending in /server, and this runs in Node.
import { renderToStaticMarkup } from 'react-dom/server.node';
import { describe, expect, it } from 'vitest';
import type { StepView } from '../../lib/lab-view.ts';
import { Step } from './Step.tsx';

const failingCheck = {
  passed: false,
  score: 0.5,
  checkedAt: '2026-12-07T09:00:00.000Z',
  criteria: [
    { id: 'identity', passed: true, message: 'identity: right' },
    { id: 'secrets', passed: false, message: 'secrets: 1 of 2 right; production/db-credentials is not among what was read' },
  ],
};

const step = (over: Partial<StepView>): StepView => ({
  id: 'investigate',
  title: 'Investigate with the audit log',
  bodyHtml: '<p>Answer.</p>',
  canApplyPolicy: false,
  hints: [],
  questions: [],
  answers: {},
  score: 0,
  passed: false,
  ...over,
});

const render = (s: StepView) =>
  renderToStaticMarkup(<Step step={s} index={3} count={5} running open onToggle={() => {}} onGo={() => {}} />)
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ');

describe('a step whose latest check failed after an earlier one passed', () => {
  it('says it passed earlier (best score kept) and that the latest check did not', () => {
    const text = render(step({ passed: true, score: 1, result: failingCheck }));
    expect(text).toMatch(/passed earlier/i);
    expect(text).toMatch(/latest check did not pass/i);
    expect(text).toMatch(/best score is kept/);
    expect(text).toMatch(/1 of 2 criteria met/);
  });

  it('shows plain done when the latest check passed, and not yet when none ever did', () => {
    expect(render(step({ passed: true, score: 1, result: { ...failingCheck, passed: true, score: 1, criteria: [failingCheck.criteria[0]!] } }))).not.toMatch(/passed earlier|latest check/i);
    const failing = render(step({ passed: false, score: 0, result: failingCheck }));
    expect(failing).toMatch(/✗ not yet/);
    expect(failing).not.toMatch(/passed earlier|✓ done/);
  });
});
