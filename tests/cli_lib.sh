# The checks every CLI test script uses; sourced, never run. The script sets $tmp (a directory of
# its own) and counts with pass and fail; ic_finish prints the summary line and sets the status.
#   expect CODE DESCRIPTION -- command...   runs it, stdout to $tmp/out, stderr to $tmp/err
#   has FILE REGEX DESCRIPTION              FILE has a line matching REGEX (grep -E)
#   hasnt FILE REGEX DESCRIPTION            no line of FILE matches
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
expect() {
  local want=$1 what=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then ok; else
    bad "$what: exit $got, want $want; stderr: $(head -c 800 "$tmp/err"); stdout: $(head -c 600 "$tmp/out")"
  fi
}
has() { if grep -qE -- "$2" "$1"; then ok; else bad "$3: no /$2/ in $(basename "$1"): $(head -c 1500 "$1")"; fi; }
hasnt() { if grep -qE -- "$2" "$1"; then bad "$3: unexpected /$2/ in $(basename "$1")"; else ok; fi; }
