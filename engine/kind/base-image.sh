#!/usr/bin/env bash
# base-image.sh [--print-tag]: builds irlab/kind-base:<hash>, kind's base image
# (sigs.k8s.io/kind images/base) made offline: no registry, only the machine's
# Debian mirror and the kind module in the Go module cache.
#
#   rootfs   debootstrap --variant=minbase $BASE_SUITE + kind's packages + Debian's
#            containerd/runc/CNI plugins + ipset for kube-router (base-image.env)
#   files    kind's images/base/files (its entrypoint, systemd units, containerd
#            config, kubelet drop-ins) from sigs.k8s.io/kind@$KIND_VERSION
#   tweaks   what kind's Dockerfile RUNs, plus what this VM needs:
#            containerd restrict_oom_score_adj = true (without CAP_SYS_RESOURCE runc
#            cannot lower oom_score_adj: every sandbox fails with "can't get final
#            child's PID from pipe: EOF") and kubelet --fail-cgroupv1=false (cgroup
#            v1 host; kubelet 1.37 refuses it otherwise)
#   image    docker import (ENV, ENTRYPOINT), then a two-line docker build that adds
#            STOPSIGNAL SIGRTMIN+3, which import cannot set
#
# <hash> covers this script, base-image.env and kind's files: the same inputs give
# the same tag, found and kept; an edit builds a new tag beside the old one. The
# rootfs stays in $IRLAB_CACHE/kind/base/<hash>/rootfs for the images built from it.
# Needs root, packages.sh's packages and an engine (dockerd.sh start; DOCKER_HOST).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$KIND_HERE/../versions.env"
source "$KIND_HERE/base-image.env"

KIND_MOD=${IRLAB_KIND_MODULE:-$(go env GOMODCACHE 2>/dev/null || echo "$HOME/go/pkg/mod")/sigs.k8s.io/kind@$KIND_VERSION}
FILES=$KIND_MOD/images/base/files
[[ -d $FILES ]] || die "kind's base files are not in the Go module cache ($FILES); run engine/build.sh (it builds kind $KIND_VERSION), or: go mod download sigs.k8s.io/kind@$KIND_VERSION"

HASH=$(content_hash "$KIND_HERE/base-image.sh" "$KIND_HERE/base-image.env" "$FILES")
TAG=$BASE_REPO:$HASH
if [[ ${1:-} == --print-tag ]]; then echo "$TAG"; exit 0; fi

[[ $(id -u) == 0 ]] || die "debootstrap and chroot need root; run as root."
for b in debootstrap docker jq; do
  command -v $b >/dev/null || die "$b is not on PATH; run engine/kind/packages.sh"
done
docker info >/dev/null 2>&1 || die "no container engine answers (DOCKER_HOST=${DOCKER_HOST:-unset}); start ours: eval \"\$(engine/kind/dockerd.sh start)\""

WORK=$KIND_CACHE/base/$HASH
ROOTFS=$WORK/rootfs
lock "base-$HASH"

STEPS=()
[[ -f $WORK/rootfs.done ]] || STEPS+=(debootstrap files)
docker image inspect "$TAG" >/dev/null 2>&1 || STEPS+=(import stopsignal)
plan "${STEPS[@]}"
if ((${#STEPS[@]} == 0)); then
  log "skip base image: $TAG exists ($(docker image inspect -f '{{.Size}}' "$TAG" | numfmt --to=iec))"
  exit 0
fi

# Whatever debootstrap or chroot mounted under the work dir is unmounted on any exit.
unmount_work() {
  awk -v w="$WORK" 'index($2, w"/") == 1 {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" || true; done
}
trap unmount_work EXIT

if [[ ! -f $WORK/rootfs.done ]]; then
  # The machine's own Debian mirror (apt's sources), never a hard-coded host.
  MIRROR=${IRLAB_DEBIAN_MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
  [[ -n $MIRROR ]] || MIRROR=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [[ -n $MIRROR ]] || die "no Debian mirror found in apt's sources; set IRLAB_DEBIAN_MIRROR"
  step debootstrap "debootstrap --variant=minbase $BASE_SUITE from $MIRROR with kind's packages (a minute or more)"
  rm -rf "$ROOTFS" "$WORK/debootstrap.log"
  mkdir -p "$WORK"
  pkgs=$(tr ' ' ',' <<<"$BASE_KIND_PACKAGES $BASE_ENGINE_PACKAGES $BASE_EXTRA_PACKAGES")
  "${NICE[@]}" debootstrap --variant=minbase --include="$pkgs" "$BASE_SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -n 20 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log: $WORK/debootstrap.log)"; }
  unmount_work

  step files "kind $KIND_VERSION's base files and its Dockerfile's RUN steps"
  # COPY lines of kind's Dockerfile, with their modes.
  install -m 0755 "$FILES"/usr/local/bin/* "$ROOTFS/usr/local/bin/"
  mkdir -p "$ROOTFS/kind/bin" "$ROOTFS/LICENSES"
  cp -r "$FILES/kind/." "$ROOTFS/kind/"
  find "$ROOTFS/kind" -type f -exec chmod 0644 {} + && chmod 0755 "$ROOTFS/kind" "$ROOTFS/kind/bin" "$ROOTFS"/kind/bin/*
  install -m 0644 "$FILES"/LICENSES/* "$ROOTFS/LICENSES/"
  install -m 0644 "$FILES/etc/crictl.yaml" "$ROOTFS/etc/"
  for d in containerd default sysctl.d systemd/system systemd/system/kubelet.service.d; do
    mkdir -p "$ROOTFS/etc/$d"
    find "$FILES/etc/$d" -maxdepth 1 -type f -exec install -m 0644 {} "$ROOTFS/etc/$d/" \;
  done
  # Debian's engine where kind's units and configs expect its own builds.
  ln -sfn /usr/bin/containerd "$ROOTFS/usr/local/bin/containerd"
  ln -sfn /usr/bin/ctr "$ROOTFS/usr/local/bin/ctr"
  ln -sfn /usr/bin/containerd-shim-runc-v2 "$ROOTFS/usr/local/bin/containerd-shim-runc-v2"
  ln -sfn /usr/sbin/runc "$ROOTFS/usr/local/sbin/runc"
  mkdir -p "$ROOTFS/opt/cni/bin"
  for p in "$ROOTFS"/usr/lib/cni/*; do ln -sfn "/usr/lib/cni/${p##*/}" "$ROOTFS/opt/cni/bin/${p##*/}"; done
  # The RUN lines of kind's Dockerfile.
  find "$ROOTFS/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
  rm -f "$ROOTFS"/lib/systemd/system/multi-user.target.wants/* "$ROOTFS"/etc/systemd/system/*.wants/* \
    "$ROOTFS"/lib/systemd/system/local-fs.target.wants/* "$ROOTFS"/lib/systemd/system/sockets.target.wants/*udev* \
    "$ROOTFS"/lib/systemd/system/sockets.target.wants/*initctl* "$ROOTFS"/lib/systemd/system/basic.target.wants/*
  echo "ReadKMsg=no" >>"$ROOTFS/etc/systemd/journald.conf"
  ln -sfn /usr/lib/systemd/systemd "$ROOTFS/sbin/init"
  chroot "$ROOTFS" systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1 ||
    chroot "$ROOTFS" systemctl enable kubelet.service containerd.service undo-mount-hacks.service
  chroot "$ROOTFS" systemctl mask systemd-binfmt.service >/dev/null 2>&1
  mkdir -p "$ROOTFS/etc/kubernetes/manifests"
  chroot "$ROOTFS" ctr oci spec |
    jq '.hooks.createContainer[.hooks.createContainer | length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
    jq 'del(.process.rlimits)' >"$ROOTFS/etc/containerd/cri-base.json"
  # This VM's two settings (see the header).
  sed -i 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' "$ROOTFS/etc/containerd/config.toml"
  grep -q 'restrict_oom_score_adj = true' "$ROOTFS/etc/containerd/config.toml" || die "kind's containerd config has no restrict_oom_score_adj line to set"
  sed -i 's|^KUBELET_EXTRA_ARGS=\(.*\)$|KUBELET_EXTRA_ARGS=\1 --fail-cgroupv1=false|' "$ROOTFS/etc/default/kubelet"
  grep -q -- '--fail-cgroupv1=false' "$ROOTFS/etc/default/kubelet" || die "kind's /etc/default/kubelet has no KUBELET_EXTRA_ARGS line to extend"
  # apt's lists and caches are not needed in a node; kind's clean-install drops them too.
  rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/log/* "$ROOTFS"/tmp/*
  touch "$WORK/rootfs.done"
fi

if ! docker image inspect "$TAG" >/dev/null 2>&1; then
  step import "docker import of the rootfs ($(du -sh "$ROOTFS" | cut -f1))"
  tar --numeric-owner --xattrs -C "$ROOTFS" -c . |
    "${NICE[@]}" docker import -c 'ENV container=docker' -c 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' - "$TAG-import" >/dev/null
  step stopsignal "docker build: STOPSIGNAL SIGRTMIN+3 (systemd's clean shutdown signal)"
  printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\n' "$TAG-import" | "${NICE[@]}" docker build -q -t "$TAG" - >/dev/null
  docker rmi "$TAG-import" >/dev/null
fi
log "done: $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | numfmt --to=iec))"
