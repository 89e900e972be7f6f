#!/bin/bash
# The module inside its application (run by tests/pam/run-pam-test.sh:
# pam_wrapper, nss_wrapper, a test root; service sshd = pam_matrix, then
# pam_sspr).  ATTACK_MODE:
#   hostile   a hostile conversation (no reply array, NULL, empty and
#             1 MiB replies, conversation errors, a 1 MiB new password
#             after a right code): never PAM_SUCCESS, never a crash; under
#             valgrind when it is there (no memory error)
#   valgrind  1000 authentications under valgrind --track-fds=yes
#             --leak-check=full --error-exitcode=1: no leak, no memory
#             error, no fd or heap growth (the application counts fds and
#             heap in use, without valgrind first; valgrind's fd list at
#             exit matches a 10-round run).  One authentication in ten
#             starts the helper (the others end at the offer), to keep the
#             run within ~3 minutes on 2 cores; ATTACK_AUTHS=N changes N.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${SSPR_ROOT:?run me with run-pam-test.sh}"
export SSPR_NOW=$NOW
cat > "$SSPR_TEST_CONF" <<C
services = sshd
use_pwquality = no
hash = sha512
global_rate = 100000
deny = 1000
hard_deny = 1000
rhost_deny = 1000
C
printf 'alice:$6$abc$def:19000:0:99999:7:::\n' > "$SSPR_ROOT/etc/shadow"
"$ENROLL" alice "$SECRET" totp >/dev/null
vg=(valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --track-fds=yes --keep-debuginfo=yes)
have_vg=0
if command -v valgrind >/dev/null && ! is_sanitized "$MODULE"; then have_vg=1; fi

case $ATTACK_MODE in
hostile)
	run=()
	[ "$have_vg" = 1 ] && run=("${vg[@]}" --log-file="$SSPR_ROOT/vg.log")
	rc=0
	"${run[@]}" "$PAMAPP" hostile "$(totp_at "$NOW")" > "$SSPR_ROOT/out" 2>&1 || rc=$?
	cat "$SSPR_ROOT/out"
	[ "$have_vg" = 1 ] && cat "$SSPR_ROOT/vg.log"
	[ "$rc" = 0 ] || fail "the application ended with $rc"
	[ "$(grep -c ': refused' "$SSPR_ROOT/out")" = 8 ] || fail "not every case was refused"
	grep -q '^right code, then a 1 MiB new password: refused.*, [3-9] module prompts' "$SSPR_ROOT/out" \
		|| fail "the 1 MiB password case never reached the new-password prompts"
	pass "NULL, empty, 1 MiB replies and conversation errors: refused, no crash$([ "$have_vg" = 1 ] && echo ', no memory error under valgrind')"
	;;
valgrind)
	[ "$have_vg" = 1 ] || skip "valgrind missing, or a sanitizer build (valgrind cannot run ASan code)"
	n=${ATTACK_AUTHS:-1000}
	# first without valgrind, which keeps its own books: the heap in use
	"$PAMAPP" loop "$n" || fail "$n authentications: fds or heap grew"
	for rounds in 10 "$n"; do
		rc=0
		"${vg[@]}" --log-file="$SSPR_ROOT/vg.$rounds" "$PAMAPP" loop "$rounds" > "$SSPR_ROOT/out.$rounds" 2>&1 || rc=$?
		cat "$SSPR_ROOT/out.$rounds"
		if [ "$rc" != 0 ]; then
			cat "$SSPR_ROOT/vg.$rounds"
			fail "$rounds authentications under valgrind: exit $rc"
		fi
	done
	fds() { sed -nE 's/^==[0-9]+== FILE DESCRIPTORS: ([0-9]+) open.*/\1/p' "$1" | head -1; }
	a=$(fds "$SSPR_ROOT/vg.10") b=$(fds "$SSPR_ROOT/vg.$n")
	[ -n "$a" ] && [ "$a" = "$b" ] || { cat "$SSPR_ROOT/vg.$n"; fail "fds open at exit: $a after 10 rounds, $b after $n"; }
	pass "$n authentications under valgrind: no leak, no memory error, fds at exit $a as after 10, no heap growth"
	;;
esac
