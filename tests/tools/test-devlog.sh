#!/bin/bash
# with-devlog.sh captures what a command sends to syslog, and the host's
# /dev is left as it was.
# usage: test-devlog.sh WITH_DEVLOG LOGCATCH
set -euo pipefail
wd=$1 lc=$2
command -v logger >/dev/null || { echo "SKIP: logger missing"; exit 77; }
out=$(mktemp /tmp/sspr-devlog-test.XXXXXX)
trap 'rm -f "$out"' EXIT
before=$(ls -la /dev/log 2>&1 || true)
tag="sspr-devlog-test-$$"
set +e
LOGCATCH=$lc SSPR_DEVLOG_OUT=$out DEVLOG_SECONDS=30 timeout 30 "$wd" \
	sh -c "logger -t $tag 'hello one' && logger -t $tag 'hello two' && test -c /dev/null && exit 3"
rc=$?
set -e
if [ "$rc" = 125 ]; then
	echo "SKIP: no private mount namespace here (unshare refused)"; exit 77
fi
[ "$rc" = 3 ] || { echo "FAIL: exit status $rc, want the command's 3"; exit 1; }
grep -q "$tag.*hello one" "$out" && grep -q "$tag.*hello two" "$out" ||
	{ echo "FAIL: lines not captured:"; cat "$out"; exit 1; }
[ "$(ls -la /dev/log 2>&1 || true)" = "$before" ] || { echo "FAIL: host /dev/log changed"; exit 1; }
echo "PASS: with-devlog captured $(wc -l < "$out") line(s), exit status passed through"
