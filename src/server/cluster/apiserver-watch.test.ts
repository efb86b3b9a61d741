import { describe, expect, it } from 'vitest';

import { apiServerError } from './apiserver-watch.ts';

// Verbatim kube-apiserver v1.37.2 output when started with an audit policy
// whose omitStages names an unknown stage (captured from logs/kube-apiserver.log).
const REFUSED = `I1127 18:45:20.439693    1582 options.go:261] external host was not specified, using 192.0.2.2
I1127 18:45:20.444507    1582 server.go:151] Version: v1.37.2
I1127 18:45:20.689654    1582 shared_informer.go:503] "Waiting for caches to sync" controller="node_authorizer"
E1127 18:45:20.689990    1582 run.go:72] "command failed" err="loading audit policy file: omitStages[0]: Invalid value: \\"NotAStage\\": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic: from file /x/audit.yaml"
`;

describe('apiServerError', () => {
  it("lifts kube-apiserver's own fatal error out of its log, unescaped", () => {
    expect(apiServerError(REFUSED)).toBe(
      'loading audit policy file: omitStages[0]: Invalid value: "NotAStage": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic: from file /x/audit.yaml',
    );
  });

  it('falls back to a cobra "Error:" line, and to nothing for a healthy log', () => {
    expect(apiServerError('I1127 starting\nError: unknown flag: --bogus\n')).toBe('Error: unknown flag: --bogus');
    expect(apiServerError(REFUSED.split('\n').slice(0, 3).join('\n'))).toBeUndefined();
  });
});
