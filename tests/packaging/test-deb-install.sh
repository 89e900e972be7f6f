#!/bin/bash
# The Debian package, installed, used and purged -- in a private root made
# of a mount namespace, never on the machine.  Root only.
#
# usage: test-deb-install.sh SRCDIR CACHEDIR [WITH_DEVLOG LOGCATCH]
#   CACHEDIR: build-deb.sh's cache (the package test-deb.sh built from this
#   same tree is reused; else it is built here, once)
#
# Isolation: tests/e2e/lib.sh's namespace (a copy of /etc bound over /etc,
# tmpfs /run and /var/log) plus overlays (upper layers in the temp dir) over
# everything else dpkg writes: /usr (module, helper, CLI, man pages,
# pam-configs, tmpfiles.d, doc), /var/lib (the dpkg database, /var/lib/sspr,
# /var/lib/pam) and /var/cache (debconf, man-db).  The machine's dpkg
# database, /etc and /usr stay as they were; the outer half checks
# /var/lib/dpkg/status and /etc/pam.d by checksum afterwards.
#
# 1. dpkg -i: the module in the PAM module dir, the helper 4755 root:root,
#    the CLI, the man pages, the pam-auth-update profile, sspr.conf,
#    /var/lib/sspr 0700 root; common-auth and common-session unchanged
#    (Default: no);
# 2. pam-auth-update --enable sspr: pam_sspr.so after pam_unix.so in
#    common-auth, the session line in common-session;
# 3. an sshd on 127.0.0.1 named sshd, so that it uses the machine's own
#    /etc/pam.d/sshd (the copy) and the default `services`, with the
#    installed sspr.conf: a throwaway user enrolled with the installed CLI
#    resets a forgotten password through keyboard-interactive (the
#    installed module and setuid helper), then logs in with the new one;
# 4. dpkg --purge: no pam_sspr left in /etc/pam.d, the files and
#    /var/lib/sspr gone, and a password login through the same sshd (the
#    same pam.d) still works while a wrong password is still refused.
set -euo pipefail

# shellcheck source=../e2e/lib.sh
. "$(dirname "$(readlink -f "$0")")/../e2e/lib.sh"
E2E_NAME=packaging-deb-install
E2E_NEEDS=(expect oathtool ssh ssh-keygen /usr/sbin/sshd dpkg pam-auth-update dpkg-architecture)
E2E_CHECK_BUILT=no

if [ "${SSPR_E2E_INNER:-}" != 1 ]; then
	if [ $# -lt 2 ]; then
		echo "usage: test-deb-install.sh SRCDIR CACHEDIR [WITH_DEVLOG LOGCATCH]" >&2
		exit 2
	fi
	src=$(readlink -f "$1") cache=$2
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root"
		exit 77
	fi
	for c in dpkg-buildpackage dh; do
		command -v "$c" >/dev/null || { echo "SKIP: $c missing (dpkg-dev/debhelper)"; exit 77; }
	done
	(cd "$src" && dpkg-checkbuilddeps) >/dev/null 2>&1 ||
		{ echo "SKIP: build dependencies missing: $(cd "$src" && dpkg-checkbuilddeps 2>&1 | tail -1)"; exit 77; }
	echo "building the package (or reusing the build of this same tree)"
	pkgdir=$(timeout -k 10 400 "$(dirname "$(readlink -f "$0")")/build-deb.sh" "$src" "$cache") ||
		{ echo "FAIL: dpkg-buildpackage"; exit 1; }
	deb=$(ls "$pkgdir"/libpam-sspr_*.deb)
	echo "package: $deb"
	MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)

	# the machine's own state, to compare afterwards
	host_state() {
		md5sum /var/lib/dpkg/status /etc/pam.d/* /etc/passwd /etc/shadow /etc/group 2>&1
		ls -l /etc/pam.d /usr/share/pam-configs /usr/libexec 2>&1
		ls -ld /var/lib/sspr "/usr/lib/$MA/security/pam_sspr.so" /usr/bin/sspr-cli 2>&1 || true
	}
	host_before=$(host_state)
	e2e_outer_checks() {
		local bad=0 t
		if [ "$host_before" = "$(host_state)" ]; then
			echo "PASS: the machine's dpkg status, /etc/pam.d, passwd, shadow, group, pam-configs unchanged"
		else
			echo "FAIL: the machine changed:"
			diff <(printf '%s\n' "$host_before") <(host_state) | sed 's/^/  /' || true
			bad=1
		fi
		t=$(helper_lines reset)
		if printf '%s\n' "$t" | grep 'event=reset_ok' | grep 'user=ssprpkg ' | grep 'service=sshd ' >/dev/null; then
			echo "PASS: audit: the installed helper logged event=reset_ok user=ssprpkg service=sshd"
		else
			echo "FAIL: audit: no event=reset_ok user=ssprpkg service=sshd line"
			bad=1
		fi
		t=$(between purged | grep -E 'sspr-helper|pam_sspr' || true)
		if [ -n "$t" ]; then
			echo "FAIL: after the purge, lines of the module or helper:"
			printf '%s\n' "$t" | sed 's/^/  /'
			bad=1
		fi
		return "$bad"
	}
	export E2E_DEB=$deb E2E_MA=$MA
	e2e_outer "/usr/lib/$MA/security/pam_sspr.so" /usr/libexec/sspr/sspr-helper /usr/bin/sspr-cli \
		/etc/security /var/lib/sspr /usr/libexec/sspr/sspr-helper "${3:-}" "${4:-}"
fi

# --- inside the private mount namespace -------------------------------------
module=$1 cli=$3 statedir=$5 helper_path=$6
deb=$E2E_DEB MA=$E2E_MA
e2e_enter
private_dirs /usr /var/lib /var/cache
pass "isolated: private mount namespace, /etc copy, overlays over /usr, /var/lib (dpkg database), /var/cache; tmpfs /run, /var/log ($SECONDS s)"
export DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true
pam_lines() { grep -Ev '^[[:space:]]*(#|$)' "/etc/pam.d/$1" || true; }

# --- 1. install ---------------------------------------------------------------
t0=$SECONDS
if ! timeout -k 5 120 dpkg -i "$deb" > "$T/dpkg-i.log" 2>&1; then
	sed 's/^/  | /' "$T/dpkg-i.log"
	die "dpkg -i $(basename "$deb")"
fi
pass "dpkg -i $(basename "$deb") ($((SECONDS - t0)) s)"
dpkg-query -W -f '${Status}\n' libpam-sspr | grep -qx 'install ok installed' || fail "dpkg: libpam-sspr not 'install ok installed'"
check_mode() { # PATH MODE OWNER
	local got
	got=$(stat -c '%a %U:%G' "$1" 2>/dev/null || echo missing)
	if [ "$got" = "$2 $3" ]; then pass "installed: $1 ($got)"; else fail "installed: $1 is '$got', want '$2 $3'"; fi
}
check_mode "$module" 644 root:root
check_mode "$helper_path" 4755 root:root
check_mode "$cli" 755 root:root
check_mode /etc/security/sspr.conf 644 root:root
check_mode /usr/share/pam-configs/sspr 644 root:root
check_mode "$statedir" 700 root:root
for m in man8/pam_sspr.8 man8/sspr-helper.8 man8/sspr-cli.8 man5/sspr.conf.5; do
	check_mode "/usr/share/man/$m.gz" 644 root:root
done
if command -v man >/dev/null; then
	if [ "$(man -w pam_sspr 2>/dev/null)" = /usr/share/man/man8/pam_sspr.8.gz ]; then
		pass "man -w pam_sspr finds the installed page"
	else
		fail "man -w pam_sspr: '$(man -w pam_sspr 2>&1)'"
	fi
fi
"$cli" --help > /dev/null 2>&1 || fail "the installed sspr-cli --help fails"
for f in common-auth common-session; do
	if grep -q pam_sspr "/etc/pam.d/$f"; then
		fail "$f names pam_sspr right after installation (Default: no)"
	fi
done
pass "installation alone changes no login: no pam_sspr in common-auth, common-session"

# --- 2. enable the profile ------------------------------------------------------
timeout -k 5 30 pam-auth-update --enable sspr < /dev/null || fail "pam-auth-update --enable sspr"
echo "--- common-auth"; pam_lines common-auth | sed 's/^/  /'
u=$(pam_lines common-auth | grep -n 'pam_unix\.so' | sed -n 1p | cut -d: -f1)
s=$(pam_lines common-auth | grep -n 'pam_sspr\.so' | sed -n 1p | cut -d: -f1)
if [ -n "$u" ] && [ -n "$s" ] && [ "$s" -gt "$u" ]; then
	pass "pam-auth-update --enable sspr: pam_sspr.so after pam_unix.so in common-auth"
else
	fail "common-auth: pam_unix.so at '$u', pam_sspr.so at '$s'"
fi
pam_lines common-session | grep -Eq '^session[[:space:]]+optional[[:space:]]+pam_sspr\.so' &&
	pass "common-session: session optional pam_sspr.so" || fail "common-session: no pam_sspr.so line"

# --- 3. a reset through sshd with the installed module and helper -------------
U=ssprpkg
OLDPW="Old-pkg-Passw0rd-$RANDOM"
NEWPW="Fresh-pkg-Quartz-$RANDOM-Lantern-42"
WRONGPW="wrong-guess-$RANDOM"
SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
printf '%s' "$OLDPW" > "$T/oldpw"
printf '%s' "$NEWPW" > "$T/newpw"
printf '%s' "$WRONGPW" > "$T/wrongpw"
e2e_user "$U" "$OLDPW"
e2e_enroll "$U" "$SECRET"
shadow_save before
e2e_common_exp
export E2E_USER=$U E2E_SECRET=$SECRET E2E_OLDPW=$OLDPW E2E_NEWPW=$NEWPW E2E_WRONGPW=$WRONGPW
cat > "$T/reset.exp" <<EOF
source $T/common.exp
ssh_spawn keyboard-interactive
want "Password: " "Password: prompt"
send -- "\$env(E2E_WRONGPW)\r"
want "$OFFER" "offer"
reset_dialog [exec oathtool --totp -b \$env(E2E_SECRET)] \$env(E2E_NEWPW)
shell_echo PKG-RESET-OK
EOF
cat > "$T/newpw.exp" <<EOF
source $T/common.exp
ssh_spawn keyboard-interactive
want "Password: " "Password: prompt"
send -- "\$env(E2E_NEWPW)\r"
shell_echo PKG-NEW-OK
EOF
cat > "$T/wrong.exp" <<EOF
source $T/common.exp
ssh_spawn keyboard-interactive
want "Password: " "Password: prompt"
send -- "\$env(E2E_WRONGPW)\r"
expect {
	"Forgot" { fail "our offer after the package was purged" }
	"Permission denied" {}
	-re {[\$#] \$} { fail "a wrong password opened a shell" }
	timeout { fail "no Permission denied" }
	eof { fail "ssh ended without Permission denied" }
}
expect eof
EOF
port=$(free_port) || die "no free port"
start_sshd sshd "$port" yes no "$U"
pass "sshd as 'sshd' (the machine's /etc/pam.d/sshd, in the copy) on 127.0.0.1:$port, keyboard-interactive"
mark reset-begin
if run_expect reset; then
	pass "installed package: wrong password, offer, TOTP code, new password twice, 'Your password has been reset.', shell"
else
	fail "installed package: reset through sshd"
fi
mark reset-end
shadow_check_reset "$U" before
if run_expect newpw; then
	pass "installed package: the new password logs in"
else
	fail "installed package: the new password"
fi

# --- 4. purge ------------------------------------------------------------------
t0=$SECONDS
if ! timeout -k 5 120 dpkg --purge libpam-sspr > "$T/dpkg-purge.log" 2>&1; then
	sed 's/^/  | /' "$T/dpkg-purge.log"
	fail "dpkg --purge libpam-sspr"
else
	pass "dpkg --purge libpam-sspr ($((SECONDS - t0)) s)"
fi
if dpkg-query -W -f '${Status}\n' libpam-sspr 2>/dev/null | grep 'installed' >/dev/null; then
	fail "dpkg still lists libpam-sspr: $(dpkg-query -W -f '${Status}' libpam-sspr)"
fi
if grep -rl pam_sspr /etc/pam.d/ > "$T/left" 2>/dev/null; then
	fail "after the purge pam_sspr is still named in: $(tr '\n' ' ' < "$T/left")"
else
	pass "after the purge no file in /etc/pam.d names pam_sspr"
fi
pam_lines common-auth | grep 'pam_unix\.so' >/dev/null || fail "common-auth lost pam_unix.so"
gone=yes
for f in "$module" "$helper_path" "$cli" /etc/security/sspr.conf /usr/share/pam-configs/sspr \
	/usr/lib/tmpfiles.d/pam-sspr.conf "$statedir" /usr/share/man/man8/pam_sspr.8.gz \
	/usr/share/man/man8/sspr-helper.8.gz /usr/share/man/man8/sspr-cli.8.gz /usr/share/man/man5/sspr.conf.5.gz; do
	if [ -e "$f" ]; then
		fail "after the purge $f is still there"
		gone=no
	fi
done
[ "$gone" = no ] || pass "after the purge the module, helper, CLI, sspr.conf, profile, tmpfiles snippet, man pages and $statedir are gone"
mark purged-begin
if run_expect newpw; then
	pass "after the purge: the password login through sshd (same pam.d) still works"
else
	fail "after the purge: password login"
fi
if run_expect wrong; then
	pass "after the purge: a wrong password is still refused, no offer"
else
	fail "after the purge: wrong password"
fi
mark purged-end
stop_sshd
e2e_finish
