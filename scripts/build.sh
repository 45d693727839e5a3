#!/usr/bin/env bash
# Builds one provider's Worker: generate its table, entry and types from openapi/<provider>/,
# then compile the runtime to wasm with that table (build/<provider>/).
# wrangler.toml's [env.<provider>] build command; `scripts/build.sh stripe` by hand.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
provider="${1:?usage: scripts/build.sh <provider>}"
cargo run -q --release -p capa-gen -- build "$provider"
CAPA_PROVIDER="$provider" worker-build --release --out-dir "build/$provider"
# Optimise without the names section; the feature list is worker-build's, so no newer encoding
# reaches workerd before it supports it. A Worker's first call compiles each wasm function it runs,
# whole: binaryen's default inlines every function with one caller however large (error paths,
# redirects, redaction) into the exports, so the first call compiled them all. Left out of line
# above 200 bytes, the first call compiles ~35 % less (bench/diag/first-call.mjs).
# Exports of the worker crate for features this runtime never uses go first, so that wasm-opt
# drops what only they reach (scripts/unexport.mjs).
node scripts/unexport.mjs "build/$provider/index_bg.wasm"
# CAPA_WASM_NAMES=1 keeps the names section, for diagnostics that name wasm functions
# (bench/diag/first-compile.mjs); never for a deployed build (+~20 KiB gzip).
wasm-opt "build/$provider/index_bg.wasm" -O --one-caller-inline-max-function-size 200 ${CAPA_WASM_NAMES:+-g} -o "build/$provider/index_bg.wasm" \
  --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int --enable-bulk-memory \
  --enable-multivalue --enable-reference-types --enable-exception-handling
