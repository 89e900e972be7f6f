#!/bin/bash
# Run every fuzz target under libFuzzer for SECONDS (default 60) each,
# growing the committed corpora. usage: tests/fuzz/run-fuzz.sh [SECONDS]
set -euo pipefail
secs=${1:-60}
src=$(cd "$(dirname "$0")/../.." && pwd)
b=$src/build-fuzz
if [ ! -d "$b" ]; then
	CC=clang meson setup "$b" "$src" -Dfuzzing=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dtests=true
fi
ninja -C "$b"
for t in proto config record shadow base32 rc tally journal; do
	echo "== fuzz_$t for ${secs}s"
	mkdir -p "$b/new-$t"
	"$b/tests/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
		"$b/new-$t" "$src/tests/fuzz/corpus/$t" 2>&1 | tail -n 12
	"$b/tests/fuzz/fuzz_$t" -merge=1 "$src/tests/fuzz/corpus/$t" "$b/new-$t" >/dev/null 2>&1
done
