#!/usr/bin/env bash
# The full test suite: build, static checks, then unit, end-to-end and integration tests in one mocha run.
# Integration tests start real etcd, ZooKeeper, Consul, Redis and Prometheus servers (and 3-member etcd and
# ZooKeeper clusters) on 127.0.0.1 through scripts/stores.sh (installing them when missing) and stop them when
# mocha ends.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== build"
npm run --silent build
echo "== typecheck (src + tests)"
npx tsc -p tsconfig.test.json
echo "== eslint"
npx eslint .
echo "== prettier"
npx prettier --check .

echo "== mocha"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
npx mocha --require test/integration/support/global-teardown.ts \
  'test/unit/**/*.test.ts' 'test/e2e/**/*.test.ts' 'test/integration/**/*.test.ts' 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# mocha prints no "failing" line when nothing failed: a grep without a match must not end the script.
passed=$(grep -Eo '^ *[0-9]+ passing' "$log" | grep -Eo '[0-9]+' | tail -1 || true)
failed=$(grep -Eo '^ *[0-9]+ failing' "$log" | grep -Eo '[0-9]+' | tail -1 || true)
# A plain closing line that any CI log reader understands.
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$status"
