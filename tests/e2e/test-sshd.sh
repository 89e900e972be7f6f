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
# Isolation: tests/e2e/lib.sh (private mount namespace, /etc copy,
# overlays for the state and helper directories, tmpfs /run and /var/log).
# sshd listens on 127.0.0.1 on a free high port, accepts only the
# throwaway user (AllowUsers), with its own host key and config, and is
# killed on exit.  Its PAM service is named by its argv[0]: it runs
# through a symlink named sspr-e2e-sshd.
set -euo pipefail

SERVICE=sspr-e2e-sshd
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"
E2E_NAME=e2e-sshd
E2E_NEEDS=(expect oathtool ssh ssh-keygen /usr/sbin/sshd)

if [ "${SSPR_E2E_INNER:-}" != 1 ]; then
	# the audit trail, as sent to /dev/log
	e2e_outer_checks() {
		local bad=0 user ev case1 case2
		user=$(cat "$T/user")
		case1=$(helper_lines case1)
		case2=$(helper_lines case2)
		if printf '%s\n' "$case1" | grep 'event=reset_ok' | grep "user=$user " |
			grep "service=$SERVICE" | grep 'rhost=127.0.0.1' >/dev/null; then
			echo "PASS: audit: event=reset_ok user=$user service=$SERVICE rhost=127.0.0.1 logged by sspr-helper"
		else
			echo "FAIL: audit: no sspr-helper event=reset_ok line for $user/$SERVICE/127.0.0.1"
			bad=1
		fi
		for ev in reset_start code_ok; do
			if printf '%s\n' "$case1" | grep "event=$ev " >/dev/null; then
				echo "PASS: audit: event=$ev logged"
			else
				echo "FAIL: audit: no event=$ev line"
				bad=1
			fi
		done
		if [ -n "$case2" ]; then
			echo "FAIL: password-authentication case: the helper logged something (was started):"
			printf '%s\n' "$case2" | sed 's/^/  /'
			bad=1
		else
			echo "PASS: password-authentication case: no helper line in syslog"
		fi
		no_password_in_syslog oldpw newpw wrongpw || bad=1
		return "$bad"
	}
	e2e_outer "$@"
fi

# --- inside the private mount namespace -------------------------------------
e2e_inner "$@"

U=ssprtest
OLDPW="Old-e2e-Passw0rd-$RANDOM"
NEWPW="New-e2e-Passphrase-$RANDOM-42"
WRONGPW="wrong-guess-$RANDOM"
SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
printf '%s' "$OLDPW" > "$T/oldpw"
printf '%s' "$NEWPW" > "$T/newpw"
printf '%s' "$WRONGPW" > "$T/wrongpw"
e2e_user "$U" "$OLDPW"
shadow_save before

# policy and PAM service (the primary placement of SPEC section 2)
e2e_conf "services = $SERVICE" "use_pwquality = no" "hash = default" "on_success = login"
e2e_stack "/etc/pam.d/$SERVICE" primary
e2e_enroll "$U" "$SECRET"
e2e_common_exp

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
start_sshd "$SERVICE" "$port" yes no "$U"
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
notice() { tr -d '\r' < "$T/$1.log" | grep -o 'Your password was reset on.*' | sed -n 1p || true; }
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
shadow_check_reset "$U" before

# 4. password authentication: the branch stays out of the way
state_before=$(state_snapshot)
port2=$(free_port) || die "no free port"
start_sshd "$SERVICE" "$port2" no yes "$U"
pass "sshd ($SERVICE) on 127.0.0.1:$port2, password authentication only"
mark case2-begin
if run_expect pwauth; then
	pass "password authentication: wrong password denied, no prompt of ours"
else
	fail "password authentication case"
fi
mark case2-end
stop_sshd
state_after=$(state_snapshot)
if [ "$state_before" = "$state_after" ]; then
	pass "password authentication: state dir untouched (no helper started)"
else
	fail "password authentication: the state dir changed (a helper ran?)"
	diff <(printf '%s\n' "$state_before") <(printf '%s\n' "$state_after") | sed 's/^/  /' || true
fi

e2e_finish
