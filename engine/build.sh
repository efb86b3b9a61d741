#!/usr/bin/env bash
# Builds the pinned cluster binaries (Kubernetes control plane, kubectl, etcd,
# kwok, kwokctl, kind) from Go modules into
#   ${IRLAB_CACHE:-$HOME/.cache/irlab}/bin/<k8s-version>/
# Only the Go module proxy is needed: nothing is fetched from release pages.
#
# Idempotent: a binary that already answers with the pinned version is kept,
# so re-running after an interruption resumes where it stopped. Binaries are
# written to a temporary name and renamed, so a killed build never leaves a
# half-written file that looks finished.
#
# Environment:
#   IRLAB_CACHE          cache root (default $HOME/.cache/irlab)
#   IRLAB_BUILD_NICE     nice level for go builds (default 10; the machine is shared)
#   IRLAB_FORCE_REBUILD  1 = rebuild even if the binaries look right
#
# Progress: after the checks it prints `plan: <steps>`, then `step k/n <id>: <what>`
# as each step starts (src/server/cluster/engine-build.ts parses these lines for the
# console and the site's progress bar). One build per cache at a time: a second
# build of the same cache (npm test beside npm start) waits for the first, then
# finds its binaries in place.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$HERE/versions.env"

CACHE=${IRLAB_CACHE:-$HOME/.cache/irlab}
BIN=$CACHE/bin/$K8S_VERSION
NICE=(nice -n "${IRLAB_BUILD_NICE:-10}")
FORCE=${IRLAB_FORCE_REBUILD:-0}

# GOTOOLCHAIN=local: a dependency's toolchain line must never trigger a
# toolchain download. CGO off gives static binaries that run anywhere.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

# On SIGTERM/SIGINT (npm start stopping) exit through the EXIT traps, which
# remove a half-written build directory.
trap 'exit 143' TERM
trap 'exit 130' INT

log() { printf '[engine %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[engine] ERROR: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "go is not on PATH; install Go >= 1.26 (https://go.dev/dl/) and re-run."

# The wrapper go.mod files pin versions too; a mismatch would build one
# version and label it as another.
grep -q "k8s.io/kubernetes $K8S_VERSION" "$HERE/k8s/go.mod" ||
  die "engine/k8s/go.mod does not require k8s.io/kubernetes $K8S_VERSION (versions.env says so); update both together."
grep -q "go.etcd.io/etcd/server/v3 $ETCD_VERSION" "$HERE/etcd/go.mod" ||
  die "engine/etcd/go.mod does not require go.etcd.io/etcd/server/v3 $ETCD_VERSION; update both together."

mkdir -p "$BIN"
log "cache: $BIN"
log "go: $(go version)"

# The lock is held by this shell and every go build it starts (they inherit the
# descriptor), and released by the kernel when the last of them exits.
command -v flock >/dev/null || die "flock is not on PATH; install util-linux (Debian: apt-get install util-linux) and re-run."
LOCK=$CACHE/engine-build.lock
exec 9>>"$LOCK"
if ! flock -n 9; then
  log "waiting: another engine build of this cache is running (it holds $LOCK)"
  flock 9
fi

# has_version BINARY EXPECTED ARGS...: true when BINARY runs and prints EXPECTED.
# The output is read whole before grep: `bin | grep -q` under pipefail fails at
# random when grep exits on its match while bin still writes (etcd's four lines
# then die of SIGPIPE), and a built binary was seen as missing and rebuilt.
has_version() {
  local bin=$1 want=$2 out; shift 2
  [[ $FORCE != 1 && -x $bin ]] || return 1
  out=$("$bin" "$@" 2>&1) || return 1
  grep -qF -- "$want" <<<"$out"
}

verify() {
  local bin=$1 want=$2; shift 2
  local out
  out=$("$bin" "$@" 2>&1) || die "$bin $* failed: $out"
  grep -qF -- "$want" <<<"$out" || die "$bin reports '$out', expected '$want'"
  log "ok  $(basename "$bin"): $(head -n1 <<<"$out")"
}

K8S_SEMVER=${K8S_VERSION#v}
K8S_MAJOR=${K8S_SEMVER%%.*}
K8S_MINOR=${K8S_SEMVER#*.}; K8S_MINOR=${K8S_MINOR%%.*}
# Stamped into the binaries so kubectl/kwokctl see the real release, not
# v0.0.0-master. kwokctl chooses component flags from these versions.
BUILD_DATE=${IRLAB_BUILD_DATE:-1970-01-01T00:00:00Z}
K8S_LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  K8S_LDFLAGS+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$K8S_MAJOR -X $pkg.gitMinor=$K8S_MINOR"
  K8S_LDFLAGS+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$BUILD_DATE"
done

# --- Kubernetes control plane + kubectl -------------------------------------
KWOK_LDFLAGS="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$K8S_SEMVER"
# Named by a hash of its sources, irlab-pod-sandbox-<hash>: any edit builds a
# new binary (about a second) beside the old ones instead of replacing them, so
# checkouts of different versions sharing this cache each run their own.
# src/server/cluster/binaries.ts (podSandboxBinaryName) computes the same name:
# sha256 of go.mod then every *.go file in byte order, first 16 hex digits.
SANDBOX_HASH=$(cd "$HERE/podsandbox" && cat go.mod $(LC_ALL=C ls -- *.go) | sha256sum | cut -c1-16)
SANDBOX_BIN=irlab-pod-sandbox-$SANDBOX_HASH

# --- plan: what is missing or stale --------------------------------------------
need_k8s=0
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  has_version "$BIN/$c" "Kubernetes $K8S_VERSION" --version || need_k8s=1
  # A cache from before the multi-call binary holds three separate binaries: relink them as one
  # (with the Go build cache warm, a link, not a compile), so every cluster shares its text pages.
  [[ $(readlink "$BIN/$c" 2>/dev/null) == irlab-kube ]] || need_k8s=1
done
has_version "$BIN/kubectl" "Client Version: $K8S_VERSION" version --client || need_k8s=1
need_etcd=0; has_version "$BIN/etcd" "etcd Version: ${ETCD_VERSION#v}" --version || need_etcd=1
need_kwok=0; has_version "$BIN/kwok" "${KWOK_VERSION#v}" --version || need_kwok=1
need_kwokctl=0; has_version "$BIN/kwokctl" "${KWOK_VERSION#v}" --version || need_kwokctl=1
need_kind=0; has_version "$BIN/kind" "${KIND_VERSION#v}" --version || need_kind=1
need_sandbox=0; has_version "$BIN/$SANDBOX_BIN" "irlab-pod-sandbox $SANDBOX_HASH" --version || need_sandbox=1
STEPS=()
[[ $need_k8s == 1 ]] && STEPS+=(k8s)
[[ $need_etcd == 1 ]] && STEPS+=(etcd)
[[ $need_kwok == 1 ]] && STEPS+=(kwok)
[[ $need_kwokctl == 1 ]] && STEPS+=(kwokctl)
[[ $need_kind == 1 ]] && STEPS+=(kind)
STEPS+=(packages)
[[ $need_sandbox == 1 ]] && STEPS+=(podsandbox)
STEPS+=(verify)
STEP=0
log "plan: ${STEPS[*]}"
# step ID WHAT: announces the next step of the plan.
step() { STEP=$((STEP + 1)); log "step $STEP/${#STEPS[@]} $1: $2"; }

if [[ $need_k8s == 1 ]]; then
  step k8s "building irlab-kube (kube-apiserver, kube-controller-manager, kube-scheduler) and kubectl $K8S_VERSION (slow on a cold cache: compiles all of Kubernetes)"
  cd "$HERE/k8s"
  if [[ ! -s go.sum ]]; then
    log "engine/k8s/go.sum missing: resolving the module graph (downloads k8s.io/kubernetes $K8S_VERSION)"
    "${NICE[@]}" go mod tidy
  fi
  tmp=$(mktemp -d "$BIN/.build-k8s.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  # The control plane is one multi-call binary (engine/k8s/irlab-kube: one link
  # instead of three, one file whose text pages every cluster shares), run
  # through a link per component; kubectl stays a binary of its own (learners'
  # shells bind it alone). One go build: the shared packages compile once.
  "${NICE[@]}" go build -trimpath -ldflags "$K8S_LDFLAGS" -o "$tmp/" ./irlab-kube k8s.io/kubernetes/cmd/kubectl
  mv -f "$tmp/irlab-kube" "$BIN/irlab-kube"
  mv -f "$tmp/kubectl" "$BIN/kubectl"
  for c in kube-apiserver kube-controller-manager kube-scheduler; do ln -sfn irlab-kube "$BIN/$c"; done
  rm -rf "$tmp"; trap - EXIT
else
  log "skip Kubernetes binaries: already $K8S_VERSION"
fi

# --- etcd --------------------------------------------------------------------
if [[ $need_etcd == 1 ]]; then
  step etcd "building etcd $ETCD_VERSION"
  cd "$HERE/etcd"
  if [[ ! -s go.sum ]]; then
    log "engine/etcd/go.sum missing: resolving the module graph"
    "${NICE[@]}" go mod tidy
  fi
  "${NICE[@]}" go build -trimpath -ldflags "-s -w" -o "$BIN/.etcd.tmp" .
  mv -f "$BIN/.etcd.tmp" "$BIN/etcd"
else
  log "skip etcd: already $ETCD_VERSION"
fi

# --- kwok, kwokctl -----------------------------------------------------------
# KubeVersion is stamped so kwokctl's default matches the binaries we ship;
# it never downloads because every binary path is passed explicitly.
for c in kwok kwokctl; do
  need=need_$c
  if [[ ${!need} == 1 ]]; then
    step "$c" "building $c $KWOK_VERSION"
    GOBIN=$BIN "${NICE[@]}" go install -trimpath -ldflags "$KWOK_LDFLAGS" "sigs.k8s.io/kwok/cmd/$c@$KWOK_VERSION"
  else
    log "skip $c: already $KWOK_VERSION"
  fi
done

# --- kind --------------------------------------------------------------------
if [[ $need_kind == 1 ]]; then
  step kind "building kind $KIND_VERSION"
  GOBIN=$BIN "${NICE[@]}" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kind@$KIND_VERSION"
else
  log "skip kind: already $KIND_VERSION"
fi

# --- pod sandbox: bubblewrap, busybox-static, irlab-pod-sandbox ----------------
# Pods on embedded clusters run `kubectl exec` inside their own tree
# (engine/podsandbox/main.go explains how). bubblewrap builds the sandboxes;
# busybox-static is every pod's userland.
step packages "checking bubblewrap and busybox-static"
need_pkgs=()
command -v bwrap >/dev/null || need_pkgs+=(bubblewrap)
[[ -x /bin/busybox ]] && /bin/busybox --list 2>/dev/null | grep -qx tar || need_pkgs+=(busybox-static)
if ((${#need_pkgs[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing ${need_pkgs[*]} (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null ||
      { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null; } ||
      die "apt-get install ${need_pkgs[*]} failed"
  else
    die "missing ${need_pkgs[*]}: install them (Debian: sudo apt-get install ${need_pkgs[*]}) and re-run."
  fi
fi
# The pod sandbox binary is named by a hash of its sources (see the plan above).
if [[ $need_sandbox == 1 ]]; then
  step podsandbox "building $SANDBOX_BIN"
  (cd "$HERE/podsandbox" && "${NICE[@]}" go build -trimpath -ldflags "-s -w -X main.version=$SANDBOX_HASH" -o "$BIN/.$SANDBOX_BIN.tmp" .)
  mv -f "$BIN/.$SANDBOX_BIN.tmp" "$BIN/$SANDBOX_BIN"
else
  log "skip $SANDBOX_BIN: already built"
fi

# --- verify --------------------------------------------------------------------
step verify "checking every binary's version"
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  verify "$BIN/$c" "Kubernetes $K8S_VERSION" --version
done
verify "$BIN/kubectl" "Client Version: $K8S_VERSION" version --client
verify "$BIN/etcd" "etcd Version: ${ETCD_VERSION#v}" --version
verify "$BIN/kwok" "${KWOK_VERSION#v}" --version
verify "$BIN/kwokctl" "${KWOK_VERSION#v}" --version
verify "$BIN/kind" "${KIND_VERSION#v}" --version
verify "$BIN/$SANDBOX_BIN" "irlab-pod-sandbox $SANDBOX_HASH" --version

log "done: $(du -sh "$BIN" | cut -f1) in $BIN"
