# Shared by the bench scripts that drive PostgreSQL 15 (sourced, not run).

# need_package PACKAGE WHY: installs a Debian package when it is missing.
need_package() {
  if ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; then
    echo "[bench $(date +%H:%M:%S)] installing $1 ($2)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "$1" >/dev/null ||
      { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$1" >/dev/null; }
  fi
}

# as_pg COMMAND...: runs a PostgreSQL tool; initdb refuses to run as root, so as `postgres` then.
as_pg() {
  if [[ $EUID -eq 0 ]]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# pg_init PGDIR PORT: a private cluster in PGDIR/data listening only on PGDIR/sock at PORT
# (append further settings to PGDIR/data/postgresql.conf before starting it).
pg_init() {
  mkdir -p "$1/sock"
  chown -R postgres:postgres "$1" 2>/dev/null || true
  as_pg "$PGBIN/initdb" -D "$1/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  printf "listen_addresses = ''\nport = %s\nunix_socket_directories = '%s/sock'\n" "$2" "$1" >>"$1/data/postgresql.conf"
}
