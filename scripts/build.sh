#!/usr/bin/env bash
# The release build: target/release/supportal and the front end in target/site, the front end's files with
# content hashes in their names (hash-files in Cargo.toml) and a brotli-11 and gzip twin written beside every
# static file (--precompress), which the server sends instead of compressing per request.
# Extra arguments go to cargo leptos. Run ./scripts/setup.sh once first (run.sh and test.sh do).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:${SUPPORTAL_TOOLS_DIR:-$HOME/.cache/supportal-tools}/node_modules/.bin:$PATH"
cargo leptos build --release --precompress "$@"
