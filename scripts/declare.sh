#!/usr/bin/env bash
# `npm run declare -- <provider> <folder>`: <folder>/<provider>.d.ts, the provider's types for a
# caller Worker in its own repository (one file, needing only @cloudflare/workers-types), and the
# [[services]] block for that caller's wrangler.toml. Run it again after a spec upgrade
# (docs/providers.md, "Callers in their own repositories"). The folder is read relative to the
# directory npm was run from.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
here="${INIT_CWD:-$PWD}"
if [ "$#" != 2 ] || [ "${1:-}" = --help ]; then
  echo "usage: npm run declare -- <provider> <folder>" >&2
  [ "${1:-}" = --help ] && exit 0 || exit 2
fi
folder="$2"
[ "${folder:0:1}" = / ] || folder="$here/$folder"
cd "$ROOT"
cargo run -q --release -p capa-gen -- declare "$1" "$folder"
