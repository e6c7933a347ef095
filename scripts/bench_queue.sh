#!/usr/bin/env bash
# Queue benchmark (numbers, not pass/fail): 100,000 tickets, then the server-rendered queue page (50 rows) under
# 32 concurrent clients beside a bare axum "hello" handler measured in the same run, the queue's query plans,
# and queue::load latencies; on a fresh SQLite file and, when reachable, a fresh PostgreSQL database.
# Needs: a release build (./scripts/run.sh or cargo leptos build --release), wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "install wrk first: apt-get install -y wrk" >&2; exit 1; }
cargo build --release -p supportal --example queue_bench -q
PORT=${BENCH_PORT:-3200}
ADDR=127.0.0.1:$PORT
HELLO=127.0.0.1:$((PORT + 1))
TICKETS=${BENCH_TICKETS:-100000}
PG_ADMIN=${SUPPORTAL_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
work=$(mktemp -d)
server=; hello=
trap 'kill $server $hello 2>/dev/null || true; rm -rf "$work"' EXIT

./target/release/examples/queue_bench hello "$HELLO" >/dev/null &
hello=$!

rps() { wrk -t2 -c32 -d10s --latency "$@" | tee "$work/wrk.txt" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx" >&2; awk '/Requests\/sec/ {print $2}' "$work/wrk.txt"; }

run_on() {
  local label=$1 url=$2
  SUPPORTAL_SIGNIN_ATTEMPTS=1000 RUST_LOG=warn \
    ./target/release/supportal --demo --bind "$ADDR" --database-url "$url" >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -sf "http://$ADDR/readyz" >/dev/null && break; sleep 0.2; done
  echo "== $label: seeding $TICKETS tickets"
  ./target/release/examples/queue_bench seed "$url" "$TICKETS"
  local cookie
  cookie=$(curl -s -D - -o /dev/null -X POST "http://$ADDR/api/v1/auth/session" -H 'content-type: application/json' \
    -d '{"email":"l1@demo.supportal.test","password":"supportal-demo"}' | sed -nE 's/^[Ss]et-[Cc]ookie: ([^;]+);.*/\1/p' | head -n1)
  curl -sf -H "Cookie: $cookie" "http://$ADDR/queue?view=all" | grep -o 'data-testid="queue-row"' | wc -l |
    sed 's/^/   rows in the SSR page: /'
  echo "== $label: SSR queue page (50 rows), 32 clients, 10 s"
  local page_rps hello_rps
  page_rps=$(rps -H "Cookie: $cookie" "http://$ADDR/queue?view=all")
  echo "== $label: bare axum hello, 32 clients, 10 s (same run)"
  hello_rps=$(rps "http://$HELLO/")
  awk -v p="$page_rps" -v h="$hello_rps" 'BEGIN { printf "== %s: queue page %.0f req/s = %.1f %% of hello %.0f req/s\n", "'"$label"'", p, 100 * p / h, h }'
  kill "$server"; wait "$server" 2>/dev/null || true
}

run_on SQLite "sqlite://$work/bench.db"
if psql "$PG_ADMIN" -qc 'select 1' >/dev/null 2>&1; then
  db=supportal_queue_bench_$$
  psql "$PG_ADMIN" -qc "create database $db"
  run_on PostgreSQL "${PG_ADMIN%/*}/$db"
  psql "$PG_ADMIN" -qc "drop database if exists $db with (force)"
else
  echo "PostgreSQL not reachable at $PG_ADMIN: skipped"
fi
