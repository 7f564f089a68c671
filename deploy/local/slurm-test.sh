#!/usr/bin/env bash
# The cluster side on a real Slurm (issue 12): a private single-node Slurm 22.05 with accounting
# (deploy/local/slurm-lib.sh), real jobs under two accounts with 1 and 2 GPUs, and the real agent
# (deploy/cluster/mca-sync) applying plans; every check reads Slurm itself (sacctmgr, sshare, squeue, sacct).
# As root; installs slurm-wlm, slurmdbd, munge and mariadb-server from Debian's packages when absent.
# Everything it starts (daemons, test users) is stopped or removed on exit. About 2 minutes.
#
#   deploy/local/slurm-test.sh            run every check; exit code 1 if any failed
#   deploy/local/slurm-test.sh --keep     keep the temporary folder (logs, plans, reports) for a look
#
# The portal's side is not there yet: the agent applies plans written below with --plan-file, and the places
# where the portal comes in are marked "PORTAL (next)". Those steps replace the plan files by the portal's
# GET /api/v1/clusters/{cluster}/associations and add the checks on charges and sync reports.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/slurm-lib.sh"

keep=0
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) mca_die "unknown argument '$arg' (try --help)" ;;
  esac
done

AGENT="$MCA_ROOT/deploy/cluster/mca-sync"
SLURM_RIG_CLUSTER=grandteton   # the plans below name it
command -v python3 >/dev/null || mca_apt_install python3
slurm_rig_require

WORK="$(mktemp -d /tmp/mca-slurm-test.XXXXXX)"
chmod 755 "$WORK"
cleanup() {
  # PORTAL (next): stop the portal started below (deploy/local/start.sh stop, or its pid).
  slurm_rig_stop
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

slurm_rig_start "$WORK/slurm"
CLUSTER="$SLURM_RIG_CLUSTER"
slurm_rig_add_users aokafor lschmidt tnguyen

# ---------------------------------------------------------------- the agent's configuration
# PORTAL (next): start the portal (PORTAL_HTTP_PORT of our own, deploy/local/start.sh or the built Web project
# on a throwaway database), create the cluster "grand-teton" (Slurm name $CLUSTER) and a cluster token with the
# portal's CLI (`Meta.ComputeAccess.Web cluster token create grand-teton ...`), write it to $WORK/etc/token, and
# point portal_url at it. Until then the agent never contacts a portal (--plan-file).
mkdir -p "$WORK/etc" "$WORK/plans" "$WORK/reports"
chmod 700 "$WORK/etc"
TOKEN="mca_$(head -c 48 /dev/urandom | base64 | tr -d '/+=' | head -c 43)"
(umask 077 && printf '%s\n' "$TOKEN" >"$WORK/etc/token")
write_config() {  # write_config CREATE_ACCOUNTS
  cat >"$WORK/etc/sync.conf" <<EOF
portal_url = http://127.0.0.1:9
cluster = grand-teton
slurm_cluster = $CLUSTER
token_file = $WORK/etc/token
create_accounts = $1
lookback = 1hours
lock_file = $WORK/run/mca-sync.lock
state_dir = $WORK/state
EOF
}

# agent NAME [options]: applies plans/NAME.json; report in reports/NAME.json, log in reports/NAME.log.
# Sets AGENT_RC.
agent() {
  local name="$1"; shift
  # PORTAL (next): instead of --plan-file, the portal serves the plan; also push usage and post the report.
  set +e
  "$AGENT" --config "$WORK/etc/sync.conf" --plan-file "$WORK/plans/$name.json" \
    --report-file "$WORK/reports/$name.json" "$@" >"$WORK/reports/$name.log" 2>&1
  AGENT_RC=$?
  set -e
}

# report NAME ACCOUNT FIELD: one field of one account in a report, as JSON (e.g. "applied", 0, ["u"]).
report() {
  python3 - "$WORK/reports/$1.json" "$2" "$3" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
hits = [a for a in doc["accounts"] if a.get("account") == sys.argv[2]]
print(json.dumps(hits[0].get(sys.argv[3]) if hits else "no such account in the report", sort_keys=True))
PY
}
report_is() { [ "$(report "$1" "$2" "$3")" = "$4" ] || { echo "    $1 $2 $3: $(report "$1" "$2" "$3"), expected $4" >&2; return 1; }; }

# The association's limit on our TRES as Slurm holds it ("" when none), its users, and its used TRES-minutes.
limit_of() { sacctmgr -nP show assoc where cluster="$CLUSTER" account="$1" user= format=GrpTRESMins | head -n 1 | tr ',' '\n' | sed -n 's|^gres/gpu=||p'; }
users_of() { sacctmgr -nP show assoc where cluster="$CLUSTER" account="$1" format=User | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'; }
used_of() { sshare -n -P -l -A "$1" -o Account,User,GrpTRESRaw | awk -F'|' '$2 == "" { print $3 }' | tr ',' '\n' | sed -n 's|^gres/gpu=||p'; }
account_exists() { [ -n "$(sacctmgr -nP show assoc where cluster="$CLUSTER" account="$1" format=Account)" ]; }
state_is() { local s; s="$(slurm_rig_job_state "$1")"; [ "$s" = "$2" ] || { echo "    job $1: '$s', expected '$2'" >&2; return 1; }; }
can_submit() { slurm_rig_submit "$1" "$2" 1 -- true >/dev/null 2>&1; }
agent_changed_nothing() { ! grep -q ' ran: ' "$WORK/reports/$1.log"; }

# plan NAME: the plan (JSON on stdin) as the portal would send it.
plan() { cat >"$WORK/plans/$1.json"; }

echo "1. one account's failure does not stop the next (create_accounts=no)"
sacctmgr -i add account protein-fold cluster="$CLUSTER" >/dev/null
sacctmgr -i modify account where name=protein-fold cluster="$CLUSTER" set GrpTRESMins=gres/gpu=100000 >/dev/null
write_config no
plan suspend <<'EOF'
{ "cluster": "grand-teton", "slurmCluster": "grandteton", "tres": "gres/gpu", "generatedAt": "2026-11-28T10:00:00Z",
  "accounts": [
    { "account": "not-in-slurm", "allocationId": "a-0", "state": "Active", "limitTresMinutes": 6000,
      "start": "2026-06-01", "end": "2026-11-30", "usageEpoch": "a-0", "members": [ { "login": "aokafor" } ] },
    { "account": "protein-fold", "allocationId": "a-2", "state": "Suspended", "limitTresMinutes": 0,
      "start": "2026-06-01", "end": "2026-11-30", "usageEpoch": "a-2", "members": [ { "login": "lschmidt" } ] } ] }
EOF
agent suspend
check "the agent exits 1 when an account failed" [ "$AGENT_RC" = 1 ]
check "the missing account is reported failed" report_is suspend not-in-slurm outcome '"failed"'
check "and not in Slurm" report_is suspend not-in-slurm inSlurm false
check "the missing account was not created" not account_exists not-in-slurm
check "the later suspended account got limit 0 in Slurm" [ "$(limit_of protein-fold)" = 0 ]
check "and is reported applied with limit 0" report_is suspend protein-fold limitApplied 0
# PORTAL (next): the allocation page shows "not in Slurm" for not-in-slurm and "limit applied" for protein-fold.

echo "2. accounts created, members added, limits set (create_accounts=yes)"
write_config yes
plan grant <<'EOF'
{ "cluster": "grand-teton", "slurmCluster": "grandteton", "tres": "gres/gpu", "generatedAt": "2026-11-28T10:01:00Z",
  "accounts": [
    { "account": "lowres-speech", "allocationId": "a-1", "state": "Active", "limitTresMinutes": 6000,
      "start": "2026-06-01", "end": "2026-11-30", "usageEpoch": "a-1", "members": [ { "login": "aokafor" } ] },
    { "account": "protein-fold", "allocationId": "a-2", "state": "Active", "limitTresMinutes": 6000,
      "start": "2026-06-01", "end": "2026-11-30", "usageEpoch": "a-2",
      "members": [ { "login": "lschmidt" }, { "login": "tnguyen" } ] } ] }
EOF
agent grant
check "the agent exits 0" [ "$AGENT_RC" = 0 ]
check "lowres-speech created with limit 6000" [ "$(limit_of lowres-speech)" = 6000 ]
check "protein-fold limit raised to 6000" [ "$(limit_of protein-fold)" = 6000 ]
check "members in Slurm: lowres-speech = aokafor" [ "$(users_of lowres-speech)" = aokafor ]
check "members in Slurm: protein-fold = lschmidt tnguyen" [ "$(users_of protein-fold)" = "lschmidt tnguyen" ]
check "the report lists the added members" report_is grant protein-fold membersAdded '["tnguyen"]'
check "the report names the reset epoch" report_is grant protein-fold usageResetEpoch '"a-2"'
agent grant
check "a second run changes nothing" agent_changed_nothing grant

echo "3. real jobs: 1 GPU under lowres-speech, 2 GPUs under protein-fold"
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
# PORTAL (next): the agent pushes usage (no --plan-file); the portal's charge for each account equals
# ElapsedRaw x GPUs / 3600 from sacct above, and a second agent run charges nothing more.

echo "4. a limit holds an over-limit job PENDING; raising it releases the job"
sed '/"protein-fold"/ s/"limitTresMinutes": 6000/"limitTresMinutes": 4/' "$WORK/plans/grant.json" | plan low
agent low
check "protein-fold limit lowered to 4" [ "$(limit_of protein-fold)" = 4 ]
# DefaultTime is 5 minutes: one GPU for 5 minutes is more than the 4 GPU-minutes left.
j3="$(slurm_rig_submit lschmidt protein-fold 1 -- sleep 2 || echo refused)"
check "job $j3 is PENDING with reason AssocGrpGRESMinutes" eventually 30 state_is "$j3" "PENDING AssocGrpGRESMinutes"
agent grant
check "limit raised back to 6000" [ "$(limit_of protein-fold)" = 6000 ]
check "job $j3 then runs" slurm_rig_wait_job "$j3" 90 RUNNING COMPLETING COMPLETED
# PORTAL (next): lower and raise the grant in the portal instead of editing the plan.

echo "5. membership follows the plan"
plan members <<'EOF'
{ "cluster": "grand-teton", "slurmCluster": "grandteton", "tres": "gres/gpu", "generatedAt": "2026-11-28T10:02:00Z",
  "accounts": [
    { "account": "lowres-speech", "allocationId": "a-1", "state": "Active", "limitTresMinutes": 6000,
      "start": "2026-06-01", "end": "2026-11-30", "usageEpoch": "a-1",
      "members": [ { "login": "aokafor" }, { "login": "tnguyen" } ] },
    { "account": "protein-fold", "allocationId": "a-2", "state": "Active", "limitTresMinutes": 6000,
      "start": "2026-06-01", "end": "2026-11-30", "usageEpoch": "a-2", "members": [ { "login": "lschmidt" } ] } ] }
EOF
slurm_rig_wait_job "$j3" 60 COMPLETED >/dev/null || true
agent members
check "the agent exits 0" [ "$AGENT_RC" = 0 ]
check "tnguyen added to lowres-speech" [ "$(users_of lowres-speech)" = "aokafor tnguyen" ]
check "tnguyen removed from protein-fold" [ "$(users_of protein-fold)" = lschmidt ]
check "reported: tnguyen removed from protein-fold" report_is members protein-fold membersRemoved '["tnguyen"]'
check "the added member can submit" can_submit tnguyen lowres-speech
check "the removed member cannot" not can_submit tnguyen protein-fold
check "tnguyen's default account moved to the account left (sbatch without -A works)" \
  [ "$(sacctmgr -nP show user tnguyen format=DefaultAccount)" = lowres-speech ]
# PORTAL (next): add and remove the member in the portal; the allocation page shows "member added".

echo "6. renewal: a new usage epoch gives exactly the new grant"
# Use 2 GPU-minutes (8 GPUs for 15 s), then grant 6: 4 are left, so a 1-GPU job with a 5-minute limit waits.
j4="$(slurm_rig_submit lschmidt protein-fold 8 --time=1 -- sleep 15 || echo refused)"
check "job $j4 (8 GPUs, 15 s) completed" slurm_rig_wait_job "$j4" 60 COMPLETED
check "sshare: protein-fold used 2 GPU-minutes" [ "$(used_of protein-fold)" = 2 ]
sed '/"protein-fold"/ s/"limitTresMinutes": 6000/"limitTresMinutes": 6/' "$WORK/plans/members.json" | plan spent
agent spent
j5="$(slurm_rig_submit lschmidt protein-fold 1 --time=5 -- sleep 2 || echo refused)"
check "job $j5 waits: 6 - 2 < 5 GPU-minutes" eventually 30 state_is "$j5" "PENDING AssocGrpGRESMinutes"
sed 's/"usageEpoch": "a-2"/"usageEpoch": "a-2-renewed"/; s/"allocationId": "a-2"/"allocationId": "a-2-renewed"/' \
  "$WORK/plans/spent.json" | plan renewed
agent renewed
check "the agent reset protein-fold's usage once" [ "$(grep -c 'set RawUsage=0' "$WORK/reports/renewed.log")" = 1 ]
check "sshare: protein-fold's used GPU-minutes back to 0" [ "$(used_of protein-fold)" = 0 ]
check "the report names the new epoch" report_is renewed protein-fold usageResetEpoch '"a-2-renewed"'
check "job $j5 runs on the renewed grant" slurm_rig_wait_job "$j5" 90 RUNNING COMPLETING COMPLETED
agent renewed
check "re-running the renewal resets nothing again" agent_changed_nothing renewed
# PORTAL (next): create the second allocation of protein-fold in the portal; it runs exactly its new grant.

echo "7. names from the plan are validated; nothing reaches a shell"
plan hostile <<EOF
{ "cluster": "grand-teton", "slurmCluster": "grandteton", "tres": "gres/gpu", "generatedAt": "2026-11-28T10:03:00Z",
  "accounts": [
    { "account": "x; touch $WORK/pwned", "state": "Active", "limitTresMinutes": 5, "members": [] },
    { "account": "lowres-speech", "allocationId": "a-1", "state": "Active", "limitTresMinutes": 6000,
      "usageEpoch": "a-1", "members": [ { "login": "aokafor" }, { "login": "\$(touch $WORK/pwned)" } ] },
    { "account": "protein-fold", "state": "Active", "limitTresMinutes": -1, "usageEpoch": "a-2-renewed" } ] }
EOF
agent hostile
check "the agent exits 1" [ "$AGENT_RC" = 1 ]
check "no file was created by a name" [ ! -e "$WORK/pwned" ]
check "the invalid account is reported failed" report_is hostile "x; touch $WORK/pwned" outcome '"failed"'
check "an invalid login leaves the membership alone" [ "$(users_of lowres-speech)" = "aokafor tnguyen" ]
check "a negative limit is refused and the limit left as it is" [ "$(limit_of protein-fold)" = 6 ]

echo "8. --dry-run changes nothing"
sed 's/"limitTresMinutes": 6,/"limitTresMinutes": 7,/' "$WORK/plans/renewed.json" | plan dry
agent dry --dry-run
check "dry run prints the command it would run" grep -q 'would run: sacctmgr -i modify account where name=protein-fold cluster=grandteton set GrpTRESMins=gres/gpu=7' "$WORK/reports/dry.log"
check "dry run left the limit at 6" [ "$(limit_of protein-fold)" = 6 ]
check "the report is flagged dryRun" grep -q '"dryRun": true' "$WORK/reports/dry.json"
check "the token appears in no log or report" not grep -rqF "$TOKEN" "$WORK/reports"

echo "9. job ids restart when slurmctld loses its state; sacct --duplicates keeps both"
first="$(slurm_rig_submit aokafor lowres-speech 8 --time=1 -- sleep 15 || echo refused)"
check "job $first (8 GPUs, 15 s) completed" slurm_rig_wait_job "$first" 60 COMPLETED
check "sshare: lowres-speech used 2 GPU-minutes" [ "$(used_of lowres-speech)" = 2 ]
slurm_rig_restart_ctld --clear-state
again="$(slurm_rig_submit aokafor lowres-speech 1 -- sleep 1 || echo refused)"
check "the first job after the reset gets FirstJobId ($SLURM_RIG_FIRST_JOB_ID) again" [ "$again" = "$SLURM_RIG_FIRST_JOB_ID" ]
check "job $again completed" slurm_rig_wait_job "$again" 60 COMPLETED
# submits_of JOBID: the distinct Submit times sacct holds for a job id (slurmctld sends its records to slurmdbd
# asynchronously, hence "eventually").
submits_of() { TZ=UTC sacct -n -X -P --duplicates --allusers -S now-1hours -E now -o JobID,Submit | awk -F'|' -v id="$1" '$1 == id { print $2 }' | sort -u | wc -l; }
two_submits() { local n; n="$(submits_of "$1")"; [ "$n" = 2 ] || { echo "    job $1: $n Submit time(s) in sacct" >&2; return 1; }; }
check "sacct --duplicates shows job $again twice, with two Submit times" eventually 30 two_submits "$again"
check "the lost state also lost lowres-speech's used GPU-minutes (sshare: 0)" [ "$(used_of lowres-speech)" = 0 ]
# PORTAL (next): the agent pushes usage again; the new job with the reused id is charged (key JobID + Submit).

echo "slurm-test: $failures failed, $((SECONDS - began)) s"
[ "$failures" = 0 ]
