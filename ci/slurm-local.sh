#!/usr/bin/env bash
# A Slurm cluster of one node on localhost, for the fleet test (tests/fleet_test.sh) and for trying
# `infercost fleet` by hand, from Debian's slurm-wlm and munge (ci/install-deps.sh).
#
#   ci/slurm-local.sh start DIR   starts munged, slurmctld and slurmd with everything under DIR,
#                                 waits until the node is idle, and prints SLURM_CONF=DIR/slurm.conf
#   ci/slurm-local.sh stop DIR    cancels what is still queued, then stops the daemons by their pid
#                                 files and waits for each to exit
#
# Client commands (sbatch, squeue, scancel, scontrol) reach this cluster through
# SLURM_CONF=DIR/slurm.conf. The node is localhost with the CPUs and memory `slurmd -C` sees; the
# partitions ($SLURM_LOCAL_PARTITIONS, default "c7a-large c7g-large") all hold it and stand for
# instance types. No slurmdbd: accounting storage and job accounting are off, so sacct has nothing;
# finished jobs stay visible to squeue -t all and scontrol for MinJobAge (an hour here).
# Needs root (slurmd starts jobs as their user). munged refuses a socket under a directory that is
# not searchable by all, so DIR gets mode 755.
# Exit: 0 started/stopped; 1 a daemon did not start or stop (its log's tail is printed); 2 usage;
# 3 Slurm or munge is not installed, or not root (the reason is printed: the test skips on it).
set -euo pipefail

usage() {
  echo "usage: $0 start DIR | stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
dir=$2
case "$cmd" in start | stop) ;; *) usage ;; esac

say() { echo "slurm-local: $*" >&2; }

# Ends the daemon in pid file $1 (named $2): SIGTERM, then up to 20 s for it to exit, then SIGKILL.
# A pid that now belongs to another program is left alone.
stop_pidfile() {
  local f=$1 name=$2 pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  case "$pid" in '' | *[!0-9]*) return 0 ;; esac
  if [ ! -d "/proc/$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "$name" ]; then
    rm -f "$f"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    [ -d "/proc/$pid" ] || break
    sleep 0.2
  done
  if [ -d "/proc/$pid" ]; then
    say "$name (pid $pid) did not exit 20 s after SIGTERM: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$f"
}

if [ "$cmd" = stop ]; then
  [ -d "$dir" ] || { say "stop: $dir: no such directory"; exit 1; }
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/slurm.conf" ] && [ -s "$dir/slurmctld.pid" ]; then
    # Jobs still queued or running would outlive slurmd (their slurmstepd is not its child).
    export SLURM_CONF=$dir/slurm.conf
    jobs=$(timeout 10 squeue -h -o %A 2>/dev/null | sort -u || true)
    if [ -n "$jobs" ]; then
      # shellcheck disable=SC2086  # one job id per word
      timeout 10 scancel $jobs 2>/dev/null || true
      for _ in $(seq 1 60); do
        [ -z "$(timeout 10 squeue -h -o %A 2>/dev/null || true)" ] && break
        sleep 0.5
      done
    fi
  fi
  stop_pidfile "$dir/slurmd.pid" slurmd
  stop_pidfile "$dir/slurmctld.pid" slurmctld
  stop_pidfile "$dir/munged.pid" munged
  exit 0
fi

# start
missing=()
for b in munged munge unmunge slurmctld slurmd sbatch squeue scancel scontrol sinfo; do
  command -v "$b" >/dev/null 2>&1 || missing+=("$b")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "not installed: ${missing[*]} (Debian: apt-get install slurm-wlm munge; ci/install-deps.sh)"
  exit 3
fi
if [ "$(id -u)" -ne 0 ]; then
  say "needs root: slurmd starts each job as its submitting user"
  exit 3
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ -s "$dir/slurmctld.pid" ] && [ -d "/proc/$(cat "$dir/slurmctld.pid")" ]; then
  say "$dir: a cluster is already running there (stop it first)"
  exit 1
fi
chmod 755 "$dir"
# munged also wants every directory above its socket searchable by all: say which one is not.
up=$(dirname "$dir")
while [ "$up" != / ]; do
  if [ "$(( $(stat -c %a "$up") % 2 ))" -eq 0 ]; then
    say "munged needs every directory above its socket searchable by all, and $up is mode $(stat -c %a "$up") (chmod o+x it, or start under another directory)"
    exit 1
  fi
  up=$(dirname "$up")
done
mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/munge"
chmod 755 "$dir/munge"

# Prints the last lines of a daemon's log and fails.
fail_log() {
  say "$1"
  if [ -f "$2" ]; then
    say "last lines of $2:"
    tail -n 15 "$2" >&2
  fi
  exit 1
}

# munge, with its own key, socket, pid and seed files.
head -c 1024 /dev/urandom >"$dir/munge/munge.key"
chmod 400 "$dir/munge/munge.key"
sock=$dir/munge/munge.socket
if ! munged --socket="$sock" --key-file="$dir/munge/munge.key" --pid-file="$dir/munged.pid" \
  --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" 2>"$dir/log/munged.err"; then
  cat "$dir/log/munged.err" >&2
  fail_log "munged did not start" "$dir/log/munged.log"
fi
if ! munge -n -S "$sock" 2>"$dir/log/munge-check.err" | unmunge -S "$sock" >/dev/null 2>&1; then
  cat "$dir/log/munge-check.err" >&2
  fail_log "munged started but a credential does not round-trip through $sock" "$dir/log/munged.log"
fi

# Two free TCP ports on localhost, so that two clusters (two test runs) do not collide.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    if [ "$p" != "${1:-}" ] && port_free "$p"; then
      echo "$p"
      return 0
    fi
  done
  return 1
}
ctld_port=$(pick_port) || fail_log "no free TCP port on 127.0.0.1" /dev/null
d_port=$(pick_port "$ctld_port") || fail_log "no free TCP port on 127.0.0.1" /dev/null

# The node as slurmd sees it: "NodeName=vm CPUs=2 Boards=1 ... RealMemory=24105", renamed localhost.
hw=$(slurmd -C | head -n 1)
hw=$(echo "$hw" | sed -e 's/^NodeName=[^ ]* //' -e 's/ *UpTime=.*$//')
partitions=${SLURM_LOCAL_PARTITIONS:-c7a-large c7g-large}

{
  echo "# written by ci/slurm-local.sh: one node (localhost), everything under $dir"
  echo "ClusterName=iclocal"
  echo "SlurmctldHost=localhost(127.0.0.1)"
  echo "SlurmctldPort=$ctld_port"
  echo "SlurmdPort=$d_port"
  echo "SlurmUser=root"
  echo "SlurmdUser=root"
  echo "AuthType=auth/munge"
  echo "CredType=cred/munge"
  echo "AuthInfo=socket=$sock"
  echo "StateSaveLocation=$dir/state"
  echo "SlurmdSpoolDir=$dir/spool/slurmd-%n"
  echo "SlurmctldPidFile=$dir/slurmctld.pid"
  echo "SlurmdPidFile=$dir/slurmd.pid"
  echo "SlurmctldLogFile=$dir/log/slurmctld.log"
  echo "SlurmdLogFile=$dir/log/slurmd.log"
  echo "ProctrackType=proctrack/linuxproc"
  echo "TaskPlugin=task/none"
  echo "JobAcctGatherType=jobacct_gather/none"
  echo "AccountingStorageType=accounting_storage/none"
  echo "JobCompType=jobcomp/none"
  echo "SchedulerType=sched/backfill"
  echo "SelectType=select/cons_tres"
  echo "SelectTypeParameters=CR_Core"
  echo "MpiDefault=none"
  echo "ReturnToService=2"
  echo "MinJobAge=3600"
  echo "KillWait=5"
  echo "NodeName=localhost NodeAddr=127.0.0.1 $hw State=UNKNOWN"
  first=1
  for p in $partitions; do
    echo "PartitionName=$p Nodes=localhost MaxTime=INFINITE State=UP$([ $first = 1 ] && echo ' Default=YES')"
    first=0
  done
} >"$dir/slurm.conf"

export SLURM_CONF=$dir/slurm.conf
slurmctld -f "$SLURM_CONF" 2>"$dir/log/slurmctld.err" ||
  { cat "$dir/log/slurmctld.err" >&2; fail_log "slurmctld did not start" "$dir/log/slurmctld.log"; }
slurmd -f "$SLURM_CONF" -N localhost 2>"$dir/log/slurmd.err" ||
  { cat "$dir/log/slurmd.err" >&2; fail_log "slurmd did not start" "$dir/log/slurmd.log"; }

# Up when the node is idle in every partition (30 s at most).
state=""
for _ in $(seq 1 60); do
  state=$(timeout 10 sinfo -h -N -o %T 2>/dev/null | sort -u | tr '\n' ' ' || true)
  [ "$state" = "idle " ] && break
  sleep 0.5
done
if [ "$state" != "idle " ]; then
  timeout 10 scontrol show node localhost >&2 || true
  fail_log "the node is not idle after 30 s (sinfo says: ${state:-nothing})" "$dir/log/slurmd.log"
fi
echo "SLURM_CONF=$SLURM_CONF"
