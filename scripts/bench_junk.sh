#!/usr/bin/env bash
# The hardening issue's memory probe (numbers, not pass/fail): the release server's resident memory
# and the size of /metrics before and after a flood of junk requests (random 150-character paths,
# odd methods, some page paths), on a fresh SQLite file.
# Needs: a release build (./scripts/build.sh), wrk (apt-get install wrk). JUNK_REQUESTS (default 100000).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "install wrk first: apt-get install -y wrk" >&2; exit 1; }
PORT=${BENCH_PORT:-3210}
ADDR=127.0.0.1:$PORT
TOTAL=${JUNK_REQUESTS:-100000}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

RUST_LOG=error ./target/release/supportal --demo --bind "$ADDR" --database-url "sqlite://$work/junk.db" \
  --site-root target/site >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 150); do curl -sf "http://$ADDR/readyz" >/dev/null && break; sleep 0.2; done

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$server/status"; }
metrics_bytes() { curl -s "http://$ADDR/metrics" | wc -c; }
series() { curl -s "http://$ADDR/metrics" | grep -c '^supportal_http_requests_total' || true; }

# Warm up: every route once, so the baseline is the steady state and not a cold heap.
for p in / /kb /features /api/v1/kb/articles /healthz /nothing/here; do curl -s "http://$ADDR$p" >/dev/null; done
before_rss=$(rss); before_metrics=$(metrics_bytes); before_series=$(series)
start=$(date +%s.%N)
sent=0
# wrk runs for a duration; rounds of 5 s until TOTAL requests were made.
while [ "$sent" -lt "$TOTAL" ]; do
  out=$(wrk -t2 -c32 -d5s -s bench/junk.lua "http://$ADDR" 2>&1)
  n=$(printf '%s\n' "$out" | awk '/requests in/ { print $1 }')
  sent=$((sent + ${n:-0}))
done
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
after_rss=$(rss); after_metrics=$(metrics_bytes); after_series=$(series)
printf 'junk requests: %d in %.1f s (%.0f/s)\n' "$sent" "$elapsed" "$(echo "$sent / $elapsed" | bc -l)"
printf 'resident memory: %d KiB before, %d KiB after (%+d KiB)\n' "$before_rss" "$after_rss" $((after_rss - before_rss))
printf '/metrics: %d bytes before, %d bytes after; supportal_http_requests_total series: %d before, %d after\n' \
  "$before_metrics" "$after_metrics" "$before_series" "$after_series"
