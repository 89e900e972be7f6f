#!/bin/bash
# Build hardening of the three installed programs (the helper, the
# module, the CLI): PIE, full RELRO, BIND_NOW, stack protector and
# _FORTIFY_SOURCE, as Debian's hardening-check (devscripts) sees them;
# and the build's own flags (compile_commands.json): -D_FORTIFY_SOURCE=2
# or 3, -fstack-protector-strong, -fstack-clash-protection.
# usage: test-hardening.sh HELPER MODULE CLI BUILDDIR
set -euo pipefail
helper=$1 module=$2 cli=$3 builddir=$4
command -v hardening-check >/dev/null || { echo "SKIP: hardening-check missing (devscripts)"; exit 77; }
if ldd "$helper" 2>/dev/null | grep -E 'lib(asan|ubsan)\.' >/dev/null; then
	echo "SKIP: a sanitizer build (no _FORTIFY_SOURCE with ASan); the plain build runs this"
	exit 77
fi
fail=0
for b in "$helper" "$module" "$cli"; do
	out=$(hardening-check "$b" 2>&1 || true)
	echo "$out"
	for k in 'Position Independent Executable' 'Stack protected' 'Fortify Source functions' \
	         'Read-only relocations' 'Immediate binding'; do
		line=$(grep -F " $k:" <<<"$out" || true)
		case $line in
		*": yes"*) ;;
		*"no, regular shared library (ignored)"*) [ "$b" = "$module" ] || { echo "FAIL: $b: $line"; fail=1; } ;;
		*) echo "FAIL: $(basename "$b"): ${line:-$k: not reported}"; fail=1 ;;
		esac
	done
done
# the module is a shared object: its own PIE is being PIC; RELRO and
# BIND_NOW are checked above
cc=$builddir/compile_commands.json
[ -e "$cc" ] || { echo "FAIL: $cc missing"; exit 1; }
for src in pam_sspr/helper/sspr-helper.c pam_sspr/pam_sspr.c sspr-cli/main.c; do
	cmd=$(python3 -c 'import json,sys
for e in json.load(open(sys.argv[1])):
    if e["file"].endswith(sys.argv[2]): print(e["command"]); break' "$cc" "$src")
	for f in -fstack-protector-strong -fstack-clash-protection; do
		grep -q -- "$f" <<<"$cmd" || { echo "FAIL: $src built without $f"; fail=1; }
	done
	grep -Eq -- '-D_FORTIFY_SOURCE=[23]' <<<"$cmd" || { echo "FAIL: $src built without -D_FORTIFY_SOURCE=2/3"; fail=1; }
done
[ "$fail" = 0 ] || exit 1
echo "PASS: helper, module and CLI: PIE, full RELRO, BIND_NOW, stack protector, _FORTIFY_SOURCE"
