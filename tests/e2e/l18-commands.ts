// Commands of the L18 reference solution that the e2e specs type into the browser terminal.

/** The lesson's audit policy (also what bench/lab.ts applies). */
export const L18_AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Request
    resources: [{group: "", resources: ["secrets"]}]
  - level: RequestResponse
    resources: [{group: "rbac.authorization.k8s.io", resources: ["clusterroles", "clusterrolebindings", "roles", "rolebindings"]}]
  - level: Request
    resources: [{group: "", resources: ["pods/exec", "pods/portforward", "pods/attach"]}]
  - level: Metadata
`;

// The lesson's audit policy, typed into the terminal as a heredoc.
export const AUDIT_POLICY = `cat > audit-policy.yaml <<'YAML'
${L18_AUDIT_POLICY}YAML`;

/** Lists the web-app pods with their IPs, one per line. */
export const WEB_APP_PODS = 'kubectl get pods -n production -l app=web-app -o custom-columns=NAME:.metadata.name,IP:.status.podIP --no-headers';
/** Who listed secrets as a service account, and from where. */
export const SECRET_LISTERS = 'verb == "list" AND objectRef.resource == "secrets" AND user.username == "system:serviceaccount:*" | count by user.username, sourceIPs';

/** The first address of a `sourceIPs` cell (the client; proxies follow it). */
export const client = (sourceIPs: string) => sourceIPs.split(',')[0]!.trim();

/** Web-app pods by IP, from WEB_APP_PODS's output. */
export function podsByIP(output: string): Map<string, string> {
  return new Map([...output.matchAll(/(web-app-[a-z0-9-]+)\s+(\d+\.\d+\.\d+\.\d+)/g)].map((m) => [m[2]!, m[1]!]));
}

export const QUARANTINE_POLICY = `kubectl apply -f - <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: quarantine, namespace: production}
spec:
  podSelector: {matchLabels: {quarantine: "true"}}
  policyTypes: ["Ingress", "Egress"]
YAML`;

export const EGRESS_POLICY = `kubectl apply -f - <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-app-egress, namespace: production}
spec:
  podSelector: {matchLabels: {app: web-app}}
  policyTypes: ["Egress"]
  egress:
    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: payments}}, podSelector: {matchLabels: {app: payments-db}}}]
      ports: [{protocol: TCP, port: 5432}]
    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
      ports: [{protocol: UDP, port: 53}]
YAML`;
