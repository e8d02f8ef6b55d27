#!/usr/bin/env bash
# Instructions per scan, counted by cachegrind: deterministic where
# wall-clock timings of small changes are not. Generates a 2 MB sample of
# each big-log format (once, into bench-data/), scans it in memory on one
# thread five times and none (examples/scan_loop.rs), and prints the
# difference per scan and per line, parse only and with all rules.
#
#   benches/instructions.sh
#
# Needs: cargo, valgrind (apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --example gen --example scan_loop
mkdir -p bench-data
count() { # FILE FORMAT MODE N
  RAYON_NUM_THREADS=1 valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
    target/release/examples/scan_loop "$@" 2>&1 | awk '/I *refs/ {gsub(",", "", $NF); print $NF}'
}
for format in ilogger-simple ilogger-json tracelistener; do
  file=bench-data/$format-2.log
  if [ ! -s "$file" ]; then
    target/release/examples/gen --format "$format" --size-mb 2 --out "$file" > /dev/null 2>&1
  fi
  lines=$(wc -l < "$file")
  for mode in parse rules; do
    five=$(count "$file" "$format" "$mode" 5)
    none=$(count "$file" "$format" "$mode" 0)
    per=$(( (five - none) / 5 ))
    echo "$format $mode: $per instructions per scan, $(( per / lines )) per line ($lines lines)"
  done
done
