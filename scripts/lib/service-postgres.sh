# Sourced by scripts/lib/services.sh: a private PostgreSQL for the suite.
#
# A throw-away cluster (initdb into a temp dir, a free loopback port, trust
# auth, fsync off) rather than the machine's own: nothing is shared with other
# users of the host, and a CI machine needs only the PostgreSQL binaries.
# initdb refuses to run as root, so as root the cluster belongs to the
# `postgres` user. Exports REELSERVE_TEST_DATABASE_URL (a superuser URL on the
# `postgres` database; tests create a database per server from it) and pushes
# the stop command onto SERVICE_STOPS. An already set
# REELSERVE_TEST_DATABASE_URL is used as it is, and nothing is started.

_pg_bindir() {
  local dir
  if command -v pg_config >/dev/null 2>&1; then
    dir="$(pg_config --bindir 2>/dev/null || true)"
    if [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
  done
  command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)"
}

start_postgres() {
  if [ -n "${REELSERVE_TEST_DATABASE_URL:-}" ]; then
    echo "== postgres: using REELSERVE_TEST_DATABASE_URL as given"
    return 0
  fi
  local bindir
  bindir="$(_pg_bindir)"
  if [ -z "$bindir" ]; then
    echo "== postgres: not installed (no initdb); its tests skip, or fail under CI" >&2
    return 0
  fi
  local dir port
  dir="$(mktemp -d "${TMPDIR:-/tmp}/reelserve-pg.XXXXXX")"
  local as=()
  if [ "$(id -u)" = 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      echo "== postgres: running as root and there is no 'postgres' user to run it as" >&2
      rm -rf "$dir"
      return 0
    fi
    chown postgres: "$dir"
    as=(runuser -u postgres --)
  fi
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  if ! "${as[@]}" "$bindir/initdb" -D "$dir/data" -U reelserve -A trust -E UTF8 --no-sync \
      >"$dir/initdb.log" 2>&1; then
    echo "== postgres: initdb failed:" >&2
    tail -20 "$dir/initdb.log" >&2
    rm -rf "$dir"
    return 0
  fi
  # fsync off: the cluster lives as long as the test run; crash safety buys nothing.
  if ! "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null; then
    echo "== postgres: did not start:" >&2
    tail -20 "$dir/server.log" >&2
    rm -rf "$dir"
    return 0
  fi
  SERVICE_STOPS+=("${as[*]} $bindir/pg_ctl -D $dir/data -m fast -w stop >/dev/null; rm -rf $dir")
  export REELSERVE_TEST_DATABASE_URL="postgresql://reelserve@127.0.0.1:$port/postgres"
  echo "== postgres: $("$bindir/postgres" --version) on 127.0.0.1:$port"
}

start_postgres
