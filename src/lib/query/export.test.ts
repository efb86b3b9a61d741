import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DETECTIONS, detectionById, type DetectionRule } from './detections.ts';
import { ExportError, falcoStage, toFalcoRule, toSigmaRule } from './export.ts';
import { parseQuery } from './parser.ts';

// Parsed YAML is free-form; the assertions read it loosely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;
const rule = (id: string) => detectionById(id)!;

describe('Sigma export', () => {
  it('writes a kubernetes/audit rule with ATT&CK tags and a condition over named selections', () => {
    const sigma = parse(toSigmaRule(rule('kube-system-workload'))) as Doc;
    expect(sigma.logsource).toEqual({ product: 'kubernetes', service: 'audit' });
    expect(sigma.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sigma.tags).toEqual(['attack.execution', 'attack.t1610', 'attack.persistence', 'attack.t1543']);
    expect(sigma.level).toBe('critical');
    const { condition, ...selections } = sigma.detection;
    expect(Object.values(selections).slice(0, 4)).toEqual([
      { verb: 'create' },
      { 'objectRef.namespace': 'kube-system' },
      { 'objectRef.resource': ['pods', 'deployments', 'replicasets', 'daemonsets', 'statefulsets', 'jobs', 'cronjobs', 'replicationcontrollers'] },
      { 'objectRef.subresource|exists': true },
    ]);
    expect(Object.values(selections)).toContainEqual({ 'user.username': 'system:serviceaccount:kube-system:deployment-controller' });
    expect(Object.values(selections)).toContainEqual({ userAgent: 'kube-controller-manager/*' });
    // No blanket exclusion of kube-system service accounts.
    expect(Object.values(selections)).not.toContainEqual({ 'user.username': 'system:serviceaccount:kube-system:*' });
    expect(condition).toMatch(/^selection_1 and selection_2 and selection_3 and not selection_4 and not \(\(selection_5 and selection_6 and selection_7\) or /);
  });

  it('never excludes every kube-system service account, in any rule or format', () => {
    for (const detection of DETECTIONS) {
      expect(detection.query, detection.id).not.toContain('system:serviceaccount:kube-system:*');
      expect(toSigmaRule(detection), detection.id).not.toContain('system:serviceaccount:kube-system:*');
      expect(toFalcoRule(detection), detection.id).not.toContain('"system:serviceaccount:kube-system:"');
    }
  });

  it('keeps OR groups in parentheses', () => {
    const sigma = parse(toSigmaRule(rule('rbac-escalation'))) as Doc;
    expect(sigma.detection.condition).toBe('selection_1 and selection_2 and (selection_3 or (selection_4 and selection_5)) and not selection_6');
    expect(sigma.detection.selection_6).toEqual({ 'user.username': 'system:apiserver' });
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
      // One stage per rule, so each request alerts once.
      expect(falco!.condition).toMatch(/^ka\.stage = "(ResponseStarted|ResponseComplete)" and /);
      expect(falco!.condition.match(/ka\.stage/g)).toHaveLength(1);
      expect(falco!.output).toContain('%ka.user.name');
      expect(falco!.tags).toEqual(expect.arrayContaining(detection.attack.map((t) => t.id)));
    }
  });

  it('maps operators and wildcards to Falco operators', () => {
    const [falco] = parse(toFalcoRule(rule('pod-exec-production'))) as Doc[];
    expect(falco!.condition).toBe(
      'ka.stage = "ResponseStarted" and ka.verb in ("create", "get") and ka.target.resource = "pods" and ka.target.subresource in ("exec", "attach") and ka.target.namespace startswith "production"',
    );
    const [pod] = parse(toFalcoRule(rule('kube-system-workload'))) as Doc[];
    expect(pod!.condition).toContain('not ka.target.subresource exists');
    expect(pod!.condition).toContain('not (ka.target.resource = "pods" and ka.user.name startswith "system:node:" and ka.user.groups intersects ("system:nodes"))');
    expect(pod!.condition).toContain('ka.user.name = "system:serviceaccount:kube-system:deployment-controller" and ka.useragent startswith "kube-controller-manager/"');
    expect(pod!.priority).toBe('CRITICAL');
  });

  it('alerts on an exec once, when it starts; on everything else once, when it completes', () => {
    // An exec writes ResponseStarted (the stream opens) and ResponseComplete (it closes, maybe
    // hours later); other requests write only ResponseComplete.
    expect(falcoStage(parseQuery(rule('pod-exec-production').query))).toBe('ResponseStarted');
    expect(falcoStage(parseQuery('objectRef.subresource == "attach" AND verb == "create"'))).toBe('ResponseStarted');
    expect(falcoStage(parseQuery('objectRef.subresource in ("exec", "log") OR (objectRef.subresource == "portforward" AND verb == "get")'))).toBe('ResponseStarted');
    for (const id of ['secret-enumeration', 'rbac-escalation', 'sa-token-theft', 'kube-system-token-request', 'kube-system-workload', 'host-access-pod']) expect(falcoStage(parseQuery(rule(id).query)), id).toBe('ResponseComplete');
    // Exec or something that is not long-running: only ResponseComplete exists for both.
    expect(falcoStage(parseQuery('objectRef.subresource == "exec" OR verb == "delete"'))).toBe('ResponseComplete');
    expect(falcoStage(parseQuery('objectRef.subresource != "exec"'))).toBe('ResponseComplete');
    expect(falcoStage(parseQuery('objectRef.subresource == "ex*"'))).toBe('ResponseComplete');
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

  it('maps pod specs to the k8saudit pod fields, and searches arrays of templates as text', () => {
    const [falco] = parse(toFalcoRule(rule('host-access-pod'))) as Doc[];
    for (const part of [
      'ka.req.pod.host_pid = true',
      'ka.req.pod.host_ipc = true',
      'ka.req.pod.containers.privileged intersects (true)',
      'ka.req.pod.volumes.hostpath exists',
      'jevt.value[/requestObject/spec/template/spec/hostPID] = true',
      'jevt.value[/requestObject/spec/template/spec/containers] contains "\\"privileged\\":true"',
      'jevt.value[/requestObject/spec/template/spec/volumes] contains "\\"hostPath\\":"',
      'jevt.value[/requestObject/spec/jobTemplate/spec/template/spec/initContainers] contains "\\"privileged\\":true"',
      'jevt.value[/requestObject/spec/ephemeralContainers] contains "\\"privileged\\":true"',
    ]) {
      expect(falco!.condition).toContain(part);
    }
    const [token] = parse(toFalcoRule(rule('sa-token-theft'))) as Doc[];
    expect(token!.condition).toContain('jevt.value[/responseObject/items] contains "\\"type\\":\\"kubernetes.io/service-account-token\\""');
    const custom: DetectionRule = { ...rule('pod-exec-production'), query: 'requestObject.spec.template.spec.containers.image == "x*"' };
    expect(() => toFalcoRule(custom)).toThrow(ExportError);
  });
});
