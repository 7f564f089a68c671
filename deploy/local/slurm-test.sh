#!/usr/bin/env bash
# The cluster side on a real Slurm (issue 12): a private single-node Slurm 22.05 with accounting
# (deploy/local/slurm-lib.sh), the portal on a throwaway PostgreSQL (demo data, a cluster token), and the real
# agent (deploy/cluster/mca-sync) between them. Changes are made in the portal through its own pages, as an admin
# or a PI would (deploy/local/portal-forms.py); real jobs run under two accounts with 1 and 2 GPUs; every check
# reads Slurm itself (sacctmgr, sshare, squeue, sacct) or the portal (its pages, its cluster API).
# As root; installs slurm-wlm, slurmdbd, munge and mariadb-server (and PostgreSQL) from Debian's packages when
# absent. Everything it starts (daemons, the portal, test users) is stopped or removed on exit. About 3 minutes.
#
#   deploy/local/slurm-test.sh              builds the portal (Release), then runs every check; exit 1 if any failed
#   deploy/local/slurm-test.sh --no-build   uses the existing Release build (test.sh passes this)
#   deploy/local/slurm-test.sh --keep       keeps the temporary folder (logs, plans, reports, the portal's log)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/slurm-lib.sh"

keep=0
build=1
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) mca_die "unknown argument '$arg' (try --help)" ;;
  esac
done

AGENT="$MCA_ROOT/deploy/cluster/mca-sync"
FORMS="$MCA_ROOT/deploy/local/portal-forms.py"
WEB="$MCA_ROOT/src/Meta.ComputeAccess.Web"
DLL="$WEB/bin/Release/net10.0/Meta.ComputeAccess.Web.dll"
SLURM_RIG_CLUSTER=grandteton   # the demo cluster's Slurm name (grand-teton in the portal)
command -v dotnet >/dev/null || mca_die "the .NET 10 SDK is needed (dotnet not found on PATH)"
missing=()
command -v python3 >/dev/null || missing+=(python3)
command -v curl >/dev/null || missing+=(curl)
[ ${#missing[@]} -eq 0 ] || mca_apt_install "${missing[@]}"
slurm_rig_require
mca_require_postgres
PG_OWNER="$(mca_pg_owner)"

WORK="$(mktemp -d /tmp/mca-slurm-test.XXXXXX)"
chmod 755 "$WORK"
PGDIR="$WORK/pg"
PORTAL_PID=""
cleanup() {
  if [ -n "$PORTAL_PID" ]; then
    kill -TERM "$PORTAL_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$PORTAL_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$PORTAL_PID" 2>/dev/null || true
    wait "$PORTAL_PID" 2>/dev/null || true
  fi
  slurm_rig_stop
  mca_stop_cluster "$PGDIR"
  if [ "$keep" = 1 ]; then mca_log "kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

began=$SECONDS
failures=0
pass() { printf '  ok    %s\n' "$1"; }
fail() { printf '  FAIL  %s\n' "$1" >&2; failures=$((failures + 1)); }
# check DESCRIPTION COMMAND...: the command's success is the check.
check() {
  local what="$1"; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
not() { ! "$@"; }
# eventually SECONDS COMMAND...: the command succeeds within SECONDS (for what Slurm records asynchronously).
eventually() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" 2>/dev/null; do [ "$SECONDS" -lt "$deadline" ] || { "$@"; return 1; }; sleep 1; done
}
like() { [[ "$1" == $2 ]] || { echo "    '$1' is not like '$2'" >&2; return 1; }; }
is() { [ "$1" = "$2" ] || { echo "    '$1', expected '$2'" >&2; return 1; }; }

# ---------------------------------------------------------------- the portal
if [ "$build" = 1 ]; then
  mca_log "building the portal (Release)"
  dotnet build "$WEB" -c Release -nologo -v quiet >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; mca_die "build failed"; }
fi
[ -f "$DLL" ] || mca_die "$DLL is missing: build Release first (or run without --no-build)"

SUPER_PW="$(mca_random_secret)"
APP_PW="$(mca_random_secret)"
PG_PORT="$(mca_free_port 57432)"
mca_init_cluster "$PGDIR" "$SUPER_PW" "fsync = off" "synchronous_commit = off" "full_page_writes = off"
mca_start_cluster "$PGDIR" "$PG_PORT"
mca_create_portal_database "$PGDIR" "$PG_PORT" "$SUPER_PW" "$APP_PW"
HTTP_PORT="$(mca_free_port 58180)"
BASE="http://127.0.0.1:$HTTP_PORT"
# The demo program (Development: its people sign in with the demo password, no second factor) with mail written to
# files; an operator's commands get the same settings.
PORTAL_ENV=(ASPNETCORE_ENVIRONMENT=Development
  ConnectionStrings__Portal="Host=127.0.0.1;Port=$PG_PORT;Database=meta_compute_access;Username=portal;Password=$APP_PW"
  Smtp__PickupDirectory="$WORK/mail" Smtp__PublicBaseUrl="$BASE" Serilog__MinimumLevel__Default=Warning)
portal() { (cd "$WEB" && exec env "${PORTAL_ENV[@]}" dotnet "$DLL" "$@"); }
mca_log "portal: migrate, demo data, a token for grand-teton"
portal migrate >"$WORK/portal-setup.log" 2>&1 || { tail -30 "$WORK/portal-setup.log"; mca_die "migrate failed"; }
portal seed-demo >>"$WORK/portal-setup.log" 2>&1 || { tail -30 "$WORK/portal-setup.log"; mca_die "seed-demo failed"; }
TOKEN="$(portal cluster token create grand-teton --name slurm-test 2>>"$WORK/portal-setup.log" | tail -n 1)"
# Started as its own subshell that execs the portal, so PORTAL_PID is the portal's pid and the cleanup's kill reaches it
# (a backgrounded function call would leave the portal running, holding its port, after the script ends).
(cd "$WEB" && exec env "${PORTAL_ENV[@]}" dotnet "$DLL" --urls "$BASE") >"$WORK/portal.log" 2>&1 &
PORTAL_PID=$!

# The Slurm rig comes up while the portal starts.
slurm_rig_start "$WORK/slurm"
CLUSTER="$SLURM_RIG_CLUSTER"
slurm_rig_add_users aokafor lschmidt mchen

deadline=$((SECONDS + 180))
until curl -fsS -o /dev/null "$BASE/health/ready" 2>/dev/null; do
  kill -0 "$PORTAL_PID" 2>/dev/null || { tail -30 "$WORK/portal.log"; mca_die "the portal exited"; }
  [ "$SECONDS" -lt "$deadline" ] || { tail -30 "$WORK/portal.log"; mca_die "the portal was not ready after 180 s"; }
  sleep 1
done
mca_log "portal ready on $BASE"

# as WHO forms-command...: portal-forms.py with WHO's cookies (admin, amara, lukas, mei: the demo's people).
as() { local who="$1"; shift; python3 "$FORMS" --base "$BASE" --jar "$WORK/$who.cookies" "$@"; }
as admin login admin@example.org 'ComputeDemo!2026'
as amara login amara.okafor@lakeside.example.edu 'ComputeDemo!2026'
as lukas login lukas.schmidt@hafen.example.de 'ComputeDemo!2026'
as mei login mei.chen@harbour.example.edu 'ComputeDemo!2026'
# page_has WHO PATH REGEX: the page shows something matching REGEX.
page_has() { as "$1" find "$2" "($3)" >/dev/null; }
# The cluster API with the cluster's token, as the agent calls it.
api() { curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/clusters/grand-teton/$1"; }
# used_hours ACCOUNT: GPU-hours the portal has charged to the account's active allocation (its quotas API).
used_hours() {
  api quotas | python3 -c '
import json, sys
hits = [a for a in json.load(sys.stdin)["accounts"] if a["account"] == sys.argv[1]]
print(hits[0]["usedGpuHours"] if hits else "not active")' "$1"
}
# plan_field ACCOUNT FIELD: one field of an account in the portal's plan.
plan_field() {
  api associations | python3 -c '
import json, sys
hits = [a for a in json.load(sys.stdin)["accounts"] if a["account"] == sys.argv[1]]
print(hits[0][sys.argv[2]] if hits else "not in the plan")' "$1" "$2"
}

# The demo's current half-year and the cluster grand-teton, from the admin's form for a new allocation.
today="$(date -u +%F)"
half="$(date -u +%Y) $([ "$(date -u +%-m)" -le 6 ] && echo H1 || echo H2)"
period_end="$(date -u +%Y)-$([ "$(date -u +%-m)" -le 6 ] && echo 06-30 || echo 12-31)"
PERIOD="$(as admin find /Admin/Allocations/Create "<option value=\"([0-9a-f-]{36})\">$half</option>")"
TETON="$(as admin find /Admin/Allocations/Create 'for="hours-([0-9a-f-]{36})">Grand Teton<')"
# new_allocation PI_EMAIL ACCOUNT HOURS: creates an allocation from today to the period's end; prints its id.
new_allocation() {
  local location
  location="$(as admin post /Admin/Allocations/Create - "Input.PiEmail=$1" "Input.ProjectTitle=Slurm test $2" \
    "Input.PeriodId=$PERIOD" "Input.StartDate=$today" "Input.EndDate=$period_end" "Input.SlurmAccount=$2" \
    "Input.Hours[$TETON]=$3")"
  echo "${location##*id=}"
}
# admin_act ALLOCATION HANDLER [field=value...]: an admin's action on the allocation's page (Suspend, Resume, Close, Adjust).
admin_act() {
  local id="$1" handler="$2"; shift 2
  as admin post "/Admin/Allocations/Details?id=$id" "/Admin/Allocations/Details?id=$id&handler=$handler" "$@" >/dev/null
}
adjust() { admin_act "$1" Adjust "clusterId=$TETON" "hours=$2" "reason=slurm-test: $3"; }
# member_id WHO ALLOCATION NAME: a member's user id, from the remove form beside their name on the allocation's page.
member_id() { as "$1" find "/Allocations/$2" "<td>$3(?:(?!</tr>).)*name=\"userId\" value=\"([0-9a-f-]{36})\""; }

# ---------------------------------------------------------------- the agent
mkdir -p "$WORK/etc" "$WORK/plans" "$WORK/reports"
chmod 700 "$WORK/etc"
(umask 077 && printf '%s\n' "$TOKEN" >"$WORK/etc/token")
write_config() {  # write_config CREATE_ACCOUNTS
  cat >"$WORK/etc/sync.conf" <<EOF
portal_url = $BASE
cluster = grand-teton
slurm_cluster = $CLUSTER
token_file = $WORK/etc/token
create_accounts = $1
lookback = 1hours
lock_file = $WORK/run/mca-sync.lock
state_dir = $WORK/state
retries = 2
EOF
}
# agent NAME [options]: one run against the portal (usage push, plan, report); the report it sent is also in
# reports/NAME.json, its log in reports/NAME.log. Sets AGENT_RC.
agent() {
  local name="$1"; shift
  rm -f "$WORK/reports/$name.json"
  set +e
  "$AGENT" --config "$WORK/etc/sync.conf" --report-file "$WORK/reports/$name.json" "$@" >"$WORK/reports/$name.log" 2>&1
  AGENT_RC=$?
  set -e
}
# agent_file NAME [options]: applies plans/NAME.json instead of the portal's plan (for plans the portal never sends).
agent_file() {
  local name="$1"; shift
  agent "$name" --plan-file "$WORK/plans/$name.json" "$@"
}
plan() { cat >"$WORK/plans/$1.json"; }

# report NAME ACCOUNT FIELD: one field of one account in a report, as JSON (e.g. "applied", 0, ["u"]).
report() {
  python3 - "$WORK/reports/$1.json" "$2" "$3" <<'PY'
import json, sys
try:
    doc = json.load(open(sys.argv[1]))
except OSError:
    sys.exit(print('"no report"'))
hits = [a for a in doc["accounts"] if a.get("account") == sys.argv[2]]
print(json.dumps(hits[0].get(sys.argv[3]) if hits else "no such account in the report", sort_keys=True))
PY
}
report_is() { is "$(report "$1" "$2" "$3")" "$4"; }

# The association's limit on our TRES as Slurm holds it ("" when none), its users, and its used TRES-minutes.
limit_of() { sacctmgr -nP show assoc where cluster="$CLUSTER" account="$1" user= format=GrpTRESMins | head -n 1 | tr ',' '\n' | sed -n 's|^gres/gpu=||p'; }
users_of() { sacctmgr -nP show assoc where cluster="$CLUSTER" account="$1" format=User | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'; }
used_of() { sshare -n -P -l -A "$1" -o Account,User,GrpTRESRaw | awk -F'|' '$2 == "" { print $3 }' | tr ',' '\n' | sed -n 's|^gres/gpu=||p'; }
account_exists() { [ -n "$(sacctmgr -nP show assoc where cluster="$CLUSTER" account="$1" format=Account)" ]; }
state_is() { is "$(slurm_rig_job_state "$1")" "$2"; }
can_submit() { slurm_rig_submit "$1" "$2" 1 -- true >/dev/null 2>&1; }
agent_changed_nothing() { ! grep -q ' ran: ' "$WORK/reports/$1.log"; }
# sacct_hours JOBID...: what sacct says the jobs used, ElapsedRaw x GPUs / 3600, to 6 decimals as the portal rounds.
sacct_hours() {
  local ids; ids="$(IFS=,; echo "$*")"
  TZ=UTC sacct -n -X -P --duplicates --allusers -j "$ids" -o ElapsedRaw,AllocTRES | python3 -c '
import sys
from decimal import Decimal
total = Decimal(0)
for line in sys.stdin:
    raw, _, tres = line.strip().partition("|")
    gpus = [int(t.split("=")[1]) for t in tres.split(",") if t.startswith("gres/gpu=")]
    total += Decimal(int(raw) * (gpus[0] if gpus else 0)) / 3600
print(total.quantize(Decimal("0.000001")))'
}
# same_hours A B: two GPU-hour figures are equal (the API prints trailing zeros its own way).
same_hours() { python3 -c 'import sys; from decimal import Decimal as D; sys.exit(D(sys.argv[1]) != D(sys.argv[2]))' "$1" "$2" \
  || { echo "    $1 GPU-hours, expected $2" >&2; return 1; }; }
# charged_delta ACCOUNT BEFORE: what the portal charged the account since BEFORE.
charged_delta() { python3 -c 'import sys; from decimal import Decimal as D; print(D(sys.argv[1]) - D(sys.argv[2]))' "$(used_hours "$1")" "$2"; }

# ---------------------------------------------------------------- the portal's side of the scenario
mca_log "the portal: logins on grand-teton (CSV import), allocations arctic-ice and protein-fold"
cat >"$WORK/logins.csv" <<'EOF'
email,login
amara.okafor@lakeside.example.edu,aokafor
lukas.schmidt@hafen.example.de,lschmidt
mei.chen@harbour.example.edu,mchen
EOF
as admin post /Admin/Clusters/Logins/grand-teton "/Admin/Clusters/Logins/grand-teton?handler=Import" "file:file=$WORK/logins.csv" >/dev/null
LOWRES="$(plan_field lowres-speech allocationId)"
ARCTIC="$(new_allocation amara.okafor@lakeside.example.edu arctic-ice 50)"
PROTEIN="$(new_allocation lukas.schmidt@hafen.example.de protein-fold 100)"
check "the plan lists lowres-speech, arctic-ice and protein-fold" like "$(api associations)" '*arctic-ice*lowres-speech*protein-fold*'

echo "1. one account's failure does not stop the next (create_accounts=no)"
# Slurm has lowres-speech and protein-fold (with a limit), not arctic-ice, which comes first in the plan.
for account in lowres-speech protein-fold; do sacctmgr -i add account "$account" cluster="$CLUSTER" >/dev/null; done
sacctmgr -i modify account where name=protein-fold cluster="$CLUSTER" set GrpTRESMins=gres/gpu=100000 >/dev/null
admin_act "$PROTEIN" Suspend "reason=slurm-test: suspended"
write_config no
agent suspend
check "the agent exits 1 when an account failed" is "$AGENT_RC" 1
check "arctic-ice is reported failed, not in Slurm" report_is suspend arctic-ice inSlurm false
check "arctic-ice was not created" not account_exists arctic-ice
check "the later suspended protein-fold got limit 0 in Slurm" is "$(limit_of protein-fold)" 0
check "lowres-speech got its grant as limit (50,000 GPU-h = 3,000,000 min)" is "$(limit_of lowres-speech)" 3000000
check "members of accounts Slurm has were added all the same (suspended or not)" is "$(users_of lowres-speech)/$(users_of protein-fold)" aokafor/lschmidt
check "the admin's sync page shows arctic-ice not in Slurm" \
  page_has admin /Admin/Clusters/Sync/grand-teton '<code>arctic-ice</code></a>\s*</td>\s*<td>(?:(?!</td>).)*not in Slurm'
check "protein-fold's page shows the limit applied (0)" page_has admin "/Admin/Allocations/Details?id=$PROTEIN" 'limit applied: 0 GPU-minutes'
check "arctic-ice's page (its PI's view) shows it is not in Slurm" page_has amara "/Allocations/$ARCTIC" 'not in Slurm'

echo "2. accounts created, members added, limits set (create_accounts=yes)"
admin_act "$PROTEIN" Resume "reason=slurm-test: resumed"
as lukas post "/Allocations/$PROTEIN" "/Allocations/$PROTEIN?handler=InviteMember" "memberEmail=mei.chen@harbour.example.edu" >/dev/null
as mei post /Allocations/Invitations "/Allocations/Invitations?handler=Accept" "allocationId=$PROTEIN" >/dev/null
MEI="$(member_id lukas "$PROTEIN" "Mei Chen")"
write_config yes
agent grant
check "the agent exits 0" is "$AGENT_RC" 0
check "arctic-ice created with its grant as limit (3,000 min)" is "$(limit_of arctic-ice)" 3000
check "protein-fold's limit is its grant again (6,000 min)" is "$(limit_of protein-fold)" 6000
check "members in Slurm: lowres-speech = aokafor" is "$(users_of lowres-speech)" aokafor
check "members in Slurm: protein-fold = lschmidt mchen (the PI and the invited member)" is "$(users_of protein-fold)" "lschmidt mchen"
check "the report lists the member added" report_is grant protein-fold membersAdded '["mchen"]'
check "protein-fold's page shows mchen in Slurm" page_has lukas "/Allocations/$PROTEIN" '<code>mchen</code>\s*<span class="badge text-bg-success">in Slurm'
check "protein-fold's page shows member added: mchen" page_has lukas "/Allocations/$PROTEIN" 'member added: mchen'
agent grant-again
check "a second run finds the plan unchanged (304) and changes nothing" \
  grep -q 'plan: unchanged since the last complete apply' "$WORK/reports/grant-again.log"
check "and exits 0" is "$AGENT_RC" 0

echo "3. real jobs, 1 GPU under lowres-speech and 2 under protein-fold, charged as sacct reports them"
lowres_before="$(used_hours lowres-speech)"
protein_before="$(used_hours protein-fold)"
j1="$(slurm_rig_submit aokafor lowres-speech 1 -- sleep 2 || echo refused)"
j2="$(slurm_rig_submit lschmidt protein-fold 2 -- sleep 2 || echo refused)"
check "job $j1 completed" slurm_rig_wait_job "$j1" 60 COMPLETED
check "job $j2 completed" slurm_rig_wait_job "$j2" 60 COMPLETED
# row_like JOBID PATTERN: sacct's record of the job matches (Account|User|ElapsedRaw|AllocTRES|Partition|State).
row_like() { like "$(TZ=UTC sacct -n -X -P -j "$1" -o Account,User,ElapsedRaw,AllocTRES,Partition,State)" "$2"; }
check "sacct: $j1 ran under lowres-speech as aokafor with gres/gpu=1" \
  eventually 30 row_like "$j1" 'lowres-speech|aokafor|[2-9]|*gres/gpu=1,*|gpu|COMPLETED'
check "sacct: $j2 ran under protein-fold as lschmidt with gres/gpu=2" \
  eventually 30 row_like "$j2" 'protein-fold|lschmidt|[2-9]|*gres/gpu=2,*|gpu|COMPLETED'
check "a non-member cannot submit under an account" not can_submit aokafor protein-fold
agent usage
check "the agent pushed the jobs and exits 0" is "$AGENT_RC" 0
check "lowres-speech is charged what sacct reports for $j1 ($(sacct_hours "$j1") GPU-h)" \
  same_hours "$(charged_delta lowres-speech "$lowres_before")" "$(sacct_hours "$j1")"
check "protein-fold is charged what sacct reports for $j2 ($(sacct_hours "$j2") GPU-h)" \
  same_hours "$(charged_delta protein-fold "$protein_before")" "$(sacct_hours "$j2")"
lowres_after="$(used_hours lowres-speech)"; protein_after="$(used_hours protein-fold)"
agent usage-again
check "a second run charges nothing more (lowres-speech)" same_hours "$(used_hours lowres-speech)" "$lowres_after"
check "a second run charges nothing more (protein-fold)" same_hours "$(used_hours protein-fold)" "$protein_after"
check "the portal answered the second push: charged 0" grep -q 'usage: pushed .*charged 0,' "$WORK/reports/usage-again.log"

echo "4. a lowered grant holds an over-limit job PENDING; raising it releases the job"
adjust "$PROTEIN" -99.95 "lowered"
agent low
check "protein-fold's limit lowered to 3 (0.05 GPU-h)" is "$(limit_of protein-fold)" 3
# DefaultTime is 5 minutes: one GPU for 5 minutes is more than the 3 GPU-minutes left.
j3="$(slurm_rig_submit lschmidt protein-fold 1 -- sleep 2 || echo refused)"
check "job $j3 is PENDING with reason AssocGrpGRESMinutes" eventually 30 state_is "$j3" "PENDING AssocGrpGRESMinutes"
adjust "$PROTEIN" 99.95 "raised"
agent raised
check "protein-fold's limit raised back to 6000" is "$(limit_of protein-fold)" 6000
check "job $j3 then runs" slurm_rig_wait_job "$j3" 90 RUNNING COMPLETING COMPLETED

echo "5. membership follows the portal"
slurm_rig_wait_job "$j3" 60 COMPLETED >/dev/null || true
as lukas post "/Allocations/$PROTEIN" "/Allocations/$PROTEIN?handler=RemoveMember" "userId=$MEI" >/dev/null
as amara post "/Allocations/$LOWRES" "/Allocations/$LOWRES?handler=InviteMember" "memberEmail=mei.chen@harbour.example.edu" >/dev/null
as mei post /Allocations/Invitations "/Allocations/Invitations?handler=Accept" "allocationId=$LOWRES" >/dev/null
agent members
check "the agent exits 0" is "$AGENT_RC" 0
check "mchen added to lowres-speech" is "$(users_of lowres-speech)" "aokafor mchen"
check "mchen removed from protein-fold" is "$(users_of protein-fold)" lschmidt
check "reported: mchen removed from protein-fold" report_is members protein-fold membersRemoved '["mchen"]'
check "the member added in the portal can submit" can_submit mchen lowres-speech
check "the member removed in the portal cannot" not can_submit mchen protein-fold
check "mchen's default account moved to the account left (sbatch without -A works)" \
  is "$(sacctmgr -nP show user mchen format=DefaultAccount)" lowres-speech
check "lowres-speech's page shows member added: mchen" page_has amara "/Allocations/$LOWRES" 'member added: mchen'

echo "6. renewal: the second allocation of protein-fold runs exactly its new grant"
# Use 2 GPU-minutes (8 GPUs for 15 s) and lower the grant to 6: 4 are left, so a 1-GPU job with a 5-minute limit waits.
j4="$(slurm_rig_submit lschmidt protein-fold 8 --time=1 -- sleep 15 || echo refused)"
check "job $j4 (8 GPUs, 15 s) completed" slurm_rig_wait_job "$j4" 60 COMPLETED
check "sshare: protein-fold used 2 GPU-minutes" is "$(used_of protein-fold)" 2
adjust "$PROTEIN" -99.9 "spent"
agent spent
check "protein-fold's limit is 6" is "$(limit_of protein-fold)" 6
j5="$(slurm_rig_submit lschmidt protein-fold 1 --time=5 -- sleep 2 || echo refused)"
check "job $j5 waits: 6 - 2 < 5 GPU-minutes" eventually 30 state_is "$j5" "PENDING AssocGrpGRESMinutes"
admin_act "$PROTEIN" Close "reason=slurm-test: ended, renewed"
RENEWAL="$(new_allocation lukas.schmidt@hafen.example.de protein-fold 0.1)"
check "the plan's protein-fold is the renewal, with its own usage epoch" is "$(plan_field protein-fold usageEpoch)" "$RENEWAL"
agent renewed
check "the agent reset protein-fold's usage once" is "$(grep -c 'set RawUsage=0' "$WORK/reports/renewed.log")" 1
check "sshare: protein-fold's used GPU-minutes back to 0" is "$(used_of protein-fold)" 0
check "Slurm's limit is the renewal's grant (0.1 GPU-h = 6 min)" is "$(limit_of protein-fold)" 6
check "the report names the new epoch" report_is renewed protein-fold usageResetEpoch "\"$RENEWAL\""
check "job $j5 runs on the renewed grant" slurm_rig_wait_job "$j5" 90 RUNNING COMPLETING COMPLETED
agent renewed-again
check "re-running after the renewal resets nothing again" agent_changed_nothing renewed-again

echo "7. names from a plan are validated; nothing reaches a shell (a plan the portal never sends)"
plan hostile <<EOF
{ "cluster": "grand-teton", "slurmCluster": "grandteton", "tres": "gres/gpu", "generatedAt": "2026-11-28T10:03:00Z",
  "accounts": [
    { "account": "x; touch $WORK/pwned", "state": "Active", "limitTresMinutes": 5, "members": [] },
    { "account": "lowres-speech", "allocationId": "a-1", "state": "Active", "limitTresMinutes": 3000000,
      "members": [ { "login": "aokafor" }, { "login": "\$(touch $WORK/pwned)" } ] },
    { "account": "protein-fold", "state": "Active", "limitTresMinutes": -1 } ] }
EOF
agent_file hostile
check "the agent exits 1" is "$AGENT_RC" 1
check "no file was created by a name" test ! -e "$WORK/pwned"
check "the invalid account is reported failed" report_is hostile "x; touch $WORK/pwned" outcome '"failed"'
check "an invalid login leaves the membership alone" is "$(users_of lowres-speech)" "aokafor mchen"
check "a negative limit is refused and the limit left as it is" is "$(limit_of protein-fold)" 6

echo "8. --dry-run changes nothing"
adjust "$RENEWAL" 0.016667 "one more minute"
agent dry --dry-run
check "dry run prints the command it would run" grep -q 'would run: sacctmgr -i modify account where name=protein-fold cluster=grandteton set GrpTRESMins=gres/gpu=7' "$WORK/reports/dry.log"
check "dry run left the limit at 6" is "$(limit_of protein-fold)" 6
check "the report is flagged dryRun" grep -q '"dryRun": true' "$WORK/reports/dry.json"
check "the admin's sync page lists the dry run" page_has admin /Admin/Clusters/Sync/grand-teton '<td>dry run '
check "the token appears in no log, report or portal log" not grep -rqF "$TOKEN" "$WORK/reports" "$WORK/portal.log"

echo "9. job ids restart when slurmctld loses its state; the new job with an old id is charged"
slurm_rig_restart_ctld --clear-state
lowres_before="$(used_hours lowres-speech)"
again="$(slurm_rig_submit aokafor lowres-speech 1 -- sleep 3 || echo refused)"
check "the first job after the reset gets FirstJobId ($SLURM_RIG_FIRST_JOB_ID) again, $j1's id" is "$again" "$j1"
check "job $again completed" slurm_rig_wait_job "$again" 60 COMPLETED
# submits_of JOBID: the distinct Submit times sacct holds for a job id (slurmctld sends its records to slurmdbd
# asynchronously, hence "eventually").
submits_of() { TZ=UTC sacct -n -X -P --duplicates --allusers -S now-1hours -E now -o JobID,Submit | awk -F'|' -v id="$1" '$1 == id { print $2 }' | sort -u | wc -l; }
two_submits() { is "$(submits_of "$1")" 2; }
check "sacct --duplicates shows job $again twice, with two Submit times" eventually 30 two_submits "$again"
# newest_hours JOBID: ElapsedRaw x GPUs / 3600 of the job with that id submitted last.
newest_hours() { TZ=UTC sacct -n -X -P --duplicates --allusers -S now-1hours -E now -o JobID,Submit,ElapsedRaw,AllocTRES | awk -F'|' -v id="$1" '$1 == id' | sort -t'|' -k2,2 | tail -n 1 | python3 -c '
import sys
from decimal import Decimal
raw, tres = sys.stdin.read().strip().split("|")[2:4]
gpus = [int(t.split("=")[1]) for t in tres.split(",") if t.startswith("gres/gpu=")][0]
print((Decimal(int(raw) * gpus) / 3600).quantize(Decimal("0.000001")))'; }
agent reused
check "the agent pushed the jobs and exits 0" is "$AGENT_RC" 0
check "the new job $again is charged to lowres-speech ($(newest_hours "$again") GPU-h)" \
  same_hours "$(charged_delta lowres-speech "$lowres_before")" "$(newest_hours "$again")"

echo "slurm-test: $failures failed, $((SECONDS - began)) s"
[ "$failures" = 0 ]
