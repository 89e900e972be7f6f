#!/bin/bash
# The audit lines of a whole PAM test run, captured from a /dev/log of our
# own: one line per event, key=value, ident sspr-helper, a session id on
# every event of a session, an unknown name only as user_hash=, and never
# a password, code or secret.
# usage: test-audit-syslog.sh WITH_DEVLOG LOGCATCH RUN_PAM_TEST TEST_BIN MODULE HELPER CONFDIR SRCDIR
set -euo pipefail
with_devlog=$1 logcatch=$2; shift 2
command -v unshare >/dev/null || { echo "SKIP: unshare missing"; exit 77; }
command -v oathtool >/dev/null || { echo "SKIP: oathtool missing"; exit 77; }
out=$(mktemp /tmp/sspr-audit.XXXXXX)
trap 'rm -f "$out"' EXIT

set +e
LOGCATCH=$logcatch SSPR_DEVLOG_OUT=$out "$with_devlog" "$@" >/dev/null 2>&1
rc=$?
set -e
[ "$rc" = 125 ] && { echo "SKIP: cannot set up a private /dev/log here"; exit 77; }
[ "$rc" = 0 ] || { echo "FAIL: the PAM tests failed under capture ($rc)"; exit 1; }

fail() { echo "FAIL: $*"; exit 1; }
lines=$(grep 'sspr-helper\[' "$out" || true)
[ -n "$lines" ] || fail "no sspr-helper lines captured"
n=$(wc -l <<<"$lines")
echo "captured $n helper lines"

# the secrets of test_pam_flow.c: passwords typed, new passwords, the seed,
# and every code of the fixed test clock's window
for s in 'correct horse battery staple' 'Alice-Old-Password-1' 'wrong-password' \
	 'old-password' 'JBSWY3DPEHPK3PXP' 'jbswy3dp'; do
	if grep -qiF -- "$s" "$out"; then fail "secret '$s' in the audit log"; fi
done
for t in 1764399970 1764400000 1764400030; do
	c=$(oathtool --totp -b JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP -N "@$t")
	if grep -q -- "$c" <<<"$lines"; then
		# a 6-digit code may collide with a pid or a duration: check fields
		if grep -qE "(^|[ =\"])$c([ \"]|$)" <<<"$(sed -E 's/\[[0-9]+\]//; s/duration_ms=[0-9]+//' <<<"$lines")"; then
			fail "code $c in the audit log"
		fi
	fi
done

# every line: event= first, then key=value pairs only
bad=$(sed -E 's/^.*sspr-helper\[[0-9]+\]: //' <<<"$lines" |
	grep -vE '^event=[a-z_]+( [a-z_]+=([A-Za-z0-9._:/@+,-]+|"([^"\\]|\\.)*"))*$' || true)
[ -z "$bad" ] || fail "malformed audit lines: $bad"

# every event was journalled first: its line ends in the entry's seq=
if grep -q 'event=journal_error' <<<"$lines"; then
	fail "journal appends failed: $(grep 'event=journal_error' <<<"$lines" | head -3)"
fi
unjournalled=$(sed -E 's/^.*sspr-helper\[[0-9]+\]: //' <<<"$lines" |
	grep -v '^event=journal_start first_key=[0-9a-f]\{64\}$' | grep -vE ' seq=[1-9][0-9]*$' || true)
[ -z "$unjournalled" ] || fail "lines without a journal seq=: $(head -3 <<<"$unjournalled")"
grep -q 'event=journal_start first_key=' <<<"$lines" || fail "no journal_start line with the first key"

for ev in reset_start code_ok code_fail denied quality_fail reset_ok reset_fail; do
	grep -q "event=$ev " <<<"$lines" || fail "no $ev event"
done
grep -q 'event=reset_ok user=alice uid=1001 service=sshd .* session=[0-9a-f]\{16\} .*durable=yes' <<<"$lines" \
	|| fail "reset_ok lacks its fields"
grep -q 'event=denied user=carol .*reason=locked_password' <<<"$lines" || fail "locked reason"
grep -q 'event=denied user=bob .*reason=deny_group' <<<"$lines" || fail "deny_group reason"
grep -q 'event=denied user=dave .*reason=not_enrolled' <<<"$lines" || fail "not_enrolled reason"
grep -q 'event=denied user_hash=[0-9a-f]\{16\} .*reason=unknown_user' <<<"$lines" || fail "unknown user"
if grep -q 'ghost' "$out"; then fail "an unknown name was logged in clear"; fi
# one session id ties the lines of one reset together
sid=$(grep -o 'event=reset_ok .*' <<<"$lines" | head -1 | grep -o 'session=[0-9a-f]*')
[ "$(grep -c "$sid" <<<"$lines")" -ge 3 ] || fail "session id $sid not on the session's lines"
echo "PASS: $n audit lines well-formed, fields present, no secret"
