# Shared by the engine/kind/*.sh scripts (sourced, not run). Same conventions as
# engine/build.sh: `[kind HH:MM:SS] ...` log lines, `plan: <steps>` then
# `step k/n <id>: <what>`, one build per cache at a time (flock), and outputs
# named by a content hash so an edit builds beside, never over, an old result.
#
# Environment:
#   IRLAB_CACHE      cache root (default $HOME/.cache/irlab); kind's state is under $IRLAB_CACHE/kind
#   IRLAB_BUILD_NICE nice level for heavy steps (default 10; the machine is shared)

KIND_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${IRLAB_CACHE:-$HOME/.cache/irlab}
KIND_CACHE=$CACHE/kind
NICE=(nice -n "${IRLAB_BUILD_NICE:-10}")

log() { printf '[kind %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[kind] ERROR: %s\n' "$*" >&2; exit 1; }

# plan STEP...: announces the steps this run will take; step ID WHAT starts the next one.
PLAN=()
STEP=0
# Run by build.sh (IRLAB_KIND_NESTED=1), a script's own steps are sub-steps: only the
# outer plan and steps carry `plan:`/`step k/n`, which a progress parser reads.
plan() {
  PLAN=("$@"); STEP=0
  if [[ ${IRLAB_KIND_NESTED:-} == 1 ]]; then log "  (${PLAN[*]:-nothing to do})"; else log "plan: ${PLAN[*]}"; fi
}
step() {
  STEP=$((STEP + 1))
  if [[ ${IRLAB_KIND_NESTED:-} == 1 ]]; then log "  $1: $2"; else log "step $STEP/${#PLAN[@]} $1: $2"; fi
}

# lock NAME: one holder of $KIND_CACHE/NAME.lock at a time (released when this shell
# and everything it started have exited).
lock() {
  command -v flock >/dev/null || die "flock is not on PATH; install util-linux (Debian: apt-get install util-linux) and re-run."
  mkdir -p "$KIND_CACHE"
  local file=$KIND_CACHE/$1.lock
  exec 8>>"$file"
  if ! flock -n 8; then
    log "waiting: another run holds $file"
    flock 8
  fi
}

# content_hash FILE|DIR...: first 16 hex digits of sha256 over the paths (relative
# names, modes and contents in byte order), so a rename or chmod counts as a change.
content_hash() {
  local p
  for p in "$@"; do
    if [[ -d $p ]]; then
      (cd "$p" && LC_ALL=C find . \( -type f -o -type l \) -print0 | LC_ALL=C sort -z |
        while IFS= read -r -d '' f; do
          printf '%s %s\n' "$f" "$(stat -c %a "$f")"
          if [[ -L $f ]]; then readlink "$f"; else cat "$f"; fi
        done)
    else
      printf '%s\n' "$(basename "$p")"; cat "$p"
    fi
  done | sha256sum | cut -c1-16
}
