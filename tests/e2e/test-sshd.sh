#!/bin/bash
# End-to-end: the forgot-password branch behind a real sshd on loopback,
# with the real pam_unix, the built module, helper and sspr-cli.  Root only.
#
# usage: test-sshd.sh MODULE HELPER CLI CONFDIR STATEDIR HELPER_PATH [WITH_DEVLOG LOGCATCH]
#   HELPER_PATH is the helper's compiled-in path (meson's helper_path).
#
# The helper reaches sshd's module at its compiled-in path, not through
# SSPR_HELPER: sshd's keyboard-interactive PAM process empties its
# environment (OpenSSH auth-pam.c, sshpam_thread: environ[0] = NULL), so
# the built helper is bind-mounted at HELPER_PATH inside the namespace, as
# an installed one would sit there.
#
# Isolation (SPEC section 8: nothing of the machine changes):
#  - everything runs in a private mount namespace (with-devlog.sh's, which
#    also gives it a /dev/log of its own so the audit lines can be checked;
#    plain `unshare -m` when that is not available), and refuses to go on
#    if it is not in one;
#  - /etc is a private COPY (cp -a) bind-mounted over /etc: the throwaway
#    user (useradd, chpasswd), its shadow line, the PAM service file and
#    (when CONFDIR is under /etc) sspr.conf exist only there.  The whole
#    directory is bound, not single files, since the shadow rewrite renames
#    over /etc/shadow;
#  - STATEDIR, CONFDIR (when outside /etc) and the helper's directory are
#    made in an overlay (upper
#    layer in the temp dir) over their nearest existing ancestor, e.g.
#    /var/lib, so nothing is created on the host (fallback: a bound copy);
#  - /run and /var/log get a tmpfs (sshd's privsep dir, utmp, wtmp and
#    lastlog, useradd's lastlog/faillog), and the home directory lives in
#    the temp dir;
#  - sshd listens on 127.0.0.1 on a free high port, accepts only the
#    throwaway user (AllowUsers), with its own host key and config, and is
#    killed on exit.  Its PAM service is named by its argv[0]: it runs
#    through a symlink named sspr-e2e-sshd.
# The host-side temp dir is removed after the namespace is gone.
set -euo pipefail

SERVICE=sspr-e2e-sshd
OFFER="Forgot your password? Enter a verification code to reset it, or press Enter to skip: "

if [ "${SSPR_E2E_INNER:-}" != 1 ]; then
	# --- outside: checks, temp dir, the namespace, the syslog verdicts --
	if [ $# -lt 6 ]; then
		echo "usage: test-sshd.sh MODULE HELPER CLI CONFDIR STATEDIR HELPER_PATH [WITH_DEVLOG LOGCATCH]" >&2
		exit 2
	fi
	module=$1 helper=$2 cli=$3
	with_devlog=${7:-} logcatch=${8:-}
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root"
		exit 77
	fi
	for c in unshare mount expect oathtool ssh ssh-keygen useradd chpasswd timeout getent; do
		command -v "$c" >/dev/null || { echo "SKIP: $c missing"; exit 77; }
	done
	[ -x /usr/sbin/sshd ] || { echo "SKIP: /usr/sbin/sshd missing (openssh-server)"; exit 77; }
	for f in "$module" "$helper" "$cli"; do
		[ -e "$f" ] || { echo "FAIL: $f not built"; exit 1; }
	done

	T=$(mktemp -d /tmp/sspr-e2e.XXXXXX)
	chmod 0755 "$T" # the throwaway user's home is inside
	if [ -n "${E2E_KEEP:-}" ]; then # debugging: keep the temp dir
		echo "NOTE: keeping $T"
	else
		trap 'rm -rf --one-file-system "$T"' EXIT
	fi
	self=$(readlink -f "$0")
	export SSPR_E2E_INNER=1 SSPR_E2E_TMP=$T
	SSPR_E2E_HOSTNS=$(readlink /proc/self/ns/mnt)
	export SSPR_E2E_HOSTNS

	capture=no
	if [ -n "$with_devlog" ] && [ -x "$with_devlog" ] && [ -x "$logcatch" ]; then
		capture=yes
	fi
	set +e
	if [ "$capture" = yes ]; then
		LOGCATCH=$logcatch SSPR_DEVLOG_OUT=$T/syslog DEVLOG_SECONDS=150 \
			timeout -k 10 120 "$with_devlog" bash "$self" "$@"
	else
		timeout -k 10 120 unshare -m --propagation private -- bash "$self" "$@"
	fi
	rc=$?
	set -e
	if [ "$rc" = 124 ]; then
		echo "FAIL: timed out (120 s)"
		exit 1
	fi
	if [ "$rc" = 125 ] && [ "$capture" = yes ] && [ ! -e "$T/syslog" ]; then
		echo "FAIL: with-devlog.sh could not set up the namespace"
		exit 1
	fi
	if [ "$capture" = yes ] && [ -s "$T/syslog" ]; then
		echo "--- syslog lines of the run (helper, module, pam_unix) ---"
		grep -E 'sspr|pam_unix' "$T/syslog" | sed 's/^/  /' || true
		echo "---"
	fi
	if [ ! -s "$T/user" ]; then # the inner part stopped before the flows
		echo "FAIL: e2e-sshd"
		exit 1
	fi

	# the audit trail, as sent to /dev/log
	if [ "$capture" != yes ]; then
		echo "NOTE: no syslog capture (with-devlog.sh/logcatch not given): audit lines not checked"
		[ "$rc" = 0 ] || { echo "FAIL: e2e-sshd"; exit 1; }
		echo "PASS: e2e-sshd"
		exit 0
	fi
	bad=0
	[ "$rc" = 0 ] || bad=1
	user=$(cat "$T/user")
	case1=$(sed -n '/SSPR-E2E-MARK case1-begin/,/SSPR-E2E-MARK case1-end/p' "$T/syslog")
	case2=$(sed -n '/SSPR-E2E-MARK case2-begin/,/SSPR-E2E-MARK case2-end/p' "$T/syslog")
	if printf '%s\n' "$case1" | grep 'sspr-helper' | grep 'event=reset_ok' | grep "user=$user " |
		grep "service=$SERVICE" | grep -q 'rhost=127.0.0.1'; then
		echo "PASS: audit: event=reset_ok user=$user service=$SERVICE rhost=127.0.0.1 logged by sspr-helper"
	else
		echo "FAIL: audit: no sspr-helper event=reset_ok line for $user/$SERVICE/127.0.0.1"
		bad=1
	fi
	for ev in reset_start code_ok; do
		if printf '%s\n' "$case1" | grep 'sspr-helper' | grep -q "event=$ev "; then
			echo "PASS: audit: event=$ev logged"
		else
			echo "FAIL: audit: no event=$ev line"
			bad=1
		fi
	done
	if printf '%s\n' "$case2" | grep -q 'sspr-helper'; then
		echo "FAIL: password-authentication case: the helper logged something (was started):"
		printf '%s\n' "$case2" | grep 'sspr-helper' | sed 's/^/  /'
		bad=1
	else
		echo "PASS: password-authentication case: no helper line in syslog"
	fi
	leak=no
	for w in oldpw newpw wrongpw; do
		if grep -qF -- "$(cat "$T/$w")" "$T/syslog"; then
			echo "FAIL: audit: a password ($w) appears in syslog"
			leak=yes bad=1
		fi
	done
	[ "$leak" = yes ] || echo "PASS: audit: no password in syslog"
	if [ "$bad" != 0 ]; then
		echo "FAIL: e2e-sshd"
		exit 1
	fi
	echo "PASS: e2e-sshd"
	exit 0
fi

# --- inside the private mount namespace -------------------------------------
module=$1 helper=$2 cli=$3 confdir=$4 statedir=$5 helper_path=$6
T=$SSPR_E2E_TMP
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
die() { echo "FAIL: $*"; exit 1; }
mark() { command -v logger >/dev/null && logger -t sspr-e2e "SSPR-E2E-MARK $1" || true; }

if [ "$(readlink /proc/self/ns/mnt)" = "$SSPR_E2E_HOSTNS" ]; then
	die "not in a private mount namespace; refusing to touch anything"
fi
mount --make-rprivate / || die "cannot make the mounts private"

SSHD_PID=
stop_sshd() {
	if [ -n "$SSHD_PID" ]; then
		kill "$SSHD_PID" 2>/dev/null || true
		wait "$SSHD_PID" 2>/dev/null || true
		SSHD_PID=
	fi
}
trap stop_sshd EXIT
trap 'exit 143' TERM INT HUP

# private /etc, statedir, confdir, /run, /var/log
cp -a /etc "$T/etc" || die "cannot copy /etc"
mount --bind "$T/etc" /etc || die "cannot bind the copy of /etc"

# ancestor DIR: the nearest existing directory at or above DIR
ancestor() {
	local a=$1
	while [ ! -d "$a" ]; do a=$(dirname "$a"); done
	printf '%s\n' "$a"
}
# private_dirs DIR...: make each DIR exist, writable only in this namespace:
# an overlay (upper layer in $T) on its nearest existing ancestor, the
# shortest ancestors first, one overlay covering those beneath it (an
# overlay does not show mounts under its lower directory); fallback: a
# bound copy.  Paths under /etc are already private.
private_dirs() {
	local want a n done_list=() d covered
	for a in $(for want in "$@"; do
			case "$want/" in /etc/*) continue ;; esac
			ancestor "$want"
		done | awk '{ print length($0) " " $0 }' | sort -n -u | cut -d' ' -f2-); do
		[ "$a" != / ] || die "no ancestor to overlay but / for one of: $*"
		covered=no
		for d in "${done_list[@]}"; do
			case "$a/" in "$d"/*) covered=yes ;; esac
		done
		[ "$covered" = no ] || continue
		n=$T/priv/$(printf '%s' "$a" | tr / _)
		mkdir -p "$n/up" "$n/work"
		if ! mount -t overlay sspr-e2e -o "lowerdir=$a,upperdir=$n/up,workdir=$n/work" "$a" 2>/dev/null; then
			cp -a "$a" "$n/copy" || die "cannot copy $a"
			mount --bind "$n/copy" "$a" || die "cannot bind a copy of $a"
		fi
		done_list+=("$a")
	done
	for want in "$@"; do
		mkdir -p "$want"
	done
}
mount -t tmpfs -o mode=0755,nosuid,nodev,size=16m sspr-e2e-run /run || die "cannot mount /run"
mount -t tmpfs -o mode=0755,nosuid,nodev,size=16m sspr-e2e-log /var/log || die "cannot mount /var/log"
mkdir -m 0755 /run/sshd
private_dirs "$statedir" "$confdir" "$(dirname "$helper_path")"
chmod 0700 "$statedir"
[ -e "$helper_path" ] || : > "$helper_path"
mount --bind "$helper" "$helper_path" || die "cannot bind the helper at $helper_path"
pass "isolated: private mount namespace, /etc copy, overlays for $statedir, $confdir and $(dirname "$helper_path"), tmpfs /run and /var/log"
pass "the built helper at its compiled-in path $helper_path (in the namespace only)"

# the throwaway user, in the copy of /etc only
U=ssprtest
if getent passwd "$U" >/dev/null; then
	die "an account $U exists on this machine; refusing"
fi
OLDPW="Old-e2e-Passw0rd-$RANDOM"
NEWPW="New-e2e-Passphrase-$RANDOM-42"
WRONGPW="wrong-guess-$RANDOM"
SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
printf '%s' "$U" > "$T/user"
printf '%s' "$OLDPW" > "$T/oldpw"
printf '%s' "$NEWPW" > "$T/newpw"
printf '%s' "$WRONGPW" > "$T/wrongpw"
if [ -f /etc/default/useradd ]; then
	sed -i '/^CREATE_MAIL_SPOOL=/d' /etc/default/useradd
fi
echo 'CREATE_MAIL_SPOOL=no' >> /etc/default/useradd
mkdir -m 0755 "$T/home"
useradd -M -d "$T/home" -s /bin/bash -c "sspr e2e throwaway" "$U" || die "useradd failed"
chown "$U:" "$T/home"
printf '%s:%s\n' "$U" "$OLDPW" | chpasswd || die "chpasswd failed"
[ "$(grep -c "^$U:" /etc/shadow)" = 1 ] || die "no shadow line for $U"
cp -p /etc/shadow "$T/shadow.before"
shadow_meta=$(stat -c '%u:%g %a' /etc/shadow)
pass "throwaway user $U (uid $(id -u "$U")) with a known password, in the /etc copy"

# policy and PAM service (the primary placement of SPEC section 2)
cat > "$confdir/sspr.conf" <<EOF
# e2e test policy
services = $SERVICE
use_pwquality = no
hash = default
on_success = login
EOF
chown root:root "$confdir/sspr.conf"
chmod 0644 "$confdir/sspr.conf"
# Sessions: pam_unix and our module only, not common-session: its
# pam_systemd would register the throwaway user's session with the host's
# logind.
cat > "/etc/pam.d/$SERVICE" <<EOF
auth  [success=2 default=ignore]  pam_unix.so nullok
auth  [success=1 default=ignore]  $module debug
auth  requisite                   pam_deny.so
auth  required                    pam_permit.so
@include common-account
@include common-password
session  required  pam_unix.so
session  optional  $module
EOF

# enrollment with the built CLI (as root, the real paths in the namespace)
if ! enroll_out=$(timeout 30 "$cli" enroll "$U" --secret "$SECRET" --qr none 2>"$T/enroll.err"); then
	cat "$T/enroll.err"
	die "sspr-cli enroll $U failed"
fi
uri=$(printf '%s\n' "$enroll_out" | head -n 1)
if printf '%s\n' "$uri" | grep -Eq "^otpauth://totp/[^ ]*[?&]secret=$SECRET(&|\$)"; then
	pass "enroll: $uri"
else
	die "enroll: first line is not an otpauth://totp URI with our secret: $uri"
fi

# sshd
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey" || die "ssh-keygen failed"
mkdir -p "$T/bin"
ln -s /usr/sbin/sshd "$T/bin/$SERVICE"

free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# start_sshd PORT KBDINT PASSWORD
start_sshd() {
	local port=$1 cfg=$T/sshd_config.$1 log=$T/sshd.$1.log
	cat > "$cfg" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $T/hostkey
PidFile $T/sshd.$port.pid
UsePAM yes
KbdInteractiveAuthentication $2
PasswordAuthentication $3
PubkeyAuthentication no
AuthorizedKeysFile none
PermitRootLogin no
AllowUsers $U
PrintMotd no
PrintLastLog no
UseDNS no
StrictModes no
MaxAuthTries 6
LoginGraceTime 60
LogLevel VERBOSE
EOF
	"$T/bin/$SERVICE" -t -f "$cfg" || die "sshd -t rejects $cfg"
	: > "$log"
	# E2E_STRACE=1 (debugging): trace sshd and its children into $T/strace.*
	local wrap=()
	[ -z "${E2E_STRACE:-}" ] || wrap=(strace -ff -s 200 -o "$T/strace")
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		"${wrap[@]}" "$T/bin/$SERVICE" -D -e -f "$cfg" 2>>"$log" &
	SSHD_PID=$!
	# readiness: its "Server listening" line, bounded to 10 s
	for _ in $(seq 1 100); do
		grep -q "Server listening on 127.0.0.1 port $port" "$log" && return 0
		kill -0 "$SSHD_PID" 2>/dev/null || { cat "$log"; die "sshd exited"; }
		sleep 0.1
	done
	cat "$log"
	die "sshd not listening after 10 s"
}

# run_expect NAME: runs $T/NAME.exp, transcript in $T/NAME.log
run_expect() {
	local name=$1 rc=0
	timeout -k 5 60 expect -f "$T/$name.exp" > "$T/$name.log" 2>&1 || rc=$?
	if [ "$rc" != 0 ]; then
		echo "--- transcript of $name (exit $rc) ---"
		sed 's/^/  | /' "$T/$name.log"
		echo "---"
	fi
	return "$rc"
}

cat > "$T/common.exp" <<'EOF'
set timeout 20
log_user 1
proc fail {msg} { puts "\nEXPECT-FAIL: $msg"; exit 1 }
proc ssh_spawn {method} {
	global env spawn_id
	spawn ssh -F /dev/null -o PreferredAuthentications=$method \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o LogLevel=ERROR -o NumberOfPasswordPrompts=1 -o ConnectTimeout=10 \
		-p $env(E2E_PORT) $env(E2E_USER)@127.0.0.1
}
proc shell_echo {word} {
	expect {
		-re {[$#] $} {}
		"Forgot your password?" { fail "offer after the right password" }
		"Permission denied" { fail "denied" }
		timeout { fail "no shell prompt" }
		eof { fail "ssh ended before the shell" }
	}
	send -- "echo $word\r"
	# the output, not the echo of the command line: preceded by a newline
	# or the end of a terminal escape, never by "echo "
	expect {
		-re "\[^ \]$word\r" {}
		timeout { fail "no $word output" }
		eof { fail "ssh ended before $word" }
	}
	send -- "exit\r"
	expect {
		eof {}
		timeout { fail "session did not end" }
	}
}
EOF

# 1. keyboard-interactive: wrong password, code, new password, shell
cat > "$T/reset.exp" <<EOF
source $T/common.exp
ssh_spawn keyboard-interactive
expect {
	-re {Password: \$} {}
	timeout { fail "no Password: prompt" }
	eof { fail "ssh ended before the Password: prompt" }
}
send -- "\$env(E2E_WRONGPW)\r"
expect {
	"$OFFER" {}
	-re {Password: \$} { fail "asked for the password again, no offer" }
	"Permission denied" { fail "denied without the offer" }
	timeout { fail "no offer prompt" }
	eof { fail "ssh ended before the offer" }
}
set code [exec oathtool --totp -b \$env(E2E_SECRET)]
send -- "\$code\r"
expect {
	"New password: " {}
	"Invalid code." { fail "code \$code refused" }
	"Password reset is temporarily unavailable" { fail "rate limited" }
	"Permission denied" { fail "denied after the code" }
	timeout { fail "no New password: prompt" }
	eof { fail "ssh ended after the code" }
}
send -- "\$env(E2E_NEWPW)\r"
expect {
	"Retype new password: " {}
	timeout { fail "no Retype new password: prompt" }
	eof { fail "ssh ended after New password:" }
}
send -- "\$env(E2E_NEWPW)\r"
expect {
	"Your password has been reset." {}
	"BAD PASSWORD" { fail "new password refused" }
	"Permission denied" { fail "denied after the new password" }
	timeout { fail "no reset confirmation" }
	eof { fail "ssh ended after the new password" }
}
shell_echo E2E-OK
EOF

# 2. the new password logs in, no offer
cat > "$T/newpw.exp" <<EOF
source $T/common.exp
ssh_spawn keyboard-interactive
expect {
	-re {Password: \$} {}
	timeout { fail "no Password: prompt" }
	eof { fail "ssh ended before the Password: prompt" }
}
send -- "\$env(E2E_NEWPW)\r"
shell_echo E2E-NEW-OK
EOF

# 3. the old password fails (the offer comes, and is skipped)
cat > "$T/oldpw.exp" <<EOF
source $T/common.exp
ssh_spawn keyboard-interactive
expect {
	-re {Password: \$} {}
	timeout { fail "no Password: prompt" }
	eof { fail "ssh ended before the Password: prompt" }
}
send -- "\$env(E2E_OLDPW)\r"
expect {
	"$OFFER" { send -- "\r" }
	"Permission denied" { exit 0 }
	-re {[\$#] \$} { fail "the old password opened a shell" }
	timeout { fail "no answer to the old password" }
	eof { fail "ssh ended without Permission denied" }
}
expect {
	"Permission denied" {}
	"New password: " { fail "an empty answer started a reset" }
	-re {[\$#] \$} { fail "the old password opened a shell" }
	timeout { fail "no Permission denied" }
	eof { fail "ssh ended without Permission denied" }
}
expect eof
EOF

# 4. password authentication: the branch stays out of the way
cat > "$T/pwauth.exp" <<EOF
source $T/common.exp
ssh_spawn password
expect {
	-re {password: \$} {}
	timeout { fail "no password prompt" }
	eof { fail "ssh ended before the password prompt" }
}
send -- "\$env(E2E_WRONGPW)\r"
expect {
	"Forgot" { fail "our offer appeared under password authentication" }
	"Verification code" { fail "our prompt appeared under password authentication" }
	"Permission denied" {}
	-re {[\$#] \$} { fail "a wrong password opened a shell" }
	timeout { fail "no Permission denied" }
	eof { fail "ssh ended without Permission denied" }
}
expect {
	"Forgot" { fail "our offer appeared under password authentication" }
	eof {}
	timeout { fail "ssh did not end" }
}
EOF

export E2E_USER=$U E2E_SECRET=$SECRET E2E_OLDPW=$OLDPW E2E_NEWPW=$NEWPW E2E_WRONGPW=$WRONGPW

port=$(free_port) || die "no free port"
start_sshd "$port" yes no
export E2E_PORT=$port
pass "sshd ($SERVICE) on 127.0.0.1:$port, keyboard-interactive only"

mark case1-begin
if run_expect reset; then
	pass "keyboard-interactive: wrong password, offer, TOTP code, new password, 'Your password has been reset.', shell ran echo E2E-OK"
else
	fail "keyboard-interactive reset login"
fi
if run_expect newpw; then
	if grep -q "Forgot your password" "$T/newpw.log"; then
		fail "login with the new password showed the offer"
	else
		pass "login with the new password, no offer, shell ran echo E2E-NEW-OK"
	fi
else
	fail "login with the new password"
fi
if run_expect oldpw; then
	pass "login with the old password refused (Permission denied)"
else
	fail "old password"
fi
mark case1-end
# The next-login notice (SPEC section 7): not in the resetting login's own
# session, once in the next one.  Over SSH this matters: if the session of
# whoever did the reset consumed it, the account's owner would never see it.
notice() { tr -d '\r' < "$T/$1.log" | grep -o 'Your password was reset on.*' | head -n 1 || true; }
n1=$(notice reset) n2=$(notice newpw)
if [ -n "$n1" ]; then
	fail "notice: shown in the resetting login's own session ('$n1'), SPEC 7 says the first session other than that one"
elif [ -z "$n2" ]; then
	fail "notice: not shown at the next login"
else
	pass "notice at the next login only: $n2"
fi
if [ -n "$n2" ]; then
	case "$n2" in
	*"from 127.0.0.1 ($SERVICE)."*) pass "notice names the source and service" ;;
	*) fail "notice: want 'from 127.0.0.1 ($SERVICE).': $n2" ;;
	esac
fi
stop_sshd

# the shadow file: only the user's line changed
if [ "$(grep -c "^$U:" /etc/shadow)" != 1 ]; then
	fail "shadow: not exactly one line for $U"
else
	old_line=$(grep "^$U:" "$T/shadow.before")
	new_line=$(grep "^$U:" /etc/shadow)
	IFS=: read -r -a of <<< "$old_line"
	IFS=: read -r -a nf <<< "$new_line"
	today=$(( $(date -u +%s) / 86400 ))
	if [ "$old_line" = "$new_line" ]; then
		fail "shadow: the line of $U did not change"
	elif [ "${of[1]}" = "${nf[1]}" ]; then
		fail "shadow: the hash of $U did not change"
	elif [ "${nf[2]}" != "$today" ] && [ "${nf[2]}" != "$((today - 1))" ]; then
		fail "shadow: lastchg ${nf[2]}, want today ($today)"
	else
		pass "shadow: line of $U changed (hash ${nf[1]:0:4}..., lastchg ${nf[2]})"
	fi
	awk -v u="$U" -v l="$new_line" 'BEGIN { FS = ":" } $1 == u { print l; next } { print }' \
		"$T/shadow.before" > "$T/shadow.expected"
	if cmp -s "$T/shadow.expected" /etc/shadow; then
		pass "shadow: every other line byte-identical"
	else
		fail "shadow: other lines changed:"
		diff "$T/shadow.expected" /etc/shadow | sed 's/^/  /' || true
	fi
	if [ "$(stat -c '%u:%g %a' /etc/shadow)" = "$shadow_meta" ]; then
		pass "shadow: owner, group, mode kept ($shadow_meta)"
	else
		fail "shadow: owner/group/mode $(stat -c '%u:%g %a' /etc/shadow), was $shadow_meta"
	fi
	if cmp -s "$T/shadow.before" /etc/shadow-; then
		pass "shadow-: the previous version"
	else
		fail "shadow-: not the previous version of shadow"
	fi
fi

# 4. password authentication: the branch stays out of the way
state_before=$(find "$statedir" -printf '%P %s %T@ %m\n' | sort)
port2=$(free_port) || die "no free port"
start_sshd "$port2" no yes
export E2E_PORT=$port2
pass "sshd ($SERVICE) on 127.0.0.1:$port2, password authentication only"
mark case2-begin
if run_expect pwauth; then
	pass "password authentication: wrong password denied, no prompt of ours"
else
	fail "password authentication case"
fi
mark case2-end
stop_sshd
state_after=$(find "$statedir" -printf '%P %s %T@ %m\n' | sort)
if [ "$state_before" = "$state_after" ]; then
	pass "password authentication: state dir untouched (no helper started)"
else
	fail "password authentication: the state dir changed (a helper ran?)"
	diff <(printf '%s\n' "$state_before") <(printf '%s\n' "$state_after") | sed 's/^/  /' || true
fi

if [ "$failures" != 0 ]; then
	echo "--- sshd logs ---"
	cat "$T"/sshd.*.log | sed 's/^/  /'
	echo "FAIL: $failures check(s) failed"
	exit 1
fi
exit 0
