#!/usr/bin/env bash
# Every operation of every provider's spec, through the built capability Workers, against the
# independent validators (tests/conformance/). Part of `npm test`; this runs it alone, building
# the Workers it needs first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/setup.sh
mkdir -p dist
for provider in stripe petstore github twitch; do
  rm -rf "dist/$provider"
  wrangler deploy --dry-run --outdir "dist/$provider" --env "$provider" > "dist/$provider.build.log" 2>&1 || { cat "dist/$provider.build.log"; exit 1; }
done
node --test --test-timeout=600000 --test-concurrency=1 "tests/conformance/*.test.mjs"
