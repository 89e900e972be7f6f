#!/bin/bash
# End-to-end: the console and the switch-user programs with pam_sspr in
# their own PAM stacks (the primary placement of SPEC section 2).  Root only.
#
# usage: test-login-su-sudo.sh MODULE HELPER CLI CONFDIR STATEDIR HELPER_PATH [WITH_DEVLOG LOGCATCH]
#
# login, su and sudo have fixed PAM service names, so their own files in
# /etc/pam.d are edited, in the namespace's copy of /etc only (lib.sh):
# `@include common-auth` becomes pam_unix + pam_sspr + pam_deny/pam_permit,
# `@include common-session*` becomes pam_unix + pam_sspr's session line
# (common-session's pam_systemd would register the throwaway users'
# sessions with the host's logind).  Everything else of the machine's
# login, su and sudo files stays.
#
# 1. login through a pseudo-terminal (expect): a wrong password, the offer,
#    a TOTP code, the new password twice, "Your password has been reset.",
#    a shell; then the new password logs in (and shows the notice), the old
#    one is refused;
# 2. with the default `services` (no su, no sudo): su and sudo, run by
#    unprivileged throwaway users, refuse a wrong password with no prompt
#    of ours; no helper ran (state dir unchanged, no sspr-helper line);
#    sudo still accepts the right password;
# 3. the admin adds su to `services`: su resets the target's password, the
#    shell is the target user's; then su takes the new password and
#    refuses the old one.  `su -` is another PAM service, su-l (util-linux
#    su), which stays off until the admin adds it too.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"
E2E_NAME=e2e-login-su-sudo
E2E_NEEDS=(expect oathtool setpriv /bin/login /bin/su /usr/bin/sudo)

if [ "${SSPR_E2E_INNER:-}" != 1 ]; then
	e2e_outer_checks() {
		local bad=0 t ev tag svc user
		for tag in su-default sudo-default su-l; do
			t=$(helper_lines "$tag")
			if [ -n "$t" ]; then
				echo "FAIL: audit: $tag: the helper logged something (was started):"
				printf '%s\n' "$t" | sed 's/^/  /'
				bad=1
			else
				echo "PASS: audit: $tag: no helper line"
			fi
		done
		for tag in login:ssprlogin su-enabled:ssprsu; do
			user=${tag#*:} tag=${tag%%:*}
			svc=${tag%%-*}
			t=$(helper_lines "$tag")
			for ev in reset_start code_ok reset_ok; do
				if printf '%s\n' "$t" | grep "event=$ev " | grep "user=$user " | grep "service=$svc " >/dev/null; then
					echo "PASS: audit: $tag: event=$ev user=$user service=$svc"
				else
					echo "FAIL: audit: $tag: no event=$ev line for $user/$svc"
					bad=1
				fi
			done
		done
		no_password_in_syslog pw.login pw.login.new pw.su pw.su.new pw.caller wrongpw || bad=1
		return "$bad"
	}
	e2e_outer "$@"
fi

# --- inside the private mount namespace -------------------------------------
e2e_inner "$@"

SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
WRONGPW="wrong-guess-$RANDOM"
printf '%s' "$WRONGPW" > "$T/wrongpw"
for u in login su caller; do
	printf 'Old-%s-Passw0rd-%s' "$u" "$RANDOM" > "$T/pw.$u"
	printf 'New-%s-Passphrase-%s-42' "$u" "$RANDOM" > "$T/pw.$u.new"
done
e2e_user ssprlogin "$(cat "$T/pw.login")"
e2e_user ssprsu "$(cat "$T/pw.su")"
e2e_user ssprcaller "$(cat "$T/pw.caller")"
e2e_conf "# services: the default (login sshd gdm-password lightdm sddm)" "use_pwquality = no"
e2e_enroll ssprlogin "$SECRET"
e2e_enroll ssprsu "$SECRET"
# sudo: ssprsu may run id as root (in the /etc copy); one try a run
cat > /etc/sudoers.d/sspr-e2e <<'EOF'
Defaults:ssprsu passwd_tries=1, lecture=never
ssprsu ALL=(root) /usr/bin/id
EOF
chmod 0440 /etc/sudoers.d/sspr-e2e
visudo -cq >/dev/null 2>&1 || die "sudoers of the /etc copy do not parse"

# splice FILE: the module into the service's own file (see the top)
splice() {
	local f=/etc/pam.d/$1
	[ -f "$f" ] || die "no $f in the /etc copy"
	grep -q '^@include common-auth' "$f" || die "$f does not include common-auth"
	awk -v m="$module" '
		/^@include[ \t]+common-auth/ {
			print "auth  [success=2 default=ignore]  pam_unix.so nullok"
			print "auth  [success=1 default=ignore]  " m " debug"
			print "auth  requisite                   pam_deny.so"
			print "auth  required                    pam_permit.so"
			next
		}
		/^@include[ \t]+common-session/ {
			print "session  required  pam_unix.so"
			print "session  optional  " m
			next
		}
		{ print }' "$f" > "$f.new"
	mv "$f.new" "$f"
	grep -c "$module" "$f" | grep -qx 2 || die "$f: the module is not in its auth and session stacks"
}
for s in login su sudo; do splice "$s"; done
pass "login, su, sudo: pam_sspr after pam_unix in their own /etc/pam.d files (the copy)"

e2e_common_exp
cat >> "$T/common.exp" <<'EOF'
# spawn_as USER CMD...: CMD run as USER (no privilege) on a new terminal
proc spawn_as {user args} {
	global spawn_id
	set uid [exec id -u $user]
	set gid [exec id -g $user]
	spawn setpriv --reuid=$uid --regid=$gid --init-groups -- env -i PATH=/usr/bin:/bin TERM=dumb HOME=/ {*}$args
}
# whoami_is NAME: in a shell, the user is NAME; then exit
proc whoami_is {name} {
	expect {
		-re {[$#] $} {}
		"Forgot your password?" { fail "offer after the right password" }
		"incorrect" { fail "refused" }
		"Authentication failure" { fail "refused" }
		timeout { fail "no shell prompt" }
		eof { fail "ended before the shell" }
	}
	send -- "echo WHO-\$(id -un)-OHW\r"
	expect {
		-re "WHO-(\[a-z0-9_-\]+)-OHW\r" {
			if {$expect_out(1,string) ne $name} { fail "the shell runs as $expect_out(1,string), not $name" }
		}
		timeout { fail "no id output" }
		eof { fail "ended before id" }
	}
	send -- "exit\r"
	expect {
		eof {}
		timeout { fail "shell did not end" }
	}
}
# refused_with_offer_skipped PW MSG: answer PW, skip the offer, see MSG
proc refused_with_offer_skipped {pw msg} {
	send -- "$pw\r"
	expect {
		"Forgot your password?" { send -- "\r" }
		-ex $msg { return }
		-re {[$#] $} { fail "the password opened a shell" }
		timeout { fail "no answer to the password" }
		eof { fail "ended without $msg" }
	}
	expect {
		-ex $msg {}
		"New password: " { fail "an empty answer started a reset" }
		-re {[$#] $} { fail "the password opened a shell" }
		timeout { fail "no $msg" }
		eof { fail "ended without $msg" }
	}
}
# refused_no_prompt PW MSG: answer PW, see MSG and no prompt of ours
proc refused_no_prompt {pw msg} {
	send -- "$pw\r"
	expect {
		"Forgot" { fail "our offer appeared" }
		"Verification code" { fail "our prompt appeared" }
		-ex $msg {}
		-re {[$#] $} { fail "a wrong password opened a shell" }
		timeout { fail "no $msg" }
		eof { fail "ended without $msg" }
	}
	expect {
		"Forgot" { fail "our offer appeared" }
		eof {}
		timeout { fail "did not end" }
	}
}
EOF

# --- 1. login -------------------------------------------------------------
cat > "$T/login-reset.exp" <<EOF
source $T/common.exp
spawn login ssprlogin
want "Password: " "Password: prompt"
send -- "$WRONGPW\r"
want "$OFFER" "offer"
reset_dialog [exec oathtool --totp -b $SECRET] [exec cat $T/pw.login.new]
whoami_is ssprlogin
EOF
cat > "$T/login-new.exp" <<EOF
source $T/common.exp
spawn login ssprlogin
want "Password: " "Password: prompt"
send -- "[exec cat $T/pw.login.new]\r"
whoami_is ssprlogin
EOF
cat > "$T/login-old.exp" <<EOF
source $T/common.exp
spawn login ssprlogin
want "Password: " "Password: prompt"
refused_with_offer_skipped [exec cat $T/pw.login] "Login incorrect"
EOF
shadow_save login
mark login-begin
if run_expect login-reset; then
	pass "login: wrong password, offer, TOTP code, new password twice, 'Your password has been reset.', shell of ssprlogin"
else
	fail "login: reset"
fi
if run_expect login-new; then
	pass "login: the new password opens a shell of ssprlogin, no offer"
else
	fail "login: the new password"
fi
if run_expect login-old; then
	pass "login: the old password refused (offer skipped with Enter, 'Login incorrect')"
else
	fail "login: the old password"
fi
mark login-end
shadow_check_reset ssprlogin login
n=$(tr -d '\r' < "$T/login-new.log" | grep -o 'Your password was reset on.*' || true)
case "$n" in
*"(login)."*) pass "login: notice at the next login: $n" ;;
*) fail "login: no notice '... (login).' at the next login (got '$n')" ;;
esac

# --- 2. default services: su and sudo never start the branch --------------
cat > "$T/su-default.exp" <<EOF
source $T/common.exp
spawn_as ssprcaller su ssprsu
want "Password: " "Password: prompt"
refused_no_prompt "$WRONGPW" "Authentication failure"
EOF
cat > "$T/sudo-default.exp" <<EOF
source $T/common.exp
spawn_as ssprsu sudo -k /usr/bin/id -un
want "password for ssprsu: " "sudo's password prompt"
refused_no_prompt "$WRONGPW" "incorrect password attempt"
EOF
cat > "$T/sudo-right.exp" <<EOF
source $T/common.exp
spawn_as ssprsu sudo -k /usr/bin/id -un
want "password for ssprsu: " "sudo's password prompt"
send -- "[exec cat $T/pw.su]\r"
expect {
	-re "\nroot\r" {}
	"Forgot" { fail "our offer after the right password" }
	"incorrect" { fail "the right password refused" }
	timeout { fail "no output of id" }
	eof { fail "ended without the output of id" }
}
expect eof
EOF
shadow_save default
state_before=$(state_snapshot)
mark su-default-begin
if run_expect su-default; then
	pass "su (not in services): wrong password -> 'Authentication failure', no prompt of ours"
else
	fail "su with the default services"
fi
mark su-default-end
mark sudo-default-begin
if run_expect sudo-default; then
	pass "sudo (not in services): wrong password -> 'incorrect password attempt', no prompt of ours"
else
	fail "sudo with the default services"
fi
if run_expect sudo-right; then
	pass "sudo: the right password still runs id as root through the stack with the module"
else
	fail "sudo with the right password"
fi
mark sudo-default-end
if [ "$state_before" = "$(state_snapshot)" ]; then
	pass "su, sudo (not in services): state dir untouched (no helper started)"
else
	fail "su, sudo (not in services): the state dir changed (a helper ran?)"
fi
shadow_check_same default "su and sudo outside services"

# --- 3. the admin adds su ---------------------------------------------------
e2e_conf "services = login sshd gdm-password lightdm sddm su" "use_pwquality = no"
cat > "$T/su-reset.exp" <<EOF
source $T/common.exp
spawn_as ssprcaller su ssprsu
want "Password: " "Password: prompt"
send -- "$WRONGPW\r"
want "$OFFER" "offer"
reset_dialog [exec oathtool --totp -b $SECRET] [exec cat $T/pw.su.new]
whoami_is ssprsu
EOF
cat > "$T/su-new.exp" <<EOF
source $T/common.exp
spawn_as ssprcaller su ssprsu
want "Password: " "Password: prompt"
send -- "[exec cat $T/pw.su.new]\r"
whoami_is ssprsu
EOF
cat > "$T/su-old.exp" <<EOF
source $T/common.exp
spawn_as ssprcaller su ssprsu
want "Password: " "Password: prompt"
refused_with_offer_skipped [exec cat $T/pw.su] "Authentication failure"
EOF
# `su -` is PAM service su-l (util-linux su; Debian's su-l includes su):
# not in services, so still no prompt of ours
sed -e 's/su ssprsu/su - ssprsu/' "$T/su-default.exp" > "$T/su-l.exp"
state_before=$(state_snapshot)
mark su-l-begin
if run_expect su-l; then
	pass "su - (PAM service su-l, not in services): wrong password -> 'Authentication failure', no prompt of ours"
else
	fail "su - with su (not su-l) in services"
fi
mark su-l-end
[ "$state_before" = "$(state_snapshot)" ] || fail "su -: the state dir changed (a helper ran?)"
shadow_save su
mark su-enabled-begin
if run_expect su-reset; then
	pass "su (services += su), run by ssprcaller: wrong password, offer, TOTP code, new password twice, 'Your password has been reset.', shell of ssprsu"
else
	fail "su: reset"
fi
mark su-enabled-end
shadow_check_reset ssprsu su
if run_expect su-new; then
	pass "su: the new password opens a shell of ssprsu"
else
	fail "su: the new password"
fi
if run_expect su-old; then
	pass "su: the old password refused (offer skipped, 'Authentication failure')"
else
	fail "su: the old password"
fi
e2e_finish
