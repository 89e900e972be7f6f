#!/bin/bash
# End-to-end: the alternative placement (SPEC section 2: before pam_unix,
# `trigger=reset`) behind a real sshd on loopback with keyboard-interactive,
# and `on_success = relogin`: after a reset the login is refused and the
# user authenticates again, with the new password.  Root only.
#
# usage: test-sshd-trigger.sh MODULE HELPER CLI CONFDIR STATEDIR HELPER_PATH [WITH_DEVLOG LOGCATCH]
#
#   auth  [success=done ignore=ignore default=die]  pam_sspr.so trigger=reset
#   auth  required                                  pam_unix.so try_first_pass
#
# 1. a wrong password (not the trigger word): no prompt of ours, no helper,
#    Permission denied;
# 2. the right password logs in through pam_unix (try_first_pass takes what
#    the module read);
# 3. "reset" at Password: -> "Verification code: " (no offer), a TOTP code,
#    the new password twice, and then NOT a shell: sshd asks for the
#    password again (ssh allows 2 tries), the new password opens the shell
#    (sshd does not show "Your password has been reset." here: it drops PAM
#    messages that no prompt follows when authentication fails; NOTE);
# 4. a fresh connection: the new password works, the old one is refused.
# Isolation: tests/e2e/lib.sh.
set -euo pipefail

SERVICE=sspr-e2e-sshd-trig
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"
E2E_NAME=e2e-sshd-trigger
E2E_NEEDS=(expect oathtool ssh ssh-keygen /usr/sbin/sshd)

if [ "${SSPR_E2E_INNER:-}" != 1 ]; then
	e2e_outer_checks() {
		local bad=0 user ev t
		user=$(cat "$T/user")
		t=$(helper_lines notrigger)
		if [ -n "$t" ]; then
			echo "FAIL: a password that is not the trigger word started the helper:"
			printf '%s\n' "$t" | sed 's/^/  /'
			bad=1
		else
			echo "PASS: audit: no helper line for passwords that are not the trigger word"
		fi
		t=$(helper_lines trigger)
		for ev in reset_start code_ok reset_ok; do
			if printf '%s\n' "$t" | grep "event=$ev " | grep "user=$user " | grep "service=$SERVICE" >/dev/null; then
				echo "PASS: audit: event=$ev user=$user service=$SERVICE"
			else
				echo "FAIL: audit: no event=$ev line for $user/$SERVICE"
				bad=1
			fi
		done
		t=$(helper_lines after)
		if [ -n "$t" ]; then
			echo "FAIL: logins after the reset started the helper:"
			printf '%s\n' "$t" | sed 's/^/  /'
			bad=1
		else
			echo "PASS: audit: no helper line for the logins after the reset"
		fi
		no_password_in_syslog oldpw newpw wrongpw || bad=1
		return "$bad"
	}
	e2e_outer "$@"
fi

# --- inside the private mount namespace -------------------------------------
e2e_inner "$@"

U=ssprtrig
OLDPW="Old-trig-Passw0rd-$RANDOM"
NEWPW="New-trig-Passphrase-$RANDOM-42"
WRONGPW="wrong-guess-$RANDOM"
SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
printf '%s' "$OLDPW" > "$T/oldpw"
printf '%s' "$NEWPW" > "$T/newpw"
printf '%s' "$WRONGPW" > "$T/wrongpw"
e2e_user "$U" "$OLDPW"

e2e_conf "services = $SERVICE" "use_pwquality = no" "on_success = relogin"
e2e_stack "/etc/pam.d/$SERVICE" trigger=reset
e2e_enroll "$U" "$SECRET"
e2e_common_exp
shadow_save before
export E2E_USER=$U E2E_SECRET=$SECRET E2E_OLDPW=$OLDPW E2E_NEWPW=$NEWPW E2E_WRONGPW=$WRONGPW

# 1. a wrong password: pam_unix refuses, nothing of ours
cat > "$T/wrong.exp" <<EOF
source $T/common.exp
ssh_spawn keyboard-interactive
want "Password: " "Password: prompt"
send -- "\$env(E2E_WRONGPW)\r"
expect {
	"Verification code" { fail "our prompt after a password that is not the trigger" }
	"Forgot" { fail "an offer in the trigger placement" }
	"Permission denied" {}
	-re {[\$#] \$} { fail "a wrong password opened a shell" }
	timeout { fail "no Permission denied" }
	eof { fail "ssh ended without Permission denied" }
}
expect eof
EOF

# 2. the right password: pam_unix try_first_pass
cat > "$T/right.exp" <<EOF
source $T/common.exp
ssh_spawn keyboard-interactive
want "Password: " "Password: prompt"
send -- "\$env(E2E_OLDPW)\r"
shell_echo TRIG-OLD-OK
EOF

# 3. the trigger word, a reset, and (relogin) the password again
cat > "$T/reset.exp" <<EOF
source $T/common.exp
ssh_spawn keyboard-interactive 2
want "Password: " "Password: prompt"
send -- "reset\r"
expect {
	"Verification code: " {}
	"Forgot" { fail "the offer prompt in the trigger placement (want Verification code:)" }
	"Permission denied" { fail "denied after the trigger word" }
	-re {Password: \$} { fail "the trigger word was taken as a wrong password" }
	timeout { fail "no Verification code: prompt" }
	eof { fail "ssh ended after the trigger word" }
}
send -- "[exec oathtool --totp -b \$env(E2E_SECRET)]\r"
expect {
	"New password: " {}
	"Invalid code." { fail "TOTP code refused" }
	"Permission denied" { fail "denied after the code" }
	timeout { fail "no New password: prompt" }
	eof { fail "ssh ended after the code" }
}
send -- "\$env(E2E_NEWPW)\r"
want "Retype new password: " "Retype new password: prompt"
send -- "\$env(E2E_NEWPW)\r"
# on_success = relogin: no shell now, the password again.  (sshd drops
# the PAM_TEXT_INFO "Your password has been reset." when PAM fails with no
# prompt after it: OpenSSH auth-pam.c, sshpam_query, PAM_AUTH_ERR.)
expect {
	"Your password has been reset." { puts "\nE2E-RESET-MESSAGE"; exp_continue }
	"BAD PASSWORD" { fail "new password refused" }
	-re {Password: \$} {}
	-re {[\$#] \$} { fail "relogin: a shell right after the reset" }
	"Permission denied" { fail "relogin: no second Password: prompt" }
	timeout { fail "relogin: no second Password: prompt" }
	eof { fail "relogin: ssh ended after the reset" }
}
puts "\nE2E-RELOGIN-PROMPT"
send -- "\$env(E2E_NEWPW)\r"
shell_echo TRIG-RELOGIN-OK
EOF

# 4a. the new password, a fresh connection
cat > "$T/newpw.exp" <<EOF
source $T/common.exp
ssh_spawn keyboard-interactive
want "Password: " "Password: prompt"
send -- "\$env(E2E_NEWPW)\r"
shell_echo TRIG-NEW-OK
EOF
# 4b. the old password is refused
sed -e 's/E2E_WRONGPW/E2E_OLDPW/' -e 's/a wrong password opened/the old password opened/' \
	"$T/wrong.exp" > "$T/oldpw.exp"

port=$(free_port) || die "no free port"
start_sshd "$SERVICE" "$port" yes no "$U"
pass "sshd ($SERVICE) on 127.0.0.1:$port, keyboard-interactive, module before pam_unix with trigger=reset, on_success = relogin"

mark notrigger-begin
state_before=$(state_snapshot)
if run_expect wrong; then
	pass "trigger placement: a wrong password is refused, no prompt of ours"
else
	fail "trigger placement: wrong password"
fi
if run_expect right; then
	if grep -q "Verification code" "$T/right.log"; then
		fail "trigger placement: the right password showed our prompt"
	else
		pass "trigger placement: the right password logs in (pam_unix try_first_pass), shell ran echo TRIG-OLD-OK"
	fi
else
	fail "trigger placement: login with the right password"
fi
mark notrigger-end
if [ "$state_before" = "$(state_snapshot)" ]; then
	pass "trigger placement: state dir untouched by passwords that are not the trigger word"
else
	fail "trigger placement: the state dir changed without the trigger word (a helper ran?)"
fi
shadow_check_same before "no reset yet"

mark trigger-begin
if run_expect reset; then
	pass "trigger word 'reset' -> Verification code:, TOTP code, new password twice, then Password: again (relogin), the new password opened the shell (echo TRIG-RELOGIN-OK)"
else
	fail "trigger word reset with relogin"
fi
mark trigger-end
if grep -q '^E2E-RESET-MESSAGE' "$T/reset.log"; then
	pass "relogin: 'Your password has been reset.' shown before the second Password: prompt"
else
	echo "NOTE: relogin over sshd keyboard-interactive: 'Your password has been reset.' not shown (sshd drops PAM messages not followed by a prompt when authentication fails)"
fi
# the shell of the relogin came after the second Password: prompt, not before
if awk '/E2E-RELOGIN-PROMPT/ { p = 1 } /TRIG-RELOGIN-OK\r?$/ && !/echo/ { if (p) ok = 1 } END { exit !ok }' "$T/reset.log"; then
	pass "relogin: the shell came only after the second authentication"
else
	fail "relogin: no shell after the second authentication"
fi
shadow_check_reset "$U" before

mark after-begin
if run_expect newpw; then
	pass "fresh connection: the new password logs in, shell ran echo TRIG-NEW-OK"
else
	fail "fresh connection with the new password"
fi
if run_expect oldpw; then
	pass "fresh connection: the old password is refused"
else
	fail "fresh connection with the old password"
fi
mark after-end
stop_sshd
n=$(cat "$T/reset.log" "$T/newpw.log" | tr -d '\r' | grep -c 'Your password was reset on' || true)
if [ "$n" = 1 ]; then
	pass "notice shown once ($(cat "$T/reset.log" "$T/newpw.log" | tr -d '\r' | grep -o 'Your password was reset on.*' | sed -n 1p))"
else
	fail "notice shown $n times after the reset (want once)"
fi
e2e_finish
