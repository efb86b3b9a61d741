import { describe, expect, it } from 'vitest';
import { shellWords } from '../../lib/shell-words.ts';
import { normalizeCommand, normalizeText } from './normalize-answer.ts';

describe('normalizeText', () => {
  it('collapses whitespace, straightens quotes, drops a final full stop and case', () => {
    expect(normalizeText('  System:ServiceAccount:production:web-app.  ')).toBe('system:serviceaccount:production:web-app');
    expect(normalizeText('“quoted”\tand ‘single’')).toBe('"quoted" and \'single\'');
    expect(normalizeText('Keep Case', true)).toBe('Keep Case');
  });
});

describe('shellWords', () => {
  it('splits like a shell: quotes group and disappear, backslash escapes', () => {
    expect(shellWords(`kubectl label pod "my pod" 'a=b' c\\ d`)).toEqual(['kubectl', 'label', 'pod', 'my pod', 'a=b', 'c d']);
    expect(shellWords('x ""')).toEqual(['x', '']);
  });
});

describe('normalizeCommand', () => {
  const canonical = normalizeCommand('kubectl label pod compromised-pod quarantine=true -n production');

  it.each([
    'kubectl label pod compromised-pod quarantine=true -n production',
    'kubectl -n production label pod compromised-pod quarantine=true',
    'kubectl label pod compromised-pod quarantine=true --namespace production',
    'kubectl label pod compromised-pod quarantine=true --namespace=production',
    'kubectl label pods compromised-pod quarantine=true -nproduction',
    'kubectl label po/compromised-pod "quarantine=true" -n production',
    '$ kubectl   label pod/compromised-pod quarantine=true -n production',
    'KUBECTL LABEL POD COMPROMISED-POD QUARANTINE=TRUE -N PRODUCTION',
    'kubectl label pod compromised-pod ‘quarantine=true’ -n production',
  ])('accepts %s', (variant) => {
    expect(normalizeCommand(variant)).toBe(canonical);
  });

  it.each([
    'kubectl label pod compromised-pod quarantine=true',
    'kubectl label pod compromised-pod quarantine=yes -n production',
    'kubectl label pod other-pod quarantine=true -n production',
    'kubectl label pod compromised-pod quarantine=true -n default',
    'kubectl annotate pod compromised-pod quarantine=true -n production',
  ])('tells %s apart', (variant) => {
    expect(normalizeCommand(variant)).not.toBe(canonical);
  });

  it('treats switches with =true like the bare switch and keeps positional order', () => {
    expect(normalizeCommand('kubectl logs p --all-containers=true -n x')).toBe(normalizeCommand('kubectl logs -n x p --all-containers'));
    expect(normalizeCommand('kubectl get pod a b')).not.toBe(normalizeCommand('kubectl get pod b a'));
  });
});
