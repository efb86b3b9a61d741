import { describe, expect, it } from 'vitest';
import { CHECK_CRITERIA, NEEDS_APPLIED_POLICY } from './check-catalogue.ts';
import { CHECKS } from './checks/registry.ts';
import { SCOPE_QUESTIONS } from './checks/scope.ts';

describe('check catalogue', () => {
  it('names every registered check with its criteria, and nothing else', () => {
    expect(CHECK_CRITERIA).toEqual(Object.fromEntries([...CHECKS].map(([name, check]) => [name, [...check.criteria]])));
    expect(CHECK_CRITERIA.scope).toEqual([...SCOPE_QUESTIONS]);
    expect(NEEDS_APPLIED_POLICY).toEqual(new Set([...CHECKS].filter(([, check]) => check.needs?.appliedPolicy).map(([name]) => name)));
  });
});
