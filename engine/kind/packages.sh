#!/usr/bin/env bash
# Installs the Debian packages a local kind engine needs, only those missing:
# docker.io (dockerd + client), containerd, runc, containernetworking-plugins,
# iptables, debootstrap (builds the node image's base), jq (the OCI runtime
# wrapper edits config.json with it), busybox-static (a scenario's stand-in
# workloads: src/server/cluster/kind-workloads.ts). Needs root and apt-get.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PKGS=(docker.io containerd runc containernetworking-plugins iptables debootstrap jq busybox-static)

missing=()
for p in "${PKGS[@]}"; do
  [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  plan
  log "skip packages: ${PKGS[*]} installed"
  exit 0
fi
plan packages
step packages "installing ${missing[*]} (apt-get)"
[[ $(id -u) == 0 ]] && command -v apt-get >/dev/null ||
  die "missing ${missing[*]}: install them (Debian: sudo apt-get install ${missing[*]}) and re-run."
lock apt
# docker.io's postinst would start the Debian docker.service where systemd runs;
# policy-rc.d 101 keeps it stopped: dockerd is ours to start (dockerd.sh).
policy=/usr/sbin/policy-rc.d
own_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; own_policy=1
  trap '[[ $own_policy == 1 ]] && rm -f "$policy"' EXIT
fi
install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
install || { log "apt-get install failed; apt-get update, then again"; apt-get update -qq >/dev/null && install; } ||
  die "apt-get install ${missing[*]} failed (see apt's output above)"
log "done: installed ${missing[*]}"
