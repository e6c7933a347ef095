#!/usr/bin/env bash
# First load and server pages (issue 20), printed side by side in one run; numbers, nothing passes or fails:
#  1. what the WASM is made of (code per crate, from the names in the unoptimised module) and the shipped files
#     (raw, brotli-11 and gzip twins);
#  2. per page, the /pkg bytes a fresh browser downloads and what a repeat visit transfers (end2end/budget.json);
#  3. Lighthouse 12.2.3 mobile performance on /, /kb, /tickets/new, /tickets/:id and /queue (signed in);
#  4. server-rendered pages against the JSON endpoints with the same data, at 1 and at 32 connections (wrk).
# The server runs on a fresh SQLite file with the demo data.
# Needs: a release build (./scripts/run.sh, or ./scripts/build.sh), wrk (apt-get install -y wrk), chromium
# and end2end's packages (./scripts/setup.sh --test); Lighthouse is installed into the tools folder on first use.
# BENCH_PORT (default 3201), BENCH_LIGHTHOUSE=0 skips Lighthouse, BENCH_SECONDS (default 10) per wrk run.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "install wrk first: apt-get install -y wrk" >&2; exit 1; }
[ -x target/release/supportal ] && [ -d target/site/pkg ] || { echo "build first: ./scripts/build.sh" >&2; exit 1; }
TOOLS="${SUPPORTAL_TOOLS_DIR:-$HOME/.cache/supportal-tools}"
PORT=${BENCH_PORT:-3201}
ADDR=127.0.0.1:$PORT
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
work=$(mktemp -d)
server=
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

echo "== WASM composition (target/front/…/frontend.wasm, before wasm-bindgen and wasm-opt)"
front=target/front/wasm32-unknown-unknown/wasm-release/frontend.wasm
if [ -f "$front" ]; then node scripts/wasm_composition.mjs "$front" 22; else echo "   (no $front: build with cargo leptos first)"; fi

echo
echo "== shipped files (target/site/pkg): raw / brotli-11 twin / gzip twin, KB"
for f in target/site/pkg/*; do
  case "$f" in *.br | *.gz) continue ;; esac
  size() { [ -f "$1" ] && stat -c %s "$1" || echo 0; }
  awk -v n="$(basename "$f")" -v r="$(size "$f")" -v b="$(size "$f.br")" -v g="$(size "$f.gz")" \
    'BEGIN { printf "   %-44s %9.1f %9.1f %9.1f\n", n, r / 1000, b / 1000, g / 1000 }'
done

SUPPORTAL_SIGNIN_ATTEMPTS=1000 SUPPORTAL_WRITES_PER_MINUTE=1000000 RUST_LOG=warn \
  ./target/release/supportal --demo --bind "$ADDR" --database-url "sqlite://$work/bench.db" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 150); do curl -sf "http://$ADDR/readyz" >/dev/null && break; sleep 0.2; done
curl -sf "http://$ADDR/readyz" >/dev/null || { echo "server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }

lighthouse=
if [ "${BENCH_LIGHTHOUSE:-1}" != 0 ]; then
  lighthouse="$TOOLS/node_modules/.bin/lighthouse"
  if ! "$lighthouse" --version 2>/dev/null | grep -q '^12\.2\.3$'; then
    echo "== installing lighthouse@12.2.3 into $TOOLS"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS" lighthouse@12.2.3 >/dev/null
  fi
fi
(cd end2end && LIGHTHOUSE="${lighthouse:+$(realpath "$lighthouse")}" node firstload-report.mjs "http://$ADDR")

cookie() {
  curl -s -D - -o /dev/null -X POST "http://$ADDR/api/v1/auth/session" -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"supportal-demo\"}" | sed -nE 's/^[Ss]et-[Cc]ookie: ([^;]+);.*/\1/p' | head -n1
}
customer=$(cookie platinum@demo.supportal.test)
agent=$(cookie l1@demo.supportal.test)
ticket=$(curl -sf -H "Cookie: $customer" "http://$ADDR/api/v1/tickets?limit=1" | grep -o '"id":[0-9]*' | head -n1 | cut -d: -f2)

# wrk's --latency percentiles in ms, and req/s: "p50 p99 rps".
measure() {
  local conns=$1 threads=1 url=$2 who=$3
  [ "$conns" -gt 1 ] && threads=2
  local header=()
  [ -n "$who" ] && header=(-H "Cookie: $who")
  wrk -t"$threads" -c"$conns" -d"${SECONDS_PER_RUN}s" --latency "${header[@]}" "$url" >"$work/wrk.txt"
  grep -q "Non-2xx" "$work/wrk.txt" && { echo "   non-2xx answers from $url:" >&2; grep Non-2xx "$work/wrk.txt" >&2; }
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
       $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) } /Requests\/sec/ { rps = $2 }
       END { printf "%.2f %.2f %.0f", p50, p99, rps }' "$work/wrk.txt"
}

echo
echo "== server-rendered page vs JSON with the same data (wrk, ${SECONDS_PER_RUN} s each; no compression asked)"
echo "   page                 JSON                               conns   page p50 / p99 ms   JSON p50 / p99 ms   ratio p50   page req/s   JSON req/s   page/JSON req/s"
pairs=(
  "/|/api/v1/hours|"
  "/kb|/api/v1/articles|"
  "/tickets/$ticket|/api/v1/tickets/$ticket|$customer"
  "/queue|/api/v1/queue|$agent"
)
for pair in "${pairs[@]}"; do
  IFS='|' read -r page json who <<<"$pair"
  for conns in 1 32; do
    read -r pp50 pp99 prps <<<"$(measure "$conns" "http://$ADDR$page" "$who")"
    read -r jp50 jp99 jrps <<<"$(measure "$conns" "http://$ADDR$json" "$who")"
    awk -v page="$page" -v json="$json" -v c="$conns" -v pp50="$pp50" -v pp99="$pp99" -v jp50="$jp50" -v jp99="$jp99" \
      -v prps="$prps" -v jrps="$jrps" 'BEGIN {
        printf "   %-20s %-34s %5d   %7.2f / %7.2f   %7.2f / %7.2f   %8.1fx   %10.0f   %10.0f   %13.0f %%\n",
          page, json, c, pp50, pp99, jp50, jp99, (jp50 > 0 ? pp50 / jp50 : 0), prps, jrps, (jrps > 0 ? 100 * prps / jrps : 0) }'
  done
done
