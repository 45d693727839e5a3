# Sourced by the other scripts: puts the project's own tools first on PATH and keeps wrangler
# offline. Nothing here installs; scripts/setup.sh does.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$ROOT/node_modules/.bin:$ROOT/.tools/bin:$HOME/.cargo/bin:$PATH"
# worker-build looks each tool up as <NAME>_BIN before trying to download it (there is no internet).
export WASM_BINDGEN_BIN="$ROOT/.tools/bin/wasm-bindgen"
export ESBUILD_BIN="$ROOT/node_modules/@esbuild/linux-x64/bin/esbuild"
export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"
# wrangler: no metrics, no update check, no cf.json fetch, no error reports.
export WRANGLER_SEND_METRICS=false
export WRANGLER_HIDE_BANNER=true
export CLOUDFLARE_CF_FETCH_ENABLED=false
export WRANGLER_SEND_ERROR_REPORTS=false
export CARGO_TERM_PROGRESS_WHEN=never
