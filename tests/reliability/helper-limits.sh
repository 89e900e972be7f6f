#!/bin/bash
# RLIMIT_FSIZE on the way through the setuid helper (issue 4): an ordinary
# user who runs the elevated helper under a file size limit far below the
# size of /etc/shadow still gets a whole reset, because the helper raises
# its limits before it writes (sspr-helper.c reset_limits):
#   - soft limit only: the helper raises it, the reset goes through;
#   - soft and hard limit: raising a hard limit takes CAP_SYS_RESOURCE.
#     With it (a normal root) the reset goes through; without it (a
#     container whose bounding set lacks it) the helper cannot, and the
#     writer must then fail cleanly: reply FAIL, shadow unchanged.
# As a control, the same limit on the writer itself (not elevated) fails
# cleanly.  Root only; in a mount namespace over a copy of /etc with a
# throwaway user that exists only in that copy (the pattern of
# tests/helper/test-elevated.sh).  HOTP, so that sessions in the same 30
# seconds are no replay.
# usage: helper-limits.sh DRIVER PROBE HELPER CLIENT ENROLL CONFDIR STATEDIR
set -euo pipefail
driver=$1 probe=$2 helper=$3 client=$4 enroll=$5 confdir=$6 statedir=$7
. "$(dirname "$0")/lib.sh"
SECRET=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP

[ "$(id -u)" = 0 ] || skip "needs root (setuid helper, mount namespace)"
need unshare setpriv useradd chpasswd oathtool timeout prlimit cmp
if [ "${SSPR_LIMITS_NS:-}" != 1 ]; then
	exec env SSPR_LIMITS_NS=1 timeout 120 unshare -m --propagation private "$0" "$@"
fi

# Not under /tmp, which may be mounted nosuid elsewhere.
T=$(mktemp -d /var/tmp/sspr-limits.XXXXXX)
trap 'rm -rf "$T"' EXIT
chmod 0755 "$T"
cp -a /etc "$T/etc"
mount --bind "$T/etc" /etc
[ "$(stat -c %i /etc)" = "$(stat -c %i "$T/etc")" ] || fail "/etc is not the private copy"
case $confdir in
/etc/*) ;;
*) p=$(dirname "$confdir"); [ -d "$p" ] && [ "$p" != / ] || fail "cannot isolate $confdir"
   mount -t tmpfs tmpfs "$p" ;;
esac
sp=$(dirname "$statedir"); [ -d "$sp" ] && [ "$sp" != / ] || fail "cannot isolate $statedir"
mount -t tmpfs tmpfs "$sp"
mkdir -p -m 0755 "$confdir"
mkdir -p -m 0700 "$statedir"

u=sspr-rlim1
useradd -M -u 19051 -s /bin/bash "$u"
echo "$u:Old-pass-word-1" | chpasswd
cat > "$confdir/sspr.conf" <<C
services = sspr-limits
use_pwquality = no
hash = sha512
C
chmod 0644 "$confdir/sspr.conf"
"$enroll" "$u" "$SECRET" hotp || fail "enroll $u"
install -o root -g root -m 4755 "$helper" "$T/sspr-helper"
install -m 0755 "$client" "$T/client"
cp -p /etc/shadow "$T/shadow.before"
size=$(stat -c %s /etc/shadow)
limit=$((size / 4))
echo "shadow: $size bytes; the caller's RLIMIT_FSIZE: $limit bytes"

# control: the writer under that limit, not elevated, fails cleanly
mkdir "$T/ctl" && cp -p /etc/shadow "$T/ctl/shadow"
rc=0
err=$(prlimit --fsize="$limit" "$driver" update "$T/ctl" "$u" "$HASH_NEW" 2>&1) || rc=$?
[ "$rc" = 1 ] && cmp -s "$T/ctl/shadow" "$T/shadow.before" && [ -z "$(leftovers "$T/ctl")" ] \
	|| fail "control: exit $rc ($err)"
echo "PASS: control: the writer alone under the limit fails cleanly ($err)"

# reset USER-LIMIT-SPEC COUNTER PASSWORD: one session through the setuid
# helper as the user, under prlimit --fsize=SPEC; prints the replies
reset() {
	setpriv --reuid="$u" --regid="$u" --init-groups -- \
		prlimit --fsize="$1" -- "$T/client" "$T/sspr-helper" \
		hello "$u" sshd 192.0.2.1 verify "$(oathtool --hotp -c "$2" -b "$SECRET")" reset "$3" || true
}

# check_written PASSWORD: the user's new password is in a whole shadow,
# every other line and the owner and mode as before
check_written() {
	"$probe" verify /etc/shadow "$u" "$1" || fail "the new password does not verify"
	diff <(grep -v "^$u:" "$T/shadow.before") <(grep -v "^$u:" /etc/shadow) >/dev/null \
		|| fail "other lines changed"
	[ "$(owner_mode /etc/shadow)" = "$(owner_mode "$T/shadow.before")" ] || fail "owner or mode changed"
	[ -z "$(leftovers /etc)" ] || fail "left $(leftovers /etc)"
	"$probe" parse /etc/shadow || fail "shadow does not parse"
}

# 1. soft and hard limit
bnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
pw1='New-pass-word-limits-1'
out=$(reset "$limit" 0 "$pw1")
if (( (16#$bnd >> 24) & 1 )); then
	[ "$(grep -c '^reply: OK$' <<<"$out")" = 3 ] || fail "reset under a hard RLIMIT_FSIZE: $out"
	check_written "$pw1"
	cmp -s /etc/shadow- "$T/shadow.before" || fail "shadow- is not the previous shadow"
	echo "PASS: hard and soft RLIMIT_FSIZE of $limit bytes: the elevated helper raised it and wrote the whole $(stat -c %s /etc/shadow)-byte shadow"
else
	[ "$(tail -1 <<<"$out")" = 'reply: FAIL' ] || fail "hard limit without CAP_SYS_RESOURCE: $out"
	cmp -s /etc/shadow "$T/shadow.before" || fail "hard limit: shadow changed"
	[ -z "$(leftovers /etc)" ] || fail "hard limit: left $(leftovers /etc)"
	echo "PASS: hard and soft RLIMIT_FSIZE of $limit bytes, no CAP_SYS_RESOURCE in this bounding set ($bnd): the helper cannot raise it, the reset fails cleanly, shadow unchanged"
fi
cp -p /etc/shadow "$T/shadow.before"

# 2. soft limit only: always raised
pw2='New-pass-word-limits-2'
out=$(reset "$limit:unlimited" 1 "$pw2")
[ "$(grep -c '^reply: OK$' <<<"$out")" = 3 ] || fail "reset under a soft RLIMIT_FSIZE: $out"
check_written "$pw2"
echo "PASS: soft RLIMIT_FSIZE of $limit bytes: the elevated helper raised it and wrote the whole $(stat -c %s /etc/shadow)-byte shadow"
