#!/usr/bin/env bash
# Runs every test suite: Rust unit and integration tests on SQLite and on
# PostgreSQL (when reachable; SUPPORTAL_REQUIRE_PG=1 makes it mandatory), then
# the browser tests in headless Chromium at phone and desktop sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --test
export PATH="$HOME/.cargo/bin:${SUPPORTAL_TOOLS_DIR:-$HOME/.cache/supportal-tools}/node_modules/.bin:$PATH"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Rust: domain and unit tests (app)"
cargo test -p app --features ssr

step "Rust: server unit and integration tests (SQLite and PostgreSQL)"
cargo test -p supportal

step "Release build (server + WASM)"
./scripts/build.sh

step "Browser tests (Playwright, Debian chromium; phone 360x740 and desktop 1280x800)"
cd end2end
npx playwright test
