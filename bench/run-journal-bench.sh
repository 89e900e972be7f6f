#!/bin/bash
# Journal benchmark (bench/journal-bench.c): append cost at ~1,000 and at
# ~1,000,000 entries through the real sspr_journal_append, interleaved, and
# their ratio; sspr_journal_verify throughput over the big journal.
# Works in a fresh directory under /dev/shm (tmpfs) by default; about
# 420 MB there at 1,000,000 entries; building the journal takes minutes.
# usage: bench/run-journal-bench.sh [BUILDDIR] [-d DIR] [-f] [-k]
#   -f  build the big journal fast: signed in memory by sspr_journal_sign and
#       written at once (the measured appends and verify stay real)
#   SSPR_BENCH_N=200000 bench/run-journal-bench.sh build   (a quicker run)
#   SSPR_BENCH_SAMPLES=N   appends measured on each side (default 2001)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
[ $# -gt 0 ] && shift
ninja -C "$build" bench/journal-bench >/dev/null
echo "machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)), $(uname -sr), $(. /etc/os-release && echo "$PRETTY_NAME")"
echo "memory: $(awk '/^MemTotal/ {t=$2} /^MemAvailable/ {a=$2} END {printf "%.1f GB total, %.1f GB available", t/1048576, a/1048576}' /proc/meminfo)"
exec "$build/bench/journal-bench" "$@"
