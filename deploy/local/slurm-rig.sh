#!/usr/bin/env bash
# Runs a command against a private single-node Slurm 22.05 with accounting (deploy/local/slurm-lib.sh), then stops
# it. As root; installs slurm-wlm, slurmdbd, munge and mariadb-server from Debian's packages when absent.
#
#   deploy/local/slurm-rig.sh                  start, print SLURM_CONF, wait for Ctrl-C (or TERM), stop
#   deploy/local/slurm-rig.sh -- CMD ARGS...    start, run CMD with SLURM_CONF set, stop; exits with CMD's code
#
# The rig lives in a temporary folder (kept with --keep for its logs). Everything it starts is stopped on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/slurm-lib.sh"

keep=0
cmd=()
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1; shift ;;
    --) shift; cmd=("$@"); break ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) mca_die "unknown argument '$1' (try --help)" ;;
  esac
done

slurm_rig_require
WORK="$(mktemp -d /tmp/mca-slurm.XXXXXX)"
chmod 755 "$WORK"
cleanup() {
  slurm_rig_stop
  if [ "$keep" = 1 ]; then mca_log "rig folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

slurm_rig_start "$WORK/slurm"
if [ ${#cmd[@]} -gt 0 ]; then
  set +e
  "${cmd[@]}"
  rc=$?
  set -e
  exit $rc
fi
echo "export SLURM_CONF=$SLURM_CONF"
mca_log "rig running; Ctrl-C (or kill $$) stops it"
while :; do sleep 3600 & wait $! || true; done
