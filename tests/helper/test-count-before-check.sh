#!/bin/bash
# A code attempt is counted, durably, before the code is checked: in the
# helper's system calls, between reading the VERIFY frame and sending its
# reply, the tally is written to a temporary file, fsync'd, renamed into
# place and its directory fsync'd.  So killing the helper right after it
# read a code can never yield an uncounted guess: whatever the kill point,
# the reply (the only thing that tells a guess right from wrong) comes
# after the count is on disk.  A SIGKILL at the reply proves it: the
# tally holds the attempt.
# Runs inside run-pam-test.sh's sandbox (SSPR_ROOT, nss_wrapper).
# usage: run-pam-test.sh THIS_SCRIPT ... with SSPR_TEST_CLI and SSPR_TEST_CLIENT set
set -euo pipefail
command -v strace >/dev/null || { echo "SKIP: strace missing"; exit 77; }
cli=$SSPR_TEST_CLI client=$SSPR_TEST_CLIENT helper=$SSPR_HELPER
printf 'services = sshd\nuse_pwquality = no\n' > "$SSPR_TEST_CONF"
printf 'alice:$6$abc$def:19000:0:99999:7:::\n' > "$SSPR_ROOT/etc/shadow"
"$cli" enroll alice --secret JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP --qr none >/dev/null
log=$SSPR_ROOT/strace.log
wrap=$SSPR_ROOT/traced-helper
cat > "$wrap" <<W
#!/bin/sh
exec strace -f -qq -s 128 -o '$log' -e trace=read,sendto,write,fsync,renameat,renameat2,rename,openat "$helper"
W
chmod +x "$wrap"
out=$(SSPR_NOW=1764400000 "$client" "$wrap" hello alice sshd 192.0.2.7 verify 000000 || true)
grep -qx 'reply: INVALID' <<<"$out" || { echo "FAIL: unexpected replies: $out"; exit 1; }

# the syscalls after the read of the VERIFY body, up to the reply
seq=$(awk '/read\(0, "\\1\\2\\0\\1/ {go=1; next} go {print} go && /sendto\(/ {exit}' "$log")
[ -n "$seq" ] || { echo "FAIL: VERIFY read not found in the trace"; cat "$log"; exit 1; }
order=$(sed -nE 's/^[0-9]+ +(openat|fsync|renameat2?|rename|sendto)\(([^"]*"([^"]*)")?.*/\1(\3)/p' <<<"$seq" | tr '\n' ' ')
echo "between the code and its reply: $order"
grep -qE 'openat\(\.u-[0-9a-f]+\.[0-9a-f]+\) fsync\(\) renameat2?\(\.u-[^)]*\) fsync\(\) .*openat\(1001\) .*sendto\(' <<<"$order" ||
	{ echo "FAIL: the attempt is not made durable before the reply"; exit 1; }
echo "PASS: counted durably before the check"

# SIGKILL at the reply: the attempt must be on disk
rm -rf "$SSPR_ROOT/var/lib/sspr/tally"
cat > "$wrap" <<W
#!/bin/sh
exec strace -f -qq -o /dev/null -e inject=sendto:signal=SIGKILL:when=2 "$helper"
W
SSPR_NOW=1764400000 "$client" "$wrap" hello alice sshd 192.0.2.7 verify 000000 >/dev/null || true
n=$(cat "$SSPR_ROOT"/var/lib/sspr/tally/u-* 2>/dev/null | grep -c '^consecutive 1$' || true)
[ "$n" = 1 ] || { echo "FAIL: killed at the reply, the attempt was not counted"; ls -la "$SSPR_ROOT/var/lib/sspr/tally" || true; exit 1; }
echo "PASS: killed at the reply, the attempt was counted"
