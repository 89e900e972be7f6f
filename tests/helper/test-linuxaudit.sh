#!/bin/bash
# Linux audit records of the helper (root only; a libaudit build): under
# strace, the netlink messages it sends carry
#   type 1108 (AUDIT_USER_CHAUTHTOK) op=sspr-reset acct="alice" res=success
#     for a reset, res=failed for one whose new passwords were all refused;
#   type 2100 (AUDIT_ANOM_LOGIN_FAILURES) op=sspr-lockout acct="alice"
#     for the code failure that locks the name.
# The kernel may refuse them (a container): what is checked is what the
# helper sends.  Runs inside run-pam-test.sh's sandbox (SSPR_ROOT, as root:
# the helper is not elevated but root for real, so it sends).
# usage: run-pam-test.sh THIS_SCRIPT ... with SSPR_TEST_CLI and SSPR_TEST_CLIENT set
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
command -v strace >/dev/null || { echo "SKIP: strace missing"; exit 77; }
command -v oathtool >/dev/null || { echo "SKIP: oathtool missing"; exit 77; }
cli=$SSPR_TEST_CLI client=$SSPR_TEST_CLIENT helper=$SSPR_HELPER
if ! ldd "$helper" | grep -q 'libaudit\.so'; then
	echo "SKIP: sspr-helper built without libaudit (-Dlibaudit)"; exit 77
fi
if [ -r /proc/self/uid_map ] && ! grep -qE '^ *0 +0 +4294967295' /proc/self/uid_map; then
	echo "SKIP: root of a user namespace (no audit)"; exit 77
fi
seed=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
printf 'services = sshd\nuse_pwquality = no\nhash = sha512\ndeny = 2\nhard_deny = 20\n' > "$SSPR_TEST_CONF"
printf 'alice:$6$abc$def:19000:0:99999:7:::\n' > "$SSPR_ROOT/etc/shadow"
"$cli" enroll alice --secret "$seed" --qr none >/dev/null
log=$SSPR_ROOT/strace.log
wrap=$SSPR_ROOT/traced-helper
# pam_wrapper defines an audit_open() that always fails: the helper gets
# only nss_wrapper (it is no PAM application)
preload=$(tr ':' '\n' <<<"$LD_PRELOAD" | grep -v pam_wrapper | paste -sd: -)
cat > "$wrap" <<W
#!/bin/sh
LD_PRELOAD='$preload' exec strace -f -qq -s 2000 -xx -o '$log' -e trace=socket,sendto,sendmsg "$helper"
W
chmod +x "$wrap"
fail() { echo "FAIL: $*"; cat "$log"; exit 1; }

# The audit messages of the trace, one line each: "TYPE payload".  strace
# decodes the netlink header ({nlmsg_len=..., nlmsg_type=0x454 ...}, then
# the payload in hex) or, when it cannot, shows the raw bytes (a 16-byte
# header: length, then the type, little-endian).
messages() {
	local line hex bytes type
	grep -E '^[0-9]+ +send(to|msg)\(' "$log" | grep -E 'nlmsg_|AF_NETLINK' | while read -r line; do
		hex=$(grep -oE '"(\\x[0-9a-f]{2})+"' <<<"$line" | head -1 | tr -d '"') || continue
		type=$(sed -nE 's/.*nlmsg_type=(0x[0-9a-f]+|[0-9]+|AUDIT_[A-Z_]+).*/\1/p' <<<"$line")
		case $type in
		AUDIT_USER_CHAUTHTOK) type=1108 ;;
		AUDIT_ANOM_LOGIN_FAILURES) type=2100 ;;
		0x*) type=$((type)) ;;
		'')
			[ "${#hex}" -ge 64 ] || continue
			bytes=${hex//\\x/}
			type=$((16#${bytes:10:2}${bytes:8:2}))
			hex=${hex:64}
			;;
		esac
		printf '%s %b\n' "$type" "$hex" | tr -d '\000'
	done
}
socket_ok() {
	grep -qE 'socket\(AF_NETLINK, [^)]*NETLINK_AUDIT\) = [0-9]+' "$log"
}
no_audit_socket() {
	grep -qE 'socket\(AF_NETLINK, [^)]*NETLINK_AUDIT\) = -1' "$log" && ! socket_ok
}
code_at() { oathtool --totp -b "$seed" -N "@$1"; }

# 1. a reset: USER_CHAUTHTOK, res=success
t=1764400000
out=$(SSPR_NOW=$t "$client" "$wrap" hello alice sshd 192.0.2.7 verify "$(code_at $t)" \
	reset 'a new long password 123' || true)
[ "$(grep -c 'reply: OK' <<<"$out")" = 3 ] || fail "reset did not succeed: $out"
if no_audit_socket; then
	echo "SKIP: no audit netlink socket here (kernel without audit)"; exit 77
fi
socket_ok || fail "no NETLINK_AUDIT socket opened"
msgs=$(messages)
echo "reset: $msgs"
grep -qE '^1108 .*op=sspr-reset acct="alice" exe="[^"]*sspr-helper" hostname=192\.0\.2\.7 addr=192\.0\.2\.7 terminal=pts/9 res=success' <<<"$msgs" ||
	fail "no AUDIT_USER_CHAUTHTOK op=sspr-reset res=success"

# 2. every new password refused: USER_CHAUTHTOK, res=failed
t=$((t + 60))
: > "$log"
out=$(SSPR_NOW=$t "$client" "$wrap" hello alice sshd 192.0.2.7 verify "$(code_at $t)" \
	reset short reset short reset short || true)
grep -q 'reply: UNCHANGED' <<<"$out" || fail "expected UNCHANGED: $out"
msgs=$(messages)
echo "refused: $msgs"
grep -qE '^1108 .*op=sspr-reset acct="alice" .*res=failed' <<<"$msgs" ||
	fail "no AUDIT_USER_CHAUTHTOK op=sspr-reset res=failed"
if grep -q '^2100 ' <<<"$msgs"; then fail "a lockout record without a lockout"; fi

# 3. a lockout (deny = 2): ANOM_LOGIN_FAILURES
t=$((t + 60))
: > "$log"
out=$(SSPR_NOW=$t "$client" "$wrap" hello alice sshd 192.0.2.7 verify 000000 verify 000001 || true)
grep -q 'reply: RATE_LIMITED' <<<"$out" || fail "expected RATE_LIMITED: $out"
msgs=$(messages)
echo "lockout: $msgs"
grep -qE '^2100 .*op=sspr-lockout acct="alice" uid=1001 hard=no .*hostname=192\.0\.2\.7 .*res=success' <<<"$msgs" ||
	fail "no AUDIT_ANOM_LOGIN_FAILURES op=sspr-lockout"
if grep -q '^1108 ' <<<"$msgs"; then fail "a password record without a reset"; fi
echo "PASS: USER_CHAUTHTOK (success, failed) and ANOM_LOGIN_FAILURES sent"
