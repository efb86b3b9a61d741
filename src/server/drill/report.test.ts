// The report builder and its renderers on crafted inputs: one merged, sorted timeline with drill
// time from the clock entries (pauses and fast-forwards), ATT&CK for attacker actions, NIST
// phases for responses, metrics, went well / to improve, and escaping in Markdown and HTML.
import { describe, expect, it } from 'vitest';
import { buildReport, commandsFromKeystrokes, drillClockOf, type ReportInput, type ReportLogEntry } from '../../lib/drill-report.ts';
import { reportToHtml, reportToMarkdown } from '../../lib/drill-report-render.ts';
import type { AuditEvent } from '../cluster/types.ts';
import { relevantAuditEvents } from './report-data.ts';
import { responderUsername } from './responders.ts';

const T0 = Date.parse('2026-11-27T20:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
let seq = 0;
function entry(seconds: number, tMs: number, kind: ReportLogEntry['kind'], title: string, extra: Partial<ReportLogEntry> = {}): ReportLogEntry {
  return { seq: ++seq, at: at(seconds), tMs, kind, author: null, title, body: '', detail: null, ...extra };
}

const alice = { participantId: 'p1', name: 'Alice', role: 'Incident commander' };
const log: ReportLogEntry[] = [
  entry(0, 0, 'system', 'Drill started', { detail: { control: 'start' } }),
  entry(30, 30_000, 'note', 'IC is Alice <script>alert(1)</script>', { author: alice, body: 'IC is Alice <script>alert(1)</script> | pipe' }),
  entry(60, 60_000, 'system', 'Drill paused', { detail: { control: 'pause' } }),
  entry(120, 60_000, 'system', 'Drill resumed', { detail: { control: 'resume' } }),
  entry(130, 190_000, 'system', 'Clock fast-forwarded by 2 min', { detail: { control: 'fast-forward' } }),
  entry(130, 190_000, 'inject', 'SOC: the same account is still active', { detail: { inject: 'escalate' } }),
  entry(131, 191_000, 'attack', 'Attacker activity on the cluster', {
    detail: { outcomes: [{ technique: 'T1098.006', username: 'system:serviceaccount:production:web-app', verb: 'create', kind: 'ClusterRoleBinding', namespace: null, name: null, status: 201, error: null, sourceIP: '10.244.0.7', note: 'a second binding', auditId: 'a-1' }] },
  }),
  entry(200, 260_000, 'check', 'Contain the compromised pod: done', { detail: { step: 'contain', phase: 'containment-eradication-recovery' } }),
  entry(210, 270_000, 'attack-skipped', 'The attacker\'s next move was stopped', { body: 'Eradicate: done in time.' }),
  entry(300, 360_000, 'system', 'Drill ended', { detail: { control: 'end' } }),
];

const input: ReportInput = {
  drill: { id: 'drl_1', title: 'Friday <drill>', scenario: 'compromised-web-app', scenarioTitle: 'Compromised web-app pod', createdAt: at(-600), startedAt: at(0), endedAt: at(300), elapsedMs: 360_000, durationMs: 900_000, participants: [{ id: 'p1', name: 'Alice', role: 'Incident commander', joinedAt: at(-60), terminalSessionId: 's1' }], attackerIdentities: ['system:serviceaccount:production:web-app'] },
  log,
  scoreboard: [
    { step: 'contain', title: 'Contain the compromised pod', phase: 'Containment, Eradication & Recovery', passedAt: at(200), tMs: 260_000, criteria: [] },
    { step: 'eradicate', title: 'Eradicate', phase: 'Containment, Eradication & Recovery', passedAt: null, tMs: null, criteria: [{ id: 'binding-removed', passed: false, message: 'the attacker\'s binding is still there' }] },
  ],
  measures: { contain: 'contain', eradicate: 'eradicate' },
  expectations: [{ id: 'ic-named', text: 'An IC is named', met: true, at: at(40) }, { id: 'legal', text: 'Legal gets an answer', met: false, at: null }],
  commands: [
    { at: at(150), participant: 'Alice', role: 'Incident commander', text: 'kubectl get pods -n production -o wide' },
    { at: at(190), participant: 'Alice', role: 'Incident commander', text: 'kubectl label pod web-1 quarantine=true -n production' },
  ],
  audit: [
    { at: at(-300), actor: 'system:serviceaccount:production:web-app', role: 'attacker', verb: 'list', resource: 'secrets', namespace: 'production', name: null, status: 200, sourceIP: '10.244.0.7', technique: 'T1613', auditId: 'seed-1' },
    { at: at(131), actor: 'system:serviceaccount:production:web-app', role: 'attacker', verb: 'create', resource: 'clusterrolebindings', namespace: null, name: 'x-ha', status: 201, sourceIP: '10.244.0.7', technique: 'T1098.006', auditId: 'a-1' },
    { at: at(151), actor: 'Alice', role: 'Incident commander', verb: 'create', resource: 'selfsubjectreviews', namespace: null, name: null, status: 201, sourceIP: '127.0.0.1', technique: null, auditId: 'r-0' },
    { at: at(191), actor: 'Alice', role: 'Incident commander', verb: 'patch', resource: 'pods', namespace: 'production', name: 'web-1', status: 200, sourceIP: '127.0.0.1', technique: null, auditId: 'r-1' },
  ],
  techniques: [{ id: 'T1613', name: 'Container and Resource Discovery' }, { id: 'T1098.006', name: 'Account Manipulation: Additional Container Cluster Roles' }],
  generatedAt: at(301),
};

describe('drill report', () => {
  it('maps wall time to drill time through pauses and fast-forwards, negative before the start', () => {
    const clock = drillClockOf(log);
    expect(clock(at(-300))).toBe(-300_000);
    expect(clock(at(45))).toBe(45_000);
    expect(clock(at(90))).toBe(60_000); // paused
    expect(clock(at(125))).toBe(65_000);
    expect(clock(at(150))).toBe(210_000); // after the fast-forward of 2 min
  });

  it('merges one sorted timeline with ATT&CK for the attacker and NIST phases for responses', () => {
    const report = buildReport(input);
    const times = report.timeline.map((e) => Date.parse(e.at));
    expect(times).toEqual(times.toSorted((a, b) => a - b));
    expect(report.timeline[0]).toMatchObject({ kind: 'audit', role: 'attacker', tMs: -300_000, technique: { id: 'T1613', name: 'Container and Resource Discovery' } });
    const attack = report.timeline.filter((e) => e.kind === 'attack');
    expect(attack).toHaveLength(1);
    expect(attack[0]).toMatchObject({ actor: 'system:serviceaccount:production:web-app', technique: { id: 'T1098.006' } });
    expect(report.timeline.filter((e) => e.kind === 'audit' && e.title.includes('clusterrolebindings'))).toEqual([]); // shown once, from the inject
    expect(report.timeline.find((e) => e.kind === 'command' && e.title.startsWith('kubectl get'))?.phase).toBe('Detection & Analysis');
    expect(report.timeline.find((e) => e.kind === 'command' && e.title.includes('label'))?.phase).toBe('Containment, Eradication & Recovery');
    expect(report.timeline.find((e) => e.kind === 'audit' && e.actor === 'Alice' && e.title.startsWith('patch'))?.phase).toBe('Containment, Eradication & Recovery');
    expect(report.timeline.find((e) => e.kind === 'audit' && e.actor === 'Alice' && e.title.includes('selfsubjectreviews'))?.phase).toBe('Detection & Analysis'); // kubectl auth whoami reads
    expect(report.timeline.find((e) => e.kind === 'check')?.phase).toBe('Containment, Eradication & Recovery');
  });

  it('computes metrics and what went well or not', () => {
    const report = buildReport(input);
    expect(report.metrics).toMatchObject({ timeToDetectMs: null, timeToContainMs: 260_000, timeToEradicateMs: null, commandsTyped: 2, notes: 1, injectsFired: 1, attacksLanded: 1, attacksSkipped: 1, expectationsMet: 1, expectationsTotal: 2 });
    expect(report.wentWell.join('\n')).toContain('Contain the compromised pod: done at T+04:20');
    expect(report.toImprove.join('\n')).toContain('Eradicate never passed: the attacker\'s binding is still there');
    expect(report.toImprove.join('\n')).toContain('Not met: Legal gets an answer');
  });

  it('times detection from the first scored detection or the team\'s first finding, never from the first note or command', () => {
    const investigate = { step: 'investigate', title: 'Investigate', phase: 'Detection & Analysis', passedAt: at(250), tMs: 400_000, criteria: [] };
    const withDetection = { ...input, scoreboard: [...input.scoreboard, investigate], detectionSteps: ['investigate'] };
    // The note at T+00:30 and the command at 150 s are activity, not detection.
    expect(buildReport(withDetection).metrics.timeToDetectMs).toBe(400_000);
    // A finding saved at 200 s wall (T+04:00 after the fast-forward) comes before the green.
    expect(buildReport({ ...withDetection, findings: [{ at: at(200), question: 'compromised-pod' }] }).metrics.timeToDetectMs).toBe(260_000);
    // Findings written in the lobby do not count as detecting during the drill.
    expect(buildReport({ ...input, findings: [{ at: at(-30), question: 'compromised-pod' }] }).metrics.timeToDetectMs).toBeNull();
    const none = buildReport(input);
    expect(none.metrics.timeToDetectMs).toBeNull();
    expect(none.toImprove.join('\n')).toContain('no detection step passed and the team recorded no finding');
  });

  it('renders Markdown and self-contained HTML with everything escaped', () => {
    const report = buildReport(input);
    const markdown = reportToMarkdown(report);
    expect(markdown).toContain('# After-action report: Friday \\<drill\\>');
    expect(markdown).toContain('| T-05:00 |');
    expect(markdown).toContain('IC is Alice \\<script\\>alert(1)\\</script\\> \\| pipe');
    const html = reportToHtml(report);
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('@media print');
    expect(html).not.toMatch(/(src|href)=["']?https?:/);
    expect(html).toContain('ATT&amp;CK T1098.006');
  });

  it('reads commands from keystrokes: Enter, backspace, Ctrl-U, Ctrl-C and arrow keys', () => {
    const commands = commandsFromKeystrokes([
      { atMs: 1, data: 'kubectl get pids' },
      { atMs: 2, data: '\x7f\x7f\x7fods\r' },
      { atMs: 3, data: 'rm -rf /\x15echo ok\r' },
      { atMs: 4, data: 'oops\x03' },
      { atMs: 5, data: '\x1b[Awhoami\x1bOB\r' },
    ]);
    expect(commands).toEqual([
      { atMs: 2, text: 'kubectl get pods' },
      { atMs: 3, text: 'echo ok' },
      { atMs: 5, text: 'whoami' },
    ]);
  });

  const event = (over: Partial<AuditEvent>): AuditEvent => ({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: Math.random().toString(), stage: 'ResponseComplete', requestURI: '/', verb: 'list', user: {}, objectRef: { resource: 'secrets' }, requestReceivedTimestamp: at(1), ...over });
  const bob = { id: 'prt_bob000000001', name: 'Bob' };
  const aliceP = { id: 'prt_alice0000001', name: 'Alice' };
  const responders = new Map([
    [responderUsername(bob), { name: 'Bob', role: 'Containment' }],
    [responderUsername(aliceP), { name: 'Alice', role: 'Incident commander' }],
  ]);

  it('picks the attacker (by identity and address) and the responders (by their own authenticated username) from the audit log', () => {
    const picked = relevantAuditEvents(
      [
        event({ user: { username: 'system:serviceaccount:ci:deployer' }, sourceIPs: ['10.20.0.5'] }), // the real CI
        event({ user: { username: 'system:serviceaccount:ci:deployer' }, sourceIPs: ['203.0.113.9'], auditID: 'evil' }), // the stolen token
        event({ user: { username: responderUsername(bob), groups: ['irlab:drill-responders'] }, sourceIPs: ['127.0.0.1'] }),
        event({ user: { username: 'kubernetes-admin' }, sourceIPs: ['127.0.0.1'] }),
        event({ user: { username: 'drill:none' }, objectRef: undefined }),
      ],
      { usernames: ['system:serviceaccount:ci:deployer'], sourceIPs: ['203.0.113.9'] },
      new Map([['evil', 'T1098.006']]),
      responders,
    );
    expect(picked.map((e) => [e.actor, e.role, e.technique])).toEqual([
      ['system:serviceaccount:ci:deployer', 'attacker', 'T1098.006'],
      ['Bob', 'Containment', null],
    ]);
  });

  it('blames who authenticated, not who they claimed to be: bob impersonating alice is bob, flagged', () => {
    const claims = [
      // Bob's own certificate, asking to act as Alice (the API server refuses it: 403).
      event({ user: { username: responderUsername(bob) }, impersonatedUser: { username: responderUsername(aliceP) }, verb: 'delete', objectRef: { resource: 'networkpolicies', namespace: 'production', name: 'quarantine' }, responseStatus: { code: 403 }, auditID: 'imp' }),
      // What the old kubeconfigs did: the admin certificate acting as a drill user, which anyone holding it could.
      event({ user: { username: 'kubernetes-admin' }, impersonatedUser: { username: 'drill:Alice' }, verb: 'delete', objectRef: { resource: 'networkpolicies', namespace: 'production', name: 'quarantine' } }),
      event({ user: { username: 'kubernetes-admin' }, impersonatedUser: { username: responderUsername(aliceP) } }),
    ];
    const picked = relevantAuditEvents(claims, { usernames: [], sourceIPs: [] }, new Map(), responders);
    expect(picked).toHaveLength(1);
    expect(picked[0]).toMatchObject({ actor: 'Bob', role: 'Containment', impersonated: 'Alice', verb: 'delete', status: 403 });
    const report = buildReport({ ...input, audit: picked });
    const line = report.timeline.find((e) => e.kind === 'audit' && e.title.startsWith('delete networkpolicies'))!;
    expect(line).toMatchObject({ actor: 'Bob' });
    expect(line.body).toContain('acting as Alice (impersonation)');
    expect(JSON.stringify(report.timeline.filter((e) => e.actor === 'Alice' && e.kind === 'audit'))).toBe('[]');
  });
});
