#!/usr/bin/env bash
# node-image.sh [--print-tag]: builds irlab/kind-node:<k8s>-<hash>, a kind node image,
# without a registry (`kind build node-image` pulls images and cannot work offline):
#   binaries  kubeadm, kubelet, kube-proxy (k8s.io/kubernetes, engine/kind/node/go.mod),
#             crictl, coredns and kube-router from Go modules, pause (pause.c, static, gcc), into
#             $IRLAB_CACHE/kind/bin/<k8s>/
#   images    the images kubeadm asks for (`kubeadm config images list`), each a
#             `docker import` of a skeleton rootfs holding its static binary; the
#             control plane reuses the engine cache's irlab-kube and etcd; kube-proxy
#             needs iptables/nft/conntrack, so it is the base image plus its binary
#   node      kind's own recipe: the base image running `sleep`, the binaries copied
#             in, /kind/version, a static bridge CNI config (single node; kind's
#             kindnetd is not on the module proxy), containerd started inside,
#             `docker save | ctr -n k8s.io images import --no-unpack`, `docker commit`
#   netpol    kube-router $KUBE_ROUTER_VERSION (Go module) in firewall-only mode enforces
#             NetworkPolicy: its image is the base image plus its binary (iptables,
#             ipset, conntrack), and node/kube-router.yaml becomes the node's
#             /kind/manifests/default-cni.yaml, which kind applies on create unless
#             the cluster's config sets disableDefaultCNI
# <hash> covers this script, pause.c, the CNI config, kube-router.yaml, the base
# image's tag and the bytes of every binary. Needs root, an engine (DOCKER_HOST), the base image
# (base-image.sh) and the engine cache (engine/build.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$KIND_HERE/../versions.env"

CRICTL_VERSION=v1.36.0   # kind v0.33.0's base Dockerfile
COREDNS_VERSION=v1.14.6  # what kubeadm v1.37 deploys (checked against `kubeadm config images list` below)
# NetworkPolicy enforcement (firewall only; default-cni.yaml). The only version the module
# proxy here serves; docs/engine.md has the note on its advisories.
KUBE_ROUTER_VERSION=v2.1.0
KUBE_ROUTER_MOD=github.com/cloudnativelabs/kube-router/v2
KUBE_ROUTER_IMAGE=irlab/kube-router:$KUBE_ROUTER_VERSION
NODE_REPO=irlab/kind-node
ENGINE_BIN=$CACHE/bin/$K8S_VERSION
OUT=$KIND_CACHE/bin/$K8S_VERSION
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

K8S_SEMVER=${K8S_VERSION#v}
K8S_LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  K8S_LDFLAGS+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=${K8S_SEMVER%%.*} -X $pkg.gitMinor=$(cut -d. -f2 <<<"$K8S_SEMVER")"
  K8S_LDFLAGS+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

has() { [[ -x $1 ]] && out=$("$1" "${@:3}" 2>&1) && grep -qF -- "$2" <<<"$out"; }
need_k8s=0
has "$OUT/kubeadm" "$K8S_VERSION" version -o short || need_k8s=1
has "$OUT/kubelet" "Kubernetes $K8S_VERSION" --version || need_k8s=1
has "$OUT/kube-proxy" "Kubernetes $K8S_VERSION" --version || need_k8s=1
need_crictl=0; has "$OUT/crictl" "$CRICTL_VERSION" --version || need_crictl=1
need_coredns=0; has "$OUT/coredns" "CoreDNS-${COREDNS_VERSION#v}" -version || need_coredns=1
need_kube_router=0; has "$OUT/kube-router" "version $KUBE_ROUTER_VERSION," --version || need_kube_router=1
need_pause=0; has "$OUT/pause" "pause.c irlab $(content_hash "$KIND_HERE/pause.c")" -v || need_pause=1

if [[ ${1:-} != --print-tag ]]; then
  [[ -x $ENGINE_BIN/irlab-kube && -x $ENGINE_BIN/etcd && -x $ENGINE_BIN/kubectl ]] ||
    die "the engine cache has no $K8S_VERSION binaries in $ENGINE_BIN; run engine/build.sh first"
  lock node-image
fi

STEPS=()
[[ $need_k8s == 1 ]] && STEPS+=(k8s)
[[ $need_crictl == 1 ]] && STEPS+=(crictl)
[[ $need_coredns == 1 ]] && STEPS+=(coredns)
[[ $need_kube_router == 1 ]] && STEPS+=(kube-router)
[[ $need_pause == 1 ]] && STEPS+=(pause)
if [[ ${1:-} == --print-tag ]] && ((${#STEPS[@]})); then die "binaries missing (${STEPS[*]}): run node-image.sh to build them"; fi
[[ ${1:-} == --print-tag ]] || plan "${STEPS[@]}" images node
mkdir -p "$OUT"

if [[ $need_k8s == 1 ]]; then
  step k8s "building kubeadm, kubelet, kube-proxy $K8S_VERSION (a few minutes with the engine build's Go cache warm)"
  (cd "$KIND_HERE/node" && "${NICE[@]}" go build -trimpath -ldflags "$K8S_LDFLAGS" -o "$OUT/" \
    k8s.io/kubernetes/cmd/kubeadm k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)
fi
if [[ $need_crictl == 1 ]]; then
  step crictl "building crictl $CRICTL_VERSION"
  GOBIN=$OUT "${NICE[@]}" go install -trimpath -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" \
    "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
fi
if [[ $need_coredns == 1 ]]; then
  step coredns "building coredns $COREDNS_VERSION (slow: about 8 minutes cold)"
  GOBIN=$OUT "${NICE[@]}" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
fi
if [[ $need_kube_router == 1 ]]; then
  # Its go.mod has no replace directives, so `go install mod@version` builds it as released;
  # the version ldflags are its Makefile's (BuildDate fixed: the same inputs, the same bytes).
  step kube-router "building kube-router $KUBE_ROUTER_VERSION (6-9 minutes cold)"
  GOBIN=$OUT "${NICE[@]}" go install -trimpath -ldflags "-s -w -X $KUBE_ROUTER_MOD/pkg/version.Version=$KUBE_ROUTER_VERSION -X $KUBE_ROUTER_MOD/pkg/version.BuildDate=1970-01-01T00:00:00Z" \
    "$KUBE_ROUTER_MOD/cmd/kube-router@$KUBE_ROUTER_VERSION" ||
    die "go install of kube-router $KUBE_ROUTER_VERSION failed; is $KUBE_ROUTER_MOD@$KUBE_ROUTER_VERSION in the module cache (go mod download $KUBE_ROUTER_MOD@$KUBE_ROUTER_VERSION)?"
fi
if [[ $need_pause == 1 ]]; then
  step pause "building pause (static C)"
  command -v gcc >/dev/null || die "gcc is not on PATH (Debian: apt-get install gcc libc6-dev)"
  gcc -static -O2 -s -DIRLAB_PAUSE_VERSION="\"$(content_hash "$KIND_HERE/pause.c")\"" -o "$OUT/.pause.tmp" "$KIND_HERE/pause.c"
  mv -f "$OUT/.pause.tmp" "$OUT/pause"
fi

BASE=$("$KIND_HERE/base-image.sh" --print-tag)
HASH=$( { content_hash "$KIND_HERE/node-image.sh" "$KIND_HERE/pause.c" "$KIND_HERE/node/10-irlab-bridge.conflist" "$KIND_HERE/node/kube-router.yaml"; echo "$BASE";
  sha256sum "$ENGINE_BIN/irlab-kube" "$ENGINE_BIN/etcd" "$ENGINE_BIN/kubectl" "$OUT"/{kubeadm,kubelet,kube-proxy,crictl,coredns,pause,kube-router} | cut -c1-64; } |
  sha256sum | cut -c1-16)
TAG=$NODE_REPO:$K8S_VERSION-$HASH
if [[ ${1:-} == --print-tag ]]; then echo "$TAG"; exit 0; fi

docker info >/dev/null 2>&1 || die "no container engine answers (DOCKER_HOST=${DOCKER_HOST:-unset}); eval \"\$(engine/kind/dockerd.sh start)\""
docker image inspect "$BASE" >/dev/null 2>&1 || die "base image $BASE missing; run engine/kind/base-image.sh"

# --- images: what kubeadm will ask containerd for -------------------------------
step images "component images (docker import of one binary each)"
mapfile -t WANT < <("$OUT/kubeadm" config images list --kubernetes-version "$K8S_VERSION" 2>/dev/null)
((${#WANT[@]} >= 6)) || die "kubeadm config images list gave: ${WANT[*]}"
SANDBOX=$(awk -F'"' '/sandbox_image/{print $2}' "$KIND_CACHE/base/${BASE##*:}/rootfs/etc/containerd/config.toml")
IMAGES=()
# skeleton_image TAG ENTRYPOINT_JSON FILE:PATH...: a rootfs of just these files (plus passwd,
# group, nsswitch, tmp), imported with PATH set.
skeleton_image() {
  local tag=$1 entry=$2 root spec; shift 2
  IMAGES+=("$tag")
  if docker image inspect "$tag" >/dev/null 2>&1 && [[ $(docker image inspect -f '{{index .Config.Labels "irlab.hash"}}' "$tag" 2>/dev/null) == "$HASH" ]]; then
    log "  have $tag"; return 0
  fi
  root=$(mktemp -d)
  mkdir -p "$root"/{usr/local/bin,etc,tmp,proc,sys,dev,var/run,run}
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  echo 'hosts: files dns' >"$root/etc/nsswitch.conf"
  for spec in "$@"; do
    if [[ $spec == *'->'* ]]; then ln -s "${spec%%->*}" "$root/${spec#*->}"; else cp "${spec%%:*}" "$root/${spec#*:}"; fi
  done
  tar --numeric-owner --owner=0 --group=0 -C "$root" -c . |
    docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' -c "ENTRYPOINT $entry" -c "LABEL irlab.hash=$HASH" - "$tag" >/dev/null
  rm -rf "$root"
  log "  built $tag ($(docker image inspect -f '{{.Size}}' "$tag" | numfmt --to=iec))"
}
for img in "${WANT[@]}"; do
  name=${img##*/}; name=${name%%:*}
  case $name in
    kube-apiserver | kube-controller-manager | kube-scheduler)
      skeleton_image "$img" "[\"/usr/local/bin/$name\"]" "$ENGINE_BIN/irlab-kube:/usr/local/bin/irlab-kube" "irlab-kube->usr/local/bin/$name" ;;
    etcd) skeleton_image "$img" '["/usr/local/bin/etcd"]' "$ENGINE_BIN/etcd:/usr/local/bin/etcd" ;;
    coredns)
      [[ $img == *":$COREDNS_VERSION" ]] || log "  note: kubeadm asks for $img, built coredns $COREDNS_VERSION is tagged so"
      skeleton_image "$img" '["/coredns"]' "$OUT/coredns:/coredns" ;;
    pause) skeleton_image "$img" '["/pause"]' "$OUT/pause:/pause" ;;
    kube-proxy)
      IMAGES+=("$img")
      if [[ $(docker image inspect -f '{{index .Config.Labels "irlab.hash"}}' "$img" 2>/dev/null) != "$HASH" ]]; then
        ctx=$(mktemp -d); cp "$OUT/kube-proxy" "$ctx/"
        printf 'FROM %s\nCOPY kube-proxy /usr/local/bin/kube-proxy\nLABEL irlab.hash=%s\nENTRYPOINT ["/usr/local/bin/kube-proxy"]\n' "$BASE" "$HASH" >"$ctx/Dockerfile"
        docker build -q -t "$img" "$ctx" >/dev/null; rm -rf "$ctx"
        log "  built $img ($(docker image inspect -f '{{.Size}}' "$img" | numfmt --to=iec), the base image plus kube-proxy)"
      else log "  have $img"; fi ;;
    *) die "kubeadm asks for $img, which this script does not know how to build" ;;
  esac
done
# kube-router: not asked for by kubeadm; default-cni.yaml runs it (imagePullPolicy: Never).
# Like kube-proxy, the base image plus the binary: it execs iptables, ipset and conntrack.
IMAGES+=("$KUBE_ROUTER_IMAGE")
if [[ $(docker image inspect -f '{{index .Config.Labels "irlab.hash"}}' "$KUBE_ROUTER_IMAGE" 2>/dev/null) != "$HASH" ]]; then
  ctx=$(mktemp -d); cp "$OUT/kube-router" "$ctx/"
  printf 'FROM %s\nCOPY kube-router /usr/local/bin/kube-router\nLABEL irlab.hash=%s\nENTRYPOINT ["/usr/local/bin/kube-router"]\n' "$BASE" "$HASH" >"$ctx/Dockerfile"
  docker build -q -t "$KUBE_ROUTER_IMAGE" "$ctx" >/dev/null; rm -rf "$ctx"
  docker image inspect "$KUBE_ROUTER_IMAGE" >/dev/null 2>&1 || die "docker build of $KUBE_ROUTER_IMAGE failed"
  log "  built $KUBE_ROUTER_IMAGE ($(docker image inspect -f '{{.Size}}' "$KUBE_ROUTER_IMAGE" | numfmt --to=iec), the base image plus kube-router)"
else log "  have $KUBE_ROUTER_IMAGE"; fi
grep -qF "image: $KUBE_ROUTER_IMAGE" "$KIND_HERE/node/kube-router.yaml" ||
  die "node/kube-router.yaml does not run $KUBE_ROUTER_IMAGE; make its image: line and KUBE_ROUTER_VERSION agree"
# containerd's sandbox_image (kind's config) may differ from kubeadm's pause tag.
if [[ -n $SANDBOX ]] && ! printf '%s\n' "${IMAGES[@]}" | grep -qxF "$SANDBOX"; then
  pause_img=$(printf '%s\n' "${IMAGES[@]}" | grep '/pause:')
  docker tag "$pause_img" "$SANDBOX"; IMAGES+=("$SANDBOX")
fi

# --- node --------------------------------------------------------------------------
if docker image inspect "$TAG" >/dev/null 2>&1; then
  log "skip node image: $TAG exists"
else
  step node "node image: binaries and images into the base image, docker commit"
  cid=$(docker run -d --entrypoint=sleep --security-opt seccomp=unconfined "$BASE" infinity)
  trap 'docker rm -f -v "$cid" >/dev/null 2>&1 || true' EXIT
  for b in "$OUT/kubeadm" "$OUT/kubelet" "$ENGINE_BIN/kubectl"; do docker cp "$b" "$cid:/usr/bin/"; done
  docker cp "$OUT/crictl" "$cid:/usr/local/bin/"
  docker exec "$cid" mkdir -p /etc/cni/net.d /kind/manifests
  docker cp "$KIND_HERE/node/10-irlab-bridge.conflist" "$cid:/etc/cni/net.d/"
  docker cp "$KIND_HERE/node/kube-router.yaml" "$cid:/kind/manifests/default-cni.yaml"
  docker exec "$cid" sh -c "chown root:root /usr/bin/kubeadm /usr/bin/kubelet /usr/bin/kubectl /usr/local/bin/crictl /etc/cni/net.d/* /kind/manifests/* && chmod 0644 /kind/manifests/* && echo $K8S_VERSION >/kind/version"
  docker exec "$cid" bash -c 'nohup containerd >/dev/null 2>&1 &'
  deadline=$((SECONDS + 60))
  until docker exec "$cid" ctr version >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "containerd in the build container did not answer within 60 s"
    sleep 1
  done
  docker save "${IMAGES[@]}" | docker exec -i "$cid" ctr --namespace=k8s.io images import \
    --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - >/dev/null
  docker exec "$cid" ctr --namespace=k8s.io images list -q | grep -v '^sha256:' | sed 's/^/[kind]   imported /'
  docker exec "$cid" pkill containerd || true
  docker commit --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' "$cid" "$TAG" >/dev/null
fi
log "done: $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | numfmt --to=iec))"
