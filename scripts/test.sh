#!/usr/bin/env bash
# Installs everything (idempotently) and runs every test:
#   1. native `cargo test`: the runtime's pure logic, and the generator's golden files; then
#      `tsc` over a caller written against the generated declarations;
#   2. each provider built as deployed (`wrangler deploy --dry-run --outdir dist/<provider>`);
#   3. node:test suites running those bundles in workerd through Miniflare, called over a
#      service binding from a caller Worker, against a recording upstream on 127.0.0.1, and the
#      conformance suites against independent validators (stripe-mock).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/setup.sh

echo "== cargo test (native)" >&2
cargo test -q --workspace

# A caller Worker per provider, typed as Workers developers type one (`Service<...>` from
# @cloudflare/workers-types), each with mistakes the types must catch (`@ts-expect-error`).
echo "== TypeScript declarations (tsc)" >&2
tsc --noEmit --strict --target es2022 --lib esnext --module esnext --moduleResolution bundler --types @cloudflare/workers-types tests/types/*.ts

# Every provider with a manifest (openapi/<provider>/capa.toml, and the auth fixtures in
# tests/fixtures/auth/, the wire fixtures in tests/fixtures/wire/), each a wrangler env.
for provider in $(for m in openapi/*/capa.toml tests/fixtures/auth/*/capa.toml tests/fixtures/wire/*/capa.toml; do basename "$(dirname "$m")"; done); do
  echo "== build $provider (wrangler deploy --dry-run)" >&2
  rm -rf "dist/$provider" && mkdir -p dist
  log="dist/$provider.build.log"
  wrangler deploy --dry-run --outdir "dist/$provider" --env "$provider" > "$log" 2>&1 || { cat "$log"; exit 1; }
  grep -E "Total Upload" "$log" >&2 || true
done

# The MCP door (door/), bound in its tests to the Stripe and GitHub builds above.
echo "== build mcp (wrangler deploy --dry-run)" >&2
rm -rf dist/mcp && mkdir -p dist
wrangler deploy --dry-run --outdir dist/mcp --env mcp > dist/mcp.build.log 2>&1 || { cat dist/mcp.build.log; exit 1; }
grep -E "Total Upload" dist/mcp.build.log >&2 || true

echo "== workerd tests (Miniflare)" >&2
node --test --test-timeout=600000 --test-concurrency=1 "tests/*.test.mjs" "tests/security/*.test.mjs" "tests/conformance/*.test.mjs"
