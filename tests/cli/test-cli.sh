#!/bin/bash
# sspr-cli in a sandbox root (SPEC section 8): users and groups from
# nss_wrapper, SSPR_ROOT for every path, SSPR_NOW for the clock.  Exit 77
# (skip) when nss_wrapper is missing.  Optional parts (QR decoding with
# zbarimg, audit lines through a private /dev/log) are skipped with a note
# when their tools are missing.
#
# usage: test-cli.sh SSPR_CLI CONFDIR SRCDIR [WITH_DEVLOG LOGCATCH]
set -euo pipefail

cli=$1 confdir=$2 srcdir=$3
with_devlog=${4:-} logcatch=${5:-}
export LC_ALL=C.UTF-8

nw=$(pkg-config --libs nss_wrapper 2>/dev/null || true)
nw=${nw%% *}
if [ -z "$nw" ] || [ ! -e "$nw" ]; then
	for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib "/usr/lib/$(uname -m)-linux-gnu"; do
		[ -e "$d/libnss_wrapper.so" ] && nw=$d/libnss_wrapper.so && break
	done
fi
if [ -z "$nw" ] || [ ! -e "$nw" ]; then
	echo "SKIP: libnss_wrapper.so missing (install libnss-wrapper)"
	exit 77
fi
[ -x "$cli" ] || { echo "FAIL: $cli is not executable"; exit 1; }
# an ASan build under LD_PRELOAD: the preloaded wrapper comes first
if grep -q libasan <<<"$(ldd "$cli" 2>/dev/null || true)"; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	export NSS_WRAPPER_DISABLE_DEEPBIND=1
fi

T=$(mktemp -d /tmp/sspr-clitest.XXXXXX)
trap 'rm -rf "$T"' EXIT
ROOT=$T/root
mkdir -p "$ROOT/etc" "$ROOT$confdir" "$ROOT/var/lib/sspr"
chmod 0700 "$ROOT/var/lib/sspr"
cat > "$ROOT/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/bash
alice:x:1001:1001:Alice:/home/alice:/bin/bash
bob:x:1002:1002:Bob:/home/bob:/bin/bash
carol:x:1003:1003:Carol:/home/carol:/bin/bash
dave:x:1004:1004:Dave:/home/dave:/bin/bash
EOF
cat > "$ROOT/etc/group" <<'EOF'
root:x:0:
sudo:x:27:bob
alice:x:1001:
bob:x:1002:
carol:x:1003:
dave:x:1004:
EOF
# shellcheck disable=SC2016 # a crypt hash, no expansion meant
h='$6$saltsaltsaltsalt$Q9EnmIsRKVVh9cD2YCJcxlHfpsyDBP1VgK7Blhta3mrBlgNqQrDuhcrYnbFAKVTMbVvZ8LvIg3eJx5pI5Go9P/'
cat > "$ROOT/etc/shadow" <<EOF
root:*:20000:0:99999:7:::
alice:$h:20000:0:99999:7:::
bob:$h:20000:0:99999:7:::
carol:!$h:20000:0:99999:7:::
dave:$h:20000:0:99999:7:::
EOF
chmod 0600 "$ROOT/etc/shadow"
conf=$ROOT$confdir/sspr.conf
cp "$srcdir/policy/sspr.conf" "$conf"
chmod 0644 "$conf"
users=$ROOT/var/lib/sspr/users

NOW=1795928400 # 2026-11-29T05:00:00Z
SECRET=JBSWY3DPEHPK3PXP
n=0
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { n=$((n + 1)); }

# run RC ARGS...: sspr-cli in the sandbox; stdout in $T/out, stderr in
# $T/err; fails unless it exits RC.
run() {
	local want=$1 rc
	shift
	set +e
	env LD_PRELOAD="$nw" NSS_WRAPPER_PASSWD="$ROOT/etc/passwd" \
		NSS_WRAPPER_GROUP="$ROOT/etc/group" SSPR_ROOT="$ROOT" SSPR_NOW="$NOW" \
		"$cli" "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	set -e
	[ "$rc" = "$want" ] || fail "sspr-cli $* exited $rc, expected $want
--- stdout:
$(cat "$T/out")
--- stderr:
$(cat "$T/err")"
	ok
}
expect_err() { grep -qF -- "$1" "$T/err" || fail "stderr lacks '$1': $(cat "$T/err")"; ok; }
expect_out() { grep -qF -- "$1" "$T/out" || fail "stdout lacks '$1': $(cat "$T/out")"; ok; }
expect_out_is() {
	[ "$(cat "$T/out")" = "$1" ] || fail "stdout is
$(cat "$T/out")
expected
$1"
	ok
}
expect_no_stdout() { [ ! -s "$T/out" ] || fail "unexpected stdout: $(cat "$T/out")"; ok; }
mode_of() { stat -c %a "$1"; }
# the secret only on the URI line of enroll's output, never on stderr
secret_only_in_uri() {
	local s=$1
	if tail -n +2 "$T/out" | grep -qiF -- "$s"; then fail "secret outside the URI line"; fi
	if grep -qiF -- "$s" "$T/err"; then fail "secret on stderr"; fi
	head -n 1 "$T/out" | grep -q "^otpauth://.*[?&]secret=$s&" || fail "URI line lacks the secret"
	ok
}

# --- help, version, usage errors -------------------------------------------
run 0 --help;   expect_out "Usage: sspr-cli"; expect_out "enroll"; expect_out "revoke"
[ ! -s "$T/err" ] || fail "--help wrote to stderr"
run 0 -h;       expect_out "Usage: sspr-cli"
run 0 --version; expect_out "sspr-cli "
for c in enroll status revoke; do
	run 0 "$c" --help; expect_out "Usage: sspr-cli $c"
	[ ! -s "$T/err" ] || fail "$c --help wrote to stderr"
	run 0 "$c" -h;  expect_out "Usage: sspr-cli $c"
	run 2 "$c" --bogus; expect_err "unknown option '--bogus'"; expect_err "Try 'sspr-cli $c --help'"
	expect_no_stdout
	run 2 "$c" -z; expect_err "unknown option '-z'"
done
run 2;           expect_err "no command given"
run 2 frobnicate; expect_err "unknown command"
run 2 --bogus;    expect_err "unknown option"
run 2 enroll --digits; expect_err "needs a value"
run 2 enroll alice --force=yes; expect_err "takes no value"
run 2 status alice --json=1
run 2 status alice bob; expect_err "unexpected argument"
run 2 revoke;    expect_err "USER is required"
run 2 revoke alice bob
run 2 enroll --qr none; expect_err "USER is required"
run 2 status;     expect_err "USER is required"

# --- bad values and contradictions (exit 2, nothing stored) ----------------
for args in "--digits 7" "--digits x" "--digits 06x" "--digits 8.0" "--period 0" \
	    "--period 301" "--period -30" "--period 3o" "--algorithm md5" "--qr bogus" \
	    "--qr svg:" "--issuer a:b" "--hotp --period 30" "--hotp --algorithm sha256" \
	    "--hotp --algorithm sha512" "--secret JBSWY3DP" "--secret JBSWY3DPEHPK3PX1" \
	    "--secret not-base32!"; do
	# shellcheck disable=SC2086 # word splitting wanted
	run 2 enroll alice $args --qr none
	expect_err "Try 'sspr-cli enroll --help'"
	expect_no_stdout
done
[ ! -e "$users/1001" ] || fail "a usage error stored a record"

# --- enroll alice ------------------------------------------------------------
uri="otpauth://totp/Example%20Corp:alice?secret=$SECRET&issuer=Example%20Corp&algorithm=SHA1&digits=6&period=30"
run 0 enroll alice --secret "$SECRET" --qr none --issuer "Example Corp"
expect_out_is "$uri"
secret_only_in_uri "$SECRET"
[ -f "$users/1001" ] || fail "no record $users/1001"
[ "$(mode_of "$users/1001")" = 600 ] || fail "record mode $(mode_of "$users/1001")"
ok
run 0 status alice --json
expect_out_is '{"user":"alice","uid":1001,"enrolled":true,"type":"totp","algorithm":"sha1","digits":6,"period":30,"created":"2026-11-29T05:00:00Z","last_used":null}'
run 0 status alice
expect_out "enrolled:  yes"; expect_out "type:      totp"; expect_out "algorithm: sha1"
expect_out "digits:    6"; expect_out "period:    30"
expect_out "created:   2026-11-29T05:00:00Z"; expect_out "last_used: never"
if grep -qi "$SECRET" "$T/out"; then fail "status shows the secret"; fi
ok

# already enrolled: refused without --force, replaced with it
NOW=$((NOW + 60))
run 1 enroll alice --qr none; expect_err "already enrolled (use --force to replace)"
expect_no_stdout
run 0 status alice --json; expect_out '"created":"2026-11-29T05:00:00Z"'
run 0 enroll alice --force --qr none --algorithm sha256 --digits 8 --period 60
rnd=$(head -n 1 "$T/out" | sed -n 's/.*[?&]secret=\([A-Z2-7]*\)&.*/\1/p')
[ ${#rnd} = 32 ] || fail "a new secret is not 20 bytes of base32: '$rnd'"
ok
[ "$rnd" != "$SECRET" ] || fail "--force kept the old secret"
secret_only_in_uri "$rnd"
expect_out "&algorithm=SHA256&digits=8&period=60"
[ "$(wc -l < "$T/out")" = 1 ] || fail "--qr none printed more than the URI"
ok
run 0 status alice --json
expect_out_is '{"user":"alice","uid":1001,"enrolled":true,"type":"totp","algorithm":"sha256","digits":8,"period":60,"created":"2026-11-29T05:01:00Z","last_used":null}'

# default issuer: the host name
run 0 enroll alice --force --qr none
host=$(hostname)
if [[ $host =~ ^[A-Za-z0-9._-]+$ ]]; then
	head -n 1 "$T/out" | grep -qF "otpauth://totp/$host:alice?" || fail "issuer is not the host name"
	expect_out "&issuer=$host&"
fi

# --- policy ------------------------------------------------------------------
run 1 enroll bob --qr none; expect_err "deny_group"; expect_err "deny_groups"; expect_no_stdout
[ ! -e "$users/1002" ] || fail "refused enrollment stored a record"
ok
run 0 enroll bob --force --qr none; expect_err "deny_group"; expect_out "otpauth://totp/"
run 0 status bob --json; expect_out '"enrolled":true'
run 1 enroll carol --qr none; expect_err "locked_password"; expect_no_stdout
run 1 enroll ghost --qr none; expect_err "unknown user ghost (unknown_user)"; expect_no_stdout
run 1 enroll ghost --force --qr none; expect_err "unknown_user"
run 1 status ghost; expect_err "unknown_user"; expect_no_stdout
run 1 status ghost --json; expect_err "unknown_user"; expect_no_stdout
run 0 status carol --json; expect_out_is '{"user":"carol","uid":1003,"enrolled":false}'
run 0 status carol; expect_out "enrolled:  no"

# --- HOTP --------------------------------------------------------------------
run 0 enroll dave --hotp --digits 8 --algorithm sha1 --secret "$SECRET" --issuer X --qr none
expect_out_is "otpauth://hotp/X:dave?secret=$SECRET&issuer=X&algorithm=SHA1&digits=8&counter=0"
run 0 status dave --json
expect_out_is '{"user":"dave","uid":1004,"enrolled":true,"type":"hotp","algorithm":"sha1","digits":8,"period":null,"created":"2026-11-29T05:01:00Z","last_used":null}'
run 0 status dave; expect_out "type:      hotp"
if grep -q "^period:" "$T/out"; then fail "HOTP status shows a period"; fi
ok

# --- QR codes ----------------------------------------------------------------
run 0 enroll alice --force --secret "$SECRET" --issuer Example
cp "$T/out" "$T/utf8"
secret_only_in_uri "$SECRET"
[ "$(head -n 1 "$T/utf8")" = "otpauth://totp/Example:alice?secret=$SECRET&issuer=Example&algorithm=SHA1&digits=6&period=30" ] \
	|| fail "utf8: first line is not the URI"
ok
qlines=$(tail -n +2 "$T/utf8")
[ "$(wc -l <<<"$qlines")" -ge 15 ] || fail "utf8: QR code too short"
if grep -qv '^[█▀▄ ]*$' <<<"$qlines"; then fail "utf8: a line that is not half blocks"; fi
for b in █ ▀ ▄; do grep -q "$b" <<<"$qlines" || fail "utf8: no $b"; done
[ "$(while IFS= read -r l; do echo "${#l}"; done <<<"$qlines" | sort -u | wc -l)" = 1 ] \
	|| fail "utf8: ragged lines"
ok
run 0 enroll alice --force --secret "$SECRET" --issuer Example --qr ansi
cp "$T/out" "$T/ansi"
secret_only_in_uri "$SECRET"
tail -n +2 "$T/ansi" | grep -q $'\e\\[40m' || fail "ansi: no dark modules"
tail -n +2 "$T/ansi" | grep -q $'\e\\[47m' || fail "ansi: no light modules"
if tail -n +2 "$T/ansi" | grep -qv $'\e\\[0m$'; then fail "ansi: a line without a reset"; fi
ok

svg=$T/qr.svg
run 0 enroll alice --force --secret "$SECRET" --issuer Example --qr "svg:$svg"
expect_out_is "otpauth://totp/Example:alice?secret=$SECRET&issuer=Example&algorithm=SHA1&digits=6&period=30"
[ -f "$svg" ] || fail "no SVG file"
head -c 5 "$svg" | grep -q '^<?xml' || fail "SVG does not start with <?xml"
grep -q '<svg ' "$svg" || fail "no <svg> element"
grep -q '</svg>' "$svg" || fail "SVG not closed"
[ "$(mode_of "$svg")" = 600 ] || fail "SVG mode $(mode_of "$svg")"
if grep -q "$SECRET" "$svg"; then fail "the SVG holds the secret in clear text"; fi
ok
cp "$svg" "$T/qr-keep.svg"
NOW=$((NOW + 60))
run 1 enroll alice --force --qr "svg:$svg"; expect_err "already exists"; expect_no_stdout
cmp -s "$svg" "$T/qr-keep.svg" || fail "an existing SVG file was overwritten"
ok
run 0 status alice --json; expect_out '"created":"2026-11-29T05:01:00Z"'
ln -s "$T/elsewhere" "$T/link.svg"
run 1 enroll alice --force --qr "svg:$T/link.svg"; expect_err "already exists"
[ ! -e "$T/elsewhere" ] || fail "followed a symlink"
ok
run 1 enroll alice --force --qr "svg:$T/no/such/dir/qr.svg"; expect_err "cannot write"

# Decode the codes when zbarimg is there (package zbar-tools).
if command -v zbarimg >/dev/null && command -v python3 >/dev/null; then
	want="otpauth://totp/Example:alice?secret=$SECRET&issuer=Example&algorithm=SHA1&digits=6&period=30"
	# terminal drawings to PBM: utf8 glyphs are light on a dark terminal,
	# ansi draws its own colours; 4 pixels a module
	python3 - "$T/utf8" "$T/utf8.pbm" "$T/ansi" "$T/ansi.pbm" <<'PY'
import re, sys
def pbm(rows, path, s=4):
    w = max(len(r) for r in rows)
    rows = [r + [1] * (w - len(r)) for r in rows]
    with open(path, "w") as f:
        f.write("P1\n%d %d\n" % (w * s, len(rows) * s))
        for r in rows:
            line = " ".join(str(b) for b in r for _ in range(s))
            for _ in range(s):
                f.write(line + "\n")
rows = []
for l in open(sys.argv[1], encoding="utf-8").read().splitlines()[1:]:
    top = [0 if c in "█▀" else 1 for c in l]
    bot = [0 if c in "█▄" else 1 for c in l]
    rows += [top, bot]
pbm(rows, sys.argv[2])
rows = []
for l in open(sys.argv[3], encoding="utf-8").read().splitlines()[1:]:
    cur, row = 0, []
    for tok in re.findall(r"\x1b\[(\d+)m|(  )", l):
        if tok[0] == "47": cur = 0
        elif tok[0] == "40": cur = 1
        elif tok[1]: row.append(cur)
    rows.append(row)
pbm(rows, sys.argv[4])
PY
	for f in utf8 ansi; do
		got=$(zbarimg --raw -q "$T/$f.pbm" 2>/dev/null || true)
		[ "$got" = "$want" ] || fail "$f QR code decodes to '$got'"
		ok
	done
	if command -v rsvg-convert >/dev/null; then
		rsvg-convert -o "$T/qr.png" "$T/qr-keep.svg"
		got=$(zbarimg --raw -q "$T/qr.png" 2>/dev/null || true)
		[ "$got" = "$want" ] || fail "SVG QR code decodes to '$got'"
		ok
	else
		echo "note: rsvg-convert missing, SVG not decoded"
	fi
else
	echo "note: zbarimg or python3 missing, QR codes not decoded"
fi

# --- stdin is never read, even when closed -------------------------------------
set +e
env LD_PRELOAD="$nw" NSS_WRAPPER_PASSWD="$ROOT/etc/passwd" NSS_WRAPPER_GROUP="$ROOT/etc/group" \
	SSPR_ROOT="$ROOT" SSPR_NOW="$NOW" "$cli" enroll alice --force --qr none >"$T/out" 2>"$T/err" <&-
rc=$?
set -e
[ "$rc" = 0 ] || fail "enroll with stdin closed exited $rc: $(cat "$T/err")"
ok

# --- unusable records --------------------------------------------------------------
chmod 0644 "$users/1004"
run 1 status dave; expect_err "unsafe file"
run 1 enroll dave --qr none; expect_err "use --force to replace"
chmod 0600 "$users/1004"
cp "$users/1004" "$T/1004.keep"
printf 'sspr-record 1\ngarbage\n' > "$users/1004"
run 1 status dave --json; expect_err "invalid state record"; expect_no_stdout
run 0 enroll dave --force --qr none; expect_err "replacing the unusable record"
run 0 status dave --json; expect_out '"enrolled":true'

# --- revoke ------------------------------------------------------------------
run 0 revoke alice; expect_out "Revoked the enrollment of alice."
[ ! -e "$users/1001" ] || fail "revoke left the record"
ok
run 0 status alice --json; expect_out_is '{"user":"alice","uid":1001,"enrolled":false}'
run 0 status alice; expect_out "enrolled:  no"
run 1 revoke alice; expect_err "alice is not enrolled (not_enrolled)"
run 1 revoke ghost; expect_err "unknown_user"
run 1 revoke carol; expect_err "not_enrolled"

# --- configuration ---------------------------------------------------------------
cp "$conf" "$T/conf.keep"
printf 'frobnicate = yes\nmin_uid = lots\n' >> "$conf"
run 1 enroll alice --qr none; expect_err "sspr.conf:"; expect_err "config_error"; expect_no_stdout
run 1 status alice; expect_err "config_error"
run 1 revoke dave; expect_err "config_error"
cp "$T/conf.keep" "$conf"
chmod 0666 "$conf"
run 1 status alice; expect_err "config_error"
chmod 0644 "$conf"
sed -i 's/^deny_groups = .*/deny_groups = root/' "$conf"
run 0 enroll bob --force --qr none
run 1 enroll carol --qr none; expect_err "locked_password"
cp "$T/conf.keep" "$conf"
mv "$conf" "$T/conf.away"
# no sspr.conf: the defaults (bob in sudo is denied again)
run 0 status alice
[ ! -s "$T/err" ] || fail "a missing sspr.conf is not silent: $(cat "$T/err")"
ok
run 1 enroll bob --qr none; expect_err "deny_group"
mv "$T/conf.away" "$conf"

# --- not admin: no root, no SSPR_ROOT --------------------------------------------
nonadmin() {
	local rc
	set +e
	if [ "$(id -u)" = 0 ]; then
		command -v setpriv >/dev/null || return 1
		env -u SSPR_ROOT setpriv --reuid=65534 --regid=65534 --clear-groups -- \
			"$cli" "$@" >"$T/out" 2>"$T/err" </dev/null
	else
		env -u SSPR_ROOT "$cli" "$@" >"$T/out" 2>"$T/err" </dev/null
	fi
	rc=$?
	set -e
	echo "$rc"
}
rc=$(nonadmin enroll alice --qr none || true)
if [ "$rc" = 126 ] || [ "$rc" = 127 ] || [ -z "$rc" ]; then
	echo "note: cannot run sspr-cli as an ordinary user here, non-admin case not checked"
else
	[ "$rc" = 1 ] || fail "enroll as a user exited $rc"
	expect_err "sspr-cli: self-service enrollment is not available yet; run as root"
	[ "$(nonadmin status)" = 1 ] || fail "status as a user"
	[ "$(nonadmin revoke alice)" = 1 ] || fail "revoke as a user"
	[ "$(nonadmin enroll --help)" = 0 ] || fail "enroll --help as a user"
	[ "$(nonadmin enroll --digits 7)" = 2 ] || fail "usage error as a user"
	ok
fi

# --- audit lines, through a private /dev/log -------------------------------------
if [ -n "$with_devlog" ] && [ -n "$logcatch" ] && command -v unshare >/dev/null; then
	cat > "$T/audit.sh" <<EOF
set -e
export LD_PRELOAD="$nw" NSS_WRAPPER_PASSWD="$ROOT/etc/passwd" NSS_WRAPPER_GROUP="$ROOT/etc/group"
export SSPR_ROOT="$ROOT" SSPR_NOW="$NOW"
"$cli" enroll alice --secret $SECRET --qr none >/dev/null
"$cli" enroll alice --force --secret $SECRET --qr ansi >/dev/null
"$cli" enroll bob --force --qr none >/dev/null 2>&1
"$cli" revoke alice >/dev/null
printf 'bogus_key = 1\n' >> "$conf"
"$cli" status alice >/dev/null 2>&1 && exit 1
cp "$T/conf.keep" "$conf"
EOF
	set +e
	LOGCATCH=$logcatch SSPR_DEVLOG_OUT=$T/syslog "$with_devlog" bash "$T/audit.sh" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	cp "$T/conf.keep" "$conf"
	if [ "$rc" = 125 ]; then
		echo "note: no private /dev/log here, audit lines not checked"
	else
		[ "$rc" = 0 ] || fail "audit run exited $rc: $(cat "$T/err")"
		lines=$(grep 'sspr-cli\[' "$T/syslog" || true)
		me=$(id -u)
		grep -q "event=enroll user=alice uid=1001 method=totp by_uid=$me replaced=no$" <<<"$lines" \
			|| fail "no enroll event: $lines"
		grep -q "event=enroll user=alice uid=1001 method=totp by_uid=$me replaced=yes$" <<<"$lines" \
			|| fail "no re-enroll event: $lines"
		grep -q "event=enroll user=bob uid=1002 method=totp by_uid=$me replaced=yes override=deny_group$" <<<"$lines" \
			|| fail "no override in bob's enroll event: $lines"
		grep -q "event=revoke user=alice uid=1001 by_uid=$me$" <<<"$lines" || fail "no revoke event"
		grep -q 'event=config_error error=.*bogus_key' <<<"$lines" || fail "no config_error event"
		if grep -qi "$SECRET" "$T/syslog"; then fail "the secret is in the audit log"; fi
		bad=$(sed -E 's/^.*sspr-cli\[[0-9]+\]: //' <<<"$lines" |
			grep -vE '^event=[a-z_]+( [a-z_]+=([A-Za-z0-9._:/@+,-]+|"([^"\\]|\\.)*"))*$' || true)
		[ -z "$bad" ] || fail "malformed audit lines: $bad"
		ok
	fi
else
	echo "note: with-devlog.sh not given, audit lines not checked"
fi

echo "PASS: $n checks"
