# shellcheck shell=bash
# lib.sh: what the root-only end-to-end tests share.  Sourced, not run.
#
# Every test script takes the same arguments
#   MODULE HELPER CLI CONFDIR STATEDIR HELPER_PATH WITH_DEVLOG LOGCATCH [EXTRA...]
# (HELPER_PATH is the helper's compiled-in path, meson's helper_path) and has
# two halves in one file:
#
#   . lib.sh
#   E2E_NAME=e2e-foo; E2E_NEEDS=(expect ...)
#   if [ "${SSPR_E2E_INNER:-}" != 1 ]; then
#       e2e_outer_checks() { ...verdicts on "$T/syslog"...; }   # optional
#       e2e_outer "$@"                                          # never returns
#   fi
#   e2e_inner "$@"     # isolation; then the test's own flows
#   ...
#   e2e_finish
#
# Isolation (SPEC section 8: nothing of the machine changes):
#  - the inner half runs in a private mount namespace (with-devlog.sh's,
#    which also gives it a /dev/log of its own so the audit lines can be
#    checked afterwards; plain `unshare -m` when that is not available), and
#    refuses to go on if it is not in one;
#  - /etc is a private COPY (cp -a) bind-mounted over /etc: throwaway users
#    (useradd, chpasswd), their shadow lines, the PAM service files (also
#    login's, su's and sudo's own, fixed names) and, when CONFDIR is under
#    /etc, sspr.conf exist only there.  The whole directory is bound, not
#    single files, since the shadow rewrite renames over /etc/shadow;
#  - STATEDIR, CONFDIR (when outside /etc) and the helper's directory are
#    made in an overlay (upper layer in the temp dir) over their nearest
#    existing ancestor, e.g. /var/lib, so nothing is created on the host
#    (fallback: a bound copy);
#  - /run and /var/log get a tmpfs (sshd's privsep dir, utmp, wtmp,
#    lastlog, sudo's timestamps, useradd's lastlog/faillog); home
#    directories live in the temp dir;
#  - the built helper sits at its compiled-in path in the namespace only:
#    bind-mounted (root callers), or copied there 4755 root:root for a
#    test of a non-root caller (the setuid bit of an installed helper);
#  - daemons (sshd) listen on 127.0.0.1 only and are killed on exit.
# The host-side temp dir is removed after the namespace is gone.

OFFER="Forgot your password? Enter a verification code to reset it, or press Enter to skip: "

# --- outside the namespace ---------------------------------------------------

# e2e_outer ARGS...: checks, temp dir, the namespace, syslog verdicts; exits.
e2e_outer() {
	local with_devlog=${7:-} logcatch=${8:-} self rc capture=no bad=0 c f
	if [ $# -lt 6 ]; then
		echo "usage: $(basename "$0") MODULE HELPER CLI CONFDIR STATEDIR HELPER_PATH [WITH_DEVLOG LOGCATCH] ..." >&2
		exit 2
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root"
		exit 77
	fi
	for c in unshare mount useradd chpasswd timeout getent "${E2E_NEEDS[@]}"; do
		command -v "$c" >/dev/null || { echo "SKIP: $c missing"; exit 77; }
	done
	if [ "${E2E_CHECK_BUILT:-yes}" = yes ]; then
		for f in "$1" "$2" "$3"; do
			[ -e "$f" ] || { echo "FAIL: $f not built"; exit 1; }
		done
	fi

	T=$(mktemp -d /tmp/sspr-e2e.XXXXXX)
	chmod 0755 "$T" # the throwaway users' homes are inside
	if [ -n "${E2E_KEEP:-}" ]; then # debugging: keep the temp dir
		echo "NOTE: keeping $T"
	else
		trap 'rm -rf --one-file-system "$T"' EXIT
	fi
	self=$(readlink -f "$0")
	export SSPR_E2E_INNER=1 SSPR_E2E_TMP=$T
	SSPR_E2E_HOSTNS=$(readlink /proc/self/ns/mnt)
	export SSPR_E2E_HOSTNS

	if [ -n "$with_devlog" ] && [ -x "$with_devlog" ] && [ -x "$logcatch" ]; then
		capture=yes
	fi
	set +e
	if [ "$capture" = yes ]; then
		LOGCATCH=$logcatch SSPR_DEVLOG_OUT=$T/syslog DEVLOG_SECONDS=150 \
			timeout -k 10 110 "$with_devlog" bash "$self" "$@"
	else
		timeout -k 10 110 unshare -m --propagation private -- bash "$self" "$@"
	fi
	rc=$?
	set -e
	if [ "$rc" = 124 ]; then
		echo "FAIL: timed out (110 s)"
		exit 1
	fi
	if [ "$rc" = 125 ] && [ "$capture" = yes ] && [ ! -e "$T/syslog" ]; then
		echo "FAIL: with-devlog.sh could not set up the namespace"
		exit 1
	fi
	if [ "$capture" = yes ] && [ -s "$T/syslog" ]; then
		echo "--- syslog lines of the run (helper, module, pam_unix, login, su, sudo) ---"
		grep -E 'sspr|pam_unix|login|su\[|sudo' "$T/syslog" | sed 's/^/  /' || true
		echo "---"
	fi
	if [ ! -s "$T/user" ]; then # the inner part stopped before the flows
		echo "FAIL: $E2E_NAME"
		exit 1
	fi
	[ "$rc" = 0 ] || bad=1
	if [ "$capture" != yes ]; then
		echo "NOTE: no syslog capture (with-devlog.sh/logcatch not given): audit lines not checked"
	elif declare -F e2e_outer_checks >/dev/null; then
		e2e_outer_checks || bad=1
	fi
	if [ "$bad" != 0 ]; then
		echo "FAIL: $E2E_NAME"
		exit 1
	fi
	echo "PASS: $E2E_NAME"
	exit 0
}

# between TAG: the syslog lines between the marks TAG-begin and TAG-end
between() {
	sed -n "/SSPR-E2E-MARK $1-begin/,/SSPR-E2E-MARK $1-end/p" "$T/syslog"
}
# helper_lines TAG: the sspr-helper lines between TAG's marks
helper_lines() { between "$1" | grep 'sspr-helper' || true; }
# no_password_in_syslog FILE...: none of the passwords kept in FILEs was logged
no_password_in_syslog() {
	local w leak=no
	for w in "$@"; do
		[ -s "$T/$w" ] || continue
		if grep -qF -- "$(cat "$T/$w")" "$T/syslog"; then
			echo "FAIL: audit: a password ($w) appears in syslog"
			leak=yes
		fi
	done
	[ "$leak" = no ] && echo "PASS: audit: no password in syslog"
	[ "$leak" = no ]
}

# --- inside the namespace ----------------------------------------------------

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
die() { echo "FAIL: $*"; exit 1; }
mark() { command -v logger >/dev/null && logger -t sspr-e2e "SSPR-E2E-MARK $1" || true; }

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

# e2e_enter: the namespace's base: refuses to go on outside a private
# mount namespace; the /etc copy, tmpfs /run and /var/log, useradd's
# defaults (no mail spool), $T/home
e2e_enter() {
	T=$SSPR_E2E_TMP
	if [ "$(readlink /proc/self/ns/mnt)" = "$SSPR_E2E_HOSTNS" ]; then
		die "not in a private mount namespace; refusing to touch anything"
	fi
	mount --make-rprivate / || die "cannot make the mounts private"
	trap e2e_cleanup EXIT
	trap 'exit 143' TERM INT HUP

	cp -a /etc "$T/etc" || die "cannot copy /etc"
	mount --bind "$T/etc" /etc || die "cannot bind the copy of /etc"
	mount -t tmpfs -o mode=0755,nosuid,nodev,size=16m sspr-e2e-run /run || die "cannot mount /run"
	mount -t tmpfs -o mode=0755,nosuid,nodev,size=16m sspr-e2e-log /var/log || die "cannot mount /var/log"
	mkdir -m 0755 /run/sshd
	if [ -f /etc/default/useradd ]; then
		sed -i '/^CREATE_MAIL_SPOOL=/d' /etc/default/useradd
	fi
	echo 'CREATE_MAIL_SPOOL=no' >> /etc/default/useradd
	mkdir -m 0755 "$T/home"
}

# e2e_inner ARGS...: sets module helper cli confdir statedir helper_path T;
# isolates (see the top).  E2E_SETUID_HELPER=1: the helper is installed
# 4755 root:root at its path instead of bind-mounted.
e2e_inner() {
	module=$1 helper=$2 cli=$3 confdir=$4 statedir=$5 helper_path=$6
	e2e_enter
	private_dirs "$statedir" "$confdir" "$(dirname "$helper_path")"
	chmod 0700 "$statedir"
	if [ "${E2E_SETUID_HELPER:-}" = 1 ]; then
		rm -f "$helper_path"
		install -m 4755 -o root -g root "$helper" "$helper_path" || die "cannot install the helper at $helper_path"
		[ "$(stat -c '%a %U' "$helper_path")" = "4755 root" ] || die "helper at $helper_path is not 4755 root"
		pass "isolated: private mount namespace, /etc copy, overlays for $statedir, $confdir, $(dirname "$helper_path"); the built helper installed 4755 root:root at $helper_path (in the namespace only)"
	else
		[ -e "$helper_path" ] || : > "$helper_path"
		mount --bind "$helper" "$helper_path" || die "cannot bind the helper at $helper_path"
		pass "isolated: private mount namespace, /etc copy, overlays for $statedir, $confdir, $(dirname "$helper_path"); the built helper bound at $helper_path (in the namespace only)"
	fi
}

E2E_PIDS=()
e2e_cleanup() {
	local p
	for p in "${E2E_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	E2E_PIDS=()
}

# e2e_user NAME PASSWORD: a throwaway user in the /etc copy, home in $T
e2e_user() {
	local u=$1
	# the copy of /etc still lists only the machine's own accounts here
	if getent passwd "$u" >/dev/null; then
		die "an account $u exists on this machine; refusing"
	fi
	mkdir -m 0755 "$T/home/$u"
	useradd -M -d "$T/home/$u" -s /bin/bash -c "sspr e2e throwaway" "$u" || die "useradd $u failed"
	chown "$u:" "$T/home/$u"
	printf '%s:%s\n' "$u" "$2" | chpasswd || die "chpasswd $u failed"
	[ "$(grep -c "^$u:" /etc/shadow)" = 1 ] || die "no shadow line for $u"
	[ -s "$T/user" ] || printf '%s' "$u" > "$T/user"
	pass "throwaway user $u (uid $(id -u "$u")) with a known password, in the /etc copy"
}

# e2e_conf LINE...: sspr.conf of this test (root:root 0644)
e2e_conf() {
	printf '%s\n' "# e2e test policy" "$@" > "$confdir/sspr.conf"
	chown root:root "$confdir/sspr.conf"
	chmod 0644 "$confdir/sspr.conf"
}

# e2e_enroll USER SECRET: enroll with the built CLI as root; the recovery
# codes it printed land in $T/codes.USER, one a line
e2e_enroll() {
	local out uri
	if ! out=$(timeout 30 "$cli" enroll "$1" --secret "$2" --qr none 2>"$T/enroll.err"); then
		cat "$T/enroll.err"
		die "sspr-cli enroll $1 failed"
	fi
	uri=${out%%$'\n'*}
	if grep -Eq "^otpauth://totp/[^ ]*[?&]secret=$2(&|\$)" <<< "$uri"; then
		pass "enroll $1: $uri"
	else
		die "enroll $1: first line is not an otpauth://totp URI with our secret: $uri"
	fi
	grep -E '^[A-Z2-7]{5}-[A-Z2-7]{5}$' <<< "$out" > "$T/codes.$1" || true
	[ "$(wc -l < "$T/codes.$1")" -ge 2 ] || die "enroll $1: no recovery codes printed"
}
# recovery_code USER N: the Nth recovery code printed at enrollment
recovery_code() { sed -n "${2}p" "$T/codes.$1"; }

# e2e_stack FILE PLACEMENT: a PAM service file with the module
#   primary: after pam_unix (SPEC section 2's first stack)
#   trigger=WORD: before pam_unix, with the trigger word
# Sessions: pam_unix and our module only, not common-session: its
# pam_systemd would register the throwaway user's session with the host's
# logind.
e2e_stack() {
	local f=$1
	case $2 in
	primary)
		cat > "$f" <<EOF
auth  [success=2 default=ignore]  pam_unix.so nullok
auth  [success=1 default=ignore]  $module debug
auth  requisite                   pam_deny.so
auth  required                    pam_permit.so
EOF
		;;
	trigger=*)
		cat > "$f" <<EOF
auth  [success=done ignore=ignore default=die]  $module $2 debug
auth  required                                  pam_unix.so try_first_pass
EOF
		;;
	*) die "e2e_stack: unknown placement $2" ;;
	esac
	cat >> "$f" <<EOF
@include common-account
@include common-password
session  required  pam_unix.so
session  optional  $module
EOF
}

# shadow_save TAG: keep a copy of /etc/shadow as $T/shadow.TAG
shadow_save() { cp -p /etc/shadow "$T/shadow.$1"; }
shadow_field() { grep "^$1:" "$2" | cut -d: -f"$3"; }
# shadow_check_reset USER TAG: only USER's line changed since TAG, with a
# new hash and today's lastchg; owner, group, mode kept; shadow- is TAG
shadow_check_reset() {
	local u=$1 before=$T/shadow.$2 old_line new_line today oh nh lc
	if [ "$(grep -c "^$u:" /etc/shadow)" != 1 ]; then
		fail "shadow: not exactly one line for $u"
		return
	fi
	old_line=$(grep "^$u:" "$before")
	new_line=$(grep "^$u:" /etc/shadow)
	oh=$(shadow_field "$u" "$before" 2) nh=$(shadow_field "$u" /etc/shadow 2)
	lc=$(shadow_field "$u" /etc/shadow 3)
	today=$(($(date -u +%s) / 86400))
	if [ "$old_line" = "$new_line" ]; then
		fail "shadow: the line of $u did not change"
	elif [ "$oh" = "$nh" ]; then
		fail "shadow: the hash of $u did not change"
	elif [ "$lc" != "$today" ] && [ "$lc" != "$((today - 1))" ]; then
		fail "shadow: lastchg $lc, want today ($today)"
	else
		pass "shadow: line of $u changed (hash ${nh:0:4}..., lastchg $lc)"
	fi
	awk -v u="$u" -v l="$new_line" 'BEGIN { FS = ":" } $1 == u { print l; next } { print }' \
		"$before" > "$T/shadow.expected"
	if cmp -s "$T/shadow.expected" /etc/shadow; then
		pass "shadow: every other line byte-identical"
	else
		fail "shadow: other lines changed:"
		diff "$T/shadow.expected" /etc/shadow | sed 's/^/  /' || true
	fi
	if [ "$(stat -c '%u:%g %a' /etc/shadow)" = "$(stat -c '%u:%g %a' "$before")" ]; then
		pass "shadow: owner, group, mode kept ($(stat -c '%u:%g %a' /etc/shadow))"
	else
		fail "shadow: owner/group/mode $(stat -c '%u:%g %a' /etc/shadow), was $(stat -c '%u:%g %a' "$before")"
	fi
	if cmp -s "$before" /etc/shadow-; then
		pass "shadow-: the previous version"
	else
		fail "shadow-: not the previous version of shadow"
	fi
}
# shadow_check_same TAG WHAT: /etc/shadow is byte for byte the copy TAG
shadow_check_same() {
	if cmp -s "$T/shadow.$1" /etc/shadow; then
		pass "shadow unchanged: $2"
	else
		fail "shadow changed: $2"
		diff "$T/shadow.$1" /etc/shadow | sed 's/^/  /' || true
	fi
}

# state_snapshot: the state directory's names, sizes, times, modes
state_snapshot() { find "$statedir" -printf '%P %s %T@ %m\n' | sort; }

# free_port: a loopback port nobody listens on
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

# start_sshd SERVICE PORT KBDINT PASSWORD ALLOWUSERS: sshd on 127.0.0.1
# whose PAM service is SERVICE (OpenSSH on Debian takes it from argv[0]:
# it runs through a symlink of that name).  Sets SSHD_PID; waits for its
# "Server listening" line (10 s at most).
SSHD_PID=
start_sshd() {
	local svc=$1 port=$2 cfg=$T/sshd_config.$2 log=$T/sshd.$2.log
	[ -e "$T/hostkey" ] || ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey" || die "ssh-keygen failed"
	mkdir -p "$T/bin"
	[ -e "$T/bin/$svc" ] || ln -s /usr/sbin/sshd "$T/bin/$svc"
	cat > "$cfg" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $T/hostkey
PidFile $T/sshd.$port.pid
UsePAM yes
KbdInteractiveAuthentication $3
PasswordAuthentication $4
PubkeyAuthentication no
AuthorizedKeysFile none
PermitRootLogin no
AllowUsers $5
PrintMotd no
PrintLastLog no
UseDNS no
StrictModes no
MaxAuthTries 6
LoginGraceTime 60
LogLevel VERBOSE
EOF
	"$T/bin/$svc" -t -f "$cfg" || die "sshd -t rejects $cfg"
	: > "$log"
	# E2E_STRACE=1 (debugging): trace sshd and its children into $T/strace.*
	local wrap=()
	[ -z "${E2E_STRACE:-}" ] || wrap=(strace -ff -s 200 -o "$T/strace")
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		"${wrap[@]}" "$T/bin/$svc" -D -e -f "$cfg" 2>>"$log" &
	SSHD_PID=$!
	E2E_PIDS+=("$SSHD_PID")
	export E2E_PORT=$port
	for _ in $(seq 1 100); do
		grep -q "Server listening on 127.0.0.1 port $port" "$log" && return 0
		kill -0 "$SSHD_PID" 2>/dev/null || { cat "$log"; die "sshd exited"; }
		sleep 0.1
	done
	cat "$log"
	die "sshd not listening after 10 s"
}
stop_sshd() {
	if [ -n "$SSHD_PID" ]; then
		kill "$SSHD_PID" 2>/dev/null || true
		wait "$SSHD_PID" 2>/dev/null || true
		SSHD_PID=
	fi
}

# run_expect NAME: runs $T/NAME.exp (60 s at most), transcript in $T/NAME.log
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

# common.exp: procedures for the expect scripts (source $T/common.exp)
#   want STRING WHAT     the exact STRING must come next-ish, else fail
#   ssh_spawn METHOD [N] ssh to E2E_USER at 127.0.0.1:E2E_PORT, N password tries
#   reset_dialog CODE NEWPW   from the code answer to "Your password has been reset."
#   shell_echo WORD      at a shell prompt: echo WORD, see it, exit
e2e_common_exp() {
	cat > "$T/common.exp" <<'EOF'
set timeout 20
log_user 1
proc fail {msg} { puts "\nEXPECT-FAIL: $msg"; exit 1 }
proc want {str what} {
	expect {
		-ex $str {}
		"Permission denied" { fail "denied, waiting for $what" }
		timeout { fail "no $what" }
		eof { fail "ended before $what" }
	}
}
proc ssh_spawn {method {prompts 1}} {
	global env spawn_id
	spawn ssh -F /dev/null -o PreferredAuthentications=$method \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o LogLevel=ERROR -o NumberOfPasswordPrompts=$prompts -o ConnectTimeout=10 \
		-p $env(E2E_PORT) $env(E2E_USER)@127.0.0.1
}
proc reset_dialog {code newpw} {
	send -- "$code\r"
	expect {
		"New password: " {}
		"Invalid code." { fail "code $code refused" }
		"Password reset is temporarily unavailable" { fail "rate limited" }
		"Permission denied" { fail "denied after the code" }
		timeout { fail "no New password: prompt" }
		eof { fail "ended after the code" }
	}
	send -- "$newpw\r"
	want "Retype new password: " "Retype new password: prompt"
	send -- "$newpw\r"
	expect {
		"Your password has been reset." {}
		"BAD PASSWORD" { fail "new password refused" }
		"Permission denied" { fail "denied after the new password" }
		timeout { fail "no reset confirmation" }
		eof { fail "ended after the new password" }
	}
}
proc shell_echo {word} {
	expect {
		-re {[$#] $} {}
		"Forgot your password?" { fail "offer after the right password" }
		"Permission denied" { fail "denied" }
		"incorrect" { fail "refused" }
		"Authentication failure" { fail "refused" }
		timeout { fail "no shell prompt" }
		eof { fail "ended before the shell" }
	}
	send -- "echo $word\r"
	# the output, not the echo of the command line: preceded by a newline
	# or the end of a terminal escape, never by "echo "
	expect {
		-re "\[^ \]$word\r" {}
		timeout { fail "no $word output" }
		eof { fail "ended before $word" }
	}
	send -- "exit\r"
	expect {
		eof {}
		timeout { fail "session did not end" }
	}
}
EOF
}

# e2e_finish: the inner half's verdict
e2e_finish() {
	if [ "$failures" != 0 ]; then
		if compgen -G "$T/sshd.*.log" >/dev/null; then
			echo "--- sshd logs ---"
			cat "$T"/sshd.*.log | sed 's/^/  /'
		fi
		echo "FAIL: $failures check(s) failed"
		exit 1
	fi
	exit 0
}
