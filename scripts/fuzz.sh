#!/usr/bin/env bash
# The fuzz targets (tests/fuzz_*.rs: request builder, redaction, JSON reader), each for the given
# number of minutes (default 10), two at a time on two cores. `npm run fuzz -- 1` for a minute.
# A failure prints the minimal input and the seed that replays it (CAPA_FUZZ_SEED).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
minutes="${1:-10}"
seconds=$((minutes * 60))
cargo test -q --release --no-run --test fuzz_request --test fuzz_redact --test fuzz_parse
status=0
run() { CAPA_FUZZ_SECONDS="$seconds" cargo test -q --release --test "$1" -- --nocapture 2>&1 | grep -E "^fuzz|panicked|minimal|replay|^    " || true; }
run fuzz_request > dist/fuzz_request.log & a=$!
run fuzz_redact > dist/fuzz_redact.log & b=$!
wait $a $b || status=1
run fuzz_parse > dist/fuzz_parse.log || status=1
cat dist/fuzz_request.log dist/fuzz_redact.log dist/fuzz_parse.log
if grep -q "panicked" dist/fuzz_*.log; then status=1; fi
exit $status
