#!/usr/bin/env bash
# Outbox benchmark (numbers, not pass/fail): queueing and delivering webhook events to a local receiver,
# with one worker and with four at once, on a fresh SQLite file and, when reachable, a fresh PostgreSQL
# database. See server/examples/outbox_bench.rs. Usage: ./scripts/bench_outbox.sh [EVENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-2000}
PG_ADMIN=${SUPPORTAL_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
cargo build --release -p supportal --example outbox_bench -q
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== SQLite"
./target/release/examples/outbox_bench "sqlite://$work/outbox.db" "$EVENTS"
if command -v psql >/dev/null && psql "$PG_ADMIN" -qc 'SELECT 1' >/dev/null 2>&1; then
  db="supportal_outbox_bench_$$"
  psql "$PG_ADMIN" -qc "CREATE DATABASE $db"
  echo "== PostgreSQL"
  ./target/release/examples/outbox_bench "${PG_ADMIN%/*}/$db" "$EVENTS" || true
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
else
  echo "== PostgreSQL not reachable at $PG_ADMIN: skipped"
fi
