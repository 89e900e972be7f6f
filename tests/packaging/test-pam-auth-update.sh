#!/bin/bash
# The pam-auth-update profile (debian/pam-configs/sspr, SPEC section 2):
# installing it changes nothing (Default: no); enabling it puts pam_sspr.so
# in the Primary block after every password module (pam_unix, and pam_sss
# when its profile is there), jumping to pam_permit on success, and the
# session line in common-session; removing it takes both out again.
# Root only.
#
# usage: test-pam-auth-update.sh PROFILE
#
# Isolation: pam-auth-update writes /etc/pam.d/common-*, /var/lib/pam and
# the debconf database, and reads /usr/share/pam-configs.  All four are
# private COPIES bind-mounted over the real ones inside a private mount
# namespace (unshare -m); the test refuses to go on if it is not in one.
# The host-side temp dir is removed afterwards.
set -euo pipefail

if [ "${SSPR_PAU_INNER:-}" != 1 ]; then
	if [ $# -lt 1 ]; then
		echo "usage: test-pam-auth-update.sh PROFILE" >&2
		exit 2
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root"
		exit 77
	fi
	for c in unshare mount pam-auth-update timeout; do
		command -v "$c" >/dev/null || { echo "SKIP: $c missing"; exit 77; }
	done
	[ -d /usr/share/pam-configs ] || { echo "SKIP: no /usr/share/pam-configs"; exit 77; }
	[ -f "$1" ] || { echo "FAIL: $1 missing"; exit 1; }
	T=$(mktemp -d /tmp/sspr-pau.XXXXXX)
	trap 'rm -rf --one-file-system "$T"' EXIT
	SSPR_PAU_INNER=1 SSPR_PAU_TMP=$T SSPR_PAU_HOSTNS=$(readlink /proc/self/ns/mnt) \
		timeout -k 10 100 unshare -m bash "$(readlink -f "$0")" "$(readlink -f "$1")"
	exit $?
fi

# --- inside the namespace -------------------------------------------------
profile=$1
T=$SSPR_PAU_TMP
fail() { echo "FAIL: $*"; exit 1; }
[ "$(readlink /proc/self/ns/mnt)" != "$SSPR_PAU_HOSTNS" ] || fail "not in a private mount namespace"
mount --make-rprivate /

# private copies of everything pam-auth-update reads or writes
for d in /etc /var/lib/pam /var/cache/debconf /usr/share/pam-configs; do
	[ -d "$d" ] || continue
	mkdir -p "$T/copy$d"
	cp -a "$d/." "$T/copy$d/"
	mount --bind "$T/copy$d" "$d"
done
cp "$profile" /usr/share/pam-configs/sspr
chmod 0644 /usr/share/pam-configs/sspr

export DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true
pau() { timeout -k 5 30 pam-auth-update "$@" </dev/null; }

# active (non-comment) lines of one common-* file
lines() { grep -Ev '^[[:space:]]*(#|$)' "/etc/pam.d/$1" || true; }

# check_jumps FILE: every `success=N` in FILE's auth lines lands on pam_permit.so
check_jumps() {
	awk -v f="$1" '
		/^[[:space:]]*(#|$)/ { next }
		{ n++; line[n] = $0 }
		END {
			bad = 0
			for (i = 1; i <= n; i++) {
				if (match(line[i], /success=[0-9]+/)) {
					j = i + substr(line[i], RSTART + 8, RLENGTH - 8) + 1
					if (line[j] !~ /pam_permit\.so/) {
						print "  line " i " (" line[i] ") jumps to: " line[j]
						bad = 1
					}
				}
			}
			exit bad
		}' "/etc/pam.d/$1"
}

# line number (among active lines) of the first line naming MODULE, or 0
pos() { lines "$1" | grep -n "[[:space:]]$2\\b" | head -1 | cut -d: -f1 || true; }

# Start from a stack pam-auth-update manages (the copy may carry local
# edits of this machine's admin): regenerate it from the profiles there.
pau --force >/dev/null 2>&1 || fail "pam-auth-update --force on the copy"
grep -q pam_sspr /etc/pam.d/common-auth && fail "pam_sspr enabled before asked for"

# 1. what the package's postinst does: `pam-auth-update --package` adds nothing (Default: no)
pau --package || fail "pam-auth-update --package"
for f in common-auth common-session; do
	if grep -q pam_sspr "/etc/pam.d/$f"; then
		lines "$f"
		fail "$f names pam_sspr.so after --package although Default: no"
	fi
done
echo "ok: pam-auth-update --package leaves it off (Default: no)"

# 2. the admin opts in
pau --enable sspr || fail "pam-auth-update --enable sspr"
echo "--- common-auth"; lines common-auth
echo "--- common-session"; lines common-session
u=$(pos common-auth pam_unix.so); s=$(pos common-auth pam_sspr.so)
[ -n "$u" ] && [ "$u" != 0 ] || fail "no pam_unix.so in common-auth"
[ -n "$s" ] && [ "$s" != 0 ] || fail "no pam_sspr.so in common-auth"
[ "$s" -gt "$u" ] || fail "pam_sspr.so ($s) is not after pam_unix.so ($u)"
lines common-auth | sed -n "${s}p" | grep -Eq '^auth[[:space:]]+\[success=[0-9]+ default=ignore\][[:space:]]+pam_sspr\.so[[:space:]]*$' ||
	fail "pam_sspr.so line: $(lines common-auth | sed -n "${s}p")"
lines common-auth | sed -n "$((s + 1))p" | grep -Eq '^auth[[:space:]]+requisite[[:space:]]+pam_deny\.so' ||
	fail "pam_sspr.so is not the last line before pam_deny.so"
check_jumps common-auth || fail "a success jump misses pam_permit.so"
lines common-session | grep -Eq '^session[[:space:]]+optional[[:space:]]+pam_sspr\.so[[:space:]]*$' ||
	fail "no 'session optional pam_sspr.so' in common-session"
grep -q pam_sspr /etc/pam.d/common-session-noninteractive &&
	fail "pam_sspr.so in common-session-noninteractive (Session-Interactive-Only)"
grep -q pam_sspr /etc/pam.d/common-password /etc/pam.d/common-account &&
	fail "pam_sspr.so in common-password or common-account"
echo "ok: enabled: after pam_unix.so, success jumps to pam_permit.so, session line present"

# 3. after every other password module: pam_sss's profile (libpam-sss's, Priority 128)
if [ ! -e /usr/share/pam-configs/sss ]; then
	cat > /usr/share/pam-configs/sss <<'EOF'
Name: SSS authentication
Default: yes
Priority: 128
Auth-Type: Primary
Auth:
	[success=end new_authtok_reqd=done default=ignore]	pam_sss.so use_first_pass
Auth-Initial:
	[success=end new_authtok_reqd=done default=ignore]	pam_sss.so
EOF
fi
pau --enable sss || fail "pam-auth-update --enable sss"
echo "--- common-auth with pam_sss"; lines common-auth
x=$(pos common-auth pam_sss.so); s=$(pos common-auth pam_sspr.so); u=$(pos common-auth pam_unix.so)
[ "$x" -gt "$u" ] && [ "$s" -gt "$x" ] || fail "order is not pam_unix, pam_sss, pam_sspr ($u $x $s)"
check_jumps common-auth || fail "a success jump misses pam_permit.so (with pam_sss)"
# every Primary auth module of every profile here sorts before ours
for p in /usr/share/pam-configs/*; do
	[ "$(basename "$p")" = sspr ] && continue
	grep -q '^Auth-Type:[[:space:]]*Primary' "$p" || continue
	prio=$(sed -n 's/^Priority:[[:space:]]*//p' "$p")
	[ "${prio:-0}" -ge 0 ] || fail "$p has priority $prio below ours"
done
pau --package --remove sss || fail "pam-auth-update --remove sss"
echo "ok: after pam_sss.so too"

# 4. what the package's prerm does on remove
pau --package --remove sspr || fail "pam-auth-update --package --remove sspr"
for f in common-auth common-session common-session-noninteractive; do
	if grep -q pam_sspr "/etc/pam.d/$f"; then
		lines "$f"
		fail "$f still names pam_sspr.so after --remove"
	fi
done
check_jumps common-auth || fail "a success jump misses pam_permit.so after --remove"
lines common-auth | grep -q 'pam_unix\.so' || fail "pam_unix.so gone after --remove"
rm /usr/share/pam-configs/sspr
pau --package || fail "pam-auth-update --package after the profile is gone"
grep -q pam_sspr /etc/pam.d/common-auth && fail "pam_sspr back after the profile is gone"
echo "ok: removed: no pam_sspr.so left, pam_unix.so still jumps to pam_permit.so"
echo "PASS"
