#!/usr/bin/env bash
# CLI tests of `infercost report`: the Markdown report and its charts (PNG and SVG) from result
# files and from the history; without gnuplot, the tables and a clear "charts skipped".
# Usage: report_cli_test.sh path/to/infercost tests/data
set -u
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_lib.sh"  # ok, bad, expect, has, hasnt
bin=${1:?usage: report_cli_test.sh path/to/infercost DATA_DIR}
data=${2:?usage: report_cli_test.sh path/to/infercost DATA_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect 2 "report without --out" -- "$bin" report "$data/result-c7i.json"
has "$tmp/err" "--out DIR is required" "--out asked for"
expect 2 "report of a missing file" -- "$bin" report "$tmp/none.json" --out "$tmp/r0"
expect 2 "report onto a file" -- "$bin" report "$data/result-c7i.json" --out "$data/result-c7i.json"
has "$tmp/err" "not a directory" "--out onto a file refused"

# Without gnuplot: the tables, and the charts said skipped (their data and scripts still there).
expect 0 "report without gnuplot" -- env PATH=/nonexistent "$bin" report "$data/result-c7i.json" --out "$tmp/r1"
has "$tmp/out" "charts skipped: gnuplot is not installed" "skipping said"
has "$tmp/r1/report.md" "^\\| decode \\| 128 \\| 1 \\| 20\\.00 " "the decode row in the tables"
has "$tmp/r1/report.md" "chart skipped: gnuplot is not installed" "each chart says it was skipped"
[ -f "$tmp/r1/roofline.gp" ] && [ -f "$tmp/r1/roofline.dat" ] && ok || bad "scripts and data written"

if command -v gnuplot >/dev/null; then
  db="$tmp/h.sqlite"
  # the first result is a real run's (it has bytes and FLOP per token, and ceilings)
  "$bin" history add "$data/result-run-qwen.json" "$data/result-c7i.json" "$data/result-c7g.json" --db "$db" >/dev/null
  expect 0 "report with charts" -- "$bin" report "$data/result-run-qwen.json" "$data/result-c7i.json" "$data/result-c7g.json" --out "$tmp/r2" --db "$db" --project --instance c7i.large
  has "$tmp/out" "report: .*report.md, 5 charts$" "five charts"
  for c in roofline throughput_interactivity cost_interactivity cost_bars trend; do
    head -c 8 "$tmp/r2/$c.png" | od -An -tx1 | grep -q "89 50 4e 47" && ok || bad "$c.png is not a PNG"
    grep -q "<svg" "$tmp/r2/$c.svg" && ok || bad "$c.svg is not an SVG"
    has "$tmp/r2/report.md" "!\\[.*\\]\\($c.png\\)" "$c linked from the report"
  done
  grep -q "(modeled)" "$tmp/r2/cost_bars.dat" && ok || bad "modeled bars with --project"
  grep -qE "^[0-9]+ \"(p5|inf2|trn)" "$tmp/r2/cost_bars.dat" && bad "accelerators projected from a CPU's efficiency" || ok
  grep -q "c7i.large" "$tmp/r2/cost_bars.dat" && ok || bad "the measured bar"
  expect 0 "report of the history" -- "$bin" report @history --out "$tmp/r3" --db "$db"
  has "$tmp/r3/report.md" "history run 3" "@history reads every result in the history"
  # hand-made results without bytes or FLOP per token: the roofline says why it is missing
  expect 0 "report of hand-made results" -- "$bin" report "$data/result-c7i.json" --out "$tmp/r4"
  has "$tmp/r4/report.md" "no roofline: no figure records its bytes and FLOP per token" "no roofline said"
else
  echo "report_cli_test: chart checks skipped: gnuplot is not installed"
fi
echo "report_cli_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
