#!/bin/bash
# notify_command through the helper (test_helper_notify.c, in the sandbox
# of run-pam-test.sh), under a /dev/log of our own, then the audit lines:
# notify_ok for a script that exits 0, notify_fail with reason=timeout and
# the pid that was killed, reason=exec, reason=exit status=7; each with
# the reset's user and session; and a reset_ok for every reset.
# usage: test-notify.sh WITH_DEVLOG LOGCATCH RUN_PAM_TEST TEST_BIN MODULE HELPER CONFDIR SRCDIR
set -euo pipefail
with_devlog=$1 logcatch=$2; shift 2
out=$(mktemp /tmp/sspr-notify-log.XXXXXX)
res=$(mktemp /tmp/sspr-notify-res.XXXXXX)
trap 'rm -f "$out" "$res"' EXIT
fail() { echo "FAIL: $*"; cat "$out"; exit 1; }

if [ "$(id -u)" != 0 ]; then
	# with-devlog.sh would run us as root of a user namespace, where no
	# notify_user can exist: run the notifier checks as ourselves (the
	# notifier runs as the current user in a test root), without capture
	SSPR_TEST_NOTIFY_OUT=$res "$@" || { echo "FAIL: test_helper_notify failed"; exit 1; }
	for s in fields timeout exec exit ok; do
		grep -q "^$s" "$res" || { echo "FAIL: scenario $s did not report"; exit 1; }
	done
	echo "PASS: notifier fields, kill at the bound, resets done (not root: audit lines not captured)"
	exit 0
fi
set +e
LOGCATCH=$logcatch SSPR_DEVLOG_OUT=$out SSPR_TEST_NOTIFY_OUT=$res "$with_devlog" "$@"
rc=$?
set -e
if [ "$rc" = 125 ]; then
	# no private /dev/log here: the notifier checks still run, the
	# audit lines cannot be seen
	: > "$res"
	SSPR_TEST_NOTIFY_OUT=$res "$@"
	echo "SKIP: notifier checks passed; no private /dev/log for the audit lines"
	exit 77
fi
[ "$rc" = 0 ] || { echo "FAIL: test_helper_notify failed ($rc)"; exit 1; }
for s in fields timeout exec exit ok; do
	grep -q "^$s" "$res" || fail "scenario $s did not report"
done

lines=$(grep 'sspr-helper\[' "$out" || true)
[ -n "$lines" ] || fail "no sspr-helper lines captured"
n_ok=$(grep -c 'event=reset_ok ' <<<"$lines" || true)
[ "$n_ok" = 5 ] || fail "expected 5 reset_ok lines, got $n_ok"
pid=$(sed -n 's/^timeout pid=\([0-9]*\)$/\1/p' "$res")
[ -n "$pid" ] || fail "no pid of the killed notifier"
grep -qE "event=notify_fail user=alice uid=1001 service=sshd rhost=192\.0\.2\.7 tty=ssh session=[0-9a-f]{16} reason=timeout pid=$pid( |$)" <<<"$lines" \
	|| fail "no notify_fail reason=timeout pid=$pid"
grep -qE 'event=notify_fail user=alice .*reason=exec error=' <<<"$lines" || fail "no notify_fail reason=exec"
grep -qE 'event=notify_fail user=alice .*reason=exit status=7 ' <<<"$lines" || fail "no notify_fail reason=exit status=7"
n_nok=$(grep -c 'event=notify_ok user=alice ' <<<"$lines" || true)
[ "$n_nok" = 2 ] || fail "expected 2 notify_ok lines, got $n_nok"
# SSPR_SESSION and SSPR_SEQ of the notifier are those of its reset_ok
read -r sess seq < <(sed -n 's/^fields session=\([0-9a-f]*\) seq=\([0-9]*\)$/\1 \2/p' "$res")
[ -n "$sess" ] && [ -n "$seq" ] || fail "no session/seq reported"
grep -qE "event=reset_ok user=alice .*session=$sess .* seq=$seq\$" <<<"$lines" ||
	fail "SSPR_SESSION=$sess SSPR_SEQ=$seq do not name the reset_ok entry"
# the notify line carries the session of its reset
sid=$(grep -o 'event=notify_fail .*reason=timeout.*' <<<"$lines" | grep -o 'session=[0-9a-f]*')
grep -q "event=reset_ok .*$sid" <<<"$lines" || fail "notify_fail not tied to its reset's session"
echo "PASS: notifier fields, kill at the bound, failures logged, resets done"
