# Shared by the attack scripts (sourced, not run).  Bash, set -euo
# pipefail in the caller.  Every script takes its tools from the
# environment meson gives it (see meson.build):
#   HELPER CLIENT ENROLL MODULE CONFDIR STATEDIR SRCDIR BUILDDIR
SECRET=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
NOW=1764400000

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "PASS: $*"; }
need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || skip "$t missing"
	done
}
need_root() { [ "$(id -u)" = 0 ] || skip "needs root ($*)"; }

# True when BINARY is built with a sanitizer runtime.
# (grep reads all of ldd's output: with -q and pipefail, ldd's SIGPIPE
# would make the answer random)
is_sanitized() { ldd "$1" 2>/dev/null | grep -E 'lib(asan|ubsan|tsan|lsan)\.' >/dev/null; }
need_plain_build() {
	is_sanitized "$1" && skip "$(basename "$1") is built with a sanitizer: $2"
	return 0
}

need_strace() {
	need strace
	strace -qq -o /dev/null -e trace=getpid true 2>/dev/null || skip "strace cannot trace here"
}

# totp_at SECONDS: the TOTP code of $SECRET at that time (oathtool)
totp_at() { oathtool --totp -N "@$1" -b "$SECRET"; }

# make_root DIR: a test root (SPEC section 8) for an unelevated helper:
# etc/passwd, group, shadow, login.defs, sspr.conf, state dir; alice (1001,
# enrolled by the caller) and bob (1002).  Everything owned by the running
# user, so the helper's checks (owner = its euid) pass.
make_root() {
	local r=$1
	mkdir -p "$r/etc" "$r$CONFDIR" "$r$STATEDIR"
	chmod 0700 "$r$STATEDIR"
	cat > "$r/etc/passwd" <<PW
root:x:0:0:root:/root:/bin/bash
alice:x:1001:1001:Alice:/home/alice:/bin/bash
bob:x:1002:1002:Bob:/home/bob:/bin/bash
PW
	[ "$(id -u)" = 0 ] || echo "sspr-test-runner:x:$(id -u):$(id -g):runner:/:/bin/sh" >> "$r/etc/passwd"
	printf 'root:x:0:\nalice:x:1001:\nbob:x:1002:\n' > "$r/etc/group"
	{
		printf 'root:*:19000:0:99999:7:::\n'
		printf 'alice:$6$oldsalt$oldhasholdhasholdhash:19500:0:99999:7:::\n'
		printf 'bob:$6$bobsalt$bobhashbobhashbobhash:19500:0:99999:7:::\n'
	} > "$r/etc/shadow"
	chmod 0640 "$r/etc/shadow"
	printf 'root:*:18000:0:99999:7:::\n' > "$r/etc/shadow-"
	chmod 0600 "$r/etc/shadow-"
	printf 'ENCRYPT_METHOD SHA512\n' > "$r/etc/login.defs"
	cat > "$r$CONFDIR/sspr.conf" <<C
services = sshd
use_pwquality = no
hash = sha512
C
	chmod 0644 "$r$CONFDIR/sspr.conf"
}

# root_env DIR: the environment for tools acting on test root DIR, as
# arguments for env(1)
root_env() {
	local nw
	nw=$(pkg-config --libs nss_wrapper 2>/dev/null || true)
	nw=${nw%% *}
	[ -e "$nw" ] || skip "nss_wrapper missing (libnss-wrapper)"
	printf '%s\n' "SSPR_ROOT=$1" "SSPR_NOW=$NOW" "LD_PRELOAD=$nw" \
		"NSS_WRAPPER_PASSWD=$1/etc/passwd" "NSS_WRAPPER_GROUP=$1/etc/group"
	# a sanitizer build: ASan must not insist on coming first in the
	# preload list (as in tests/pam/run-pam-test.sh)
	if is_sanitized "$HELPER"; then
		echo "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0"
	fi
}

# in_root DIR CMD...: run CMD with the environment of test root DIR
in_root() {
	local r=$1
	shift
	local -a e
	mapfile -t e < <(root_env "$r")
	env "${e[@]}" "$@"
}

# --- root-only: a mount namespace over a copy of /etc ----------------------
# enter_ns VAR ARGS...: re-exec the script with ARGS in a private mount
# namespace (once; VAR=1 marks the inner run)
enter_ns() {
	local v=$1
	shift
	if [ "${!v:-}" != 1 ]; then
		exec env "$v=1" timeout "${NS_TIMEOUT:-150}" unshare -m --propagation private "$0" "$@"
	fi
}

# private_etc T: bind a copy of /etc over /etc and tmpfs over the config
# and state dirs' parents (the pattern of tests/helper/test-elevated.sh)
private_etc() {
	local T=$1 p sp
	cp -a /etc "$T/etc"
	mount --bind "$T/etc" /etc
	[ "$(stat -c %i /etc)" = "$(stat -c %i "$T/etc")" ] || fail "/etc is not the private copy"
	case $CONFDIR in
	/etc/*) ;;
	*) p=$(dirname "$CONFDIR"); [ -d "$p" ] && [ "$p" != / ] || fail "cannot isolate $CONFDIR"
	   mount -t tmpfs tmpfs "$p" ;;
	esac
	sp=$(dirname "$STATEDIR"); [ -d "$sp" ] && [ "$sp" != / ] || fail "cannot isolate $STATEDIR"
	mount -t tmpfs tmpfs "$sp"
	mkdir -p -m 0755 "$CONFDIR"
	mkdir -p -m 0700 "$STATEDIR"
	cat > "$CONFDIR/sspr.conf" <<C
services = sshd
use_pwquality = no
hash = sha512
C
	chmod 0644 "$CONFDIR/sspr.conf"
}

# as USER CMD...: run CMD with USER's uids, gids and groups
as() { local u=$1; shift; setpriv --reuid="$(id -u "$u")" --regid="$(id -g "$u")" --init-groups -- "$@"; }

# setuid_setup T: in the namespace, a private /etc with the throwaway
# users sspr-atk1 (enrolled, TOTP $SECRET, 3 recovery codes in
# $T/codes) and sspr-atk2 (enrolled), and the setuid helper at
# $T/sspr-helper (not under /tmp, which may be nosuid)
setuid_setup() {
	local T=$1 u
	chmod 0755 "$T"
	private_etc "$T"
	useradd -M -u 19061 -s /bin/bash sspr-atk1
	useradd -M -u 19062 -s /bin/bash sspr-atk2
	echo 'sspr-atk1:Old-pass-word-1' | chpasswd
	echo 'sspr-atk2:Old-pass-word-2' | chpasswd
	env -u SSPR_ROOT -u SSPR_NOW "$ENROLL" sspr-atk1 "$SECRET" totp 3 > "$T/codes" || fail "enroll sspr-atk1"
	env -u SSPR_ROOT -u SSPR_NOW "$ENROLL" sspr-atk2 "$SECRET" totp >/dev/null || fail "enroll sspr-atk2"
	install -o root -g root -m 4755 "$HELPER" "$T/sspr-helper"
	install -m 0755 "$CLIENT" "$T/client"
	[ -u "$T/sspr-helper" ] || fail "no setuid bit on $T/sspr-helper"
	# the filesystem must honour it
	out=$(as sspr-atk1 "$T/client" "$T/sspr-helper" hello sspr-atk1 sshd - 2>&1 || true)
	[ "$out" = 'reply: OK' ] || skip "the setuid helper does not work here (nosuid mount?): $out"
}

# frame TYPE FIELD...: one protocol frame (include/sspr/proto.h) on stdout
frame() {
	local type=$1 f body len
	shift
	body=$(printf '\\x01\\x%02x\\x00\\x%02x' "$type" $#)
	for f in "$@"; do
		body+=$(printf '\\x%02x\\x%02x' $((${#f} >> 8)) $((${#f} & 255)))
		body+=$f
	done
	len=$(printf "$body" | wc -c)
	printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((len >> 24)) $(((len >> 16) & 255)) \
		$(((len >> 8) & 255)) $((len & 255)))$body"
}
