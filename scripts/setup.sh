#!/usr/bin/env bash
# Installs everything the project needs, idempotently: npm packages (Node 22, wrangler,
# miniflare, esbuild, binaryen), the wasm32 Rust target, and worker-build + wasm-bindgen-cli
# into .tools/ at the versions the build pins. A second run does nothing and takes a second.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

WORKER_BUILD_VERSION=0.8.7
# Must equal the wasm-bindgen crate in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)

# `npm install` with the committed lock leaves it unchanged (it lists workerd's builds for every
# platform, as the registry now has them); unlike `npm ci` it keeps a current node_modules as it is.
if [ ! -x node_modules/.bin/wrangler ] || [ ! -x node_modules/.bin/node ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm install" >&2
  npm install --no-audit --no-fund --loglevel=error
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  echo "setup: rustup target add wasm32-unknown-unknown" >&2
  rustup target add wasm32-unknown-unknown
fi

pids=()
if [ "$(.tools/bin/worker-build --version 2>/dev/null)" != "$WORKER_BUILD_VERSION" ]; then
  echo "setup: cargo install worker-build $WORKER_BUILD_VERSION (a few minutes, once)" >&2
  cargo install -q worker-build --version "=$WORKER_BUILD_VERSION" --locked --root .tools &
  pids+=($!)
fi
if ! .tools/bin/wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  echo "setup: cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)" >&2
  # Not --locked: its lock wants a crate version this registry lacks.
  cargo install -q wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --root .tools &
  pids+=($!)
fi
for pid in "${pids[@]}"; do wait "$pid"; done

# stripe-mock, Stripe's own validator (the conformance suite, `npm start`'s upstream), at the
# version whose embedded spec is openapi/stripe/spec3.json. Where the Go module proxy answers,
# `go install` fetches it; offline, it is built from the shared tools' vendored source
# (tools/stripe-mock in $CAPA_SHARED, in the `shared/` directory beside this checkout, or beside
# the checkout this one was cloned from), whose
# build installs Debian's golang-go when go is missing. Nothing happens when the binary is there.
STRIPE_MOCK_VERSION=v0.186.0
if ! .tools/stripe-mock/stripe-mock -version 2>/dev/null | grep -q "$STRIPE_MOCK_VERSION"; then
  mkdir -p .tools/stripe-mock
  installed=""
  if command -v go >/dev/null && timeout 10 go list -m "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION" >/dev/null 2>&1; then
    echo "setup: go install github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION" >&2
    GOBIN="$ROOT/.tools/stripe-mock" CGO_ENABLED=0 go install -trimpath -ldflags "-X main.version=$STRIPE_MOCK_VERSION" "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION" && installed=1
  fi
  if [ -z "$installed" ]; then
    shared=""
    # A clone made elsewhere (CI clones the working checkout to a fresh directory) looks beside
    # the checkout it was cloned from too, when that is a directory on this machine.
    origin=$(git -C "$ROOT" config --get remote.origin.url 2>/dev/null || true)
    cloned_from=""
    if [ -n "$origin" ] && [ -d "$origin" ]; then cloned_from="$origin/../shared"; fi
    for candidate in "${CAPA_SHARED:-}" "$ROOT/../shared" "$cloned_from"; do
      if [ -n "$candidate" ] && [ -f "$candidate/tools/stripe-mock/build.sh" ]; then shared="$candidate"; break; fi
    done
    if [ -z "$shared" ]; then
      echo "setup: cannot get stripe-mock $STRIPE_MOCK_VERSION: the Go module proxy did not answer (is go installed, the network up?) and no shared tools are at \$CAPA_SHARED, ../shared or beside the origin checkout (set CAPA_SHARED to the directory holding tools/stripe-mock)" >&2
      exit 1
    fi
    bash "$shared/tools/stripe-mock/build.sh" .tools/stripe-mock
  fi
fi
