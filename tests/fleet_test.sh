#!/usr/bin/env bash
# End-to-end test of `infercost fleet` on a real Slurm: ci/slurm-local.sh starts munged, slurmctld
# and slurmd on localhost (Debian's slurm-wlm; all state under a temporary directory, stopped by
# pid at the end) with partitions c7a-large and c7g-large. fleet plan + submit run a quick spec on
# both, each task's DMI a fixture under IC_SYSFS_ROOT naming its partition's type; a third task
# (a long run) is cancelled with scancel while it runs. fleet status shows every task; fleet
# collect ranks both types through compare-chips, adds the two results to the history, reports
# the cancelled task as failed with its state and log (exit 1), and loses nothing else. Then,
# without Slurm, collect reads the states the tasks wrote, and a result measured on another type
# than its partition promised is flagged, not relabelled. Bad input first: exit 2, named.
# Skipped (exit 77, with the reason) where Slurm cannot start: not installed, not root, or a
# daemon that does not come up.
# Usage: fleet_test.sh path/to/infercost
set -u
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_lib.sh"  # ok, bad, expect, has, hasnt
bin=${1:?usage: fleet_test.sh path/to/infercost}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
chmod 755 "$tmp" # munged wants every directory above its socket searchable by all
cleanup() {
  [ -f "$tmp/slurm/slurm.conf" ] && "$root/ci/slurm-local.sh" stop "$tmp/slurm" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1


parts=c7a-large=c7a.large,c7g-large=c7g.large
quick=(--quick --context 128 --repetitions 1)

# ---- bad input (no Slurm needed) ----
expect 2 "fleet without a subcommand" -- "$bin" fleet
has "$tmp/err" "want plan, submit, status or collect" "subcommands named"
expect 2 "plan without --partitions" -- "$bin" fleet plan --results "$tmp/r0" --out "$tmp/p0.sbatch"
has "$tmp/err" "--partitions is required" "missing --partitions named"
expect 2 "partition without a type" -- "$bin" fleet plan --partitions c7a-large --results "$tmp/r0" --out "$tmp/p0.sbatch"
has "$tmp/err" "'c7a-large': expected PARTITION=TYPE" "PARTITION=TYPE asked for"
expect 2 "not an instance type" -- "$bin" fleet plan --partitions c7a-large=C7A --results "$tmp/r0" --out "$tmp/p0.sbatch"
has "$tmp/err" "'c7a-large=C7A' is not an instance type" "bad type named"
expect 2 "partition twice" -- "$bin" fleet plan --partitions a=c7a.large,a=c7g.large --results "$tmp/r0" --out "$tmp/p0.sbatch"
has "$tmp/err" "partition 'a' given twice" "duplicate named"
expect 2 "unknown model" -- "$bin" fleet plan --partitions "$parts" --model nosuch --results "$tmp/r0" --out "$tmp/p0.sbatch"
has "$tmp/err" "--model: .*nosuch" "unknown model named"
expect 2 "bad dtype" -- "$bin" fleet plan --partitions "$parts" --dtype q9 --results "$tmp/r0" --out "$tmp/p0.sbatch"
has "$tmp/err" "--dtype 'q9'" "bad dtype named"
expect 2 "bad context list" -- "$bin" fleet plan --partitions "$parts" --context 128,,4 --results "$tmp/r0" --out "$tmp/p0.sbatch"
has "$tmp/err" "--context '128,,4'" "bad list named"
expect 2 "--json after --" -- "$bin" fleet plan --partitions "$parts" --results "$tmp/r0" --out "$tmp/p0.sbatch" -- --json x.json
has "$tmp/err" "'--json' after --: the plan sets it" "--json refused"
expect 2 "--out in a missing directory" -- "$bin" fleet plan --partitions "$parts" --results "$tmp/r0" --out "$tmp/no/p0.sbatch"
has "$tmp/err" "no/p0.sbatch" "--out named"
[ -e "$tmp/r0" ] && bad "the results directory was created before --out was checked" || ok
expect 2 "results path sbatch cannot take" -- "$bin" fleet plan --partitions "$parts" --results "$tmp/a b" --out "$tmp/p0.sbatch"
has "$tmp/err" "a b: the path holds a space" "space in results refused"
[ -e "$tmp/p0.sbatch" ] && bad "a refused plan wrote its script" || ok
printf '#!/bin/bash\necho hi\n' >"$tmp/other.sh"
expect 2 "submit a script plan did not write" -- "$bin" fleet submit "$tmp/other.sh"
has "$tmp/err" "other.sh: not a script of infercost fleet plan" "foreign script named"
mkdir -p "$tmp/empty"
expect 2 "status of an empty directory" -- "$bin" fleet status "$tmp/empty"
has "$tmp/err" "nothing was submitted here" "empty directory explained"
expect 2 "collect of a missing directory" -- "$bin" fleet collect "$tmp/none"
has "$tmp/err" "none: No such file" "missing directory named"

# ---- a real Slurm ----
if ! "$root/ci/slurm-local.sh" start "$tmp/slurm" >"$tmp/slurm-start.out" 2>"$tmp/slurm-start.err"; then
  echo "fleet_test: skipped: Slurm cannot start here:" >&2
  cat "$tmp/slurm-start.err" >&2
  echo "fleet_test: $pass passed, $fail failed before the skip"
  [ "$fail" -eq 0 ] || exit 1
  exit 77
fi
export SLURM_CONF=$tmp/slurm/slurm.conf

# Each partition's node claims its type through a DMI fixture.
for t in c7a.large c7g.large c7i.large; do
  d=$tmp/dmi-$t/devices/virtual/dmi/id
  mkdir -p "$d"
  echo "Amazon EC2" >"$d/sys_vendor"
  echo "$t" >"$d/product_name"
done
export IC_FLEET_SYSFS_ROOT_C7A_LARGE=$tmp/dmi-c7a.large IC_FLEET_SYSFS_ROOT_C7G_LARGE=$tmp/dmi-c7g.large

# sbatch's own refusal is passed on: exit 1, its last line.
expect 0 "plan for a partition Slurm lacks" -- "$bin" fleet plan --partitions nosuch=c7a.large "${quick[@]}" --results "$tmp/r1" --out "$tmp/nosuch.sbatch"
expect 1 "submit to a partition Slurm lacks" -- "$bin" fleet submit "$tmp/nosuch.sbatch"
has "$tmp/err" "sbatch --partition=nosuch failed: .*Invalid partition name" "sbatch's reason shown"

res=$tmp/results
expect 0 "plan" -- "$bin" fleet plan --partitions "$parts" "${quick[@]}" --results "$res" --out "$tmp/plan.sbatch"
has "$tmp/out" "2 partitions x 1 spec = 2 tasks" "plan summary"
has "$tmp/plan.sbatch" "^#SBATCH --exclusive" "whole node"
has "$tmp/plan.sbatch" "^#SBATCH --array=0-0" "a job array"
bash -n "$tmp/plan.sbatch" && ok || bad "the script is not valid bash"
# The task to cancel: a long run (64 repetitions at two contexts) on c7a-large.
expect 0 "plan the long task" -- "$bin" fleet plan --partitions c7a-large=c7a.large --repetitions 64 --results "$res" --out "$tmp/long.sbatch"

expect 0 "submit" -- "$bin" fleet submit "$tmp/plan.sbatch" "$tmp/long.sbatch"
mapfile -t jobs <"$tmp/out"
[ ${#jobs[@]} -eq 3 ] && ok || bad "submit printed ${#jobs[@]} job ids, want 3: ${jobs[*]}"
has "$tmp/err" "partition c7g-large \(c7g.large\): job ${jobs[1]:-x}, tasks 0-0" "submission described"
[ "$(grep -vc '^#' "$res/jobs.tsv")" -eq 3 ] && ok || bad "jobs.tsv: $(cat "$res/jobs.tsv")"
long=c7a.large-c7a-large-${jobs[2]:-x}_0

# Cancel the long task once its run has started.
started=0
for _ in $(seq 1 300); do
  if [ -f "$res/$long.meta" ] && grep -q "infercost fleet: $long on" "$res/logs/$long.log" 2>/dev/null; then
    started=1
    sleep 1 # into the run
    break
  fi
  sleep 0.3
done
[ "$started" -eq 1 ] && ok || bad "the long task did not start within 90 s: $(squeue 2>&1)"
expect 0 "status while running" -- "$bin" fleet status "$res"
has "$tmp/out" "^$long +c7a-large +c7a.large +RUNNING +squeue" "running task shown"
expect 0 "scancel" -- scancel "${jobs[2]:-x}_0"

# Wait for the queue to drain (90 s at most).
for _ in $(seq 1 300); do
  [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break
  sleep 0.3
done
[ -z "$(squeue -h -o %A 2>/dev/null)" ] && ok || bad "jobs still queued: $(squeue 2>&1)"

expect 0 "status" -- "$bin" fleet status "$res"
has "$tmp/out" "^c7a.large-c7a-large-${jobs[0]:-x}_0 +c7a-large +c7a.large +COMPLETED +squeue +[^ ]+ +exit 0 +yes" "first task completed"
has "$tmp/out" "^c7g.large-c7g-large-${jobs[1]:-x}_0 +c7g-large +c7g.large +COMPLETED +squeue +[^ ]+ +exit 0 +yes" "second task completed"
has "$tmp/out" "^$long +c7a-large +c7a.large +CANCELLED +squeue +[^ ]+ +signal TERM +no +$res/logs/$long.log" "cancelled task shown with its log"

expect 1 "collect (one task cancelled)" -- "$bin" fleet collect "$res"
has "$tmp/out" "ranking \(infercost compare-chips\), llama-3.2-1b q8_0" "ranking printed"
has "$tmp/out" "^ +1 +c7(a|g)\.large " "first rank"
has "$tmp/out" "^ +2 +c7(a|g)\.large " "second rank"
has "$tmp/out" "^ +[12] +c7a\.large +epyc-genoa .* measured " "c7a.large ranked as measured"
has "$tmp/out" "^ +[12] +c7g\.large +graviton3 .* measured .*WARNING: the result's CPU is" "c7g.large ranked, the x86 CPU flagged"
has "$tmp/out" "FAILED +$long: the task failed; no result; Slurm state CANCELLED \(from squeue\), the task's exit: signal TERM; log $res/logs/$long.log" "cancelled task reported with state and log"
has "$res/logs/$long.log" "CANCELLED AT" "the log shows the cancellation"
has "$tmp/out" "collected 2 of 3 tasks; 1 failed or missing; 0 measured another type" "summary"
has "$tmp/out" "added as run 2" "both results added to the history"
has "$tmp/out" "report \(infercost report\): $res/report" "the report written"
[ -f "$res/report/report.md" ] && grep -q "c7a.large" "$res/report/report.md" && grep -q "c7g.large" "$res/report/report.md" && ok || bad "the report does not name both types: $(ls "$res/report" 2>&1)"
ls "$res" | grep -q '\.tmp' && bad "temporary files left in $res: $(ls "$res")" || ok
[ -f "$res/$long.json" ] && bad "the cancelled task left a result" || ok
for j in 0 1; do
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["env"]["instance_type"]==sys.argv[2], d["env"]["instance_type"]' \
    "$(ls "$res"/*-"${jobs[$j]:-x}"_0.json)" "$([ $j = 0 ] && echo c7a.large || echo c7g.large)" && ok || bad "result $j: not intact"
done
expect 0 "history list" -- "$bin" history list --db "$res/history.sqlite"
[ "$(grep -c 'llama-3.2-1b q8_0' "$tmp/out")" -eq 2 ] && ok || bad "history: $(cat "$tmp/out")"
expect 1 "collect again: the history is unchanged" -- "$bin" fleet collect "$res"
has "$tmp/out" "already in the history as run 2" "idempotent"

# A node without the binary: the task fails (exit 127), Slurm says FAILED, the log says why.
expect 0 "plan with a missing binary" -- "$bin" fleet plan --partitions c7g-large=c7g.large "${quick[@]}" --results "$tmp/r2" --out "$tmp/nobin.sbatch" --infercost /nonexistent/infercost
expect 0 "submit it" -- "$bin" fleet submit "$tmp/nobin.sbatch"
for _ in $(seq 1 100); do
  [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break
  sleep 0.3
done
expect 1 "collect a failed task" -- "$bin" fleet collect "$tmp/r2"
has "$tmp/out" "FAILED +c7g.large-c7g-large-[0-9]+_0: the task failed; no result; Slurm state FAILED \(from squeue\), the task's exit: exit 127; log $tmp/r2/logs/" "failed task reported"
has "$tmp/r2/logs/"*.log "/nonexistent/infercost: not an executable" "the log says why"
hasnt "$tmp/out" "^ranking" "nothing to rank"

# ---- without Slurm: the tasks' own records ----
"$root/ci/slurm-local.sh" stop "$tmp/slurm" >/dev/null 2>&1 && ok || bad "slurm-local.sh stop failed"
for p in slurmd slurmctld munged; do [ -f "$tmp/slurm/$p.pid" ] && bad "$p.pid left"; done
expect 1 "collect with Slurm stopped" -- "$bin" fleet collect "$res"
has "$tmp/out" "Slurm: squeue failed" "squeue's failure said"
has "$tmp/out" "FAILED +$long: .*Slurm state SIGNALLED \(from task's .meta\)" "state from the task's .meta"
has "$tmp/out" "collected 2 of 3 tasks" "the others still collected"

# A partition that promised c7i.large but whose node measured c7g.large: flagged, not relabelled.
cp -r "$res" "$tmp/mis"
rm -f "$tmp/mis/history.sqlite"
src=$(ls "$tmp/mis"/c7g.large-*.json)
mv "$src" "$tmp/mis/c7i.large-c7i-large-9000_0.json"
rm -f "${src%.json}.meta" "$tmp/mis/$long.meta"
grep -v -e "^${jobs[1]:-x}	" -e "^${jobs[2]:-x}	" "$res/jobs.tsv" >"$tmp/mis/jobs.tsv"
printf 'partition\tc7i-large\ntype\tc7i.large\narray_job_id\t9000\ntask_id\t0\nlog\t/nowhere.log\nexit\texit 0\n' \
  >"$tmp/mis/c7i.large-c7i-large-9000_0.meta"
expect 1 "collect with a mismatch" -- "$bin" fleet collect "$tmp/mis"
has "$tmp/out" "MISMATCH +c7i.large-c7i-large-9000_0: partition c7i-large promised c7i.large, but the result was measured on c7g.large \(EC2, from DMI\)" "mismatch flagged"
has "$tmp/out" "^ +[12] +c7g\.large " "ranked as what it measured"
hasnt "$tmp/out" "^ +[0-9]+ +c7i\.large " "never relabelled"
has "$tmp/out" "collected 2 of 2 tasks; 0 failed or missing; 1 measured another type" "mismatch counted"
printf 'partition\tc7i-large\n' >"$tmp/mis/broken.meta"
expect 2 "a malformed .meta" -- "$bin" fleet collect "$tmp/mis"
has "$tmp/err" "broken.meta: needs a valid partition, type, array_job_id and task_id" "malformed .meta named"

echo "fleet_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
