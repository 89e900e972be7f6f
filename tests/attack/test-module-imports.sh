#!/bin/bash
# The module lives inside sshd: it must never end its host.  Its dynamic
# imports (nm -D) hold no exit, abort, assert or err()-style function.
# _exit is allowed only where a forked child ends after a failed execve:
# every function of the module that calls _exit also calls execve
# (objdump).  The compiler's own aborts on memory corruption
# (__stack_chk_fail, the __*_chk of _FORTIFY_SOURCE) are the hardening
# and are expected.
# usage: test-module-imports.sh MODULE
set -euo pipefail
mod=$1
command -v nm >/dev/null && command -v objdump >/dev/null || { echo "SKIP: binutils missing"; exit 77; }
imports=$(nm -D --undefined-only "$mod" | awk '{ print $NF }' | sed 's/@.*//')
bad=$(grep -xE 'exit|_Exit|quick_exit|abort|__assert_fail|__assert_perror_fail|__assert|err|errx|verr|verrx|error|error_at_line|pthread_exit|exit_group|raise|sodium_misuse|__libc_fatal' <<<"$imports" || true)
[ -z "$bad" ] || { echo "FAIL: pam_sspr.so imports $(tr '\n' ' ' <<<"$bad")"; exit 1; }
if grep -qx _exit <<<"$imports"; then
	# the functions that call _exit@plt and those that call execve@plt
	funcs() {
		objdump -d --no-show-raw-insn "$mod" | awk -v t="<$1@plt>" '
			/^[0-9a-f]+ <.*>:$/ { f = $2 }
			index($0, "call") && index($0, t) { print f }' | sort -u
	}
	ex=$(funcs _exit) ev=$(funcs execve)
	[ -n "$ex" ] || { echo "FAIL: _exit imported but no call found (objdump)"; exit 1; }
	stray=$(comm -23 <(echo "$ex") <(echo "$ev"))
	[ -z "$stray" ] || { echo "FAIL: _exit called outside the spawn child: $stray"; exit 1; }
	echo "  _exit only in $(tr '\n' ' ' <<<"$ex")(which execs the helper: the forked child)"
fi
grep -qx __stack_chk_fail <<<"$imports" && echo "  __stack_chk_fail: the stack protector's abort (expected)"
echo "PASS: no exit, abort, assert or err() import in pam_sspr.so ($(wc -l <<<"$imports") imports)"
