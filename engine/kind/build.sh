#!/usr/bin/env bash
# build.sh: everything the kind engine needs on this machine, in order, each step
# skipped when its result is in place:
#   packages  Debian's docker.io, containerd, runc, CNI plugins, iptables, debootstrap, jq
#   engine    an engine that answers: the one already running, else ours (dockerd.sh)
#   base      irlab/kind-base:<hash> (base-image.sh)
#   node      irlab/kind-node:<k8s>-<hash> (node-image.sh; needs engine/build.sh's cache),
#             with kube-router enforcing NetworkPolicy (kind applies its manifest)
# At the end the node image's tag is written to $IRLAB_CACHE/kind/node-image.tag (one
# line, replaced atomically), so the kind provider finds the image without running Go
# or this script; the file names the last image built, which the engine holds.
# Ours is stopped again at the end (IRLAB_KIND_KEEP_ENGINE=1 keeps it running); an
# engine that was already running is left as it was.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

plan packages engine base node
sub() { IRLAB_KIND_NESTED=1 "$@"; } # its own plan and steps print as sub-steps
step packages "Debian packages"
sub "$KIND_HERE/packages.sh"
step engine "container engine"
started=0
if ! out=$(sub "$KIND_HERE/dockerd.sh" status 2>/dev/null); then
  out=$(sub "$KIND_HERE/dockerd.sh" start)
  started=1
fi
eval "$out"
export DOCKER_HOST
stop_ours() { [[ $started == 1 && ${IRLAB_KIND_KEEP_ENGINE:-0} != 1 ]] && sub "$KIND_HERE/dockerd.sh" stop || true; }
trap stop_ours EXIT
step base "kind base image"
sub "$KIND_HERE/base-image.sh"
step node "kind node image"
sub "$KIND_HERE/node-image.sh"
tag=$("$KIND_HERE/node-image.sh" --print-tag)
docker image inspect "$tag" >/dev/null 2>&1 || die "node-image.sh finished but the engine has no $tag"
# temp file + mv (same directory, so a rename): a reader sees the old line or the new one.
printf '%s\n' "$tag" >"$KIND_CACHE/.node-image.tag.$$"
mv -f "$KIND_CACHE/.node-image.tag.$$" "$KIND_CACHE/node-image.tag"
log "done: node image $tag on $DOCKER_HOST (tag in $KIND_CACHE/node-image.tag)"
