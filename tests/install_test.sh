#!/usr/bin/env bash
# The relocatable install: cmake --install into a temporary prefix, the prefix moved to another
# directory, and the installed binary run from / with IC_PLATFORMS_DIR unset and, where a mount
# namespace can be made (unshare), the source and build trees hidden under empty tmpfs mounts: list
# (which must name the moved prefix's catalog, found as "installed"), prices show, run --model-only
# on the catalog alone, a tiny measured run that writes a result, and cost on that result. Then
# cpack -G TGZ must unpack to the same tree, and the .deb (where dpkg-deb is) must list the binary
# and the catalog under /usr.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR HAVE_BENCHMARK(0|1)
set -u
build=$(cd "${1:?usage: install_test.sh BUILD_DIR SOURCE_DIR HAVE_BENCHMARK}" && pwd -P)
src=$(cd "${2:?usage: install_test.sh BUILD_DIR SOURCE_DIR HAVE_BENCHMARK}" && pwd -P)
have_benchmark=${3:-0}
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tmp=$(cd "$tmp" && pwd -P)

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
has() { if grep -qE -- "$2" "$1"; then ok; else bad "$3: no /$2/ in $(basename "$1"): $(head -c 600 "$1")"; fi; }

# The places to hide: the source tree, and the build tree when it lies outside it.
hidden=("$src")
case "$build/" in "$src"/*) ;; *) hidden+=("$build") ;; esac
hide_cmd=()
for u in "unshare -m" "unshare -r -m"; do
  if $u sh -c 'mount -t tmpfs none "$1"' sh "$tmp" 2>/dev/null; then
    hide_cmd=($u)
    break
  fi
done
# in_prefix DESCRIPTION WANT_EXIT -- command...: runs it from /, trees hidden where possible.
in_prefix() {
  local what=$1 want=$2
  shift 3
  if [ ${#hide_cmd[@]} -gt 0 ]; then
    "${hide_cmd[@]}" sh -c 'n=$1; shift; while [ "$n" -gt 0 ]; do mount -t tmpfs none "$1" || exit 99; shift; n=$((n-1)); done; cd / && exec "$@"' \
      sh "${#hidden[@]}" "${hidden[@]}" "$@" >"$tmp/out" 2>"$tmp/err"
  else
    (cd / && "$@") >"$tmp/out" 2>"$tmp/err"
  fi
  local got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, want $want; stderr: $(head -c 600 "$tmp/err")"; fi
}

unset IC_PLATFORMS_DIR
export IC_SYSFS_ROOT="$tmp/nosys" # off EC2, whatever this host is
mkdir -p "$tmp/nosys" "$tmp/moved" "$tmp/out-dir"

cmake --install "$build" --prefix "$tmp/staged" >"$tmp/install.log" 2>&1 || bad "cmake --install: $(tail -5 "$tmp/install.log")"
for f in bin/infercost share/infercost/platforms/prices.tsv share/infercost/platforms/instances.tsv \
  share/infercost/platforms/chips.tsv share/infercost/platforms/discounts.tsv \
  share/infercost/platforms/token-prices.tsv share/infercost/platforms/scenarios/bedrock-claude-sonnet.json \
  share/doc/infercost/README.md share/doc/infercost/results/SCHEMA.md share/doc/infercost/docs/economics.md; do
  [ -e "$tmp/staged/$f" ] && ok || bad "not installed: $f"
done
(cd "$tmp/staged" && find . | LC_ALL=C sort) >"$tmp/installed.txt"
mv "$tmp/staged" "$tmp/moved/prefix"
pfx=$tmp/moved/prefix
ic=$pfx/bin/infercost

if [ ${#hide_cmd[@]} -gt 0 ]; then
  in_prefix "the source tree is hidden" 0 -- sh -c '! test -e "$1/platforms/prices.tsv"' sh "$src"
  echo "install_test: source and build trees hidden with ${hide_cmd[*]} + tmpfs"
else
  echo "install_test: no mount namespace here (unshare): the source tree stays visible; the catalog check below still says which one was used"
fi

in_prefix "list" 0 -- "$ic" list
has "$tmp/out" "^catalog +$pfx/share/infercost/platforms \(installed\)$" "the moved prefix's catalog is used"
in_prefix "prices show" 0 -- "$ic" prices show c7a.large
has "$tmp/out" "^c7a\.large +us-east-1 +on-demand +[0-9.]+ +20[0-9-]+ " "a catalog price"
in_prefix "run --model-only" 0 -- "$ic" run --device cuda --model-only --model llama-3.1-8b --context 128
has "$tmp/out" "^p5\.48xlarge +h100" "modeled rows from the installed chips.tsv"
in_prefix "econ" 0 -- "$ic" econ "$pfx/share/infercost/platforms/scenarios/bedrock-claude-sonnet.json"

if [ "$have_benchmark" = 1 ]; then
  in_prefix "run --quick" 0 -- "$ic" run --quick --context 128 --repetitions 1 --prefill 0 --json "$tmp/out-dir/r.json"
  python3 - "$tmp/out-dir/r.json" <<'PY' && ok || bad "the installed binary's result file"
import json, sys
r = json.load(open(sys.argv[1]))
m = r["measurements"]
assert any(x["kind"] == "decode" and x["provenance"] == "measured" and x["tok_per_s"] > 0 for x in m), m
PY
  in_prefix "cost --instance" 0 -- "$ic" cost "$tmp/out-dir/r.json" --instance c7a.large
  has "$tmp/out" "c7a\.large" "cost prices the result from the installed catalog"
else
  echo "install_test: no Google Benchmark in this build: the measured run is not tried"
fi

# cpack -G TGZ: the same tree under one top directory.
if (cd "$build" && cpack -G TGZ -B "$tmp/pack" >"$tmp/cpack.log" 2>&1); then
  tgz=$(ls "$tmp"/pack/infercost-*.tar.gz 2>/dev/null | head -1)
  mkdir -p "$tmp/untar"
  if [ -n "$tgz" ] && tar xzf "$tgz" -C "$tmp/untar"; then
    top=$(ls "$tmp/untar")
    (cd "$tmp/untar/$top" && find . | LC_ALL=C sort) >"$tmp/tgz.txt"
    if diff "$tmp/installed.txt" "$tmp/tgz.txt" >"$tmp/diff.txt"; then ok; else bad "the tarball's tree differs: $(head -20 "$tmp/diff.txt")"; fi
    in_prefix "list from the tarball" 0 -- "$tmp/untar/$top/bin/infercost" list
    has "$tmp/out" "^catalog +$tmp/untar/$top/share/infercost/platforms \(installed\)$" "the tarball's catalog is used"
  else
    bad "no tarball: $(tail -5 "$tmp/cpack.log")"
  fi
else
  bad "cpack -G TGZ: $(tail -5 "$tmp/cpack.log")"
fi

# cpack -G DEB: the binary and the catalog under /usr, dependencies from the shared libraries.
if command -v dpkg-deb >/dev/null; then
  if (cd "$build" && cpack -G DEB -B "$tmp/pack" >"$tmp/cpack-deb.log" 2>&1); then
    deb=$(ls "$tmp"/pack/infercost_*.deb 2>/dev/null | head -1)
    dpkg-deb -c "$deb" >"$tmp/deb.txt" 2>&1
    has "$tmp/deb.txt" " \./usr/bin/infercost$" "the .deb holds bin/infercost"
    has "$tmp/deb.txt" " \./usr/share/infercost/platforms/prices\.tsv$" "the .deb holds the catalog"
    has "$tmp/deb.txt" " \./usr/share/infercost/platforms/scenarios/bedrock-claude-sonnet\.json$" "the .deb holds the scenarios"
    dpkg-deb -f "$deb" Package Version Depends >"$tmp/deb-fields.txt" 2>&1
    has "$tmp/deb-fields.txt" "^Package: infercost$" "package name"
    has "$tmp/deb-fields.txt" "^Depends: .*libjansson4" "Depends names jansson"
  else
    bad "cpack -G DEB: $(tail -5 "$tmp/cpack-deb.log")"
  fi
else
  echo "install_test: dpkg-deb not found: the .deb is not built"
fi

echo "install_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
