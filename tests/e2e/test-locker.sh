#!/bin/bash
# End-to-end: a non-root PAM caller, as a screen locker is.  Root only (to
# set the scene); the caller itself runs as the throwaway user.
#
# usage: test-locker.sh MODULE HELPER CLI CONFDIR STATEDIR HELPER_PATH WITH_DEVLOG LOGCATCH LOCKER
#   LOCKER: tests/e2e/sspr-locker (pam_start for its own account, or the
#   USER given, pam_authenticate, answers from stdin)
#
# In the namespace (lib.sh) the built helper is INSTALLED at its compiled-in
# path 4755 root:root, as the package installs it; the PAM service file
# names the built module by its absolute path, after pam_unix (which checks
# the caller's own password through its setuid unix_chkpwd).  The locker
# runs under setpriv as the throwaway user ssprlock, with an empty
# environment, so the module finds the helper only at its fixed path and
# the helper runs elevated (real uid ssprlock, effective uid 0).
#
# 1. its own account: a wrong password, the offer, a TOTP code, the new
#    password twice: "Your password has been reset.", PAM_SUCCESS; the
#    shadow line changed (hash, lastchg), nothing else; then the new
#    password authenticates, the old one does not;
# 2. another user's account (ssprother, enrolled, the right TOTP code for
#    it): no reset, no "New password:" prompt, PAM refuses; ssprother's
#    shadow line and the whole file unchanged; the helper audits
#    denied reason=not_caller;
# 3. the audit lines of the elevated helper name caller_uid and record
#    service=- (it trusts no context from the caller), the denied line too;
#    the audit journal still verifies after the refused request.
set -euo pipefail

SERVICE=sspr-e2e-locker
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"
E2E_NAME=e2e-locker
E2E_NEEDS=(oathtool setpriv)

if [ "${SSPR_E2E_INNER:-}" != 1 ]; then
	[ -x "${9:-}" ] || { echo "FAIL: locker program missing (9th argument)"; exit 1; }
	e2e_outer_checks() {
		local bad=0 t ev uid
		uid=$(cat "$T/uid.ssprlock")
		t=$(helper_lines own)
		for ev in reset_start code_ok reset_ok; do
			if printf '%s\n' "$t" | grep "event=$ev " | grep 'user=ssprlock ' |
				grep 'service=- ' | grep "caller_uid=$uid\\b" >/dev/null; then
				echo "PASS: audit: own account: event=$ev user=ssprlock service=- caller_uid=$uid"
			else
				echo "FAIL: audit: own account: no event=$ev user=ssprlock service=- caller_uid=$uid line"
				bad=1
			fi
		done
		t=$(helper_lines other)
		if printf '%s\n' "$t" | grep 'event=denied' | grep 'reason=not_caller' >/dev/null; then
			echo "PASS: audit: another account: event=denied reason=not_caller"
		else
			echo "FAIL: audit: another account: no event=denied reason=not_caller line"
			bad=1
		fi
		# SPEC section 2: the elevated helper trusts no context field from
		# the caller and records service=-, rhost=-
		if printf '%s\n' "$t" | grep 'event=denied' | grep -v 'service=- ' | grep . >/dev/null; then
			echo "FAIL: audit: another account: the denied line records the caller's service (want service=-):"
			printf '%s\n' "$t" | grep 'event=denied' | sed 's/^/  /'
			bad=1
		fi
		if printf '%s\n' "$t" | grep -Eq 'event=(code_ok|reset_ok)'; then
			echo "FAIL: audit: another account: a code was accepted or a reset done:"
			printf '%s\n' "$t" | sed 's/^/  /'
			bad=1
		fi
		no_password_in_syslog pw.lock pw.lock.new pw.other wrongpw || bad=1
		return "$bad"
	}
	e2e_outer "$@"
fi

# --- inside the private mount namespace -------------------------------------
E2E_SETUID_HELPER=1
e2e_inner "$@"
locker=$9

SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
OTHER_SECRET=MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U
WRONGPW="wrong-guess-$RANDOM"
printf '%s' "$WRONGPW" > "$T/wrongpw"
printf 'Old-lock-Passw0rd-%s' "$RANDOM" > "$T/pw.lock"
printf 'New-lock-Passphrase-%s-42' "$RANDOM" > "$T/pw.lock.new"
printf 'Other-Passw0rd-%s' "$RANDOM" > "$T/pw.other"
e2e_user ssprlock "$(cat "$T/pw.lock")"
e2e_user ssprother "$(cat "$T/pw.other")"
id -u ssprlock > "$T/uid.ssprlock"
e2e_conf "services = $SERVICE" "use_pwquality = no"
e2e_stack "/etc/pam.d/$SERVICE" primary
e2e_enroll ssprlock "$SECRET"
e2e_enroll ssprother "$OTHER_SECRET"
mkdir -p "$T/bin"
install -m 0755 "$locker" "$T/bin/sspr-locker"

# lock_as ANSWERS-FILE NAME [USER]: the locker as ssprlock (60 s at most);
# output in $T/NAME.out, exit status in $T/NAME.rc
lock_as() {
	local rc=0 uid gid
	uid=$(id -u ssprlock) gid=$(id -g ssprlock)
	timeout -k 5 60 setpriv --reuid="$uid" --regid="$gid" --init-groups -- \
		env -i PATH=/usr/bin:/bin "$T/bin/sspr-locker" "$SERVICE" ${3:+"$3"} \
		< "$1" > "$T/$2.out" 2>&1 || rc=$?
	echo "$rc" > "$T/$2.rc"
	sed 's/^/  | /' "$T/$2.out"
}
has() { grep -qF -- "$2" "$T/$1.out"; }

# 1. its own account
printf '%s\n%s\n%s\n%s\n' "$WRONGPW" "$(oathtool --totp -b "$SECRET")" \
	"$(cat "$T/pw.lock.new")" "$(cat "$T/pw.lock.new")" > "$T/own.in"
shadow_save own
mark own-begin
echo "locker as ssprlock, its own account:"
lock_as "$T/own.in" own
mark own-end
if [ "$(cat "$T/own.rc")" = 0 ] && has own "$OFFER" && has own "New password: " &&
	has own "Your password has been reset." && has own "[pam_authenticate: Success]"; then
	pass "locker (uid $(id -u ssprlock), no privilege): wrong password, offer, TOTP code, new password twice, 'Your password has been reset.', PAM_SUCCESS"
else
	fail "locker: own reset (exit $(cat "$T/own.rc"))"
fi
shadow_check_reset ssprlock own

printf '%s\n' "$(cat "$T/pw.lock.new")" > "$T/new.in"
echo "locker as ssprlock, the new password:"
lock_as "$T/new.in" new
if [ "$(cat "$T/new.rc")" = 0 ] && ! has new "Forgot"; then
	pass "locker: the new password authenticates (pam_unix through unix_chkpwd), no offer"
else
	fail "locker: the new password (exit $(cat "$T/new.rc"))"
fi
printf '%s\n\n' "$(cat "$T/pw.lock")" > "$T/old.in"
echo "locker as ssprlock, the old password (offer skipped):"
lock_as "$T/old.in" old
if [ "$(cat "$T/old.rc")" = 1 ] && has old "$OFFER" && ! has old "New password"; then
	pass "locker: the old password is refused"
else
	fail "locker: the old password (exit $(cat "$T/old.rc"))"
fi

# 2. another user's account, with the right code for it
printf '%s\n%s\n%s\n%s\n%s\n%s\n' "$WRONGPW" "$(oathtool --totp -b "$OTHER_SECRET")" \
	"$(oathtool --totp -b "$OTHER_SECRET")" "$(oathtool --totp -b "$OTHER_SECRET")" \
	"Taken-Over-Passphrase-42" "Taken-Over-Passphrase-42" > "$T/other.in"
shadow_save other
state_other=$(shadow_field ssprother /etc/shadow 2)
mark other-begin
echo "locker as ssprlock, asking for ssprother:"
lock_as "$T/other.in" other ssprother
mark other-end
if [ "$(cat "$T/other.rc")" = 1 ] && ! has other "New password" &&
	! has other "Your password has been reset." && ! has other "[pam_authenticate: Success]"; then
	pass "locker as ssprlock for ssprother: refused, no New password: prompt, no reset"
else
	fail "locker as ssprlock for ssprother (exit $(cat "$T/other.rc"))"
fi
if [ "$(shadow_field ssprother /etc/shadow 2)" = "$state_other" ]; then
	pass "shadow: ssprother's hash unchanged"
else
	fail "shadow: ssprother's hash changed by ssprlock's locker"
fi
shadow_check_same other "ssprlock asked for ssprother"

# The audit journal survives the refused request: the chain still verifies
# from its start, and the next event (the root CLI's) still joins it.
timeout 30 "$cli" unlock ssprlock > "$T/unlock.out" 2>&1 || fail "sspr-cli unlock ssprlock: $(cat "$T/unlock.out")"
if timeout 30 "$cli" audit verify > "$T/verify.out" 2>&1; then
	pass "audit verify: the journal chain is intact after the refused request ($(tail -n 1 "$T/verify.out"))"
else
	fail "audit verify after ssprlock's request for ssprother: $(tr '\n' ' ' < "$T/verify.out")"
fi
e2e_finish
