import { expect, type Page } from '@playwright/test';
import { AUDIT_POLICY, client, EGRESS_POLICY as EGRESS, podsByIP, QUARANTINE_POLICY as QUARANTINE, SECRET_LISTERS, WEB_APP_PODS } from './l18-commands.ts';
import { run, screen } from './terminal-helpers.ts';

// Solving L18 for the completion screen, as lab-solve.spec.ts does it but through the page's own
// API calls for checks and audit queries (the learner's cookie; nothing reads an answer key): the
// work itself is real commands typed into the browser terminal against the learner's cluster.

let commands = 0;

/** Runs a command in the browser terminal and returns what it printed (see lab-helpers.ts shell()). */
export async function shellOut(page: Page, command: string, timeout = 60_000): Promise<string> {
  commands += 1;
  const marker = `DONE-${commands * 1000 + 3}`;
  await run(page, `clear; ${command}; echo "DONE-$((${commands}*1000+3))"`);
  await expect(screen(page)).toContainText(marker, { timeout });
  const text = (await screen(page).innerText()).replaceAll('\u00a0', ' ');
  return text.slice(0, text.indexOf(marker));
}

const cell = (value: unknown): string => (Array.isArray(value) ? value.join(',') : String(value ?? ''));

/** Rows of a `count by` query over the learner's own lab audit log, every value as text. */
export async function rows(page: Page, query: string): Promise<Array<Record<string, string>>> {
  const response = await page.request.post('/api/query', { data: { source: 'lab', query }, timeout: 60_000 });
  const body = (await response.json()) as { ok: boolean; output?: { kind: string; rows?: Array<Record<string, unknown>> }; error?: { message: string } };
  expect(body.ok, body.error?.message).toBe(true);
  return (body.output!.rows ?? []).map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, cell(v)])));
}

/** Matching events of a query (raw audit events). */
export async function events(page: Page, query: string): Promise<Array<Record<string, unknown>>> {
  const response = await page.request.post('/api/query', { data: { source: 'lab', query }, timeout: 60_000 });
  const body = (await response.json()) as { ok: boolean; output?: { events?: Array<Record<string, unknown>> }; error?: { message: string } };
  expect(body.ok, body.error?.message).toBe(true);
  return body.output!.events ?? [];
}

/** Checks a step through the API and fails with the criteria when it does not pass. */
export async function checkViaApi(page: Page, step: string, answers: Record<string, string> = {}): Promise<void> {
  const response = await page.request.post('/api/labs/l18/check', { data: { step, answers }, timeout: 180_000 });
  const body = (await response.json()) as { passed?: boolean; result?: { criteria: unknown }; error?: string };
  expect(response.status(), body.error).toBe(200);
  expect(body.passed, `${step}: ${JSON.stringify(body.result?.criteria)}`).toBe(true);
}


/**
 * Does every step of L18 on the learner's cluster and checks steps 1–5 through the API; the last
 * step's work is done and left for the caller to check (from the page, so that the page sees the
 * lab become complete). Returns the number of checks pressed, the caller's last one included.
 */
export async function solveL18(page: Page): Promise<number> {
  await run(page, AUDIT_POLICY);
  expect(await shellOut(page, 'grep -c level: audit-policy.yaml')).toMatch(/^4$/m);
  expect((await page.request.post('/api/labs/l18/apply-policy', { data: {}, timeout: 180_000 })).status()).toBe(200);
  await checkViaApi(page, 'audit-policy');

  const podIPs = podsByIP(await shellOut(page, WEB_APP_PODS));
  const { identity, podIP, pod } = compromisedPod(podIPs, await rows(page, SECRET_LISTERS));
  await shellOut(page, `kubectl label pod -n production ${pod} quarantine=true tier-`);
  await run(page, QUARANTINE);
  await expect(screen(page)).toContainText('networkpolicy.networking.k8s.io/quarantine created', { timeout: 30_000 });
  await checkViaApi(page, 'contain');

  await shellOut(page, `kubectl get pod ${pod} -n production -o yaml > pod-evidence.yaml`);
  await shellOut(page, `kubectl logs ${pod} -n production --all-containers > pod-logs.txt`);
  await shellOut(page, `kubectl describe pod ${pod} -n production > pod-describe.txt`);
  await shellOut(page, `mkdir -p evidence && kubectl cp production/${pod}:/tmp ./evidence/tmp/ 2>/dev/null; find evidence -type f | wc -l`);
  await checkViaApi(page, 'evidence');

  const secrets = (await rows(page, `user.username == "${identity}" AND verb == "get" AND objectRef.resource == "secrets" AND responseStatus.code < 400 | count by objectRef.namespace, objectRef.name`)).map(
    (row) => `${row['objectRef.namespace']}/${row['objectRef.name']}`,
  );
  const created = (await rows(page, 'verb == "create" AND objectRef.resource == "clusterrolebindings" AND user.username == "system:serviceaccount:*" | count by user.username, objectRef.name')).filter(
    (row) => row['objectRef.name'],
  );
  const binding = created[0]!['objectRef.name']!;
  const role = (await shellOut(page, `kubectl get clusterrolebinding ${binding} -o custom-columns=ROLE:.roleRef.name --no-headers`)).trim().split('\n').at(-1)!.trim();
  const execs = await rows(page, `user.username == "${identity}" AND objectRef.subresource == "exec" | count by requestURI`);
  const command = new URL(execs[0]!.requestURI!, 'https://api').searchParams.getAll('command').at(-1)!;
  const mine = await events(page, `user.username == "${identity}" | sort requestReceivedTimestamp | head 200`);
  const sources = [...new Set(mine.map((event) => client(cell(event.sourceIPs))))];
  const first = String(mine[0]!.requestReceivedTimestamp);
  await checkViaApi(page, 'investigate', {
    identity,
    secrets: secrets.join(', '),
    binding: `${binding} → ${role}`,
    'exec-command': command,
    'source-ips': sources.join(', '),
    'first-request': first,
  });

  const outside = sources.filter((ip) => ip !== podIP);
  const actors = await rows(page, `${outside.map((ip) => `sourceIPs == "${ip}"`).join(' OR ')} | count by user.username`);
  const identities = [...new Set([identity, ...actors.map((row) => row['user.username']!)])];
  const tokenSecrets = (await shellOut(page, 'kubectl get secrets -A --field-selector type=kubernetes.io/service-account-token --no-headers -o custom-columns=R:.metadata.namespace,N:.metadata.name | tr -s " " /'))
    .split('\n')
    .map((l) => l.trim())
    .filter((ref) => secrets.includes(ref));
  const reach = [];
  for (const [index, user] of identities.entries()) {
    // Written to a file and read back through the Files tab's API: a long line wraps on screen.
    await shellOut(
      page,
      `for ns in $(kubectl get ns -o jsonpath='{.items[*].metadata.name}'); do if kubectl auth can-i list secrets --as ${user} -n $ns >/dev/null; then echo "$ns/*"; else for s in $(kubectl get secrets -n $ns -o jsonpath='{.items[*].metadata.name}'); do kubectl auth can-i get secret/$s --as ${user} -n $ns >/dev/null && echo "$ns/$s"; done; fi; done | paste -sd, - > reach-${index}.txt`,
      120_000,
    );
    const file = (await (await page.request.get(`/api/labs/l18/files?path=reach-${index}.txt`)).json()) as { kind: string; text?: string; reason?: string };
    expect(file.kind, file.reason).toBe('text');
    reach.push(`${user}: ${file.text!.trim()}`);
  }
  await checkViaApi(page, 'scope', { identities: identities.join(', '), 'stolen-credentials': tokenSecrets.join(', '), reach: reach.join('; ') });

  const planted = await rows(page, `user.username == "${identity}" AND verb == "create" AND objectRef.resource == "pods" AND objectRef.namespace == "kube-system" | count by objectRef.name`);
  await shellOut(page, `kubectl delete pod -n kube-system ${planted[0]!['objectRef.name']}`);
  const [, namespace, account] = /^system:serviceaccount:([^:]+):(.+)$/.exec(identity)!;
  await shellOut(
    page,
    `kubectl get clusterrolebindings -o json | jq -r '.items[] | select(any(.subjects[]?; .kind == "ServiceAccount" and .namespace == "${namespace}" and .name == "${account}")) | .metadata.name' | xargs kubectl delete -o name clusterrolebinding`,
  );
  for (const ref of tokenSecrets) await shellOut(page, `kubectl delete secret -n ${ref.replace('/', ' ')}`);
  await shellOut(page, 'kubectl delete clusterrolebinding ci-deployer && kubectl patch clusterrole ci-deployer --type json -p \'[{"op":"replace","path":"/rules","value":[{"apiGroups":["apps"],"resources":["deployments"],"verbs":["get","list","create","patch"]}]}]\' && kubectl create rolebinding ci-deployer -n production --clusterrole=ci-deployer --serviceaccount=ci:deployer');
  await shellOut(
    page,
    `kubectl get secrets -A --no-headers -o custom-columns=NS:.metadata.namespace,NAME:.metadata.name,TYPE:.type | grep -v service-account-token | while read ns name type; do for k in $(kubectl get secret -n "$ns" "$name" -o jsonpath='{.data}' | jq -r 'keys[]'); do kubectl patch secret -n "$ns" "$name" --type merge -p "{\\"stringData\\":{\\"$k\\":\\"$(head -c 18 /dev/urandom | base64 | tr -d /+=)\\"}}" >/dev/null; done && echo ok; done | wc -l`,
    120_000,
  );
  await shellOut(page, 'kubectl set image deployment/web-app -n production web=registry.shop.internal/web-app:2.14.2 && kubectl rollout status deployment/web-app -n production --timeout=90s', 120_000);
  const images = `kubectl get pods -n production -l app=web-app -o json | jq -r '.items[] | select(.metadata.deletionTimestamp == null) | .spec.containers[].image'`;
  expect(await shellOut(page, `for i in $(seq 60); do ${images} | grep -q 2.14.1 || break; sleep 1; done; ${images} | sort -u`, 240_000)).not.toContain('2.14.1');
  await run(page, EGRESS);
  await expect(screen(page)).toContainText('networkpolicy.networking.k8s.io/web-app-egress created', { timeout: 30_000 });
  return 6;
}

/** The compromised pod: the web-app pod whose address listed secrets as a service account. */
export function compromisedPod(podIPs: Map<string, string>, listers: Array<Record<string, string>>): { identity: string; podIP: string; pod: string } {
  const fromPod = listers.find((row) => podIPs.has(client(row.sourceIPs!)));
  expect(fromPod, JSON.stringify(listers)).toBeDefined();
  const podIP = client(fromPod!.sourceIPs!);
  return { identity: fromPod!['user.username']!, podIP, pod: podIPs.get(podIP)! };
}
