#!/usr/bin/env bash
# Builds Supportal in release mode and serves it at http://127.0.0.1:3000 on the
# embedded SQLite database in ./data/, with demo users (their sign-ins are printed).
# Extra arguments go to the server, e.g. ./scripts/run.sh --bind 0.0.0.0:8080
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$HOME/.cargo/bin:${SUPPORTAL_TOOLS_DIR:-$HOME/.cache/supportal-tools}/node_modules/.bin:$PATH"
./scripts/build.sh
exec ./target/release/supportal --demo "$@"
