import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DETECTIONS, detectionById, type DetectionRule } from './detections.ts';
import { ExportError, toFalcoRule, toSigmaRule } from './export.ts';

// Parsed YAML is free-form; the assertions read it loosely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;
const rule = (id: string) => detectionById(id)!;

describe('Sigma export', () => {
  it('writes a kubernetes/audit rule with ATT&CK tags and a condition over named selections', () => {
    const sigma = parse(toSigmaRule(rule('kube-system-pod'))) as Doc;
    expect(sigma.logsource).toEqual({ product: 'kubernetes', service: 'audit' });
    expect(sigma.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sigma.tags).toEqual(['attack.execution', 'attack.t1610']);
    expect(sigma.level).toBe('critical');
    const { condition, ...selections } = sigma.detection;
    expect(Object.values(selections)).toEqual([
      { verb: 'create' },
      { 'objectRef.resource': 'pods' },
      { 'objectRef.namespace': 'kube-system' },
      { 'objectRef.subresource|exists': true },
      { 'user.username': ['system:apiserver', 'system:kube-controller-manager', 'system:kube-scheduler'] },
      { 'user.username': 'system:node:*' },
      { 'user.username': 'system:serviceaccount:kube-system:*' },
    ]);
    expect(condition).toBe('selection_1 and selection_2 and selection_3 and not selection_4 and not selection_5 and not selection_6 and not selection_7');
  });

  it('keeps OR groups in parentheses', () => {
    const sigma = parse(toSigmaRule(rule('rbac-escalation'))) as Doc;
    expect(sigma.detection.condition).toBe('selection_1 and selection_2 and (selection_3 or (selection_4 and selection_5)) and not selection_6 and not selection_7 and not selection_8');
  });

  it('turns a threshold into a value_count correlation rule that names the base rule', () => {
    const [base, correlation] = parseAllDocuments(toSigmaRule(rule('secret-enumeration'))).map((d) => d.toJS() as Doc);
    expect(base!.name).toBe('secret-enumeration');
    expect(correlation!.correlation).toEqual({
      type: 'value_count',
      rules: ['secret-enumeration'],
      'group-by': ['user.username'],
      timespan: '10m',
      condition: { gte: 3, field: 'objectRef.namespace' },
    });
    expect(correlation!.tags).toContain('attack.t1552.007');
  });

  it('escapes Sigma wildcard characters that are literal in the query', () => {
    const custom: DetectionRule = { ...rule('pod-exec-production'), id: 'x', query: 'userAgent == "what?\\*" AND objectRef.name == "a*"' };
    const sigma = parse(toSigmaRule(custom)) as Doc;
    expect(sigma.detection.selection_1).toEqual({ userAgent: 'what\\?\\*' });
    expect(sigma.detection.selection_2).toEqual({ 'objectRef.name': 'a*' });
  });

  it('refuses what Sigma cannot say', () => {
    const custom: DetectionRule = { ...rule('pod-exec-production'), query: 'requestReceivedTimestamp > "2026-11-27T10:00:00Z"' };
    expect(() => toSigmaRule(custom)).toThrow(ExportError);
  });
});

describe('Falco export', () => {
  it('writes a k8s_audit rule over ka.* fields for every detection', () => {
    for (const detection of DETECTIONS) {
      const [falco] = parse(toFalcoRule(detection)) as Doc[];
      expect(Object.keys(falco!)).toEqual(['rule', 'desc', 'condition', 'output', 'priority', 'source', 'tags']);
      expect(falco!.source).toBe('k8s_audit');
      expect(falco!.condition).toMatch(/^ka\.stage in \("ResponseStarted", "ResponseComplete"\) and /);
      expect(falco!.output).toContain('%ka.user.name');
      expect(falco!.tags).toEqual(expect.arrayContaining(detection.attack.map((t) => t.id)));
    }
  });

  it('maps operators and wildcards to Falco operators', () => {
    const [falco] = parse(toFalcoRule(rule('pod-exec-production'))) as Doc[];
    expect(falco!.condition).toBe(
      'ka.stage in ("ResponseStarted", "ResponseComplete") and ka.verb in ("create", "get") and ka.target.resource = "pods" and ka.target.subresource in ("exec", "attach") and ka.target.namespace startswith "production"',
    );
    const [pod] = parse(toFalcoRule(rule('kube-system-pod'))) as Doc[];
    expect(pod!.condition).toContain('not ka.target.subresource exists');
    expect(pod!.condition).toContain('not (ka.user.name startswith "system:node:")');
    expect(pod!.priority).toBe('CRITICAL');
  });

  it('says in the description which threshold Falco cannot apply', () => {
    const [falco] = parse(toFalcoRule(rule('secret-enumeration'))) as Doc[];
    expect(falco!.desc).toContain('>= 3 distinct objectRef.namespace within 10m');
  });

  it('reaches other fields through a JSON pointer, and list fields with intersects', () => {
    const custom: DetectionRule = { ...rule('pod-exec-production'), query: 'user.groups == "system:masters" AND requestObject.spec."host/PID" == true' };
    const [falco] = parse(toFalcoRule(custom)) as Doc[];
    expect(falco!.condition).toContain('ka.user.groups intersects ("system:masters") and jevt.value[/requestObject/spec/host~1PID] = true');
  });
});
