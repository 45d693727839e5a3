#!/usr/bin/env bash
# Benchmarks (not tests): builds the Stripe and Petstore Workers as deployed, then measures
# bundle size, cold start, per-call cost and concurrency against a plain-JS twin and a direct
# fetch, and the generator's speed; prints one table and writes bench/RESULTS.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/setup.sh
cargo build -q --release -p capa-gen
mkdir -p dist
for provider in stripe petstore github twitch; do
  rm -rf "dist/$provider"
  wrangler deploy --dry-run --outdir "dist/$provider" --env "$provider" > "dist/$provider.build.log" 2>&1 || { cat "dist/$provider.build.log"; exit 1; }
done
node bench/run.mjs
