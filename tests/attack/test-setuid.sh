#!/bin/bash
# The setuid helper against its caller.  Root only (the setuid bit, a
# mount namespace over a copy of /etc, throwaway users that exist only in
# that copy).  One defense per mode:
#   env     a hostile environment is neutralised: LD_PRELOAD, LD_AUDIT,
#           LD_LIBRARY_PATH, GCONV_PATH (+CHARSET) libraries that would
#           create a marker file never run; LOCPATH, NLSPATH, TZ,
#           MALLOC_CHECK_, MALLOC_PERTURB_, GLIBC_TUNABLES, TMPDIR are
#           ignored (TZ would shift the syslog time stamps: the env is
#           cleared, not only the loader's list); SSPR_ROOT and SSPR_NOW
#           are ignored (the reset lands in the real /etc/shadow, with the
#           real clock's code)
#   argc0   execve with argv = {NULL} (CVE-2021-4034) is refused before
#           the helper reads its input: a valid HELLO stays unread
#   stdin   1 MiB on stdin: rejected after reading no more than one
#           frame's cap (the shared file offset of stdin tells how much
#           was consumed; strace's count of read bytes too)
#   kill    once the helper has taken over (its uids are 0) and holds a
#           lock (paused waiting for the shadow lock that this test
#           holds), the calling user can no longer stop or kill it
#   other   `setpriv --reuid=65534` (and a whole nobody) running the
#           setuid helper for another user, with that user's right code:
#           refused, /etc/shadow unchanged
set -euo pipefail
. "$(dirname "$0")/lib.sh"
mode=$1

need_root "setuid bit, mount namespace"
need unshare setpriv useradd chpasswd oathtool timeout
NS_TIMEOUT=170 enter_ns SSPR_ATTACK_NS "$@"

T=$(mktemp -d /var/tmp/sspr-attack.XXXXXX)
trap 'rm -rf "$T"' EXIT
setuid_setup "$T"
cp -p /etc/shadow "$T/shadow.before"
shadow_same() { cmp -s /etc/shadow "$T/shadow.before"; }

case $mode in
env)
	cc=$(dirname "$MARKER")
	mkdir -p "$T/evil/gconv" "$T/evil/lib" "$T/evil/locale/C.UTF-8" "$T/evil/nls"
	chmod -R 0755 "$T/evil"
	cp "$MARKER" "$T/evil/preload.so"
	cp "$MARKER" "$T/evil/audit.so"
	cp "$MARKER" "$T/evil/gconv/MARKER.so"
	# LD_LIBRARY_PATH: the marker under the names of the helper's own
	# libraries
	for l in $(ldd "$HELPER" | awk '$2 == "=>" { print $1 }' | grep -v '^lib[cm]\.so\|^ld-linux\|libasan\|libubsan'); do
		cp "$MARKER" "$T/evil/lib/$l"
	done
	printf 'module\tMARKER//\tINTERNAL\tMARKER\t1\nmodule\tINTERNAL\tMARKER//\tMARKER\t1\n' \
		> "$T/evil/gconv/gconv-modules"
	printf 'garbage' > "$T/evil/locale/C.UTF-8/LC_CTYPE"
	chmod -R a+rX "$T/evil"
	# the markers are made by whoever runs the library: the user too
	find "$T/evil" -type d -exec chmod 0777 {} +
	# controls: the libraries do run where the loader lets them
	as sspr-atk1 env LD_PRELOAD="$T/evil/preload.so" /bin/true
	[ -e "$T/evil/preload.so.ran" ] || fail "control: LD_PRELOAD marker did not run in /bin/true"
	if command -v iconv >/dev/null; then
		as sspr-atk1 env GCONV_PATH="$T/evil/gconv" iconv -f UTF-8 -t MARKER </dev/null >/dev/null 2>&1 || true
		[ -e "$T/evil/gconv/MARKER.so.ran" ] || fail "control: the gconv module did not load in iconv"
	fi
	rm -f "$T"/evil/*.ran "$T"/evil/*/*.ran
	# an attacker's test root, whose record and clock would make the
	# attacker's own code valid if SSPR_ROOT/SSPR_NOW were honoured
	AR=$T/attacker-root
	make_root "$AR"
	chmod -R a+rwX "$AR"
	code=$(oathtool --totp -b "$SECRET")
	evil_env=(LD_PRELOAD="$T/evil/preload.so" LD_AUDIT="$T/evil/audit.so"
		LD_LIBRARY_PATH="$T/evil/lib" GCONV_PATH="$T/evil/gconv" CHARSET=MARKER
		LOCPATH="$T/evil/locale" LANG=C.UTF-8 LC_ALL=C.UTF-8 NLSPATH="$T/evil/nls/%N"
		TZ=SSPRX-13 MALLOC_CHECK_=3 MALLOC_PERTURB_=85 GLIBC_TUNABLES=glibc.malloc.perturb=85
		TMPDIR="$T/evil" SSPR_ROOT="$AR" SSPR_NOW=1000 SSPR_HELPER="$T/evil/preload.so")
	log=$T/syslog
	hour_before=$(date +%H)
	# the environment reaches the helper alone (attack-exec between the
	# client and the helper), so no process before it runs the libraries
	printf '%s\n' "${evil_env[@]}" > "$T/evil.env"
	chmod 0644 "$T/evil.env"
	install -m 0755 "$ATTACK_EXEC_TOOL" "$T/sspr-helper-exec"
	out=$(SSPR_DEVLOG_OUT=$log LOGCATCH=$LOGCATCH "$WITH_DEVLOG" \
		setpriv --reuid=19061 --regid=19061 --init-groups -- \
		env ATTACK_EXEC="$T/sspr-helper" ATTACK_ENV="$T/evil.env" "$T/client" "$T/sspr-helper-exec" \
		hello sspr-atk1 sshd 192.0.2.1 verify "$code" reset 'New-pass-word-env-1' 2>&1 || true)
	hour_after=$(date +%H)
	ran=$(find "$T/evil" -name '*.ran')
	[ -z "$ran" ] || fail "a planted library ran in the setuid helper: $ran"
	pass "LD_PRELOAD, LD_AUDIT, LD_LIBRARY_PATH and GCONV_PATH libraries never ran"
	[ "$(grep -c '^reply: OK$' <<<"$out")" = 3 ] || fail "own reset under a hostile environment: $out"
	! shadow_same || fail "the reset did not land in the real /etc/shadow (SSPR_ROOT or SSPR_NOW honoured?)"
	cmp -s "$AR/etc/shadow" <(make_root "$T/ref" && cat "$T/ref/etc/shadow") || fail "the attacker's root was used"
	pass "SSPR_ROOT and SSPR_NOW ignored: the real shadow changed, with the real clock's code"
	# syslog(3) stamps local time: with TZ honoured it would be 13 hours off
	stamps=$(sed -nE 's/^<[0-9]+>[A-Z][a-z]{2} [ 0-9]{2} ([0-9]{2}):[0-9]{2}:[0-9]{2} sspr-helper.*/\1/p' "$log" | sort -u)
	[ -n "$stamps" ] || fail "no helper line in the captured syslog: $(head -3 "$log")"
	for h in $stamps; do
		[ "$h" = "$hour_before" ] || [ "$h" = "$hour_after" ] \
			|| fail "syslog stamped hour $h, the clock says $hour_before (TZ honoured)"
	done
	pass "TZ, LOCPATH, NLSPATH, MALLOC_*, GLIBC_TUNABLES, TMPDIR: environment cleared (syslog in the system's time zone, reset whole)"
	;;
argc0)
		frame 1 sspr-atk1 sshd - pts/9 "" > "$T/hello"
	chmod 0644 "$T/hello"
	install -d -o sspr-atk1 -m 0700 "$T/u"
	size=$(stat -c %s "$T/hello")
	rc=0
	# stdin: the file (its offset shows what was read); stdout: a file
	as sspr-atk1 bash -c 'exec 3<"$1"; "$2" argc0 "$3" <&3 >"$4" 2>"$5"; rc=$?; \
		pos=$(awk "/^pos:/ { print \$2 }" /proc/self/fdinfo/3); echo "$rc $pos"' _ \
		"$T/hello" "$ATTACK_EXEC_TOOL" "$T/sspr-helper" /dev/null "$T/u/argc0.err" > "$T/argc0.res" || true
	read -r rc pos < "$T/argc0.res"
	[ "$rc" = 1 ] || fail "argc 0: exit $rc ($(cat "$T/u/argc0.err" 2>/dev/null))"
	[ "$pos" = 0 ] || fail "argc 0: the helper read $pos of the $size bytes of a HELLO"
	grep -q 'not for direct use' "$T/u/argc0.err" || fail "argc 0: no refusal message: $(cat "$T/u/argc0.err")"
	shadow_same || fail "argc 0: shadow changed"
	# the control: argc 1, the same input, is read
	as sspr-atk1 bash -c 'exec 3<"$1"; "$2" <&3 >/dev/null 2>&1; \
		awk "/^pos:/ { print \$2 }" /proc/self/fdinfo/3' _ "$T/hello" "$T/sspr-helper" > "$T/argc1.res" || true
	[ "$(cat "$T/argc1.res")" = "$size" ] || fail "control: argc 1 read $(cat "$T/argc1.res") of $size bytes"
	pass "argv = {NULL}: refused (exit 1) before reading any input; the same HELLO with argc 1 is read"
	;;
stdin)
	mib=1048576
	# (a) a length prefix of 1 MiB, then 1 MiB
	{ printf '\x00\x10\x00\x00'; head -c "$mib" /dev/zero | tr '\0' 'A'; } > "$T/big1"
	# (b) the largest valid length, then a body that never ends well
	{ printf '\x00\x00\x0c\x10'; head -c "$mib" /dev/zero | tr '\0' 'B'; } > "$T/big2"
	# (c) a valid HELLO, then a frame that claims 1 MiB
	{ frame 1 sspr-atk1 sshd - pts/9 ""; printf '\x00\x0f\xff\xff\x01\x02\x00\x01\xff\xff';
	  head -c "$mib" /dev/zero | tr '\0' '7'; } > "$T/big3"
	chmod 0644 "$T"/big*
	cap=$((4 + 3088)) # the length prefix + SSPR_MSG_MAX (include/sspr/proto.h)
	for f in big1 big2 big3; do
		read -r rc pos < <(as sspr-atk1 bash -c 'exec 3<"$1"; timeout 20 "$2" <&3 >/dev/null 2>&1; rc=$?; \
			echo "$rc $(awk "/^pos:/ { print \$2 }" /proc/self/fdinfo/3)"' _ "$T/$f" "$T/sspr-helper")
		limit=$cap
		[ "$f" = big3 ] && limit=$(( $(frame 1 sspr-atk1 sshd - pts/9 "" | wc -c) + cap ))
		[ "$rc" != 124 ] || fail "$f: the helper hung"
		[ "$rc" = 1 ] || fail "$f: exit $rc"
		[ "$pos" -le "$limit" ] || fail "$f: the helper read $pos bytes of 1 MiB (cap $limit)"
		echo "  $f: rejected (exit $rc) after reading $pos bytes (cap $limit)"
	done
	if command -v strace >/dev/null && strace -qq -o /dev/null true 2>/dev/null; then
		strace -qq -u sspr-atk1 -e trace=read -e signal=none -o "$T/reads" "$T/sspr-helper" < "$T/big1" >/dev/null 2>&1 || true
		total=$(sed -nE 's/^read\(0, .*= ([0-9]+)$/\1/p' "$T/reads" | awk '{ s += $1 } END { print s + 0 }')
		[ "$total" -le "$cap" ] || fail "strace: the helper read $total bytes from stdin"
		echo "  strace: $total bytes read from stdin"
	fi
	shadow_same || fail "shadow changed"
	pass "1 MiB of input: rejected, no more than the $cap-byte cap of one frame read"
	;;
kill)
	need python3
	code=$(oathtool --totp -b "$SECRET")
	# hold the lckpwdf lock (a whole-file fcntl write lock on /etc/.pwd.lock)
	mkfifo "$T/locked" "$T/release"
	python3 -c '
import fcntl, os, sys
fd = os.open("/etc/.pwd.lock", os.O_WRONLY | os.O_CREAT, 0o600)
fcntl.lockf(fd, fcntl.LOCK_EX)
open(sys.argv[1], "w").write("locked\n")
open(sys.argv[2]).read()
' "$T/locked" "$T/release" &
	locker=$!
	read -r _ < "$T/locked"
	as sspr-atk1 "$T/client" "$T/sspr-helper" hello sspr-atk1 sshd 192.0.2.1 verify "$code" \
		reset 'New-pass-word-kill-1' > "$T/kill.out" 2>&1 &
	client=$!
	# wait until the helper waits on the lock: it has taken over by then
	pid=
	for _ in $(seq 1 100); do
		pid=$(pgrep -f -x "sspr-helper" -P "$(pgrep -P "$client" -x client 2>/dev/null || echo "$client")" 2>/dev/null || true)
		[ -z "$pid" ] && pid=$(pgrep -x sspr-helper -u 0 -U 0 | while read -r p; do
			[ "$(readlink "/proc/$p/exe")" = "$T/sspr-helper" ] && echo "$p"; done | head -1)
		if [ -n "$pid" ] && grep -q 'pwd.lock' <(ls -l "/proc/$pid/fd" 2>/dev/null); then break; fi
		sleep 0.1
	done
	[ -n "$pid" ] || fail "the helper never started"
	grep -q 'pwd.lock' <(ls -l "/proc/$pid/fd") || fail "the helper never opened the shadow lock"
	uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")
	[ "$uids" = "0 0 0 0" ] || fail "the helper's uids while it waits for the lock: $uids"
	for sig in STOP TERM INT HUP QUIT USR1 KILL; do
		if err=$(as sspr-atk1 kill -s "$sig" "$pid" 2>&1); then
			fail "the caller sent SIG$sig to the helper"
		fi
		grep -qi 'not permitted' <<<"$err" || fail "SIG$sig: $err"
	done
	state=$(awk '{ print $3 }' "/proc/$pid/stat")
	[ "$state" != T ] || fail "the helper is stopped"
	pass "uids 0 0 0 0 while waiting for the lock; SIGSTOP, TERM, INT, HUP, QUIT, USR1, KILL from the caller: EPERM"
	echo > "$T/release"
	wait "$locker" || true
	wait "$client" || true
	[ "$(grep -c '^reply: OK$' "$T/kill.out")" = 3 ] || fail "the reset after the lock was released: $(cat "$T/kill.out")"
	pass "the reset completed once the lock was free"
	;;
other)
	code=$(oathtool --totp -b "$SECRET")
	for who in "--reuid=65534" "--reuid=65534 --regid=65534 --clear-groups" "--reuid=19062 --regid=19062 --init-groups"; do
		for target in sspr-atk1 root; do
			# shellcheck disable=SC2086
			out=$(setpriv $who -- "$T/client" "$T/sspr-helper" hello "$target" sshd 192.0.2.1 \
				verify "$code" reset 'New-pass-word-other-1' 2>&1 || true)
			grep -qx 'reply: FAIL' <<<"$(head -1 <<<"$out")" || fail "setpriv $who for $target: $out"
			shadow_same || fail "setpriv $who for $target: /etc/shadow changed"
		done
	done
	[ "$(stat -c '%U:%G %a' /etc/shadow)" = "$(stat -c '%U:%G %a' "$T/shadow.before")" ] || fail "shadow owner or mode changed"
	pass "setpriv --reuid=65534 (and a whole nobody, and another user) for another account: refused at HELLO, /etc/shadow unchanged"
	;;
*)
	echo "usage: test-setuid.sh env|argc0|stdin|kill|other" >&2
	exit 2 ;;
esac
