#!/usr/bin/env bash
# Fault tests (issue 7, docs/reliability.md): a throwaway PostgreSQL with durable settings, the portal as its own
# process, and the "faults" driver in tests/Meta.ComputeAccess.Benchmarks:
#   1. PostgreSQL stopped (-m fast) and started again during a large usage ingest, under page/API/batch load;
#   2. the portal killed with SIGKILL during a large ingest, restarted, the batch sent again;
#   3. the portal killed while a Hangfire job runs; the job resumes after the restart.
# Loopback only; the cluster, the portal and the temporary files are always removed. Exit code 1 on any violation.
#
#   deploy/local/fault-test.sh                     300,000 jobs per batch, 5 s outage
#   deploy/local/fault-test.sh --records 100000 --outage 3
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v dotnet >/dev/null || mca_die "the .NET 10 SDK is needed (dotnet not found on PATH)"
mca_require_postgres
PG_OWNER="$(mca_pg_owner)"
WORK="$(mktemp -d /tmp/mca-faults.XXXXXX)"
chmod 755 "$WORK"
PGDIR="$WORK/pg"
DRIVER_PID=""
cleanup() {
  # The driver kills its portal itself; if the driver is interrupted, end it (and so its portal) first.
  if [ -n "$DRIVER_PID" ] && kill -0 "$DRIVER_PID" 2>/dev/null; then
    kill "$DRIVER_PID" 2>/dev/null || true
    wait "$DRIVER_PID" 2>/dev/null || true
  fi
  if [ -f "$WORK/portal.pids" ]; then
    while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done <"$WORK/portal.pids"
  fi
  mca_stop_cluster "$PGDIR"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASSWORD="$(mca_random_secret)"
PORT="$(mca_free_port 57432)"
mca_log "starting a throwaway PostgreSQL on 127.0.0.1:$PORT (durable: fsync, synchronous_commit and full_page_writes on)"
mca_init_cluster "$PGDIR" "$PASSWORD" "shared_buffers = 256MB" "max_wal_size = 4GB"
mca_start_cluster "$PGDIR" "$PORT"
export PORTAL_BENCH_PG="Host=127.0.0.1;Port=$PORT;Username=postgres;Password=$PASSWORD;Database=postgres"
export PORTAL_TEST_PG_BIN="$PG_BIN"
export MCA_FAULTS_PID_FILE="$WORK/portal.pids"

cd "$MCA_ROOT"
mca_log "building"
dotnet build src/Meta.ComputeAccess.Web -c Release -nologo -v quiet
dotnet build tests/Meta.ComputeAccess.Benchmarks -c Release -nologo -v quiet
mca_log "running the fault scenarios"
# The driver runs pg_ctl as the cluster's owner (runuser when this script runs as root); bounded to 10 minutes.
timeout --signal=TERM 600 dotnet tests/Meta.ComputeAccess.Benchmarks/bin/Release/net10.0/Meta.ComputeAccess.Benchmarks.dll faults \
  --pgdata "$PGDIR/data" --pg-owner "$PG_OWNER" "$@" &
DRIVER_PID=$!
set +e
wait "$DRIVER_PID"
rc=$?
set -e
DRIVER_PID=""
exit $rc
