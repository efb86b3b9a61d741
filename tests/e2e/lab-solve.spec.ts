import { expect, test, type Page } from '@playwright/test';
import { auditQuery, openStep, press, shell } from './lab-helpers.ts';
import { AUDIT_POLICY, client, EGRESS_POLICY, QUARANTINE_POLICY } from './l18-commands.ts';
import { run, screen } from './terminal-helpers.ts';

async function checkStep(page: Page, id: string, number: number) {
  const step = await openStep(page, id);
  await press(page, step.getByRole('button', { name: `Check step ${number}` }), 'check');
  await expect(step.locator('.criteria')).not.toContainText('✗');
  await expect(step.getByText('✓ done')).toBeVisible();
  await expect(step.getByText('Score 100%')).toBeVisible();
}

/** The audit log's table time ("2026-11-27 21:47:54.129707") back in RFC 3339, as the lab asks. */
const rfc3339 = (cell: string) => `${cell.replace(' ', 'T')}Z`;
/** The client's address: the first entry of sourceIPs (the rest are proxies on the way). */

// The whole L18 lab as a learner solves it: real commands in the browser terminal, findings
// from the audit-log query panel, every check green. Nothing here reads an answer key.
test('solve every step of the L18 lab from the browser, with a reload in the middle', async ({ page }) => {
  test.setTimeout(600_000);
  // Wide enough that kubectl's lines do not wrap on the terminal's screen.
  await page.setViewportSize({ width: 1600, height: 1000 });
  await page.goto('/labs/l18');
  await page.getByRole('button', { name: 'Start the lab' }).click();
  await expect(page.getByRole('status').first()).toContainText('is running', { timeout: 120_000 });
  await expect(page.getByTestId('terminal-status')).toContainText('Connected', { timeout: 60_000 });
  await expect(screen(page)).toContainText('learner@irlab', { timeout: 30_000 });

  // 1. Audit policy: written in the shell, applied with the panel's button (the shell has no
  // path to irlab), checked live against the restarted API server.
  await run(page, AUDIT_POLICY);
  expect(await shell(page, 'grep -c level: audit-policy.yaml')).toMatch(/^4$/m);
  await press(page, page.getByRole('button', { name: 'Apply audit-policy.yaml' }), 'apply-policy');
  await expect(page.locator('.lab-error')).toHaveCount(0);
  await checkStep(page, 'audit-policy', 1);

  // 2. Contain: the pod whose address the web-app service account's secret listing came from.
  const pods = await shell(page, 'kubectl get pods -n production -l app=web-app -o custom-columns=NAME:.metadata.name,IP:.status.podIP --no-headers');
  const podIPs = new Map([...pods.matchAll(/(web-app-[a-z0-9-]+)\s+(\d+\.\d+\.\d+\.\d+)/g)].map((m) => [m[2]!, m[1]!]));
  expect(podIPs.size).toBe(2);
  const listers = await auditQuery(page, 'verb == "list" AND objectRef.resource == "secrets" AND user.username == "system:serviceaccount:*" | count by user.username, sourceIPs');
  const fromPod = listers.find((row) => podIPs.has(row.sourceIPs!));
  expect(fromPod, JSON.stringify(listers)).toBeDefined();
  const identity = fromPod!['user.username']!;
  const podIP = fromPod!.sourceIPs!;
  const pod = podIPs.get(podIP)!;

  await shell(page, `kubectl label pod -n production ${pod} quarantine=true tier-`);
  await run(page, QUARANTINE_POLICY);
  await expect(screen(page)).toContainText('networkpolicy.networking.k8s.io/quarantine created', { timeout: 30_000 });
  await checkStep(page, 'contain', 2);

  // 3. Evidence, before anything is deleted: kubectl cp works out of a pod (docs/engine.md).
  await shell(page, `kubectl get pod ${pod} -n production -o yaml > pod-evidence.yaml`);
  await shell(page, `kubectl logs ${pod} -n production --all-containers > pod-logs.txt`);
  await shell(page, `kubectl describe pod ${pod} -n production > pod-describe.txt`);
  const copied = await shell(page, `mkdir -p evidence && kubectl cp production/${pod}:/tmp ./evidence/tmp/ 2>/dev/null; find evidence -type f | wc -l`);
  expect(Number(/^(\d+)\s*$/m.exec(copied)?.[1])).toBeGreaterThan(0);
  await checkStep(page, 'evidence', 3);

  // Mid-lab reload: the same shell (its last output still on screen) and the progress so far.
  await run(page, 'clear; echo "before-reload-$((6*7))"');
  await expect(screen(page)).toContainText('before-reload-42', { timeout: 20_000 });
  await page.reload();
  await expect(page.getByTestId('terminal-status')).toContainText('Connected', { timeout: 60_000 });
  await expect(screen(page)).toContainText('before-reload-42', { timeout: 20_000 });
  for (const id of ['audit-policy', 'contain', 'evidence']) await expect(page.locator(`#step-${id}`).getByText('✓ done')).toBeVisible({ timeout: 30_000 });
  await expect(page.locator('#step-investigate').getByText('✓ done')).toHaveCount(0);
  expect(await shell(page, 'ls pod-evidence.yaml pod-logs.txt pod-describe.txt audit-policy.yaml | wc -l')).toMatch(/^4$/m);

  // 4. Investigate, from the query panel (and kubectl for what the log recorded only as metadata).
  const secretsRead = await auditQuery(page, `user.username == "${identity}" AND verb == "get" AND objectRef.resource == "secrets" AND responseStatus.code < 400 | count by objectRef.namespace, objectRef.name`);
  const secrets = secretsRead.map((row) => `${row['objectRef.namespace']}/${row['objectRef.name']}`);
  expect(secrets.length).toBeGreaterThan(0);

  // Unnamed creates are the audit-policy check's dry-run probes (default/default from 192.0.2.250).
  const created = (await auditQuery(page, 'verb == "create" AND objectRef.resource == "clusterrolebindings" AND user.username == "system:serviceaccount:*" | count by user.username, objectRef.name')).filter((row) => row['objectRef.name']);
  expect(created).toHaveLength(1);
  const binding = created[0]!['objectRef.name']!;
  const role = (await shell(page, `kubectl get clusterrolebinding ${binding} -o custom-columns=ROLE:.roleRef.name --no-headers`)).trim().split('\n').at(-1)!.trim();
  expect(role).toMatch(/^[a-z][a-z0-9:-]*$/);

  const execs = await auditQuery(page, `user.username == "${identity}" AND objectRef.subresource == "exec" | count by requestURI`);
  expect(execs.length).toBeGreaterThan(0);
  const command = new URL(execs[0]!.requestURI!, 'https://api').searchParams.getAll('command').at(-1)!;

  // The service account's token belongs in its pod: every other address it came from is the attacker's.
  const events = await auditQuery(page, `user.username == "${identity}" | sort requestReceivedTimestamp | head 200`);
  const sources = [...new Set(events.map((row) => client(row.sourceIPs!)))];
  expect(sources).toContain(podIP);
  expect(sources.length).toBeGreaterThan(1);
  const first = rfc3339(events[0]!['time (UTC)']!);

  const investigate = await openStep(page, 'investigate');
  await investigate.locator('input[name="identity"]').fill(identity);
  await investigate.locator('input[name="secrets"]').fill(secrets.join(', '));
  await investigate.locator('input[name="binding"]').fill(`${binding} → ${role}`);
  await investigate.locator('input[name="exec-command"]').fill(command);
  await investigate.locator('input[name="source-ips"]').fill(sources.join(', '));
  await investigate.locator('input[name="first-request"]').fill(first);
  await checkStep(page, 'investigate', 4);

  // A wrong answer checked after the pass: the step stays done with its best score, and says
  // plainly that the latest check failed (no ✗ list under an unexplained "✓ done").
  await investigate.locator('input[name="exec-command"]').fill('not-what-they-ran');
  await press(page, investigate.getByRole('button', { name: 'Check step 4' }), 'check');
  await expect(investigate.locator('.step-verdict')).toContainText('Passed earlier: this step stays done and its best score is kept. Your latest check did not pass');
  await expect(investigate.locator('.criteria > li').first()).toHaveClass(/missing/);
  await expect(investigate.getByText('(latest check failed)')).toBeVisible();
  await expect(investigate.getByText('Score 100% (best check kept)')).toBeVisible();
  await investigate.locator('input[name="exec-command"]').fill(command);
  await checkStep(page, 'investigate', 4);
  await expect(investigate.getByText('(latest check failed)')).toHaveCount(0);

  // 5. Scope: every identity the attacker's requests used (from the pod and from outside it), the
  // token Secret among what they read, and what each identity could read, asked of the API server.
  const outside = sources.filter((ip) => ip !== podIP);
  const actors = await auditQuery(page, `${outside.map((ip) => `sourceIPs == "${ip}"`).join(' OR ')} | count by user.username`);
  const identities = [...new Set([identity, ...actors.map((row) => row['user.username']!)])];
  expect(identities.length).toBeGreaterThan(1);
  const tokenSecrets = (await shell(page, 'kubectl get secrets -A --field-selector type=kubernetes.io/service-account-token --no-headers -o custom-columns=R:.metadata.namespace,N:.metadata.name | tr -s " " /'))
    .split('\n').map((l) => l.trim()).filter((ref) => secrets.includes(ref));
  expect(tokenSecrets).toHaveLength(1);
  // The list is folded into short rows, each marked by a prefix the shell computes (so the echoed
  // command line never matches it): a row wider than the terminal would wrap on its screen.
  const reachOf = async (user: string) => {
    const out = await shell(page, `for ns in $(kubectl get ns -o jsonpath='{.items[*].metadata.name}'); do if kubectl auth can-i list secrets --as ${user} -n $ns >/dev/null; then echo "$ns/*"; else for s in $(kubectl get secrets -n $ns -o jsonpath='{.items[*].metadata.name}'); do kubectl auth can-i get secret/$s --as ${user} -n $ns >/dev/null && echo "$ns/$s"; done; fi; done | paste -sd, - | fold -w 48 | sed "s/^/R$((6*7)):/"`, 120_000);
    return [...out.matchAll(/^R42:(.*)$/gm)].map((m) => m[1]!.trimEnd()).join('');
  };
  const reach = [];
  for (const user of identities) reach.push(`${user}: ${await reachOf(user)}`);
  const scope = await openStep(page, 'scope');
  await scope.locator('input[name="identities"]').fill(identities.join(', '));
  await scope.locator('input[name="stolen-credentials"]').fill(tokenSecrets.join(', '));
  await scope.locator('input[name="reach"]').fill(reach.join('; '));
  await checkStep(page, 'scope', 5);

  // 6. Eradicate: what the attacker planted (from the audit log), every binding of the account,
  // the stolen CI token and the CI deployer's dangerous rights, new values for every secret in
  // scope, the image (its rollout kills the pods' tokens), egress.
  const planted = await auditQuery(page, `user.username == "${identity}" AND verb == "create" AND objectRef.resource == "pods" AND objectRef.namespace == "kube-system" | count by objectRef.name`);
  expect(planted).toHaveLength(1);
  await shell(page, `kubectl delete pod -n kube-system ${planted[0]!['objectRef.name']}`);
  const [, namespace, account] = /^system:serviceaccount:([^:]+):(.+)$/.exec(identity)!;
  const revoked = await shell(
    page,
    `kubectl get clusterrolebindings -o json | jq -r '.items[] | select(any(.subjects[]?; .kind == "ServiceAccount" and .namespace == "${namespace}" and .name == "${account}")) | .metadata.name' | xargs kubectl delete -o name clusterrolebinding`,
  );
  expect(revoked).toContain(`clusterrolebinding.rbac.authorization.k8s.io/${binding}`);
  for (const ref of tokenSecrets) await shell(page, `kubectl delete secret -n ${ref.replace('/', ' ')}`);
  await shell(page, 'kubectl delete clusterrolebinding ci-deployer && kubectl patch clusterrole ci-deployer --type json -p \'[{"op":"replace","path":"/rules","value":[{"apiGroups":["apps"],"resources":["deployments"],"verbs":["get","list","create","patch"]}]}]\' && kubectl create rolebinding ci-deployer -n production --clusterrole=ci-deployer --serviceaccount=ci:deployer');
  const rotated = await shell(
    page,
    `kubectl get secrets -A --no-headers -o custom-columns=NS:.metadata.namespace,NAME:.metadata.name,TYPE:.type | grep -v service-account-token | while read ns name type; do for k in $(kubectl get secret -n "$ns" "$name" -o jsonpath='{.data}' | jq -r 'keys[]'); do kubectl patch secret -n "$ns" "$name" --type merge -p "{\\"stringData\\":{\\"$k\\":\\"$(head -c 18 /dev/urandom | base64 | tr -d /+=)\\"}}" >/dev/null; done && echo ok; done | wc -l`,
    120_000,
  );
  expect(Number(/^(\d+)\s*$/m.exec(rotated)?.[1])).toBeGreaterThan(1);
  await shell(page, 'kubectl set image deployment/web-app -n production web=registry.shop.internal/web-app:2.14.2 && kubectl rollout status deployment/web-app -n production --timeout=90s', 120_000);
  // On a loaded machine the old ReplicaSet's pods can outlive the rollout's status by a moment:
  // wait, as a careful responder would, until no web-app pod (not already terminating) runs the
  // compromised image.
  const images = `kubectl get pods -n production -l app=web-app -o json | jq -r '.items[] | select(.metadata.deletionTimestamp == null) | .spec.containers[].image'`;
  expect(await shell(page, `for i in $(seq 60); do ${images} | grep -q 2.14.1 || break; sleep 1; done; ${images} | sort -u`, 240_000)).not.toContain('2.14.1');
  await run(page, EGRESS_POLICY);
  await expect(screen(page)).toContainText('networkpolicy.networking.k8s.io/web-app-egress created', { timeout: 30_000 });
  await checkStep(page, 'eradicate', 6);

  await expect(page.getByRole('status').first()).toContainText('Score: 100%');
  await page.reload();
  for (const id of ['audit-policy', 'contain', 'evidence', 'investigate', 'scope', 'eradicate']) await expect(page.locator(`#step-${id}`).getByText('✓ done')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole('status').first()).toContainText('Score: 100%');
  // The rail: every step done; the step the learner had open is still open and current.
  await expect(page.locator('.step-rail li[data-state="done"]')).toHaveCount(6);
  await expect(page.locator('.step-toggle[aria-expanded="true"]')).toHaveCount(1);
  await expect(page.locator('#step-eradicate-toggle')).toHaveAttribute('aria-expanded', 'true');
  await expect(page.locator('.step-rail [aria-current="step"]')).toHaveAccessibleName(/^Step 6: Eradicate, done, current$/);

  // "My progress": the run, every step done, its score; from the database, not the page's state.
  await page.getByRole('link', { name: 'My progress' }).click();
  const progress = page.locator('.progress-run').first();
  await expect(progress).toContainText('Respond to a compromised web-app pod');
  await expect(progress).toContainText('running · score 100%');
  await expect(progress.locator('tbody tr')).toHaveCount(6);
  await expect(progress.locator('tbody tr', { hasText: '✓ done' })).toHaveCount(6);
  await expect(page.getByText('No quiz attempts yet.')).toBeVisible();
});
