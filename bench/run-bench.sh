#!/bin/bash
# Run the shadow rewrite benchmark (bench/sspr-bench.c): ours, ours through
# a fresh process, chpasswd -e -R and the floor, side by side, at 1,000 to
# 1,000,000 users.  Root for the chpasswd column (chpasswd -R chroots).
# Takes a few minutes and about 1 GB of disk at 1,000,000 users.
# usage: bench/run-bench.sh [BUILDDIR] [sspr-bench options: -n RUNS -d DIR -s SIZES]
#   e.g. bench/run-bench.sh build -n 5 -s 1000,10000,100000
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
[ $# -gt 0 ] && shift
bin=$build/bench/sspr-bench
if [ ! -x "$bin" ]; then
	echo "run-bench.sh: $bin missing; build it first: ninja -C $build bench/sspr-bench" >&2
	exit 1
fi
[ "$(id -u)" = 0 ] || echo "run-bench.sh: not root: the chpasswd column is left out" >&2
echo "machine: $(nproc) CPUs, $(uname -sr), $(. /etc/os-release && echo "$PRETTY_NAME")"
exec "$bin" "$@"
