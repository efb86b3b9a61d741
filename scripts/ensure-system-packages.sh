#!/usr/bin/env bash
# Installs what irlab needs from Debian and cannot get from npm, idempotently (a second run only
# prints versions):
#   - bubblewrap: the sandbox of the browser terminal's shell (/usr/bin/bwrap);
#   - socat: runs inside that sandbox as the shell's only way to its cluster's API server;
#   - openssl: signs each drill participant's own client certificate with the drill cluster's CA;
#   - e2fsprogs: mkfs.ext4 makes each workspace a size-limited filesystem when irlab runs as root;
#   - the irlab-sandbox system user (owner of workspaces from before per-session uids);
#   - chromium: the browser Playwright drives for the end-to-end tests (never a downloaded one);
#   - hyperfine and jq: the benches (`npm run bench:query`, `bench:cli`) time irlab against jq;
#   - postgresql: the server binaries the store's PostgreSQL tests start a throwaway cluster with
#     (scripts/postgres.sh); installed without Debian's own `main` cluster, nothing listens on 5432.
# Usage: ensure-system-packages.sh [--runtime]   (--runtime: skip chromium; npm start uses it)
set -euo pipefail

runtime_only=false
[ "${1:-}" = "--runtime" ] && runtime_only=true

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  as_root=(false)
fi

missing=()
[ -x /usr/bin/bwrap ] || missing+=(bubblewrap)
[ -x /usr/bin/socat ] || missing+=(socat)
[ -x /usr/bin/openssl ] || missing+=(openssl)
[ -x /usr/bin/setpriv ] || missing+=(util-linux)
[ -x /usr/sbin/mkfs.ext4 ] || missing+=(e2fsprogs)
if [ "$runtime_only" = false ] && [ ! -x /usr/bin/chromium ]; then missing+=(chromium fonts-dejavu-core); fi
if [ "$runtime_only" = false ] && [ ! -x /usr/bin/hyperfine ]; then missing+=(hyperfine); fi
if [ "$runtime_only" = false ] && [ ! -x /usr/bin/jq ]; then missing+=(jq); fi
if [ "$runtime_only" = false ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then missing+=(postgresql); fi

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "${as_root[0]:-}" = false ]; then
    echo "system packages: missing ${missing[*]} and this user cannot install packages." >&2
    echo "Install them once as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "system packages: installing Debian's ${missing[*]} (chromium takes a minute or two)..."
  export DEBIAN_FRONTEND=noninteractive
  if [[ " ${missing[*]} " == *" postgresql "* ]]; then
    # The tests start their own clusters; Debian's default `main` cluster would be a service on
    # port 5432 nobody uses. (Only written before a first install, never over an operator's file.)
    "${as_root[@]}" mkdir -p /etc/postgresql-common/createcluster.d
    [ -e /etc/postgresql-common/createcluster.d/irlab.conf ] || echo 'create_main_cluster = false' | "${as_root[@]}" tee /etc/postgresql-common/createcluster.d/irlab.conf >/dev/null
  fi
  "${as_root[@]}" apt-get update -q
  "${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The terminal's shell never runs as root: when irlab runs as root it drops to this user.
# (Run as a normal user, irlab uses that user inside an unprivileged user namespace instead.)
if [ "$(id -u)" -eq 0 ] && ! getent passwd irlab-sandbox >/dev/null; then
  echo "system packages: creating the irlab-sandbox system user for the terminal sandbox"
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin irlab-sandbox
fi

echo "bubblewrap: $(/usr/bin/bwrap --version) · $(/usr/bin/socat -V | sed -n 2p | cut -d' ' -f1-3) · $(/usr/bin/openssl version | cut -d' ' -f1-2)"
if getent passwd irlab-sandbox >/dev/null; then echo "sandbox user: $(id irlab-sandbox)"; fi
if [ "$runtime_only" = false ]; then echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"; fi
if [ "$runtime_only" = false ]; then echo "postgresql: $("$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)/postgres" --version)"; fi
