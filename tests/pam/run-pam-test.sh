#!/bin/bash
# Run a PAM test binary inside a fresh sandbox root, with pam_wrapper and
# nss_wrapper preloaded (SPEC section 8). Exit 77 (skip) when a wrapper is
# missing.
# usage: run-pam-test.sh TEST_BINARY MODULE HELPER CONFDIR SRCDIR
set -euo pipefail
bin=$1 module=$2 helper=$3 confdir=$4 srcdir=$5

pw=$(pkg-config --libs pam_wrapper 2>/dev/null || true)
nw=$(pkg-config --libs nss_wrapper 2>/dev/null || true)
mods=$(pkg-config --variable=modules pam_wrapper 2>/dev/null || true)
pw=${pw%% *} nw=${nw%% *}
items=$mods/pam_get_items.so
matrix=$mods/pam_matrix.so
for f in "$pw" "$nw" "$items" "$matrix"; do
	[ -e "$f" ] || { echo "SKIP: $f missing (install libpam-wrapper libnss-wrapper)"; exit 77; }
done

# tmpfs when there is one: thousands of fsyncs in the abuse tests
tmpbase=/tmp; [ -d /dev/shm ] && [ -w /dev/shm ] && tmpbase=/dev/shm
root=$(mktemp -d "$tmpbase/sspr-pamtest.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc" "$root$confdir" "$root/var/lib/sspr" "$root/pam.d"
chmod 0700 "$root/var/lib/sspr"

cat > "$root/etc/passwd" <<PW
root:x:0:0:root:/root:/bin/bash
alice:x:1001:1001:Alice:/home/alice:/bin/bash
bob:x:1002:1002:Bob:/home/bob:/bin/bash
carol:x:1003:1003:Carol:/home/carol:/bin/bash
dave:x:1004:1004:Dave:/home/dave:/bin/bash
PW
# the account running the tests (cracklib, under libpwquality, looks its
# caller up)
[ "$(id -u)" = 0 ] || echo "sspr-test-runner:x:$(id -u):$(id -g):runner:/:/bin/sh" >> "$root/etc/passwd"
cat > "$root/etc/group" <<GR
root:x:0:
sudo:x:27:bob
alice:x:1001:
bob:x:1002:
carol:x:1003:
dave:x:1004:
GR
# the password module of the stack: pam_matrix, "typed password" = old-pw
cat > "$root/passdb" <<PD
alice:old-password-1:sshd
alice:old-password-1:login
alice:old-password-1:sudo
alice:old-password-1:lightdm
bob:old-password-2:sshd
carol:old-password-3:sshd
dave:old-password-4:sshd
ghost:whatever:sshd
PD
printf 'ENCRYPT_METHOD SHA512\n' > "$root/etc/login.defs"

# primary placement: after the password module; "lightdm" sets PAM_RHOST
# and PAM_TTY from the environment first (pam_set_items)
for svc in sshd sudo lightdm; do
{
[ "$svc" = lightdm ] && echo "auth optional $mods/pam_set_items.so"
cat <<S
auth [success=2 default=ignore] $matrix passdb=$root/passdb
auth [success=1 default=ignore] $module debug
auth requisite pam_deny.so
auth optional $items
auth required pam_permit.so
session optional $module
S
} > "$root/pam.d/$svc"
done
printf "auth required pam_deny.so\naccount required pam_deny.so\npassword required pam_deny.so\nsession required pam_deny.so\n" > "$root/pam.d/other"
# pam_faillock around the password module (reset_faillock)
fl=pam_faillock.so
mkdir -p "$root/etc/security" "$root/faillock"
printf 'dir = /faillock\n' > "$root/etc/security/faillock.conf"
cat > "$root/pam.d/gdm-password" <<S
auth required $fl preauth dir=$root/faillock deny=3 unlock_time=900 nodelay
auth [success=2 default=ignore] $matrix passdb=$root/passdb
auth [success=1 default=ignore] $module
auth [default=die] $fl authfail dir=$root/faillock deny=3 unlock_time=900 nodelay
auth sufficient $fl authsucc dir=$root/faillock deny=3 unlock_time=900 nodelay
S
# trigger placement: before the password module
cat > "$root/pam.d/login" <<S
auth [success=1 ignore=ignore default=die] $module trigger=reset debug
auth required $matrix passdb=$root/passdb
auth optional $items
S

# sanitizer builds: pam_wrapper must not deep-bind, asan must not insist on
# coming first in the preload list
if ldd "$helper" 2>/dev/null | grep libasan >/dev/null; then # not -q: with pipefail, ldd's SIGPIPE would make this random
	export PAM_WRAPPER_DISABLE_DEEPBIND=1
	shim=$(dirname "$helper")/../../tests/pam/libnodeepbind.so
	[ -e "$shim" ] || { echo "FAIL: $shim missing in a sanitizer build"; exit 1; }
	pw="$shim:$pw"
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0"
fi
export LD_PRELOAD="$pw:$nw"
export PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$root/pam.d"
export NSS_WRAPPER_PASSWD="$root/etc/passwd" NSS_WRAPPER_GROUP="$root/etc/group"
export SSPR_ROOT="$root" SSPR_HELPER="$helper" SSPR_TEST_CONF="$root$confdir/sspr.conf"
export SSPR_TEST_SHIPPED_CONF="$srcdir/policy/sspr.conf"
"$bin"
