# Shared helpers for the deploy/local scripts (start, test, bench, fault-test, topology-test): a private PostgreSQL cluster run by a non-root user.
# Sourced, not executed.

MCA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

mca_log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
mca_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs a Debian package when a command it provides is missing (root only).
mca_apt_install() {
  local pkgs=("$@")
  if [ "$(id -u)" -ne 0 ]; then
    mca_die "missing ${pkgs[*]}: install with 'sudo apt-get install -y ${pkgs[*]}' and run again"
  fi
  mca_log "installing ${pkgs[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${pkgs[@]}" >/tmp/mca-apt.log 2>&1; then
    apt-get update >>/tmp/mca-apt.log 2>&1 || true
    apt-get install -y --no-install-recommends "${pkgs[@]}" >>/tmp/mca-apt.log 2>&1 \
      || { tail -20 /tmp/mca-apt.log >&2; mca_die "apt-get install ${pkgs[*]} failed (log: /tmp/mca-apt.log)"; }
  fi
}

# Sets PG_BIN to the newest installed PostgreSQL server's bin folder, installing postgresql if absent.
mca_require_postgres() {
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    mca_apt_install postgresql
    PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  fi
  [ -x "$PG_BIN/initdb" ] || mca_die "PostgreSQL server binaries not found under /usr/lib/postgresql"
  # Debian's package starts a system cluster on 5432; ours is private and does not need it.
}

# The user that owns and runs the cluster: PostgreSQL refuses to run as root.
mca_pg_owner() {
  if [ "$(id -u)" -ne 0 ]; then id -un; return; fi
  if ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
  fi
  echo postgres
}

mca_as_owner() {
  # From / : the owner may not be allowed into the caller's working directory (a 0700 temporary clone).
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u "$PG_OWNER" -- "$@"); else "$@"; fi
}

# A port is in use when any TCP socket has it as its local port: a listener, and also an outgoing connection that the
# kernel gave it (this range overlaps the ephemeral ports, and a server cannot bind a port a connection holds). Without
# ss, only a listener is seen.
mca_port_in_use() {
  if command -v ss >/dev/null 2>&1; then
    [ -n "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# Prints the first free TCP port on 127.0.0.1 from $1 upwards.
mca_free_port() {
  local port="$1"
  while mca_port_in_use "$port"; do port=$((port + 1)); done
  echo "$port"
}

mca_random_secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 32; }

# mca_init_cluster DIR SUPERUSER_PASSWORD [extra postgresql.conf lines...]
mca_init_cluster() {
  local dir="$1" password="$2"; shift 2
  mkdir -p "$dir"
  chown "$PG_OWNER" "$dir" 2>/dev/null || true
  chmod 700 "$dir"
  local pwfile="$dir/.pwfile"
  printf '%s\n' "$password" >"$pwfile"
  chown "$PG_OWNER" "$pwfile" 2>/dev/null || true
  mca_as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres --pwfile="$pwfile" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; mca_die "initdb failed"; }
  rm -f "$pwfile"
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$dir'"
    echo "max_connections = 300"
    for line in "$@"; do echo "$line"; done
  } >>"$dir/data/postgresql.conf"
}

# mca_start_cluster DIR PORT
mca_start_cluster() {
  local dir="$1" port="$2"
  mca_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -o "-p $port" -l "$dir/postgresql.log" -w -t 60 start >/dev/null \
    || { tail -30 "$dir/postgresql.log" >&2; mca_die "PostgreSQL did not start (log: $dir/postgresql.log)"; }
}

mca_cluster_running() { [ -f "$1/data/postmaster.pid" ] && mca_as_owner "$PG_BIN/pg_ctl" -D "$1/data" status >/dev/null 2>&1; }

mca_stop_cluster() {
  local dir="$1"
  if [ -n "${PG_BIN:-}" ] && [ -d "$dir/data" ] && mca_cluster_running "$dir"; then
    mca_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
  fi
}

# A folder the cluster owner can use: DIR itself if the owner can reach it, otherwise one under /var/tmp
# (a repository under /root or a 0700 temporary folder is not reachable by the postgres user).
mca_cluster_dir() {
  local wanted="$1"
  mkdir -p "$wanted"
  chown "$PG_OWNER" "$wanted" 2>/dev/null || true
  if mca_as_owner test -w "$wanted" 2>/dev/null; then echo "$wanted"; return; fi
  local alt="/var/tmp/meta-compute-access-$(printf '%s' "$wanted" | md5sum | cut -c1-10)"
  mkdir -p "$alt"
  chown "$PG_OWNER" "$alt"
  chmod 700 "$alt"
  echo "$alt"
}

mca_psql() {
  # mca_psql DIR PORT PASSWORD DATABASE SQL
  PGPASSWORD="$3" "$PG_BIN/psql" -h 127.0.0.1 -p "$2" -U postgres -d "$4" -v ON_ERROR_STOP=1 -qAt -c "$5"
}

# mca_create_portal_database DIR PORT SUPERUSER_PASSWORD PORTAL_PASSWORD: the role `portal` and the database
# `meta_compute_access` it owns, unless they exist (start.sh, topology-test.sh).
mca_create_portal_database() {
  local dir="$1" port="$2" super="$3" app="$4"
  if [ "$(mca_psql "$dir" "$port" "$super" postgres "SELECT 1 FROM pg_roles WHERE rolname = 'portal'")" != 1 ]; then
    mca_psql "$dir" "$port" "$super" postgres "CREATE ROLE portal LOGIN PASSWORD '$app'"
  fi
  if [ "$(mca_psql "$dir" "$port" "$super" postgres "SELECT 1 FROM pg_database WHERE datname = 'meta_compute_access'")" != 1 ]; then
    mca_psql "$dir" "$port" "$super" postgres "CREATE DATABASE meta_compute_access OWNER portal"
  fi
}

# PASS/FAIL lines of the end-to-end checks (topology-test, container-test); MCA_FAILURES counts the failures.
MCA_FAILURES=0
mca_pass() { printf 'PASS  %s\n' "$*"; }
mca_fail() { printf 'FAIL  %s\n' "$*"; MCA_FAILURES=$((MCA_FAILURES + 1)); }
# mca_check NAME DETAIL COMMAND...: PASS when the command succeeds.
mca_check() {
  local name="$1" detail="$2"; shift 2
  if "$@"; then mca_pass "$name ($detail)"; else mca_fail "$name ($detail)"; fi
}
