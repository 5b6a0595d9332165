#!/usr/bin/env bash
# The catalog the infercost binary finds: a copy of the binary in a fake prefix, beside a copy of
# the catalog at share/infercost/platforms whose c7a.large price is marked, run from / with
# IC_PLATFORMS_DIR unset, uses that copy; --catalog and IC_PLATFORMS_DIR come before it; without
# it the source tree's catalog is used; a missing named catalog is an error.
# Usage: catalog_prefix_test.sh path/to/infercost path/to/platforms
set -u
bin=${1:?usage: catalog_prefix_test.sh path/to/infercost PLATFORMS_DIR}
platforms=$(cd "${2:?usage: catalog_prefix_test.sh path/to/infercost PLATFORMS_DIR}" && pwd)
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tmp=$(cd "$tmp" && pwd -P)

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
expect() { # expect CODE DESCRIPTION -- command...   (run from /)
  local want=$1 what=$2; shift 3
  (cd / && "$@") >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, want $want; stderr: $(head -c 400 "$tmp/err")"; fi
}
has() { if grep -qE -- "$2" "$1"; then ok; else bad "$3: no /$2/ in $(basename "$1"): $(head -c 600 "$1")"; fi; }
hasnt() { if grep -qE -- "$2" "$1"; then bad "$3: unexpected /$2/ in $(basename "$1")"; else ok; fi; }

unset IC_PLATFORMS_DIR
export IC_SYSFS_ROOT="$tmp/nosys"
pfx=$tmp/prefix
mkdir -p "$pfx/bin" "$pfx/share/infercost"
cp "$bin" "$pfx/bin/infercost"
cp -r "$platforms" "$pfx/share/infercost/platforms"
awk 'BEGIN { FS = OFS = "\t" } $1 == "c7a.large" && $2 == "us-east-1" { $3 = "9.876500"; $4 = "the fake prefix copy" } 1' \
  "$platforms/prices.tsv" >"$pfx/share/infercost/platforms/prices.tsv"
ic=$pfx/bin/infercost

expect 0 "prices show, installed catalog" -- "$ic" prices show c7a.large
has "$tmp/out" "^c7a\.large .* 9\.876500 .*the fake prefix copy" "the installed catalog is used"
expect 0 "list, installed catalog" -- "$ic" list
has "$tmp/out" "^catalog +$pfx/share/infercost/platforms \(installed\)$" "list names the installed catalog"
ln -s "$ic" "$tmp/infercost-link"
expect 0 "prices show through a link" -- "$tmp/infercost-link" prices show c7a.large
has "$tmp/out" "the fake prefix copy" "a link to the binary finds its prefix"

expect 0 "IC_PLATFORMS_DIR before installed" -- env IC_PLATFORMS_DIR="$platforms" "$ic" prices show c7a.large
has "$tmp/out" "^c7a\.large .* 0\.102640 " "IC_PLATFORMS_DIR wins"
expect 0 "--catalog before IC_PLATFORMS_DIR" -- env IC_PLATFORMS_DIR="$tmp/none" "$ic" prices show c7a.large --catalog "$platforms"
has "$tmp/out" "^c7a\.large .* 0\.102640 " "--catalog wins"
expect 2 "missing IC_PLATFORMS_DIR" -- env IC_PLATFORMS_DIR="$tmp/none" "$ic" prices show c7a.large
has "$tmp/err" "catalog directory '.*/none' does not exist \(given by \\\$IC_PLATFORMS_DIR" "a missing IC_PLATFORMS_DIR is named, not skipped"
expect 2 "missing --catalog" -- "$ic" prices show c7a.large --catalog "$tmp/none"
has "$tmp/err" "catalog directory '.*/none' does not exist \(given by --catalog\)" "a missing --catalog is named"

# Without the installed catalog: the source tree's, which messages call "platforms".
rm -rf "$pfx/share/infercost/platforms"
expect 0 "prices show, source tree" -- "$ic" prices show c7a.large
has "$tmp/out" "^c7a\.large .* 0\.102640 " "the source tree's catalog after the installed one"
expect 0 "list, source tree" -- "$ic" list
has "$tmp/out" "^catalog +.*/platforms \(source tree\)$" "list names the source tree's catalog"
hasnt "$tmp/out" "installed\)" "no installed catalog claimed"

echo "catalog_prefix_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
