// What the run's parts print: the countdown, a run's duration, and file names a learner chose
// (escape sequences and newlines shown as escapes, never acting on the page).
import { describe, expect, it } from 'vitest';
import { duration } from './Completion.tsx';
import { printable } from './FilesTab.tsx';
import { clock } from './RunTimer.tsx';

describe('run text', () => {
  it('counts down in h:mm:ss, never below zero', () => {
    expect(clock(2 * 3600_000 + 5 * 60_000 + 9_000)).toBe('2:05:09');
    expect(clock(4 * 60_000 + 7_000)).toBe('4:07');
    expect(clock(500)).toBe('0:01');
    expect(clock(-10_000)).toBe('0:00');
  });
  it('says how long a run took', () => {
    expect(duration(3 * 3600 + 4 * 60 + 5)).toBe('3 h 04 min');
    expect(duration(12 * 60 + 30)).toBe('12 min 30 s');
    expect(duration(9)).toBe('9 s');
  });
  it('shows control characters in names as escapes', () => {
    expect(printable('a\u001b[31mred\nb\tc\u009b')).toBe('a\\x1b[31mred\\x0ab\\x09c\\x9b');
    expect(printable('<img src=x onerror=alert(1)>')).toBe('<img src=x onerror=alert(1)>');
  });
});
