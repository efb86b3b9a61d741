/**
 * Usage text of every command, in a module with no imports: `irlab help` prints it without
 * loading any command (a command's own module stays out of the way until it runs).
 */

export const QUERY_USAGE = `  irlab query '<query>' (--file audit.log | --cluster N) [--format table|json|csv] [--no-prefilter]
                          [--threads N]  run a query over an audit log (docs/query.md); json: one event or row per line;
                          a big file is scanned by N threads (default: the idle cores, at most 4; 1: one thread)
  irlab detect (--file audit.log | --cluster N) [--format table|json] [--threads N]
                          run the five built-in detections
  irlab detect --list | --sigma [RULE] | --falco [RULE]
                          list the detections, or export them as Sigma or Falco (k8s_audit) rules`;

export const POLICY_USAGE = `  irlab policy check FILE [--json]
                          grade an audit policy on the canonical requests (docs/audit-policy.md); exit 1 if refused or failing
  irlab policy eval FILE --verb V (--resource R[/SUB] | --path /URL) [--api-group G] [--namespace N]
                    [--name X] [--user U] [--group G ...] [--json]
                          the audit level one request gets, and the rule that decides it
  irlab policy live CLUSTER [FILE] [--json]
                          apply FILE (if given), replay the canonical requests and grade what the API server recorded`;

export const DEV_USAGE = '  irlab dev [--port N] [--host H]           the site with live reload for authors: saves to lessons, labs, scenarios and quizzes are validated and reload the page';

export const VALIDATE_USAGE = `  irlab validate [PATH]                      check the content at PATH (default: .): a project or content folder, or one
                                             lab.yaml, drill.yaml, quiz yaml, lesson mdx or scenario; exit 1 on any problem or nothing found`;

export const XAPI_USAGE = `  irlab xapi status [--json]                 the xAPI outbox: statements delivered, waiting (and why), refused by the LRS
                                             (exit 1 while any is refused); docs/classes.md#xapi
  irlab xapi retry                           send the statements the LRS refused again (after fixing what it said)`;

export const USAGE = `irlab: Kubernetes incident-response labs

Usage:
${VALIDATE_USAGE}
  irlab engine build [--kind]                build the cluster binaries (kube-apiserver, etcd, kwok...) into the cache;
                                             --kind also Debian's Docker and kind's node image, offline
  irlab cluster create|list|delete|audit|audit-policy|health|pod-runtime ...
                                             short-lived real clusters (irlab cluster help); their simulated pods get kubectl exec
                                             and logs while \`irlab cluster pod-runtime N\` runs
  irlab scenario list|validate|seed ...      attack scenarios (irlab scenario help)
  irlab test <lab> [--step N] [--skip-step N] [--provider kind] | --all
                                             prove a lab on a fresh cluster: checks fail untouched, pass after the reference solution
                                             (--provider kind: on a kind cluster, real containers; needs irlab engine build --kind)
${QUERY_USAGE}
  irlab new scenario|lab|quiz <slug> [--scenario S] [--lesson L]
                                             scaffold a working example to edit
${DEV_USAGE}
  irlab schema [DIR]                         write JSON Schemas of lesson, scenario, lab, quiz and drill files (default: schemas/)
${POLICY_USAGE}
${XAPI_USAGE}
  irlab help                                 this text
`;
