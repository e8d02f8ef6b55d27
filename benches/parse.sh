#!/usr/bin/env bash
# The benchmark: generates 1 GiB of each big-log format (once, into
# bench-data/, which git ignores), then times, in one hyperfine run per
# format and with the file in the page cache:
#   wc -l, rg -c with the 16 literals a user would grep for,
#   asrs-logscan --no-builtin-rules (parsing only: every record's
#   boundaries, level, category and time), asrs-logscan with all rules but
#   --no-drops (findings only), and asrs-logscan with all rules (findings
#   and the dropped-connections correlation).
#
#   benches/parse.sh            # 1024 MiB per format
#   SIZE_MB=256 benches/parse.sh
#
# Needs: cargo, hyperfine and rg (apt-get install hyperfine ripgrep).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${SIZE_MB:-1024}
cargo build --release --quiet --example gen --bin asrs-logscan
mkdir -p bench-data
bin=target/release/asrs-logscan
needles=(-e "to the service was dropped" -e "was dropped, probably" -e "not connected yet"
  -e "Failed to connect to" -e "Payload Too Large" -e "URI Too Long" -e "Too Many Requests"
  -e "Connection count reaches limit" -e "No server available" -e "The connection is not active"
  -e "Service timeout" -e "handshake" -e "elapsed without receiving" -e "must not be longer than 4K"
  -e "401 unauthorized" -e "status code '4")
rg_cmd="rg -c -F"
for n in "${needles[@]}"; do
  if [ "$n" = "-e" ]; then rg_cmd+=" -e"; else rg_cmd+=" $(printf %q "$n")"; fi
done
for format in ilogger-simple ilogger-json tracelistener; do
  file=bench-data/$format-$size.log
  if [ ! -s "$file" ]; then
    target/release/examples/gen --format "$format" --size-mb "$size" --out "$file"
  fi
  cat "$file" > /dev/null # into the page cache: we measure parsing, not the disk
  records=$("$bin" --json --no-builtin-rules "$file" | grep -m1 '"records"' | tr -dc 0-9)
  bytes=$(stat -c %s "$file")
  echo "== $format: $file, $bytes bytes, $records records"
  hyperfine --warmup 1 --runs 5 --style basic --export-json "bench-data/$format.json" \
    -n "wc -l" "wc -l $file" \
    -n "rg -c (16 literals)" "$rg_cmd $file" \
    -n "parse only" "$bin --json --no-builtin-rules $file" \
    -n "rules, no drops" "$bin --json --fail-on never --no-drops $file" \
    -n "all rules" "$bin --json --fail-on never $file" | grep -E "^Benchmark|Time"
  python3 - "$bytes" "$records" "bench-data/$format.json" <<'PY'
import json, sys
b, r = int(sys.argv[1]), int(sys.argv[2])
res = {x["command"]: x["mean"] for x in json.load(open(sys.argv[3]))["results"]}
wc, rg, p, a = res["wc -l"], res["rg -c (16 literals)"], res["parse only"], res["all rules"]
n = res["rules, no drops"]
print(f"parse only: {p:.3f} s, {b/p/1e6:.0f} MB/s, {r/p/1e6:.2f} M records/s, {p/wc:.2f}x wc -l")
print(f"rules, no drops: {n:.3f} s, {n/wc:.2f}x wc -l, {n/rg:.2f}x rg -c")
print(f"all rules:  {a:.3f} s, {b/a/1e6:.0f} MB/s, {a/wc:.2f}x wc -l, {a/rg:.2f}x rg -c, drops +{(a/n-1)*100:.0f}%")
# Medians too: one slow run of five (this machine has them) moves a mean.
med = {x["command"]: x["median"] for x in json.load(open(sys.argv[3]))["results"]}
print(f"medians: wc -l {med['wc -l']:.3f} s, no drops {med['rules, no drops']/med['wc -l']:.2f}x, "
      f"all rules {med['all rules']:.3f} s = {med['all rules']/med['wc -l']:.2f}x wc -l")
PY
done
