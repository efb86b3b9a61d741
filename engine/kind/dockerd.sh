#!/usr/bin/env bash
# dockerd.sh start|stop|status: the Docker engine irlab's kind clusters run on.
#
# When an engine already answers (DOCKER_HOST, or the default socket) it is used
# and never stopped. Otherwise `start` runs Debian's dockerd with everything of
# its own, so nothing of a system Docker is touched:
#   data root  $IRLAB_CACHE/kind/docker/data (overlay2 on the cache's filesystem)
#   exec root  /run/irlab-docker (its containerd, shims, netns mounts)
#   socket     /run/irlab-docker.sock, pidfile /run/irlab-docker.pid
#   log        $IRLAB_CACHE/kind/docker/dockerd.log
#   runtime    irlab-runc (engine/kind/irlab-runc), the default
# and `stop` ends it and removes what it left: shims, mounts under both roots,
# the bridges of its networks. It adds no host iptables rules and leaves
# ip_forward alone (--iptables=false --ip-forward=false: kind's nodes talk over
# their own bridge; the API server is published by docker-proxy on 127.0.0.1).
#
# `start` and `status` print `DOCKER_HOST=...` on stdout (progress goes to
# stderr), for `eval "$(engine/kind/dockerd.sh start)"`; status exits 0 when an
# engine answers (ours or not), 3 when none does.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Progress to stderr: stdout carries only the DOCKER_HOST line, for eval.
log() { printf '[kind %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

STATE=$KIND_CACHE/docker
DATA=$STATE/data
EXEC_ROOT=/run/irlab-docker
SOCK=/run/irlab-docker.sock
PIDFILE=/run/irlab-docker.pid
OURS=unix://$SOCK
export PATH=$PATH:/usr/sbin:/sbin

answers() { timeout 10 docker -H "$1" info --format '{{.ServerVersion}}' >/dev/null 2>&1; }
our_pid() { # our dockerd's pid, when the pidfile names a live dockerd
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ && $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]] || return 1
  echo "$pid"
}
# An engine that is not ours: DOCKER_HOST if set, else the default socket.
external() {
  local h=${DOCKER_HOST:-unix:///var/run/docker.sock}
  [[ $h != "$OURS" ]] && answers "$h" && echo "$h"
}

# The wrapper is copied into the cache under a name keyed by its content, so a
# running dockerd never has its runtime replaced under it by a checkout.
install_wrapper() {
  local hash dst
  hash=$(content_hash "$KIND_HERE/irlab-runc")
  dst=$KIND_CACHE/bin/irlab-runc-$hash
  if [[ ! -x $dst ]]; then
    mkdir -p "$KIND_CACHE/bin"
    cp "$KIND_HERE/irlab-runc" "$dst.tmp" && chmod 755 "$dst.tmp" && mv -f "$dst.tmp" "$dst"
  fi
  echo "$dst"
}

start() {
  local ext pid wrapper
  if ext=$(external); then
    log "using the engine already running at $ext (not ours: dockerd.sh stop leaves it alone)"
    echo "DOCKER_HOST=$ext"; return 0
  fi
  lock dockerd
  if pid=$(our_pid) && answers "$OURS"; then
    log "ours already running (pid $pid)"
    echo "DOCKER_HOST=$OURS"; return 0
  fi
  for b in dockerd containerd runc jq; do
    command -v $b >/dev/null || die "$b is not on PATH; run engine/kind/packages.sh (installs Debian's docker.io, containerd, runc, jq)."
  done
  [[ $(id -u) == 0 ]] || die "dockerd needs root; run as root (sudo engine/kind/dockerd.sh start)."
  plan dockerd
  step dockerd "starting dockerd (data root $DATA, socket $SOCK)"
  wrapper=$(install_wrapper)
  mkdir -p "$DATA" "$EXEC_ROOT"
  # A config file, not flags: it names the runtime, and `status` shows what ran.
  jq -n --arg data "$DATA" --arg exec "$EXEC_ROOT" --arg pid "$PIDFILE" --arg sock "$OURS" --arg rt "$wrapper" '{
    "data-root": $data, "exec-root": $exec, "pidfile": $pid, "hosts": [$sock],
    "storage-driver": "overlay2",
    "iptables": false, "ip-forward": false, "ip-masq": false, "bridge": "none",
    "runtimes": { "irlab-runc": { "path": $rt } }, "default-runtime": "irlab-runc",
    "log-driver": "json-file", "log-opts": { "max-size": "10m", "max-file": "2" },
    "features": { "buildkit": false }
  }' >"$STATE/daemon.json"
  # setsid: its own session, so a shell or CI step that ends does not take it along
  # half-way; stop() ends it explicitly. 8>&-: it must not inherit (and hold forever) the lock.
  setsid dockerd --config-file "$STATE/daemon.json" >>"$STATE/dockerd.log" 2>&1 </dev/null 8>&- &
  local deadline=$((SECONDS + ${IRLAB_DOCKERD_TIMEOUT:-90}))
  until answers "$OURS"; do
    if ! kill -0 $! 2>/dev/null; then
      tail -n 20 "$STATE/dockerd.log" >&2
      die "dockerd exited while starting (log above, whole log in $STATE/dockerd.log)"
    fi
    ((SECONDS < deadline)) || { kill $! 2>/dev/null; die "dockerd did not answer on $SOCK within ${IRLAB_DOCKERD_TIMEOUT:-90} s (log: $STATE/dockerd.log)"; }
    sleep 0.5
  done
  log "dockerd $(docker -H "$OURS" info --format '{{.ServerVersion}} {{.Driver}} runtime={{.DefaultRuntime}} cgroup={{.CgroupDriver}}/v{{.CgroupVersion}}') (pid $(our_pid))"
  echo "DOCKER_HOST=$OURS"
}

stop() {
  local pid bridges=()
  if ! pid=$(our_pid); then
    if ext=$(external); then log "the engine at $ext is not ours: left running"; fi
    log "ours is not running"
    cleanup_host; return 0
  fi
  lock dockerd
  plan stop
  step stop "stopping dockerd (pid $pid)"
  local running
  running=$(docker -H "$OURS" ps --format '{{.Names}}' 2>/dev/null | paste -sd' ' || true)
  [[ -z $running ]] || log "stopping with containers running (dockerd stops them; they stay, stopped, in the data root): $running"
  # Bridges of user-defined networks (kind's) outlive dockerd; note them first.
  mapfile -t bridges < <(docker -H "$OURS" network ls --filter driver=bridge -q 2>/dev/null | sed 's/^/br-/')
  kill -TERM "$pid"
  local deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || { log "dockerd did not stop within 60 s: SIGKILL"; kill -KILL "$pid"; }
    sleep 0.5
  done
  rm -f "$PIDFILE"
  cleanup_host "${bridges[@]}"
  log "stopped"
}

# Removes what a stopped dockerd of ours can leave: shims and containerd under our
# exec root, mounts under our roots, the given bridges, the socket.
cleanup_host() {
  local p cmd
  for p in $(pgrep -f "$EXEC_ROOT|$DATA" || true); do
    cmd=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
    [[ $cmd == *"$EXEC_ROOT"* || $cmd == *"$DATA"* ]] || continue
    log "ending leftover pid $p: ${cmd:0:120}"
    kill -KILL "$p" 2>/dev/null || true
  done
  # Deepest first.
  awk -v a="$EXEC_ROOT" -v b="$DATA" '$2 ~ "^"a"(/|$)" || $2 ~ "^"b"(/|$)" {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null && log "unmounted $m"; done || true
  local br
  for br in "$@"; do
    ip link show "$br" >/dev/null 2>&1 && ip link delete "$br" && log "removed bridge $br"
  done
  rm -f "$SOCK"
  # Its runtime state is rebuilt at each start; nothing mounted may remain under it.
  grep -q " $EXEC_ROOT[/ ]" /proc/self/mounts || rm -rf "$EXEC_ROOT"
}

status() {
  local ext pid
  if pid=$(our_pid) && answers "$OURS"; then
    log "ours: running (pid $pid, data root $DATA)"; echo "DOCKER_HOST=$OURS"; return 0
  fi
  if ext=$(external); then log "not ours: running at $ext"; echo "DOCKER_HOST=$ext"; return 0; fi
  log "no engine answers"; return 3
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
