#!/usr/bin/env bash
# `npm start [-- <provider>]`: a capability Worker and the demo caller Worker under `wrangler dev`
# on 127.0.0.1:8787, the capability calling a mock of its API on 127.0.0.1:12111 through the
# loopback origin override. Installs everything it needs first. Ctrl-C stops all.
#
# Stripe (the default) calls stripe-mock, Stripe's own validator, which answers with Stripe's
# fixtures and refuses a malformed call as Stripe would; UPSTREAM=recording uses demo/upstream.mjs
# instead, which logs the exact requests it receives. Any other provider calls a mock Prism builds
# from its own spec (scripts/mock.mjs), printing each request with Prism's verdict; the demo
# caller's `/call/<resource.method>` route calls any of its methods.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
provider="${1:-stripe}"
case "$provider" in
  --help|-h|help) echo "usage: npm start [-- <provider>]   (default stripe; providers: $(ls openapi | tr '\n' ' '))" >&2; exit 0 ;;
esac
if [ ! -f "openapi/$provider/capa.toml" ]; then
  echo "npm start: no provider $provider (openapi/$provider/capa.toml); add one with npm run add-provider -- $provider <spec>" >&2
  exit 2
fi
bash scripts/setup.sh

UPSTREAM_PORT="${UPSTREAM_PORT:-12111}"
PORT="${PORT:-8787}"
# Local secrets and vars for `wrangler dev --env <provider>` (gitignored).
vars=".dev.vars.$provider"
if [ ! -f "$vars" ]; then
  if [ "$provider" = stripe ]; then
    # A demo key, never a real one (alphanumeric after sk_test_: stripe-mock refuses keys that do
    # not look like Stripe's).
    cat > .dev.vars.stripe <<VARS
STRIPE_API_KEY=sk_test_DemoNotARealKey0000
CAPA_LOOPBACK_ORIGIN=http://127.0.0.1:$UPSTREAM_PORT
VARS
  else
    # A demo value for every handle the deploy check names (the mock checks only that one is sent).
    cargo run -q --release -p capa-gen -- verify "$provider" | sed -n 's/^  handle \([A-Z0-9_]*\): wrangler secret put .*/\1/p' | sort -u \
      | while read -r handle; do echo "$handle=demo-$(echo "$handle" | tr 'A-Z_' 'a-z-')"; done > "$vars"
    echo "CAPA_LOOPBACK_ORIGIN=http://127.0.0.1:$UPSTREAM_PORT" >> "$vars"
  fi
fi

if [ "$provider" != stripe ]; then
  node scripts/mock.mjs "$provider" "$UPSTREAM_PORT" &
elif [ "${UPSTREAM:-stripe-mock}" = recording ]; then
  PORT="$UPSTREAM_PORT" node demo/upstream.mjs &
else
  # Both listeners on 127.0.0.1: given one, stripe-mock opens the other on every interface.
  PORT= .tools/stripe-mock/stripe-mock -http-addr "127.0.0.1:$UPSTREAM_PORT" -https-addr "127.0.0.1:$((UPSTREAM_PORT + 1))" &
fi
upstream=$!
trap 'kill $upstream 2>/dev/null || true' EXIT

demo=demo/wrangler.toml
if [ "$provider" = stripe ]; then
  # The agent door (door/, docs/door.md) on $DOOR_PORT, bound to the same Stripe capability (found
  # through wrangler's dev registry), with random keys for development written once (gitignored).
  DOOR_PORT="${DOOR_PORT:-8788}"
  if [ ! -f door/.dev.vars.stripe ]; then
    node -e 'const r = () => require("crypto").randomBytes(32).toString("base64url");
      console.log(`DOOR_TOKEN_KEY=${r()}\nDOOR_SEAL_KEY=${r()}\nDOOR_ADMIN_SECRET=${r()}`)' > door/.dev.vars.stripe
  fi
  wrangler dev -c door/wrangler.toml --env stripe --ip 127.0.0.1 --port "$DOOR_PORT" --inspector-port 0 --show-interactive-dev-session=false &
  door=$!
  trap 'kill $upstream $door 2>/dev/null || true' EXIT
  echo "dev: try  curl -s http://127.0.0.1:$PORT/customers/cus_123" >&2
  echo "dev: the MCP door on http://127.0.0.1:$DOOR_PORT/mcp; a token:  npm run grant -- stripe" >&2
else
  # The demo caller bound to this provider: a config of its own, beside demo/wrangler.toml
  # (demo/.wrangler/ is gitignored).
  binding=$(sed -n 's/^binding *= *"\([A-Z0-9_]*\)".*/\1/p' "openapi/$provider/capa.toml")
  mkdir -p demo/.wrangler
  demo="demo/.wrangler/$provider.toml"
  cat > "$demo" <<TOML
# Written by scripts/dev.sh: the demo caller bound to capa-$provider.
name = "capa-demo"
main = "../caller.js"
compatibility_date = "2026-11-01"

[env.$provider]
name = "capa-demo"
services = [{ binding = "$binding", service = "capa-$provider" }]
vars = { CAPA_BINDING = "$binding" }
TOML
  example=$(cargo run -q --release -p capa-gen -- methods "$provider" | sed -n '3s/(.*//p')
  echo "dev: try  curl -s -X POST http://127.0.0.1:$PORT/call/$example -d '[...]'   (methods: npm run methods -- $provider)" >&2
fi
# The demo caller first: its fetch is what listens on $PORT; the capability's own fetch is closed.
wrangler dev -c "$demo" -c wrangler.toml --env "$provider" --ip 127.0.0.1 --port "$PORT" --show-interactive-dev-session=false
