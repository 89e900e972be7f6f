#!/bin/bash
# Enumeration benchmark: bench/run-enum-bench.sh BUILDDIR [SAMPLES]
# Runs bench_enum in a sandbox root (the PAM tests' runner).
set -euo pipefail
b=$(cd "${1:?usage: run-enum-bench.sh BUILDDIR [SAMPLES]}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
ninja -C "$b" bench/bench_enum >/dev/null
confdir=$("$b/bench/bench_enum" --confdir)
ninja -C "$b" bench/bench_enum pam_sspr/helper/sspr-helper pam_sspr/pam_sspr.so >/dev/null
SSPR_BENCH_SAMPLES=${2:-200} exec "$src/tests/pam/run-pam-test.sh" "$b/bench/bench_enum" "$b/pam_sspr/pam_sspr.so" \
	"$b/pam_sspr/helper/sspr-helper" "$confdir" "$src" </dev/null
