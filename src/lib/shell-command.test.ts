import { describe, expect, it } from 'vitest';
import { commandLines, commandOf, fenceLanguage, hasPlaceholder } from './shell-command.ts';

describe('commands in lab text', () => {
  it('reads the language marked renders on a fenced block', () => {
    expect(fenceLanguage('language-sh')).toBe('sh');
    expect(fenceLanguage('hljs language-Console')).toBe('console');
    expect(fenceLanguage('')).toBeUndefined();
  });

  it('takes a sh block whole, without prompts and trailing newlines', () => {
    expect(commandOf('sh', 'kubectl get pods -A\n')).toBe('kubectl get pods -A');
    expect(commandOf('bash', '$ kubectl get pods -A\n$ kubectl get sa -A\n')).toBe('kubectl get pods -A\nkubectl get sa -A');
    const heredoc = "cat > notes.md <<'EOF'\n# Findings\nEOF\n";
    expect(commandOf('shell', heredoc)).toBe("cat > notes.md <<'EOF'\n# Findings\nEOF");
  });

  it('takes only the prompted lines of a console transcript, with their continuations', () => {
    const transcript = '$ kubectl auth can-i --list \\\n    --as system:serviceaccount:ci:deployer\nResources   Verbs\npods        [get list]\n$ kubectl get pods\nNAME READY\n';
    expect(commandOf('console', transcript)).toBe('kubectl auth can-i --list \\\n    --as system:serviceaccount:ci:deployer\nkubectl get pods');
    expect(commandOf('console', 'just output\n')).toBeUndefined();
  });

  it('never offers YAML, output or unmarked blocks as commands', () => {
    expect(commandOf('yaml', 'kind: Policy\n')).toBeUndefined();
    expect(commandOf('text', 'kubectl get pods\n')).toBeUndefined();
    expect(commandOf(undefined, 'kubectl get pods\n')).toBeUndefined();
    expect(commandOf('sh', '\n\n')).toBeUndefined();
  });

  it('counts the commands a block runs: continuations, heredoc bodies and comments are not commands', () => {
    expect(commandLines('kubectl get pods -A')).toBe(1);
    expect(commandLines('# look first\nkubectl get pods -A\nkubectl get sa -A')).toBe(2);
    expect(commandLines('kubectl auth can-i --list \\\n  --as x')).toBe(1);
    expect(commandLines("cat > a.md <<'EOF'\nkubectl get pods\nEOF\nls")).toBe(2);
  });

  it('finds placeholders for the learner to fill in, not redirections or heredocs', () => {
    expect(hasPlaceholder('kubectl auth can-i --list --as system:serviceaccount:<namespace>:<name>')).toBe(true);
    expect(hasPlaceholder('kubectl logs <pod name> -n production')).toBe(true);
    expect(hasPlaceholder("cat > a.md <<'EOF'\nx\nEOF")).toBe(false);
    expect(hasPlaceholder('kubectl get pods 2>/dev/null < input.txt')).toBe(false);
  });
});
