// Commands of the L18 reference solution that the e2e specs type into the browser terminal.

// The lesson's audit policy, typed into the terminal as a heredoc.
export const AUDIT_POLICY = `cat > audit-policy.yaml <<'YAML'
apiVersion: audit.k8s.io/v1
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
YAML`;

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
