#!/bin/bash
# Root-only: self-service as it runs in production.  An ordinary user runs
# sspr-cli (not admin: no root, no SSPR_ROOT), which runs a setuid-root copy
# of the helper, which clears its environment and acts on the caller's own
# account only.  Everything happens in a mount namespace over a copy of
# /etc, with throwaway users that exist only in that copy, and a tmpfs over
# the state and configuration directories (as tests/helper/test-elevated.sh).
# usage: test-cli-elevated.sh CLI HELPER CONFDIR STATEDIR
set -euo pipefail
cli=$1 helper=$2 confdir=$3 statedir=$4

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for t in unshare setpriv useradd chpasswd oathtool timeout; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
if [ "${SSPR_CLI_ELEVATED_NS:-}" != 1 ]; then
	exec env SSPR_CLI_ELEVATED_NS=1 timeout 120 unshare -m --propagation private "$0" "$@"
fi

n=0
fail() { echo "FAIL: $*"; exit 1; }
ok() { n=$((n + 1)); }
# Not under /tmp, which may be mounted nosuid elsewhere.
T=$(mktemp -d /var/tmp/sspr-cli-elevated.XXXXXX)
trap 'rm -rf "$T"' EXIT
chmod 0755 "$T"

cp -a /etc "$T/etc"
mount --bind "$T/etc" /etc
[ "$(stat -c %i /etc)" = "$(stat -c %i "$T/etc")" ] || fail "/etc is not the private copy"
# isolate DIR: a tmpfs over DIR's parent, for this namespace only
isolate() {
	local p
	p=$(dirname "$1")
	if [ ! -d "$p" ] || [ "$p" = / ]; then fail "cannot isolate $1"; fi
	mount -t tmpfs tmpfs "$p"
}
case $confdir in
/etc/*) ;;
*) isolate "$confdir" ;;
esac
isolate "$statedir"
mkdir -p "$confdir" "$statedir"
chmod 0755 "$confdir"
chmod 0700 "$statedir"

useradd -M -u 19011 -s /bin/bash sspr-self1
useradd -M -u 19012 -s /bin/bash sspr-self2
echo 'sspr-self1:Old-pass-word-1' | chpasswd
echo 'sspr-self2:Old-pass-word-2' | chpasswd
cat > "$confdir/sspr.conf" <<C
self_enroll = yes
caller_rate = 30
C
chmod 0644 "$confdir/sspr.conf"
install -o root -g root -m 4755 "$helper" "$T/sspr-helper"
users=$statedir/users

# as USER RC INPUT ARGS...: sspr-cli as USER, INPUT (printf format) on
# stdin, a hostile environment (SSPR_NOW would break every code if the
# helper honoured it); stdout in $T/out, stderr in $T/err.
as() {
	local u=$1 want=$2 rc
	# shellcheck disable=SC2059 # the input is a printf format
	printf "$3" > "$T/in"
	chmod 0644 "$T/in"
	shift 3
	set +e
	setpriv --reuid="$(id -u "$u")" --regid="$(id -g "$u")" --init-groups -- \
		env -u SSPR_ROOT SSPR_NOW=1000 SSPR_HELPER="$T/sspr-helper" \
		"$cli" "$@" >"$T/out" 2>"$T/err" <"$T/in"
	rc=$?
	set -e
	[ "$rc" = "$want" ] || fail "sspr-cli $* as $u exited $rc, expected $want
--- stdout:
$(cat "$T/out")
--- stderr:
$(cat "$T/err")"
	ok
}
secret() { head -n 1 "$T/out" | sed -n 's/.*[?&]secret=\([A-Z2-7]*\)&.*/\1/p'; }

# 1. a first enrollment with the password alone; the record is root's
as sspr-self1 0 'Old-pass-word-1\n' enroll --qr none --issuer T
[ "$(wc -l < "$T/out")" = 11 ] || fail "enroll printed: $(cat "$T/out")"
s1=$(secret)
[ ${#s1} = 32 ] || fail "no secret in: $(cat "$T/out")"
[ "$(stat -c '%u %a' "$users/19011")" = "0 600" ] || fail "record: $(stat -c '%u %a' "$users/19011")"
ok
echo "PASS: self enrollment through the setuid helper"

# 2. another account: refused by sspr-cli; a wrong password: counted
as sspr-self1 1 'Old-pass-word-1\n' status sspr-self2
grep -qF "only your own account (sspr-self1)" "$T/err" || fail "$(cat "$T/err")"
as sspr-self2 1 'Old-pass-word-1\n' status
[ "$(cat "$T/err")" = "Wrong password." ] || fail "wrong password: $(cat "$T/err")"
ok
[ ! -e "$users/19012" ] || fail "a refused request stored a record"
ok
echo "PASS: own account only; a wrong password is refused"

# 3. status; then a re-enrollment with a current code, announced
as sspr-self1 0 'Old-pass-word-1\n' status --json
grep -q '^{"user":"sspr-self1","uid":19011,"enrolled":true,"type":"totp",.*"recovery_codes":10}$' \
	"$T/out" || fail "status: $(cat "$T/out")"
ok
as sspr-self1 1 'Old-pass-word-1\n' enroll --force --qr none
grep -qF "a current code is needed" "$T/err" || fail "$(cat "$T/err")"
code=$(oathtool --totp -b "$s1")
as sspr-self1 0 "Old-pass-word-1\n$code\n" enroll --force --qr none --issuer T
s2=$(secret)
if [ ${#s2} != 32 ] || [ "$s2" = "$s1" ]; then fail "re-enrollment: $(cat "$T/out")"; fi
ok
notice=$statedir/notices/19011.reenroll
[ -f "$notice" ] || fail "no notice of the re-enrollment"
# an elevated helper trusts no context from its caller
grep -qx 'service -' "$notice" || fail "notice: $(cat "$notice")"
grep -qx 'tty -' "$notice" || fail "notice: $(cat "$notice")"
ok
echo "PASS: re-enrollment takes a current code and leaves a notice"

# 4. new recovery codes, by one of the old ones
rc1=$(sed -n 2p "$T/out")
as sspr-self1 0 "Old-pass-word-1\n$rc1\n" recovery-codes
[ "$(wc -l < "$T/out")" = 10 ] || fail "recovery-codes printed: $(cat "$T/out")"
if grep -qxF "$rc1" "$T/out"; then fail "the used code is in the new set"; fi
ok
echo "PASS: self-service recovery codes"
echo "PASS: $n checks"
