import { describe, expect, it } from 'vitest';
import { csvCell, dashboardCsv, dashboardRows } from './class-csv.ts';
import type { DashboardView } from './class-view.ts';

describe('class CSV', () => {
  it('quotes commas, quotes and line breaks, and neutralises formulas', () => {
    expect(csvCell('Ana')).toBe('Ana');
    expect(csvCell('Doe, Jane')).toBe('"Doe, Jane"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    for (const formula of ['=1+1', '+1', '-1', '@SUM(A1)', '\t=1', '\r=1']) expect(csvCell(formula).replace(/^"/, '')).toMatch(/^'/);
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
    expect(csvCell(null)).toBe('');
    expect(csvCell(42)).toBe('42');
    expect(csvCell(-5)).toBe("'-5"); // a negative number is no figure here, and stays text
  });

  it('has one row per learner and step, and per learner and quiz, with the dashboard figures', () => {
    const view: DashboardView = {
      class: { id: 'cls_x', name: 'X', joinCode: 'ABCD-EFGH', joinUrl: 'http://irlab.test/classes/join/ABCD-EFGH', closed: false, stuckAfterSeconds: 600 },
      assignments: [],
      learners: [
        {
          id: 'lrn_a',
          name: '=cmd',
          stuck: { lab: 'l18', step: 's2', stepTitle: 'Two', minutes: 12 },
          watchable: true,
          labs: [{ slug: 'l18', title: 'L18', dueAt: undefined, running: true, scorePercent: 50, steps: [
            { step: 's1', title: 'One', status: 'passed', scorePercent: 100, minutes: 3, hints: 1, checks: 2 },
            { step: 's2', title: 'Two', status: 'failing', scorePercent: 0, minutes: 12, hints: 0, checks: 4 },
          ] }],
          quizzes: [{ slug: 'q1', title: 'Q', dueAt: undefined, status: 'submitted', scorePercent: 80 }],
        },
      ],
    };
    expect(dashboardRows(view)).toEqual([
      ['=cmd', 'lab', 'l18', 's1', 'passed', 100, 3, 1, 2, 'no'],
      ['=cmd', 'lab', 'l18', 's2', 'failing', 0, 12, 0, 4, 'yes'],
      ['=cmd', 'quiz', 'q1', null, 'submitted', 80, null, null, null, null],
    ]);
    expect(dashboardCsv(view).split('\r\n')).toEqual([
      'learner,kind,activity,step,status,score_percent,minutes,hints,checks,stuck',
      "'=cmd,lab,l18,s1,passed,100,3,1,2,no",
      "'=cmd,lab,l18,s2,failing,0,12,0,4,yes",
      "'=cmd,quiz,q1,,submitted,80,,,,",
      '',
    ]);
  });
});
