#!/usr/bin/env bash
# Runs every test: builds the solution, starts a throwaway PostgreSQL (and installs PostgreSQL and Chromium
# from Debian's packages when missing), runs `dotnet test`, and always removes the throwaway cluster. Then the
# cluster side on a real Slurm (deploy/local/slurm-test.sh: Slurm with slurmdbd, the portal and the agent
# mca-sync; as root, installs Slurm, munge and MariaDB when missing) and the production topology test
# (deploy/local/topology-test.sh: nginx, two instances, kill -9), each with its own PostgreSQL.
#
#   deploy/local/test.sh                 all tests, then the Slurm test and the topology test
#   deploy/local/test.sh --filter EXPR   passed on to dotnet test (e.g. --filter "FullyQualifiedName~Orcid");
#                                        with arguments the Slurm and topology tests are left out
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v dotnet >/dev/null || mca_die "the .NET 10 SDK is needed (dotnet not found on PATH)"
mca_require_postgres
PG_OWNER="$(mca_pg_owner)"
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
python3 -c 'import aiosmtpd' 2>/dev/null || [ -f /usr/lib/python3/dist-packages/aiosmtpd/__init__.py ] || missing+=(python3-aiosmtpd)
[ ${#missing[@]} -eq 0 ] || mca_apt_install "${missing[@]}"

WORK="$(mktemp -d /tmp/mca-test.XXXXXX)"
chmod 755 "$WORK"
PGDIR="$WORK/pg"
cleanup() {
  mca_stop_cluster "$PGDIR"
  rm -rf "$WORK"
}
trap cleanup EXIT

PASSWORD="$(mca_random_secret)"
PORT="$(mca_free_port 55432)"
mca_log "starting a throwaway PostgreSQL on 127.0.0.1:$PORT"
# Durability is pointless for a cluster deleted in a few minutes; turning it off makes tests faster.
mca_init_cluster "$PGDIR" "$PASSWORD" "fsync = off" "synchronous_commit = off" "full_page_writes = off"
mca_start_cluster "$PGDIR" "$PORT"
export PORTAL_TEST_PG="Host=127.0.0.1;Port=$PORT;Username=postgres;Password=$PASSWORD;Database=postgres"
export PORTAL_TEST_PG_BIN="$PG_BIN"

cd "$MCA_ROOT"
mca_log "building"
dotnet build Meta.ComputeAccess.sln -c Release -nologo -v quiet

mca_log "testing"
RESULTS="$WORK/results"
set +e
dotnet test Meta.ComputeAccess.sln -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$RESULTS" "$@"
rc=$?
set -e

# One closing line for every project together, e.g. "tests: 120 passed, 0 failed, 1 skipped".
python3 - "$RESULTS" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for path in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(path).getroot().find("t:ResultSummary/t:Counters", ns)
    if c is None:
        continue
    passed += int(c.get("passed", 0))
    failed += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0)) + int(c.get("aborted", 0))
    skipped += int(c.get("notExecuted", 0))
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY

# suite SCRIPT WHAT: one of the end-to-end scripts on the Release build; its failure fails the run.
suite() {
  mca_log "$2 (deploy/local/$1)"
  set +e
  bash "$MCA_ROOT/deploy/local/$1" --no-build
  local result=$?
  set -e
  [ $rc -ne 0 ] || rc=$result
}
if [ $# -eq 0 ]; then
  suite slurm-test.sh "the cluster side on a real Slurm"
  suite topology-test.sh "production topology"
fi
exit $rc
