#!/bin/bash
# Root-only: the setuid helper run by ordinary users (a screen locker's
# case).  It acts only on its caller's own account, ignores the caller's
# environment (SSPR_ROOT, SSPR_NOW), and cannot be killed by the caller
# once it has taken over.  Everything happens in a mount namespace over a
# copy of /etc, with throwaway users that exist only in that copy.
# usage: test-elevated.sh HELPER CLI CLIENT CONFDIR STATEDIR
set -euo pipefail
helper=$1 cli=$2 client=$3 confdir=$4 statedir=$5
SECRET=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for t in unshare setpriv useradd chpasswd oathtool timeout; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
if [ "${SSPR_ELEVATED_NS:-}" != 1 ]; then
	exec env SSPR_ELEVATED_NS=1 timeout 120 unshare -m --propagation private "$0" "$@"
fi

fail() { echo "FAIL: $*"; exit 1; }
# Not under /tmp, which may be mounted nosuid elsewhere.
T=$(mktemp -d /var/tmp/sspr-elevated.XXXXXX)
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

useradd -M -u 19001 -s /bin/bash sspr-elev1
useradd -M -u 19002 -s /bin/bash sspr-elev2
echo 'sspr-elev1:Old-pass-word-1' | chpasswd
echo 'sspr-elev2:Old-pass-word-2' | chpasswd
cat > "$confdir/sspr.conf" <<C
services = sspr-elevated
use_pwquality = no
hash = sha512
C
chmod 0644 "$confdir/sspr.conf"
for u in sspr-elev1 sspr-elev2; do
	"$cli" enroll "$u" --secret "$SECRET" --qr none >/dev/null || fail "enroll $u"
done
install -o root -g root -m 4755 "$helper" "$T/sspr-helper"
install -m 0755 "$client" "$T/client"
cp /etc/shadow "$T/shadow.before"
mode_before=$(stat -c "%U:%G %a" /etc/shadow)

as() { local u=$1; shift; setpriv --reuid="$(id -u "$u")" --regid="$(id -g "$u")" --init-groups -- "$@"; }

# 1. another user's account: refused, nothing written
out=$(as sspr-elev1 "$T/client" "$T/sspr-helper" hello sspr-elev2 sshd 192.0.2.1 verify 000000 || true)
grep -qx 'reply: FAIL' <<<"$out" || fail "acting on another account: $out"
cmp -s /etc/shadow "$T/shadow.before" || fail "shadow changed by a refused request"
echo "PASS: a caller cannot act on another account"

# 2. nobody, for an enrolled user: refused
out=$(as nobody "$T/client" "$T/sspr-helper" hello sspr-elev1 sshd - || true)
grep -qx 'reply: FAIL' <<<"$out" || fail "nobody acting on sspr-elev1: $out"
echo "PASS: nobody cannot act on an enrolled account"

# 3. the caller's own account, with a hostile environment: SSPR_ROOT and
# SSPR_NOW would break the reset if they were honoured
code=$(oathtool --totp -b "$SECRET")
out=$(as sspr-elev1 env SSPR_ROOT=/nonexistent SSPR_NOW=1000 "$T/client" "$T/sspr-helper" \
	hello sspr-elev1 sshd 192.0.2.1 trykill verify "$code" reset 'New-pass-word-42-x' || true)
grep -qx 'kill: EPERM' <<<"$out" || fail "the caller could signal the helper: $out"
grep -c '^reply: OK$' <<<"$out" | grep -qx 3 || fail "own reset: $out"
echo "PASS: own reset through the setuid helper; caller cannot kill it; environment ignored"

# only sspr-elev1's line changed, and only fields 2 and 3
diff <(grep -v '^sspr-elev1:' "$T/shadow.before") <(grep -v '^sspr-elev1:' /etc/shadow) \
	|| fail "other shadow lines changed"
old=$(grep '^sspr-elev1:' "$T/shadow.before" | cut -d: -f4-)
new=$(grep '^sspr-elev1:' /etc/shadow | cut -d: -f4-)
[ "$old" = "$new" ] || fail "fields 4-9 changed: $old -> $new"
[ "$(grep '^sspr-elev1:' /etc/shadow | cut -d: -f2)" != \
  "$(grep '^sspr-elev1:' "$T/shadow.before" | cut -d: -f2)" ] || fail "hash not changed"
[ "$(stat -c "%U:%G %a" /etc/shadow)" = "$mode_before" ] \
	|| fail "owner or mode of shadow changed: $(stat -c "%U:%G %a" /etc/shadow) (was $mode_before)"
echo "PASS: only the caller's line changed"
