#!/usr/bin/env bash
# `npm run add-provider -- <name> <spec-file> [--force] [--origin <https://host>] [--allow-http]`:
# a new provider from its OpenAPI spec (JSON or YAML), built and ready to deploy.
#   1. capa-gen add: installs the spec in openapi/<name>/, writes capa.toml inferred from the
#      spec (saying what it inferred and what it flags), adds [env.<name>] to wrangler.toml, locks
#      the spec, generates generated/<name>/ and runs the deploy check;
#   2. builds the Worker as deployed (wrangler deploy --dry-run --outdir dist/<name>);
#   3. prints the next steps (capa-gen guide <name>).
# A spec path is read relative to the directory npm was run from.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
here="${INIT_CWD:-$PWD}"

args=()
name=""
positional=0
expect_value=0
for a in "$@"; do
  if [ "$a" = "--help" ] || [ "$a" = "-h" ] || [ "$a" = "help" ]; then
    cd "$ROOT" && cargo run -q --release -p capa-gen -- help add
    echo "npm run add-provider also builds the Worker (dist/<name>) and prints the next steps." >&2
    exit 0
  fi
  if [ "$expect_value" = 1 ]; then args+=("$a"); expect_value=0; continue; fi
  case "$a" in
    --origin) args+=("$a"); expect_value=1 ;;
    --*) args+=("$a") ;;
    *)
      positional=$((positional + 1))
      if [ "$positional" = 1 ]; then name="$a"; args+=("$a")
      # The spec, from where the user stands.
      elif [ "$positional" = 2 ] && [ "${a:0:1}" != / ]; then args+=("$here/$a")
      else args+=("$a"); fi ;;
  esac
done
if [ "$positional" != 2 ]; then
  echo "usage: npm run add-provider -- <name> <spec-file> [--force] [--origin <https://host>] [--allow-http]" >&2
  exit 2
fi

cd "$ROOT"
started=$(date +%s%N)
cargo run -q --release -p capa-gen -- add "${args[@]}"

echo "== build $name (wrangler deploy --dry-run --outdir dist/$name --env $name)" >&2
mkdir -p dist && rm -rf "dist/$name"
log="dist/$name.build.log"
wrangler deploy --dry-run --outdir "dist/$name" --env "$name" > "$log" 2>&1 || { cat "$log" >&2; exit 1; }
grep -E "Total Upload" "$log" >&2 || true
elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
echo "add-provider: $name built in $((elapsed / 1000)).$(( (elapsed % 1000) / 100 )) s (dist/$name/)" >&2
echo
cargo run -q --release -p capa-gen -- guide "$name"
