#!/usr/bin/env bash
# Runs rows of tests/bad_input.tsv: every bad input tried on the CLI, with the exit code and the
# message it must give. Usage: bad_input_test.sh path/to/infercost ID... | --all | --lint
#
# A row's command is bash with placeholders: {bin} the binary, {t} a fresh directory of fixtures
# (tests/bad_input_fixtures.py), {data} tests/data, {platforms} the source tree's catalog. It runs
# in {t} under a 120 s timeout (a hang fails the row). Each row must exit with its code, print a
# line matching its regex (grep -E) on stderr, and print no raw control character and no bogus
# "FILE:-1:" line number on stderr. The helpers below let a row check more than an exit code:
#   keeps FILE CMD...    FILE holds earlier content; after CMD it must be unchanged, with no
#                        FILE.tmp.* beside it. Returns CMD's status (90 when FILE was harmed).
#   fsize KIB CMD...     runs CMD with RLIMIT_FSIZE at KIB KiB and SIGXFSZ ignored, so a write
#                        past it fails with EFBIG; stdout goes to /dev/null, stderr through a pipe.
#   killed FILE CMD...   like keeps, but sends SIGTERM to CMD once FILE.tmp.* exists: returns the
#                        killed CMD's status (143).
set -u
bin=$(realpath "${1:?usage: bad_input_test.sh path/to/infercost ID... | --all | --lint}")
shift
here=$(cd "$(dirname "$0")" && pwd)
table=$here/bad_input.tsv
data=$here/data
platforms=$(cd "$here/../platforms" && pwd)

# The table's rows, without the header and comments: id, command, exit, regex, covers.
rows() { grep -v -e '^#' -e '^id	' -e '^[[:space:]]*$' "$table"; }

lint() {
  local bad=0 n=0 id cmd code re what
  declare -A seen=()
  while IFS=$'\t' read -r id cmd code re what extra; do
    n=$((n + 1))
    if [ -z "$id" ] || [ -z "$cmd" ] || [ -z "$re" ] || [ -z "$what" ] || [ -n "${extra:-}" ]; then
      echo "FAIL: row $n ($id): needs exactly 5 non-empty columns" >&2; bad=1
    fi
    if ! [[ "$id" =~ ^[a-z0-9][a-z0-9_.-]*$ ]]; then echo "FAIL: row $n: bad id '$id'" >&2; bad=1; fi
    if [ -n "${seen[$id]:-}" ]; then echo "FAIL: id '$id' twice" >&2; bad=1; fi
    seen[$id]=1
    # A bad input must fail: a row that expects success, or matches any message, asserts nothing.
    if ! [[ "$code" =~ ^[0-9]+$ ]] || [ "$code" -eq 0 ]; then
      echo "FAIL: $id: exit '$code' must be a non-zero number" >&2; bad=1
    fi
    case "$re" in .|.\*|^|'$') echo "FAIL: $id: regex '$re' matches anything" >&2; bad=1 ;; esac
  done < <(rows)
  [ "$n" -gt 0 ] || { echo "FAIL: no rows in $table" >&2; bad=1; }
  [ "$bad" -eq 0 ] && echo "bad_input.tsv: $n rows, well-formed"
  return "$bad"
}

keeps() {
  local f=$1; shift
  printf 'earlier %s\n' "$f" >"$f"
  "$@"
  local rc=$?
  check_kept "$f" || return 90
  return "$rc"
}

check_kept() {
  local f=$1 ok=0
  if [ "$(cat "$f" 2>/dev/null)" != "earlier $f" ]; then
    echo "bad_input: the earlier $f was not kept" >&2; ok=1
  fi
  if compgen -G "$f.tmp.*" >/dev/null; then
    echo "bad_input: temporary file left behind: $(echo "$f".tmp.*)" >&2; ok=1
  fi
  return "$ok"
}

fsize() {
  local kib=$1; shift
  # stderr goes through a pipe to cat, which runs without the limit and writes the row's file.
  (ulimit -f "$kib"; trap '' XFSZ; exec "$@" 2>&1 >/dev/null) | cat >&2
  return "${PIPESTATUS[0]}"
}

killed() {
  local f=$1; shift
  printf 'earlier %s\n' "$f" >"$f"
  "$@" >/dev/null &
  local pid=$! i
  for ((i = 0; i < 1200; i++)); do
    compgen -G "$f.tmp.*" >/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  local tmp
  tmp=$(compgen -G "$f.tmp.*" | head -n 1)
  if [ -z "$tmp" ]; then
    echo "bad_input: no $f.tmp.* appeared to kill the writer during" >&2
  fi
  sleep 0.3
  kill -TERM "$pid" 2>/dev/null && [ -n "$tmp" ] && echo "bad_input: killed the writer of $tmp" >&2
  wait "$pid"
  local rc=$?
  check_kept "$f" || return 90
  return "$rc"
}
export -f keeps check_kept fsize killed

run_row() {
  local id=$1 cmd=$2 code=$3 re=$4 what=$5
  local t
  t=$(mktemp -d)
  # Fixtures are made for each row, so rows run in any order and in parallel.
  if ! python3 "$here/bad_input_fixtures.py" "$t" "$platforms"; then
    echo "FAIL: $id: could not make the fixtures" >&2
    rm -rf "$t"
    return 1
  fi
  cmd=${cmd//\{bin\}/$bin}
  cmd=${cmd//\{t\}/$t}
  cmd=${cmd//\{data\}/$data}
  cmd=${cmd//\{platforms\}/$platforms}
  (cd "$t" && exec timeout -k 5 120 env -u IC_ISA IC_SYSFS_ROOT="$t/sys-none" bash -c "$cmd") \
    >"$t/.out" 2>"$t/.err" </dev/null
  local got=$? ok=0
  if [ "$got" -ne "$code" ]; then
    [ "$got" -eq 124 ] && echo "FAIL: $id: timed out (a hang?)" >&2
    echo "FAIL: $id ($what): exit $got, want $code" >&2; ok=1
  fi
  if ! grep -qE -- "$re" "$t/.err"; then
    echo "FAIL: $id ($what): no /$re/ on stderr" >&2; ok=1
  fi
  if tr -d '\n\t' <"$t/.err" | LC_ALL=C grep -q '[[:cntrl:]]'; then
    echo "FAIL: $id ($what): a raw control character on stderr" >&2; ok=1
  fi
  if grep -q ':-1:' "$t/.err"; then
    echo "FAIL: $id ($what): a bogus line -1 on stderr" >&2; ok=1
  fi
  if [ "$ok" -ne 0 ]; then
    echo "  command: $cmd" >&2
    echo "  stderr: $(head -c 600 "$t/.err" | cat -v)" >&2
  else
    echo "ok: $id ($what)"
  fi
  rm -rf "$t"
  return "$ok"
}

case "${1:-}" in
  --lint) lint; exit ;;
  --all) set -- $(rows | cut -f1) ;;
esac
[ $# -gt 0 ] || { echo "usage: bad_input_test.sh BIN ID... | --all | --lint" >&2; exit 2; }
fail=0
for want in "$@"; do
  found=0
  while IFS=$'\t' read -r id cmd code re what; do
    [ "$id" = "$want" ] || continue
    found=1
    run_row "$id" "$cmd" "$code" "$re" "$what" || fail=1
  done < <(rows)
  [ "$found" -eq 1 ] || { echo "FAIL: no row '$want' in $table" >&2; fail=1; }
done
exit "$fail"
