#!/usr/bin/env bash
# A throwaway PostgreSQL cluster from Debian's server binaries, for tests and benches (never the
# system service, never port 5432): initdb in a directory of its own, listening on a unix socket in
# that directory and on a free loopback port, password authentication for one superuser `irlab`
# with a random password, durability off (fsync; the cluster is deleted after the run).
#   scripts/postgres.sh start DIR   creates and starts it in DIR (absent or empty); prints its URL
#   scripts/postgres.sh url DIR     prints the URL of the cluster in DIR
#   scripts/postgres.sh stop DIR    stops it and deletes DIR
#   scripts/postgres.sh pause DIR   stops the server, keeping the cluster (tests of a restart)
#   scripts/postgres.sh resume DIR  starts it again on the same port
# As root, the server runs as Debian's `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail

command="${1:-}"
dir="${2:-}"
if [ -z "$command" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|url|stop|pause|resume DIR" >&2
  exit 2
fi

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "postgres.sh: Debian's PostgreSQL server is not installed (no /usr/lib/postgresql/*/bin/initdb)." >&2
  echo "Install it with scripts/ensure-system-packages.sh, or as root: apt-get install -y postgresql" >&2
  exit 1
fi

as_server=()
if [ "$(id -u)" -eq 0 ]; then
  if ! getent passwd postgres >/dev/null; then
    echo "postgres.sh: running as root needs Debian's postgres user (created by the postgresql package)" >&2
    exit 1
  fi
  as_server=(setpriv --reuid=postgres --regid=postgres --init-groups --)
fi

case "$command" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ -n "$(ls -A "$dir")" ]; then
      echo "postgres.sh: $dir is not empty; give a new directory" >&2
      exit 1
    fi
    chmod 700 "$dir"
    password=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$password" >"$dir/pwfile"
    if [ "${#as_server[@]}" -gt 0 ]; then
      chown -R postgres:postgres "$dir"
      if ! "${as_server[@]}" test -x "$dir"; then
        echo "postgres.sh: the postgres user cannot reach $dir (a parent directory is private); give a directory under a world-searchable one such as /tmp" >&2
        exit 1
      fi
    fi
    "${as_server[@]}" "$bin/initdb" --pgdata="$dir/data" --username=irlab --pwfile="$dir/pwfile" \
      --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$dir/pwfile"
    # A random free-looking port; another process may take it between the check and the start,
    # so a failed start tries another.
    # Restarts (resume) use the same options.
    server_options() { echo "-c listen_addresses=127.0.0.1 -c port=$1 -c unix_socket_directories='$dir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"; }
    for attempt in 1 2 3 4 5 6 7 8; do
      port=$((20000 + $(od -An -tu2 -N2 /dev/urandom | tr -d ' ') % 40000))
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
      if "${as_server[@]}" "$bin/pg_ctl" start --pgdata="$dir/data" --log="$dir/server.log" --wait --timeout=120 \
        -o "$(server_options "$port")" >/dev/null; then
        printf 'postgres://irlab:%s@127.0.0.1:%s/postgres\n' "$password" "$port" >"$dir/url"
        printf '%s\n' "$(server_options "$port")" >"$dir/options"
        chmod 600 "$dir/url"
        cat "$dir/url"
        exit 0
      fi
      echo "postgres.sh: start on port $port failed (attempt $attempt); $(tail -n 3 "$dir/server.log" 2>/dev/null | tr '\n' ' ')" >&2
    done
    echo "postgres.sh: could not start PostgreSQL in $dir; see $dir/server.log" >&2
    exit 1
    ;;
  url)
    cat "$dir/url"
    ;;
  pause)
    "${as_server[@]}" "$bin/pg_ctl" stop --pgdata="$dir/data" --mode=fast --wait --timeout=60 >/dev/null
    ;;
  resume)
    "${as_server[@]}" "$bin/pg_ctl" start --pgdata="$dir/data" --log="$dir/server.log" --wait --timeout=120 -o "$(cat "$dir/options")" >/dev/null
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      "${as_server[@]}" "$bin/pg_ctl" stop --pgdata="$dir/data" --mode=fast --wait --timeout=60 >/dev/null
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|url|stop DIR" >&2
    exit 2
    ;;
esac
