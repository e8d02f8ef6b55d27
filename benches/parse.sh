#!/usr/bin/env bash
# The parse benchmark: generates 1 GiB of each big-log format (once, into
# bench-data/, which git ignores), then times asrs-logscan's full parse next
# to `wc -l` and `rg -c` on the same file in the same run.
#
#   benches/parse.sh            # 1024 MiB per format
#   SIZE_MB=256 benches/parse.sh
#
# Needs: cargo; optional: hyperfine and rg (apt-get install hyperfine ripgrep).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${SIZE_MB:-1024}
cargo build --release --quiet --example gen --bin asrs-logscan
mkdir -p bench-data
bin=target/release/asrs-logscan
for format in ilogger-simple ilogger-json tracelistener; do
  file=bench-data/$format-$size.log
  if [ ! -s "$file" ]; then
    target/release/examples/gen --format "$format" --size-mb "$size" --out "$file"
  fi
  cat "$file" > /dev/null # into the page cache: we measure parsing, not the disk
  records=$("$bin" --json "$file" | grep -m1 '"records"' | tr -dc 0-9)
  bytes=$(stat -c %s "$file")
  echo "== $format: $file, $bytes bytes, $records records"
  if command -v hyperfine > /dev/null; then
    cmds=("wc -l $file")
    command -v rg > /dev/null && cmds+=("rg -c 'was dropped' $file")
    cmds+=("$bin --json $file")
    hyperfine --warmup 1 --runs 5 --style basic --export-json "bench-data/$format.json" "${cmds[@]}" | grep -E "Time|±|^Bench"
    mean=$(python3 -c "import json;r=json.load(open('bench-data/$format.json'))['results'];print(r[-1]['mean'], r[0]['mean'])")
    read -r ours wc <<< "$mean"
  else
    t() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
    wc=$(t wc -l "$file"); ours=$(t "$bin" --json "$file")
    echo "wc -l: $wc s; asrs-logscan: $ours s"
  fi
  python3 -c "
b, r, o, w = $bytes, $records, $ours, $wc
print(f'asrs-logscan: {b/o/1e6:.0f} MB/s, {r/o/1e6:.2f} M records/s, {o/w:.2f}x the time of wc -l')"
done
