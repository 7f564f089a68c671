# A private single-node Slurm 22.05 with accounting, for tests (used by slurm-rig.sh and slurm-test.sh).
# Sourced, not executed. Needs root (it installs Debian's packages when absent and runs the daemons as root).
#
#   source deploy/local/slurm-lib.sh
#   slurm_rig_require                    # apt-get install slurm-wlm slurmdbd munge mariadb-server if absent
#   trap slurm_rig_stop EXIT              # always: stops whatever slurm_rig_start got running, even half-way
#   slurm_rig_start "$WORK/slurm"         # munged, MariaDB, slurmdbd, slurmctld, slurmd; exports SLURM_CONF
#   sbatch -A acct --gres=gpu:1 --wrap 'sleep 2'
#
# Everything is private to the folder: its own munged (own key and socket), its own MariaDB (datadir, socket,
# TCP port on 127.0.0.1), slurmdbd/slurmctld/slurmd on free ports, state and spool folders, and fake GPU devices
# (character devices that are never opened: Slurm 22.05 drops a GPU GRES without device files). Nothing under
# /etc, /run or /var is used, so a Slurm or munge already running on the machine is left alone.
#
# Settings: SLURM_RIG_CLUSTER (Slurm ClusterName, default grandteton), SLURM_RIG_GPUS (default 8),
# SLURM_RIG_FIRST_JOB_ID (default 1000). After start: SLURM_CONF, SLURM_RIG_DIR, SLURM_RIG_NODE,
# SLURM_RIG_PARTITION, SLURM_RIG_CTLD_PORT.

if [ -z "${MCA_ROOT:-}" ]; then
  source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fi

SLURM_RIG_CLUSTER="${SLURM_RIG_CLUSTER:-grandteton}"
SLURM_RIG_GPUS="${SLURM_RIG_GPUS:-8}"
SLURM_RIG_FIRST_JOB_ID="${SLURM_RIG_FIRST_JOB_ID:-1000}"
SLURM_RIG_PARTITION=gpu
SLURM_RIG_DIR=""
# The comment (GECOS) of the OS users slurm_rig_add_users creates; slurm_rig_stop removes users carrying it.
SLURM_RIG_USER_MARK="Meta Compute Access Slurm rig test user"

# Installs whatever of slurm-wlm, slurmdbd, munge and mariadb-server is missing (root only).
slurm_rig_require() {
  [ "$(id -u)" -eq 0 ] || mca_die "the Slurm rig runs its daemons as root: run as root"
  local missing=()
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sacctmgr >/dev/null || missing+=(slurm-wlm)
  command -v slurmdbd >/dev/null || missing+=(slurmdbd)
  command -v munged >/dev/null && command -v mungekey >/dev/null || missing+=(munge)
  command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null || missing+=(mariadb-server)
  if [ ${#missing[@]} -gt 0 ]; then
    # The packages' own services (munge, mariadb, slurmctld, ...) must not start: the rig runs private daemons
    # and stops only what it started. Without systemd, Debian's maintainer scripts ask invoke-rc.d, which obeys
    # policy-rc.d; when the machine has none, one that forbids every start is in place during the install.
    (
      if [ ! -e /usr/sbin/policy-rc.d ]; then
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
        printf '#!/bin/sh\n# put here by slurm-lib.sh while it installs packages\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
      fi
      mca_apt_install "${missing[@]}"
    ) || exit 1
  fi
  local v
  v="$(slurmctld -V 2>/dev/null || true)"
  case "$v" in
    "slurm 22.05."*|"slurm-wlm 22.05."*) ;;
    *) mca_log "warning: the rig is written for Slurm 22.05 (found: ${v:-unknown})" ;;
  esac
}

_slurm_rig_pidfile() { echo "$SLURM_RIG_DIR/run/$1.pid"; }

# _slurm_rig_wait SECONDS DAEMON COMMAND...: waits until the command succeeds; returns 1 on time-out or as soon
# as DAEMON (started by _slurm_rig_spawn) has exited.
_slurm_rig_wait() {
  local limit="$1" daemon="$2"; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] && _slurm_rig_alive "$daemon" || return 1
    sleep 0.2
  done
}

# Starts one daemon in the foreground mode under our control; its pid goes to run/NAME.pid.
_slurm_rig_spawn() {
  local name="$1"; shift
  "$@" >>"$SLURM_RIG_DIR/log/$name.out" 2>&1 </dev/null &
  echo $! >"$(_slurm_rig_pidfile "$name")"
}

_slurm_rig_alive() {
  local f; f="$(_slurm_rig_pidfile "$1")"
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

_slurm_rig_fail() {
  local name="$1" log="$2"
  mca_log "$name did not come up; last lines of $log:"
  tail -n 25 "$log" >&2 2>/dev/null || true
  mca_die "the Slurm rig could not start ($name)"
}

# slurm_rig_start DIR: everything up and ready (sacctmgr and sinfo answer, node idle). Exports SLURM_CONF.
slurm_rig_start() {
  local dir="$1" began=$SECONDS
  [ "$(id -u)" -eq 0 ] || mca_die "the Slurm rig runs its daemons as root: run as root"
  [[ "$SLURM_RIG_GPUS" =~ ^[1-9][0-9]?$ ]] || mca_die "SLURM_RIG_GPUS must be 1 to 99"
  mkdir -p "$dir"
  SLURM_RIG_DIR="$(cd "$dir" && pwd)"
  # The daemons' users (mysql) and the test users must reach the folder; the secrets inside stay 0600.
  chmod 755 "$SLURM_RIG_DIR"
  local d="$SLURM_RIG_DIR"
  mkdir -p "$d/etc" "$d/run" "$d/log" "$d/state" "$d/spool" "$d/munge" "$d/dev" "$d/mysql" "$d/jobs"
  chmod 755 "$d/etc" "$d/run" "$d/spool" "$d/munge" "$d/dev"
  chmod 700 "$d/log" "$d/state"
  chmod 1777 "$d/jobs"

  SLURM_RIG_NODE="$(hostname -s)"
  local munge_socket="$d/munge/munge.socket"
  local db_port dbd_port ctld_port slurmd_port db_pass
  db_port="$(mca_free_port 13307)"
  dbd_port="$(mca_free_port 16819)"
  ctld_port="$(mca_free_port $((dbd_port + 1)))"
  slurmd_port="$(mca_free_port $((ctld_port + 1)))"
  SLURM_RIG_CTLD_PORT="$ctld_port"
  db_pass="$(mca_random_secret)"

  # munge: a key of our own, so credentials of this rig mean nothing to any other munged.
  mungekey -c -k "$d/munge/munge.key" >/dev/null 2>&1 || mca_die "mungekey could not create a key"
  chmod 600 "$d/munge/munge.key"
  _slurm_rig_spawn munged munged --foreground --force --socket="$munge_socket" --key-file="$d/munge/munge.key" \
    --pid-file="$d/munge/munged.pid" --log-file="$d/log/munged.log" --seed-file="$d/munge/munged.seed"
  _slurm_rig_wait 10 munged munge --socket="$munge_socket" -n || _slurm_rig_fail munged "$d/log/munged.out"

  # MariaDB: own datadir, socket and port; no defaults files, so /etc/mysql (and a server using it) is ignored.
  mkdir -p "$d/mysql/data"
  chown -R mysql:mysql "$d/mysql"
  chmod 700 "$d/mysql"
  runuser -u mysql -- test -w "$d/mysql/data" \
    || mca_die "the mysql user cannot reach $d (make its parent folders traversable: chmod 755)"
  mariadb-install-db --no-defaults --datadir="$d/mysql/data" --user=mysql --skip-test-db \
    --auth-root-authentication-method=socket >"$d/log/mariadb-install.log" 2>&1 \
    || _slurm_rig_fail mariadb-install-db "$d/log/mariadb-install.log"
  _slurm_rig_spawn mariadbd mariadbd --no-defaults --datadir="$d/mysql/data" --socket="$d/mysql/mysqld.sock" \
    --port="$db_port" --bind-address=127.0.0.1 --skip-name-resolve --pid-file="$d/mysql/mysqld.pid" \
    --log-error="$d/mysql/mariadb.log" --user=mysql --skip-log-bin --innodb-buffer-pool-size=128M \
    --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --innodb-lock-wait-timeout=900
  _slurm_rig_wait 60 mariadbd mariadb-admin --no-defaults --socket="$d/mysql/mysqld.sock" -u root ping \
    || _slurm_rig_fail mariadbd "$d/mysql/mariadb.log"
  mariadb --no-defaults --socket="$d/mysql/mysqld.sock" -u root <<SQL || mca_die "could not create slurm_acct_db"
CREATE DATABASE slurm_acct_db;
CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$db_pass';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
SQL

  # Fake GPUs: character devices with NVIDIA's major number; Slurm only stats them.
  local i
  for ((i = 0; i < SLURM_RIG_GPUS; i++)); do
    mknod "$d/dev/nvidia$i" c 195 "$i" || mca_die "mknod failed (the rig needs CAP_MKNOD for its fake GPU devices)"
  done

  cat >"$d/etc/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$munge_socket
DbdHost=$SLURM_RIG_NODE
DbdAddr=127.0.0.1
DbdPort=$dbd_port
SlurmUser=root
DebugLevel=info
LogFile=$d/log/slurmdbd.log
PidFile=$d/run/slurmdbd.real.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$db_port
StorageUser=slurm
StoragePass=$db_pass
StorageLoc=slurm_acct_db
EOF
  chmod 600 "$d/etc/slurmdbd.conf"

  cat >"$d/etc/slurm.conf" <<EOF
# Written by deploy/local/slurm-lib.sh: a private test rig.
ClusterName=$SLURM_RIG_CLUSTER
SlurmctldHost=$SLURM_RIG_NODE(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$munge_socket
CredType=cred/munge
AccountingStoragePass=$munge_socket
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/run/slurmctld.real.pid
SlurmdPidFile=$d/run/slurmd.real.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$d/etc/plugstack.conf
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
PrologFlags=Contain
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$dbd_port
AccountingStorageTRES=gres/gpu
AccountingStorageEnforce=limits,safe
PriorityType=priority/multifactor
PriorityDecayHalfLife=0
PriorityUsageResetPeriod=NONE
PriorityCalcPeriod=1
SchedulerType=sched/backfill
# Faster than the defaults (60 s / 30 s) so tests see a released job within seconds.
SchedulerParameters=sched_interval=10,bf_interval=5
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
GresTypes=gpu
SlurmdParameters=config_overrides
ReturnToService=2
FirstJobId=$SLURM_RIG_FIRST_JOB_ID
MinJobAge=300
NodeName=$SLURM_RIG_NODE NodeAddr=127.0.0.1 CPUs=16 RealMemory=16000 Gres=gpu:h100:$SLURM_RIG_GPUS State=UNKNOWN
PartitionName=$SLURM_RIG_PARTITION Nodes=$SLURM_RIG_NODE Default=YES DefaultTime=5 MaxTime=60 State=UP
EOF
  : >"$d/etc/plugstack.conf"
  echo "Name=gpu Type=h100 File=$d/dev/nvidia[0-$((SLURM_RIG_GPUS - 1))]" >"$d/etc/gres.conf"
  chmod 644 "$d/etc/slurm.conf" "$d/etc/gres.conf" "$d/etc/plugstack.conf"
  export SLURM_CONF="$d/etc/slurm.conf"

  _slurm_rig_spawn slurmdbd slurmdbd -D
  _slurm_rig_wait 60 slurmdbd sacctmgr -n show cluster || _slurm_rig_fail slurmdbd "$d/log/slurmdbd.log"
  # slurmctld registers its cluster in slurmdbd on its own, but only on its first start: do it here for clarity.
  sacctmgr -i add cluster "$SLURM_RIG_CLUSTER" >/dev/null || mca_die "sacctmgr add cluster failed"

  _slurm_rig_spawn slurmctld slurmctld -D -i
  _slurm_rig_wait 30 slurmctld scontrol ping || _slurm_rig_fail slurmctld "$d/log/slurmctld.log"
  _slurm_rig_spawn slurmd slurmd -D
  _slurm_rig_wait 30 slurmd _slurm_rig_node_idle || _slurm_rig_fail slurmd "$d/log/slurmd.log"
  mca_log "Slurm rig up in $((SECONDS - began)) s: cluster $SLURM_RIG_CLUSTER, SLURM_CONF=$SLURM_CONF"
}

_slurm_rig_node_idle() {
  local state
  state="$(sinfo -h -N -n "$SLURM_RIG_NODE" -o %t 2>/dev/null)" || return 1
  [ "$state" = idle ]
}

# slurm_rig_add_users LOGIN...: OS users to run test jobs as (Slurm runs a job as its submitter). Created when
# absent, marked by their comment and removed again by slurm_rig_stop; existing users are left alone.
slurm_rig_add_users() {
  local u
  for u in "$@"; do
    if ! id "$u" >/dev/null 2>&1; then
      useradd --system --no-create-home --home-dir /nonexistent --shell /bin/sh --comment "$SLURM_RIG_USER_MARK" "$u" \
        || mca_die "useradd $u failed"
    fi
    # Ours (now or left over by an interrupted run): remember it for removal.
    if [ "$(getent passwd "$u" | cut -d: -f5)" = "$SLURM_RIG_USER_MARK" ]; then
      echo "$u" >>"$SLURM_RIG_DIR/run/users"
    fi
  done
}

# slurm_rig_submit LOGIN ACCOUNT GPUS [sbatch options...] -- COMMAND: submits a batch job as LOGIN and prints its
# id; the exit code and message are sbatch's (a refused submission returns non-zero).
slurm_rig_submit() {
  local login="$1" account="$2" gpus="$3"; shift 3
  local opts=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  (cd "$SLURM_RIG_DIR/jobs" && runuser -u "$login" -- sbatch --parsable -A "$account" --gres="gpu:$gpus" \
    -o /dev/null -e /dev/null "${opts[@]}" --wrap "$*")
}

# slurm_rig_job_state JOBID: prints "STATE REASON" while slurmctld knows the job, then sacct's final state.
slurm_rig_job_state() {
  local s
  s="$(squeue -h -j "$1" -o '%T %r' 2>/dev/null || true)"
  if [ -n "$s" ]; then echo "$s"; return; fi
  sacct -n -X -P -j "$1" -o State 2>/dev/null | tail -n 1
}

# slurm_rig_wait_job JOBID SECONDS STATE...: waits until the job's state (first word) is one of STATE.
slurm_rig_wait_job() {
  local job="$1" limit="$2"; shift 2
  local deadline=$((SECONDS + limit)) st want
  while :; do
    st="$(slurm_rig_job_state "$job")"
    for want in "$@"; do [ "${st%% *}" = "$want" ] && return 0; done
    [ "$SECONDS" -lt "$deadline" ] || { mca_log "job $job: '$st' after ${limit}s (waited for: $*)"; return 1; }
    sleep 1
  done
}

# Restarts slurmctld; with --clear-state its StateSaveLocation is emptied first (a controller that lost its
# state: job ids start again at FirstJobId). slurmd is restarted too: a controller without node state would
# otherwise wait for its next node ping (minutes) before it schedules again.
slurm_rig_restart_ctld() {
  local d="$SLURM_RIG_DIR"
  _slurm_rig_kill slurmd
  _slurm_rig_kill slurmctld
  if [ "${1:-}" = --clear-state ]; then
    find "$d/state" -mindepth 1 -delete
  fi
  _slurm_rig_spawn slurmctld slurmctld -D -i
  _slurm_rig_wait 30 slurmctld scontrol ping || _slurm_rig_fail slurmctld "$d/log/slurmctld.log"
  _slurm_rig_spawn slurmd slurmd -D
  _slurm_rig_wait 30 slurmd _slurm_rig_node_idle || _slurm_rig_fail "slurmd (after the slurmctld restart)" "$d/log/slurmd.log"
}

# Stops one daemon by its pid (TERM, then KILL after 15 s).
_slurm_rig_kill() {
  local f pid i
  f="$(_slurm_rig_pidfile "$1")"
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 75; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# The slurmstepd processes of this rig (they outlive slurmd): found by their open log file in our folder.
_slurm_rig_stepds() {
  local p exe fd
  for p in /proc/[0-9]*; do
    exe="$(readlink "$p/exe" 2>/dev/null)" || continue
    case "$exe" in */slurmstepd*) ;; *) continue ;; esac
    for fd in "$p"/fd/*; do
      case "$(readlink "$fd" 2>/dev/null)" in "$SLURM_RIG_DIR"/*) echo "${p#/proc/}"; break ;; esac
    done
  done
}

# Stops everything slurm_rig_start started, in reverse order; safe to call twice or after a failed start.
slurm_rig_stop() {
  [ -n "$SLURM_RIG_DIR" ] && [ -d "$SLURM_RIG_DIR/run" ] || return 0
  local pid
  if _slurm_rig_alive slurmctld; then
    local jobs
    jobs="$(squeue -h -o %i 2>/dev/null || true)"
    # shellcheck disable=SC2086 # one argument per job id
    [ -z "$jobs" ] || scancel $jobs 2>/dev/null || true
  fi
  _slurm_rig_kill slurmd
  for pid in $(_slurm_rig_stepds); do kill -KILL "$pid" 2>/dev/null || true; done
  _slurm_rig_kill slurmctld
  _slurm_rig_kill slurmdbd
  _slurm_rig_kill mariadbd
  _slurm_rig_kill munged
  if [ -f "$SLURM_RIG_DIR/run/users" ]; then
    local u
    for u in $(sort -u "$SLURM_RIG_DIR/run/users"); do
      [ "$(getent passwd "$u" | cut -d: -f5)" = "$SLURM_RIG_USER_MARK" ] && userdel "$u" 2>/dev/null || true
    done
    rm -f "$SLURM_RIG_DIR/run/users"
  fi
}
