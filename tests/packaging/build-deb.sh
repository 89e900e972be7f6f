#!/bin/bash
# build-deb.sh SRCDIR CACHEDIR: `dpkg-buildpackage -us -uc -b` of a copy of
# SRCDIR (without build*/, builddir/, .git), once per content of the tree:
# the products (.deb, .changes, .buildinfo) and the build log land in
# CACHEDIR/<sha256 of the tree's files but tests/>/, and a second call for
# the same tree (test-deb.sh, then test-deb-install.sh) reuses them.  Calls are
# serialised with flock on CACHEDIR/lock; older builds are removed.
# Prints the directory of the products on stdout; the build's output goes
# to its build.log (its tail to stderr on failure).
# Exit: 0 built or reused, 1 the build failed.
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: build-deb.sh SRCDIR CACHEDIR" >&2
	exit 2
fi
src=$(readlink -f "$1")
mkdir -p "$2"
cache=$(readlink -f "$2")

exec 9>"$cache/lock"
timeout 400 flock 9 || { echo "build-deb: could not lock $cache" >&2; exit 1; }

# the key: every file of the tree but the build products and tests/ (the
# package is built with -Dtests=false: tests/ is not even read), by content
key=$(cd "$src" && find . \( -path './build*' -o -path ./builddir -o -path ./.git -o -path ./tests \) -prune -o \
	-type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
out=$cache/$key
if compgen -G "$out/libpam-sspr_*.deb" >/dev/null && [ -e "$out/done" ]; then
	echo "$out"
	exit 0
fi
# one tree at a time: drop older builds
find "$cache" -mindepth 1 -maxdepth 1 -type d -exec rm -rf --one-file-system {} +
mkdir -p "$out/pam-sspr"
tar -C "$src" --exclude='./build*' --exclude='./builddir' --exclude='./.git' -cf - . |
	tar -C "$out/pam-sspr" -xf -
if ! (cd "$out/pam-sspr" && timeout -k 10 300 dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	tail -40 "$out/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
	rm -rf --one-file-system "$out/pam-sspr"
	exit 1
fi
rm -rf --one-file-system "$out/pam-sspr"
: >"$out/done"
echo "$out"
