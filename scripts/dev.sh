#!/usr/bin/env bash
# The main job, locally: the Stripe capability Worker and the demo caller Worker under
# `wrangler dev` on 127.0.0.1:8787, calling stripe-mock (Stripe's own validator, which answers
# with Stripe's fixtures and refuses a malformed call as Stripe would) on 127.0.0.1:12111 through
# the loopback origin override. UPSTREAM=recording uses demo/upstream.mjs instead, which logs the
# exact requests it receives. Installs everything it needs first. Ctrl-C stops all.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/setup.sh

UPSTREAM_PORT="${UPSTREAM_PORT:-12111}"
PORT="${PORT:-8787}"
# Local secrets and vars for `wrangler dev --env stripe` (gitignored). A demo key, never a real one
# (alphanumeric after sk_test_: stripe-mock refuses keys that do not look like Stripe's).
if [ ! -f .dev.vars.stripe ]; then
  cat > .dev.vars.stripe <<VARS
STRIPE_API_KEY=sk_test_DemoNotARealKey0000
CAPA_LOOPBACK_ORIGIN=http://127.0.0.1:$UPSTREAM_PORT
VARS
fi

if [ "${UPSTREAM:-stripe-mock}" = recording ]; then
  PORT="$UPSTREAM_PORT" node demo/upstream.mjs &
else
  # Both listeners on 127.0.0.1: given one, stripe-mock opens the other on every interface.
  PORT= .tools/stripe-mock/stripe-mock -http-addr "127.0.0.1:$UPSTREAM_PORT" -https-addr "127.0.0.1:$((UPSTREAM_PORT + 1))" &
fi
upstream=$!
trap 'kill $upstream 2>/dev/null || true' EXIT

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
# The demo caller first: its fetch is what listens on $PORT; the capability's own fetch is closed.
wrangler dev -c demo/wrangler.toml -c wrangler.toml --env stripe --ip 127.0.0.1 --port "$PORT" --show-interactive-dev-session=false
