#!/usr/bin/env bash
# Benchmarks (numbers, not pass/fail): ticket creation with 64 concurrent
# clients (wrk) and SSE fan-out to 1000 streams, against the release server on
# a fresh SQLite file and, when reachable, a fresh PostgreSQL database.
# Needs: a release build (./scripts/run.sh or cargo leptos build --release), wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "install wrk first: apt-get install -y wrk" >&2; exit 1; }
cargo build --release -p supportal --example sse_fanout -q
ulimit -n 8192 || true
PORT=${BENCH_PORT:-3200}
ADDR=127.0.0.1:$PORT
PG_ADMIN=${SUPPORTAL_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

token() {
  curl -sf -X POST "http://$ADDR/api/v1/auth/tokens" -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"supportal-demo\",\"label\":\"bench\"}" | sed -E 's/.*"token":"([^"]+)".*/\1/'
}

run_on() {
  local label=$1 url=$2
  SUPPORTAL_WRITES_PER_MINUTE=10000000 SUPPORTAL_SIGNIN_ATTEMPTS=1000 RUST_LOG=warn \
    ./target/release/supportal --demo --bind "$ADDR" --database-url "$url" >"${BENCH_LOG:-/tmp/supportal-bench-server.log}" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -sf "http://$ADDR/readyz" >/dev/null && break; sleep 0.2; done
  local customer agent
  customer=$(token platinum@demo.supportal.test)
  agent=$(token l1@demo.supportal.test)
  echo "== $label: ticket creation, 64 concurrent clients, 10 s"
  TOKEN=$customer wrk -t2 -c64 -d10s --latency -s bench/create_ticket.lua "http://$ADDR/api/v1/tickets" |
    grep -E "Requests/sec|Latency|50%|99%|Non-2xx"
  sleep 2 # let the load test's last requests finish
  echo "== $label: SSE fan-out"
  ./target/release/examples/sse_fanout "$ADDR" "$agent" "$customer" "${BENCH_CLIENTS:-1000}" "${BENCH_ROUNDS:-20}" "$server"
  kill "$server"; wait "$server" 2>/dev/null || true
}

run_on SQLite "sqlite://$work/bench.db"
if psql "$PG_ADMIN" -qc 'select 1' >/dev/null 2>&1; then
  db=supportal_bench_$$
  psql "$PG_ADMIN" -qc "create database $db"
  run_on PostgreSQL "${PG_ADMIN%/*}/$db"
  psql "$PG_ADMIN" -qc "drop database if exists $db with (force)"
else
  echo "PostgreSQL not reachable at $PG_ADMIN: skipped"
fi
