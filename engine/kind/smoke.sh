#!/usr/bin/env bash
# smoke.sh [base|cluster|netpol]: proves the local kind engine on this machine, end to end, with
# real containers. Starts dockerd (dockerd.sh) unless an engine already runs, and
# stops it again when it started it.
#   always: a --privileged container and a --privileged exec run through
#           irlab-runc; where CapBnd lacks CAP_SYS_RESOURCE, plain runc is shown
#           to fail the same run ("unable to apply caps"), so the wrapper is why.
#   base:   the base image (base-image.sh) boots systemd as kind would run it and
#           its containerd answers with restrict_oom_score_adj set.
#   cluster: kind create cluster with the node image (node-image.sh) reaches Ready;
#           a pod of a locally built image runs (kind load), exec and logs work;
#           the cluster and kind's network are deleted.
#   netpol: as cluster, but without disableDefaultCNI, so kind applies the node image's
#           /kind/manifests/default-cni.yaml (kube-router, firewall only); waits for
#           kube-router Ready, then proves NetworkPolicy by connectivity between a
#           server pod (busybox httpd) and two clients (busybox nc): no policy, both
#           reach it; allow-from-label, only the labelled one; deny-all ingress,
#           neither. Each policy's apply-to-effect time is printed (polled against a
#           deadline). Cluster irlab-kind-smoke-netpol, deleted with kind's network.
# Needs root, Debian's packages (packages.sh) and busybox-static. Not part of
# `npm test`: it needs a container engine (about 5 s without `base`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

started=0
eval "$("$KIND_HERE/dockerd.sh" status 2>/dev/null || true)"
if [[ -z ${DOCKER_HOST:-} ]]; then
  eval "$("$KIND_HERE/dockerd.sh" start)"
  started=1
fi
export DOCKER_HOST
SMOKE_IMAGE=irlab-kind-smoke:busybox
names=()
finish() {
  local rc=${1:-$?}
  ((${#names[@]})) && docker rm -f "${names[@]}" >/dev/null 2>&1
  docker rmi "$SMOKE_IMAGE" >/dev/null 2>&1
  [[ $started == 1 ]] && "$KIND_HERE/dockerd.sh" stop
  ((rc == 0)) && log "smoke: passed" || log "smoke: FAILED (exit $rc)"
}
trap finish EXIT
fail() { printf '[kind] smoke FAILED: %s\n' "$*" >&2; exit 1; }

# A 2 MB image from the host's static busybox: nothing to pull.
[[ -x /bin/busybox ]] || die "/bin/busybox missing; apt-get install busybox-static"
root=$(mktemp -d)
mkdir -p "$root"/{bin,proc,sys,dev,etc}
cp /bin/busybox "$root/bin/"
for a in sh cat grep true sleep mkdir nc httpd; do ln -s busybox "$root/bin/$a"; done
tar -C "$root" -c . | docker import - "$SMOKE_IMAGE" >/dev/null
rm -rf "$root"

capbnd=$(awk '/^CapBnd:/{print $2}' /proc/self/status)
lacks=0; (( (16#$capbnd >> 24) & 1 )) || lacks=1
log "host CapBnd $capbnd: CAP_SYS_RESOURCE $([[ $lacks == 1 ]] && echo missing || echo present)"
[[ $(docker info --format '{{.DefaultRuntime}}') == irlab-runc ]] || log "note: the engine's default runtime is not irlab-runc (not ours?)"

eff=$(docker run --rm --privileged "$SMOKE_IMAGE" grep CapEff /proc/self/status) || fail "--privileged run through the default runtime failed"
log "privileged run: $eff"
if [[ $lacks == 1 ]]; then
  (( (16#${eff##*[[:space:]]} >> 24) & 1 )) && fail "the container has CAP_SYS_RESOURCE the host lacks"
  out=$(docker run --rm --privileged --runtime=runc "$SMOKE_IMAGE" true 2>&1) && fail "plain runc ran a privileged container here; the wrapper may not be needed"
  grep -q 'unable to apply caps' <<<"$out" || fail "plain runc failed differently: $out"
  log "plain runc, same run: fails with 'unable to apply caps' (the wrapper is what makes it work)"
fi
names+=(irlab-kind-smoke-exec)
docker run -d --name irlab-kind-smoke-exec --privileged "$SMOKE_IMAGE" sleep 300 >/dev/null
docker exec --privileged irlab-kind-smoke-exec true || fail "--privileged exec failed"
log "privileged exec: ok"

# reaches CLIENT IP: CLIENT gets the server's page within 1 s (a dropped probe costs 1 s).
# busybox nc, not wget: this static busybox's wget segfaults in a pod (exit 139).
reaches() {
  k exec "$1" -- sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 1 $2 8080" 2>/dev/null | grep -q irlab-netpol-ok
}
now_ms() { local t=${EPOCHREALTIME//[.,]/}; echo $((t / 1000)); }
# expect WHAT A B IP: polls (deadline 60 s) until client-a reaches IP iff A=yes and
# client-b iff B=yes, twice in a row (one lucky probe is not enforcement). Prints when
# the first matching round of probes started and ended, counted from $changed (set
# just before the policy change): the rules were in place before that round's probes
# connected, so the end is an upper bound on apply-to-effect (a dropped probe waits
# its 1 s timeout, so a round with one lasts over 1 s).
expect() {
  local what=$1 want_a=$2 want_b=$3 ip=$4 deadline=$((SECONDS + 60)) got_a got_b round first='' seen
  ms() { echo "$(($1 / 1000)).$(printf %03d $(($1 % 1000)))"; }
  while :; do
    round=$(now_ms)
    got_a=no; reaches client-a "$ip" && got_a=yes
    got_b=no; reaches client-b "$ip" && got_b=yes
    if [[ $got_a == "$want_a" && $got_b == "$want_b" ]]; then
      if [[ -n $first ]]; then break; fi
      first=$((round - changed)) seen=$(($(now_ms) - changed))
    else
      first=''
      ((SECONDS < deadline)) || fail "$what: client-a reaches the server: $got_a (want $want_a), client-b: $got_b (want $want_b) after 60 s"
    fi
    sleep 0.5 # between probes only; the deadline decides
  done
  log "netpol: $what: client-a reaches: $got_a, client-b: $got_b (seen by the probe round from $(ms "$first") to $(ms "$seen") s after the change)"
}
netpol_smoke() {
  local ip
  k -n kube-system rollout status daemonset/kube-router --timeout=180s >/dev/null ||
    { k -n kube-system describe pods -l k8s-app=kube-router; k -n kube-system logs -l k8s-app=kube-router --tail=30; fail "kube-router did not become Ready (default-cni.yaml)"; }
  log "netpol: kube-router Ready $((SECONDS - create0)) s after kind create started ($((SECONDS - ready0)) s after kind reported the node Ready)"
  k run server --image="$SMOKE_IMAGE" --image-pull-policy=Never --restart=Never --labels=app=server --command -- \
    sh -c 'mkdir -p /www && echo irlab-netpol-ok >/www/index.html && exec httpd -f -p 8080 -h /www'
  k run client-a --image="$SMOKE_IMAGE" --image-pull-policy=Never --restart=Never --labels=access=granted --command -- sleep 600
  k run client-b --image="$SMOKE_IMAGE" --image-pull-policy=Never --restart=Never --command -- sleep 600
  k wait --for=condition=Ready pod/server pod/client-a pod/client-b --timeout=180s ||
    { k describe pods server client-a client-b; fail "the netpol pods did not become Ready"; }
  ip=$(k get pod server -o jsonpath='{.status.podIP}')
  changed=$(now_ms)
  expect "no policy" yes yes "$ip"
  changed=$(now_ms)
  k apply -f - >/dev/null <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-granted}
spec:
  podSelector: {matchLabels: {app: server}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {access: granted}}}]
YAML
  expect "allow-from-label (access=granted)" yes no "$ip"
  changed=$(now_ms)
  k delete networkpolicy allow-granted >/dev/null
  k apply -f - >/dev/null <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all-ingress}
spec:
  podSelector: {}
  policyTypes: [Ingress]
YAML
  expect "deny-all ingress" no no "$ip"
  changed=$(now_ms)
  k delete networkpolicy deny-all-ingress >/dev/null
  expect "policy deleted" yes yes "$ip"
  # Its ClusterRole is least privilege: a missing verb shows as "forbidden" in its log.
  if k -n kube-system logs daemonset/kube-router | grep -i forbidden >&2; then
    fail "kube-router was refused by the API server: extend the ClusterRole in node/kube-router.yaml"
  fi
  log "netpol: kube-router $(docker exec "$name-control-plane" ps -C kube-router -o rss=,time= | awk '{printf "RSS %d MiB, CPU time %s", $1/1024, $2}')"
}

if [[ ${1:-} == cluster || ${1:-} == netpol ]]; then
  mode=$1
  source "$KIND_HERE/../versions.env"
  BIN=$CACHE/bin/$K8S_VERSION
  node=$("$KIND_HERE/node-image.sh" --print-tag)
  docker image inspect "$node" >/dev/null 2>&1 || fail "$node is not built; run engine/kind/node-image.sh"
  # Each mode its own cluster, so the two can run side by side.
  name=irlab-kind-smoke; [[ $mode == netpol ]] && name=irlab-kind-smoke-netpol
  work=$(mktemp -d)
  cleanup_cluster() {
    local rc=$?
    "$BIN/kind" delete cluster --name "$name" >/dev/null 2>&1 || true
    # kind keeps its "kind" network after the last cluster; ours is removed when empty.
    [[ -z $(docker network inspect kind -f '{{range .Containers}}x{{end}}' 2>/dev/null) ]] && docker network rm kind >/dev/null 2>&1
    rm -rf "$work"
    finish "$rc"
  }
  trap cleanup_cluster EXIT
  # cluster: the static bridge CNI alone (no manifest applied); netpol: kind applies
  # default-cni.yaml (kube-router) as it does for any cluster that keeps the default CNI.
  cni=true; [[ $mode == netpol ]] && cni=false
  printf 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  apiServerAddress: 127.0.0.1\n  disableDefaultCNI: %s\n' "$cni" >"$work/kind.yaml"
  t0=$SECONDS; create0=$SECONDS
  "$BIN/kind" create cluster --name "$name" --image "$node" --config "$work/kind.yaml" --kubeconfig "$work/kubeconfig" --wait 300s ||
    fail "kind create cluster failed"
  ready0=$SECONDS
  log "kind create cluster: $((SECONDS - t0)) s to Ready"
  k() { "$BIN/kubectl" --kubeconfig "$work/kubeconfig" "$@"; }
  k get nodes -o wide
  # The controller manager creates the namespace's default service account just after Ready.
  deadline=$((SECONDS + 120))
  until k get serviceaccount default >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "no default service account within 120 s"
    sleep 1
  done
  "$BIN/kind" load docker-image "$SMOKE_IMAGE" --name "$name" >/dev/null
  k run bb --image="$SMOKE_IMAGE" --image-pull-policy=Never --restart=Never --command -- sh -c 'echo hello from a real container; sleep 600'
  k wait --for=condition=Ready pod/bb --timeout=180s || { k describe pod bb; fail "pod bb did not become Ready"; }
  [[ $(k exec bb -- sh -c 'echo "exec in $(hostname)"') == "exec in bb" ]] || fail "kubectl exec did not run in the pod"
  k logs bb | grep -q 'hello from a real container' || fail "kubectl logs did not show the pod's output"
  log "real pod: kubectl run, exec and logs work"
  [[ $mode == netpol ]] && netpol_smoke
  k get pods -A
  docker stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.CPUPerc}}' "$name-control-plane"
fi

if [[ ${1:-} == base ]]; then
  source "$KIND_HERE/base-image.env"
  image=$("$KIND_HERE/base-image.sh" --print-tag)
  docker image inspect "$image" >/dev/null 2>&1 || fail "$image is not built; run engine/kind/base-image.sh"
  names+=(irlab-kind-smoke-base)
  # As kind runs a node: privileged, tmpfs /run and /tmp, /lib/modules read-only, cgroupns private.
  docker run -d --name irlab-kind-smoke-base --privileged --tmpfs /run --tmpfs /tmp \
    -v /lib/modules:/lib/modules:ro --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --cgroupns=private "$image" >/dev/null
  deadline=$((SECONDS + 120))
  until docker exec irlab-kind-smoke-base ctr version >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { docker logs irlab-kind-smoke-base 2>&1 | tail -n 30 >&2; fail "containerd in the base image did not answer within 120 s"; }
    sleep 1
  done
  [[ $(docker exec irlab-kind-smoke-base cat /proc/1/comm) == systemd ]] || fail "PID 1 in the base image is not systemd"
  docker exec irlab-kind-smoke-base systemctl is-active -q containerd.service || fail "systemd did not start containerd.service"
  docker exec irlab-kind-smoke-base sh -c 'containerd config dump | grep -q "restrict_oom_score_adj = true"' ||
    fail "containerd in $image does not restrict oom_score_adj (this VM needs it)"
  log "base image: systemd is PID 1, containerd.service active, containerd $(docker exec irlab-kind-smoke-base containerd --version | awk '{print $3}') answers, restrict_oom_score_adj = true"
fi
