#!/usr/bin/env bash
# Runs one end-to-end benchmark of tests/Meta.ComputeAccess.Benchmarks against a throwaway PostgreSQL with default
# durability settings, and always removes the cluster. The first argument names the benchmark, the rest go to it:
#   deploy/local/bench.sh ingest --records 200000
#   deploy/local/bench.sh pages --seconds 20
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -ge 1 ] || mca_die "usage: deploy/local/bench.sh <benchmark> [options]  (ingest, pages, ...)"
command -v dotnet >/dev/null || mca_die "the .NET 10 SDK is needed (dotnet not found on PATH)"
NAME="$1"; shift

mca_require_postgres
PG_OWNER="$(mca_pg_owner)"
WORK="$(mktemp -d /tmp/mca-bench.XXXXXX)"
chmod 755 "$WORK"
PGDIR="$WORK/pg"
cleanup() { mca_stop_cluster "$PGDIR"; rm -rf "$WORK"; }
trap cleanup EXIT

PASSWORD="$(mca_random_secret)"
PORT="$(mca_free_port 56432)"
mca_log "starting a throwaway PostgreSQL on 127.0.0.1:$PORT (durable: fsync and synchronous_commit on)"
# Memory and checkpoint spacing as a production server would have them; durability stays at the defaults.
mca_init_cluster "$PGDIR" "$PASSWORD" "shared_buffers = 1GB" "max_wal_size = 8GB" "checkpoint_timeout = 30min"
mca_start_cluster "$PGDIR" "$PORT"
export PORTAL_BENCH_PG="Host=127.0.0.1;Port=$PORT;Username=postgres;Password=$PASSWORD;Database=postgres"
export PORTAL_TEST_PG_BIN="$PG_BIN"

cd "$MCA_ROOT"
mca_log "building"
dotnet build src/Meta.ComputeAccess.Web -c Release -nologo -v quiet
dotnet build tests/Meta.ComputeAccess.Benchmarks -c Release -nologo -v quiet
mca_log "running $NAME (load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
dotnet tests/Meta.ComputeAccess.Benchmarks/bin/Release/net10.0/Meta.ComputeAccess.Benchmarks.dll "$NAME" "$@"
mca_log "done (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
