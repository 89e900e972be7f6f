#!/bin/bash
# sspr-cli in a sandbox root (SPEC section 8): users and groups from
# nss_wrapper, SSPR_ROOT for every path, SSPR_NOW for the clock.  Exit 77
# (skip) when nss_wrapper is missing.  Optional parts (QR decoding with
# zbarimg, audit lines through a private /dev/log) are skipped with a note
# when their tools are missing.
#
# usage: test-cli.sh SSPR_CLI CONFDIR SRCDIR [WITH_DEVLOG LOGCATCH [HELPER
#                    PROTO_CLIENT [RL_CHARGE]]]
# HELPER and PROTO_CLIENT (tests/helper) let the helper accept recovery
# codes the CLI issued, and HELPER drives self-service (SSPR_CLI_SELF=1);
# RL_CHARGE (tests/cli/rl-charge.c) counts failures for status and unlock.  SSPR_HAVE_PWQUALITY=0|1 says how sspr-cli was
# built (else ldd tells).
set -euo pipefail

cli=$1 confdir=$2 srcdir=$3
with_devlog=${4:-} logcatch=${5:-}
helper=${6:-} proto_client=${7:-} rl_charge=${8:-}
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
erin:x:1005:1005:Erin (no shadow line):/home/erin:/bin/bash
frank:x:1006:1100:Frank:/home/frank:/bin/bash
EOF
# team: alice and dave listed, frank by his primary gid
cat > "$ROOT/etc/group" <<'EOF'
root:x:0:
sudo:x:27:bob
alice:x:1001:
bob:x:1002:
carol:x:1003:
dave:x:1004:
erin:x:1005:
team:x:1100:alice,dave
mixed:x:1200:alice,erin
empty:x:1300:
EOF
# shellcheck disable=SC2016 # a crypt hash, no expansion meant
h='$6$saltsaltsaltsalt$Q9EnmIsRKVVh9cD2YCJcxlHfpsyDBP1VgK7Blhta3mrBlgNqQrDuhcrYnbFAKVTMbVvZ8LvIg3eJx5pI5Go9P/'
cat > "$ROOT/etc/shadow" <<EOF
root:*:20000:0:99999:7:::
alice:$h:20000:0:99999:7:::
bob:$h:20000:0:99999:7:::
carol:!$h:20000:0:99999:7:::
dave:$h:20000:0:99999:7:::
frank:$h:20000:0:99999:7:::
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
expect_err_is() {
	[ "$(cat "$T/err")" = "$1" ] || fail "stderr is
$(cat "$T/err")
expected
$1"
	ok
}
# take_codes N: the last N lines of stdout are recovery codes (XXXXX-XXXXX
# of the base32 alphabet, all different); they move to $T/codes and
# $T/out keeps the rest.
take_codes() {
	local want=$1 total
	total=$(wc -l < "$T/out")
	[ "$total" -ge "$want" ] || fail "fewer than $want lines of output: $(cat "$T/out")"
	tail -n "$want" "$T/out" > "$T/codes"
	head -n $((total - want)) "$T/out" > "$T/out.rest"
	mv "$T/out.rest" "$T/out"
	if grep -qvE '^[A-Z2-7]{5}-[A-Z2-7]{5}$' "$T/codes"; then
		fail "not recovery codes: $(cat "$T/codes")"
	fi
	[ "$(sort -u "$T/codes" | wc -l)" = "$want" ] || fail "recovery codes repeat"
	if grep -q '[A-Z2-7]\{5\}-[A-Z2-7]\{5\}' "$T/err"; then fail "a code on stderr"; fi
	ok
}
# the rate-limit part of status --json for a name without failures
RL0='"locked":false,"locked_until":null,"hard_locked":false,"recent_failures":0,"consecutive_failures":0,"last_failure":null}'
mode_of() { stat -c %a "$1"; }
# the secret only on the URI line of enroll's output, never on stderr
secret_only_in_uri() {
	local s=$1
	tail -n +2 "$T/out" > "$T/out.tail"
	if grep -qiF -- "$s" "$T/out.tail"; then fail "secret outside the URI line"; fi
	if grep -qiF -- "$s" "$T/err"; then fail "secret on stderr"; fi
	head -n 1 "$T/out" | grep -q "^otpauth://.*[?&]secret=$s&" || fail "URI line lacks the secret"
	ok
}

# --- help, version, usage errors -------------------------------------------
run 0 --help;   expect_out "Usage: sspr-cli"
for c in enroll status revoke recovery-codes unlock policy expire gc; do
	grep -qE "^  $c +[a-z]" "$T/out" || fail "--help does not list $c"
done
ok
[ ! -s "$T/err" ] || fail "--help wrote to stderr"
run 0 -h;       expect_out "Usage: sspr-cli"
run 0 --version; expect_out "sspr-cli "
for c in enroll status revoke recovery-codes unlock policy "policy check" "policy lint" \
	 expire gc; do
	read -ra cw <<<"$c"
	run 0 "${cw[@]}" --help; expect_out "Usage: sspr-cli $c"
	[ ! -s "$T/err" ] || fail "$c --help wrote to stderr"
	run 0 "${cw[@]}" -h;  expect_out "Usage: sspr-cli $c"
	run 2 "${cw[@]}" --bogus; expect_err "unknown option '--bogus'"
	expect_err "Try 'sspr-cli $c --help'"
	expect_no_stdout
	run 2 "${cw[@]}" -z; expect_err "unknown option '-z'"
done
run 2 policy;       expect_err "check or lint expected"
run 2 policy frob;  expect_err "unknown subcommand 'frob'"
run 2 policy check; expect_err "USER is required"
run 2 policy check alice bob; expect_err "unexpected argument 'bob'"
run 2 policy check alice --rhost; expect_err "needs a value"
run 2 policy lint a b; expect_err "unexpected argument 'b'"
run 2 recovery-codes alice bob; expect_err "unexpected argument"
run 2 recovery-codes; expect_err "USER is required when run as root"
run 2 unlock;       expect_err "USER is required"
run 2 unlock alice bob; expect_err "unexpected argument"
run 2 expire;       expect_err "USER or --group GROUP is required"
run 2 expire alice --group team; expect_err "USER and --group exclude each other"
run 2 expire --group team --group sudo; expect_err "--group given twice"
run 2 expire --group; expect_err "needs a value"
run 2 gc now;       expect_err "unexpected argument 'now'"
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
take_codes 10
expect_out_is "$uri"
secret_only_in_uri "$SECRET"
[ -f "$users/1001" ] || fail "no record $users/1001"
[ "$(mode_of "$users/1001")" = 600 ] || fail "record mode $(mode_of "$users/1001")"
ok
run 0 status alice --json
expect_out_is '{"user":"alice","uid":1001,"enrolled":true,"type":"totp","algorithm":"sha1","digits":6,"period":30,"created":"2026-11-29T05:00:00Z","last_used":null,"recovery_codes":10,'"$RL0"
run 0 status alice
expect_out_is "user:           alice
uid:            1001
enrolled:       yes
type:           totp
algorithm:      sha1
digits:         6
period:         30
created:        2026-11-29T05:00:00Z
last used:      never
recovery codes: 10 left
lock:           not locked
failures:       0 recent, 0 consecutive
last failure:   never"
if grep -qi "$SECRET" "$T/out"; then fail "status shows the secret"; fi
ok

# already enrolled: refused without --force, replaced with it
NOW=$((NOW + 60))
run 1 enroll alice --qr none; expect_err "already enrolled (use --force to replace)"
expect_no_stdout
run 0 status alice --json; expect_out '"created":"2026-11-29T05:00:00Z"'
run 0 enroll alice --force --qr none --algorithm sha256 --digits 8 --period 60
take_codes 10
rnd=$(head -n 1 "$T/out" | sed -n 's/.*[?&]secret=\([A-Z2-7]*\)&.*/\1/p')
[ ${#rnd} = 32 ] || fail "a new secret is not 20 bytes of base32: '$rnd'"
ok
[ "$rnd" != "$SECRET" ] || fail "--force kept the old secret"
secret_only_in_uri "$rnd"
expect_out "&algorithm=SHA256&digits=8&period=60"
[ "$(wc -l < "$T/out")" = 1 ] || fail "--qr none printed more than the URI"
ok
run 0 status alice --json
expect_out_is '{"user":"alice","uid":1001,"enrolled":true,"type":"totp","algorithm":"sha256","digits":8,"period":60,"created":"2026-11-29T05:01:00Z","last_used":null,"recovery_codes":10,'"$RL0"

# default issuer: the host name
run 0 enroll alice --force --qr none
take_codes 10
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
run 0 status carol --json
expect_out_is '{"user":"carol","uid":1003,"enrolled":false,"recovery_codes":null,'"$RL0"
run 0 status carol
expect_out_is "user:           carol
uid:            1003
enrolled:       no
recovery codes: none issued
lock:           not locked
failures:       0 recent, 0 consecutive
last failure:   never"

# --- HOTP --------------------------------------------------------------------
run 0 enroll dave --hotp --digits 8 --algorithm sha1 --secret "$SECRET" --issuer X --qr none
take_codes 10
expect_out_is "otpauth://hotp/X:dave?secret=$SECRET&issuer=X&algorithm=SHA1&digits=8&counter=0"
run 0 status dave --json
expect_out_is '{"user":"dave","uid":1004,"enrolled":true,"type":"hotp","algorithm":"sha1","digits":8,"period":null,"created":"2026-11-29T05:01:00Z","last_used":null,"recovery_codes":10,'"$RL0"
run 0 status dave; expect_out "type:           hotp"
if grep -q "^period:" "$T/out"; then fail "HOTP status shows a period"; fi
ok

# --- QR codes ----------------------------------------------------------------
run 0 enroll alice --force --secret "$SECRET" --issuer Example
take_codes 10
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
take_codes 10
cp "$T/out" "$T/ansi"
secret_only_in_uri "$SECRET"
# (from a file: grep -q stops at its first match, and with pipefail the
# writer's SIGPIPE would fail a pipeline)
tail -n +2 "$T/ansi" > "$T/ansi.qr"
grep -q $'\e\\[40m' "$T/ansi.qr" || fail "ansi: no dark modules"
grep -q $'\e\\[47m' "$T/ansi.qr" || fail "ansi: no light modules"
if grep -qv $'\e\\[0m$' "$T/ansi.qr"; then fail "ansi: a line without a reset"; fi
ok

svg=$T/qr.svg
run 0 enroll alice --force --secret "$SECRET" --issuer Example --qr "svg:$svg"
take_codes 10
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
run 0 status alice --json
expect_out_is '{"user":"alice","uid":1001,"enrolled":false,"recovery_codes":null,'"$RL0"
[ ! -e "$users/1001.codes" ] || fail "revoke left the recovery codes"
ok
run 0 status alice; expect_out "enrolled:       no"
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

# --- recovery codes ------------------------------------------------------------
# state here: alice revoked, bob and dave enrolled, sspr.conf the shipped one
[ ! -e "$users/1001.codes" ] || fail "alice has recovery codes after revoke"
ok
run 0 enroll alice --secret "$SECRET" --qr none --issuer X
take_codes 10
cp "$T/codes" "$T/codes1"
expect_out_is "otpauth://totp/X:alice?secret=$SECRET&issuer=X&algorithm=SHA1&digits=6&period=30"
[ "$(mode_of "$users/1001.codes")" = 600 ] || fail "codes file mode $(mode_of "$users/1001.codes")"
ok
[ "$(head -n 5 "$users/1001.codes")" = "sspr-codes 1
user alice
uid 1001
created $NOW
count 10" ] || fail "codes file header: $(head -n 5 "$users/1001.codes")"
ok
# stored only as hashes: no code in the file, with or without its dash
while read -r code; do
	if grep -qiF -e "$code" -e "${code/-/}" "$users/1001.codes"; then
		fail "recovery code $code stored in clear"
	fi
done < "$T/codes1"
ok
run 0 status alice --json; expect_out '"last_used":null,"recovery_codes":10,"locked":false'
run 0 recovery-codes alice
take_codes 10
expect_no_stdout
[ ! -s "$T/err" ] || fail "recovery-codes wrote to stderr: $(cat "$T/err")"
ok
cp "$T/codes" "$T/codes2"
[ -z "$(sort "$T/codes1" "$T/codes2" | uniq -d)" ] || fail "a new set repeats an old code"
ok
run 0 status alice; expect_out "recovery codes: 10 left"
run 1 recovery-codes carol; expect_err_is "sspr-cli recovery-codes: carol is not enrolled (not_enrolled)"
expect_no_stdout
[ ! -e "$users/1003.codes" ] || fail "codes stored for a user who is not enrolled"
ok
run 1 recovery-codes ghost; expect_err "unknown user ghost (unknown_user)"; expect_no_stdout
# recovery_codes in sspr.conf: how many; 0 = none, and a re-enrollment
# then voids the old set
sed -i 's/^recovery_codes = .*/recovery_codes = 3/' "$conf"
run 0 recovery-codes alice; take_codes 3; expect_no_stdout
run 0 status alice --json; expect_out '"recovery_codes":3,'
sed -i 's/^recovery_codes = .*/recovery_codes = 0/' "$conf"
run 1 recovery-codes alice; expect_err "recovery_codes = 0"; expect_no_stdout
run 0 status alice --json; expect_out '"recovery_codes":3,'
run 0 enroll alice --force --secret "$SECRET" --qr none --issuer X
expect_out_is "otpauth://totp/X:alice?secret=$SECRET&issuer=X&algorithm=SHA1&digits=6&period=30"
[ ! -e "$users/1001.codes" ] || fail "re-enrollment with recovery_codes = 0 kept the old codes"
ok
run 0 status alice --json; expect_out '"recovery_codes":null,'
run 0 status alice; expect_out "recovery codes: none issued"
cp "$T/conf.keep" "$conf"
run 0 recovery-codes alice; take_codes 10

# The helper accepts them: each once, in any case, with or without the
# dash; a new set voids the old one.
if [ -n "$helper" ] && [ -x "$helper" ] && [ -n "$proto_client" ] && [ -x "$proto_client" ]; then
	# hverify CODE: one session for alice from sshd; the helper's reply
	hverify() {
		env LD_PRELOAD="$nw" NSS_WRAPPER_PASSWD="$ROOT/etc/passwd" \
			NSS_WRAPPER_GROUP="$ROOT/etc/group" SSPR_ROOT="$ROOT" SSPR_NOW="$NOW" \
			"$proto_client" "$helper" hello alice sshd 192.0.2.7 verify "$1" \
			2>>"$T/helper.err" | tail -n 1 || true
	}
	c1=$(sed -n 1p "$T/codes") c2=$(sed -n 2p "$T/codes") c3=$(sed -n 3p "$T/codes")
	[ "$(hverify "$c1")" = "reply: OK" ] || fail "the helper refused a fresh recovery code"
	ok
	run 0 status alice --json; expect_out '"recovery_codes":9,'
	[ "$(hverify "$c1")" = "reply: INVALID" ] || fail "a recovery code worked twice"
	ok
	low=${c2/-/}
	low=${low,,}
	[ "$(hverify "$low")" = "reply: OK" ] || fail "a code in lower case without its dash refused"
	ok
	run 0 recovery-codes alice; take_codes 10
	[ "$(hverify "$c3")" = "reply: INVALID" ] || fail "a code of a voided set worked"
	ok
	[ "$(hverify "$(sed -n 4p "$T/codes")")" = "reply: OK" ] || fail "a code of the new set refused"
	ok
	run 0 status alice; expect_out "recovery codes: 9 left"
else
	echo "note: helper or sspr-proto-client not given, recovery codes not tried on the helper"
fi

# --- rate-limit state: status and unlock ----------------------------------------
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
run 0 unlock alice; expect_out_is "alice was not locked; the failure counts are cleared."
run 1 unlock ghost; expect_err "unknown user ghost (unknown_user)"; expect_no_stdout
if [ -n "$rl_charge" ] && [ -x "$rl_charge" ]; then
	# charge NAME COUNT: failed code attempts, counted as the helper does
	charge() {
		env LD_PRELOAD="$nw" NSS_WRAPPER_PASSWD="$ROOT/etc/passwd" \
			NSS_WRAPPER_GROUP="$ROOT/etc/group" SSPR_ROOT="$ROOT" SSPR_NOW="$NOW" \
			"$rl_charge" "$1" "$2" > "$T/charge" 2>&1 || fail "charge: $(cat "$T/charge")"
	}
	charge alice 3
	run 0 status alice --json
	expect_out '"recovery_codes":9,"locked":false,"locked_until":null,"hard_locked":false,"recent_failures":3,"consecutive_failures":3,"last_failure":"'"$(iso "$NOW")"'"}'
	run 0 status alice
	expect_out "lock:           not locked"
	expect_out "failures:       3 recent, 3 consecutive"
	expect_out "last failure:   $(iso "$NOW")"
	charge alice 2   # deny = 5: locked for unlock_time = 900 s
	grep -qx locked "$T/charge" || fail "5 failures did not lock: $(cat "$T/charge")"
	ok
	run 0 status alice --json
	expect_out '"locked":true,"locked_until":"'"$(iso $((NOW + 900)))"'","hard_locked":false,'
	expect_out '"consecutive_failures":5,'
	run 0 status alice; expect_out "lock:           locked until $(iso $((NOW + 900)))"
	run 0 unlock alice; expect_out_is "Unlocked alice; the failure counts are cleared."
	run 0 status alice --json; expect_out '"recovery_codes":9,'"$RL0"
	run 0 unlock alice; expect_out_is "alice was not locked; the failure counts are cleared."
	# hard lock: hard_deny consecutive failures, across lockouts
	sed -i -e 's/^deny = .*/deny = 2/' -e 's/^hard_deny = .*/hard_deny = 3/' \
		-e 's/^unlock_time = .*/unlock_time = 60/' "$conf"
	charge bob 2
	NOW=$((NOW + 61))
	charge bob 1
	grep -qx hard_locked "$T/charge" || fail "hard_deny did not hard-lock: $(cat "$T/charge")"
	ok
	NOW=$((NOW + 86400))
	run 0 status bob --json
	expect_out '"locked":true,"locked_until":null,"hard_locked":true,"recent_failures":'
	run 0 status bob; expect_out "lock:           hard-locked (until sspr-cli unlock)"
	run 0 unlock bob; expect_out_is "Unlocked bob; the failure counts are cleared."
	run 0 status bob --json; expect_out "$RL0"
	cp "$T/conf.keep" "$conf"
else
	echo "note: sspr-rl-charge not given, lock states not checked"
fi

# --- policy check ------------------------------------------------------------------
if [ -n "${SSPR_HAVE_PWQUALITY:-}" ]; then
	have_pwq=$SSPR_HAVE_PWQUALITY
elif grep -q libpwquality <<<"$(ldd "$cli" 2>/dev/null || true)"; then
	have_pwq=1
else
	have_pwq=0
fi
if [ "$have_pwq" = 1 ]; then pwq="yes"; else pwq="no (not built with libpwquality)"; fi
run 0 policy check alice
expect_out_is "exists          pass  alice exists (uid 1001)
services        n/a   not checked for this request
deny_users      pass  alice is not in deny_users
uid_range       pass  uid 1001 in 1000..60000
deny_groups     pass  member of no group that deny_groups lists
allow_groups    n/a   allow_groups is empty: everyone not denied
deny_shells     pass  shell /bin/bash is not in deny_shells
allow_remote    pass  local request
local_account   pass  alice has a line in $ROOT/etc/shadow
password_state  pass  password not locked, account does not expire
enrolled        pass  alice is enrolled
decision: allowed
require_recovery_code: no (not asked for this request)
min_length: 12
pwquality: $pwq
reject_reuse: yes"
[ ! -s "$T/err" ] || fail "policy check wrote to stderr: $(cat "$T/err")"
ok
run 0 policy check alice --service sshd --rhost 192.0.2.7
expect_out "services        pass  service sshd is in services"
expect_out "allow_remote    pass  remote request (from 192.0.2.7), allow_remote = yes"
expect_out "decision: allowed"
# refused, with every other part of the output changed too
run 0 revoke bob
sed -i -e 's/^allow_remote = .*/allow_remote = no/' \
	-e 's/^require_recovery_code = .*/require_recovery_code = remote/' \
	-e 's/^min_length = .*/min_length = 16/' -e 's/^use_pwquality = .*/use_pwquality = no/' \
	-e 's/^reject_reuse = .*/reject_reuse = no/' "$conf"
run 1 policy check bob --rhost 192.0.2.7 --service su
expect_out_is "exists          pass  bob exists (uid 1002)
services        FAIL  service su is not in services
deny_users      pass  bob is not in deny_users
uid_range       pass  uid 1002 in 1000..60000
deny_groups     FAIL  member of group sudo, which deny_groups lists
allow_groups    n/a   allow_groups is empty: everyone not denied
deny_shells     pass  shell /bin/bash is not in deny_shells
allow_remote    FAIL  remote request (from 192.0.2.7), allow_remote = no
local_account   pass  bob has a line in $ROOT/etc/shadow
password_state  pass  password not locked, account does not expire
enrolled        FAIL  bob is not enrolled
decision: refused (service)
require_recovery_code: remote (asked for this request: remote)
min_length: 16
pwquality: no (use_pwquality = no)
reject_reuse: no"
[ ! -s "$T/err" ] || fail "a refusal wrote to stderr: $(cat "$T/err")"
ok
run 0 policy check alice; expect_out "require_recovery_code: remote (not asked for this request: local)"
sed -i 's/^require_recovery_code = .*/require_recovery_code = always/' "$conf"
run 0 policy check alice; expect_out "require_recovery_code: always (asked for this request)"
cp "$T/conf.keep" "$conf"
run 1 policy check ghost
expect_out_is "exists          FAIL  no such user
services        n/a   not checked for this request
deny_users      n/a   no such user
uid_range       n/a   no such user
deny_groups     n/a   no such user
allow_groups    n/a   no such user
deny_shells     n/a   no such user
allow_remote    pass  local request
local_account   n/a   no such user
password_state  n/a   no such user
enrolled        n/a   no such user
decision: refused (unknown_user)
require_recovery_code: no (not asked for this request)
min_length: 12
pwquality: $pwq
reject_reuse: yes"
[ ! -s "$T/err" ] || fail "an unknown user is an error: $(cat "$T/err")"
ok

# Each rule flips the decision: RULE|REASON|KEY = VALUE (or empty)|USER|
# OPTIONS|OPTIONS for alice with the shipped sspr.conf, where the rule
# passes (or does not apply).
cp "$ROOT/etc/shadow" "$T/shadow.keep"
while IFS='|' read -r rule reason setting user opts base; do
	[ -n "$rule" ] || continue
	cp "$T/conf.keep" "$conf"
	if [ -n "$setting" ]; then
		key=${setting%% = *}
		grep -q "^$key =" "$conf" || fail "no $key in sspr.conf"
		sed -i "s|^$key =.*|$setting|" "$conf"
	fi
	[ "$user" != dave ] || sed -i 's/^\(dave:.*\):::$/\1::20000:/' "$ROOT/etc/shadow"
	# shellcheck disable=SC2086 # word splitting of opts wanted
	run 1 policy check "$user" $opts
	grep -qE "^$rule +FAIL  " "$T/out" || fail "$rule did not fail for $user ($setting): $(cat "$T/out")"
	ok
	expect_out "decision: refused ($reason)"
	cp "$T/conf.keep" "$conf"
	cp "$T/shadow.keep" "$ROOT/etc/shadow"
	# shellcheck disable=SC2086
	run 0 policy check alice $base
	grep -qE "^$rule +(pass|n/a)  " "$T/out" || fail "$rule fails for alice by default"
	ok
done <<'TABLE'
exists|unknown_user||ghost|
services|service||alice|--service sudo|--service sshd
deny_users|deny_user|deny_users = root alice|alice|
uid_range|uid_range|min_uid = 1002|alice|
uid_range|uid_range|max_uid = 1000|alice|
deny_groups|deny_group|deny_groups = team|alice|
allow_groups|allow_group|allow_groups = sudo|alice|
deny_shells|shell|deny_shells = /bin/bash|alice|
allow_remote|remote|allow_remote = no|alice|--rhost 192.0.2.7|--rhost 192.0.2.7
local_account|not_local||erin|
password_state|locked_password||carol|
password_state|account_expired||dave|
enrolled|not_enrolled||frank|
TABLE
run 0 policy check alice --rhost ""; expect_out "allow_remote    pass  local request"
run 1 policy check alice --service ""; expect_out "services        FAIL  service unknown"
# a bad sspr.conf: no verdict
printf 'bogus = 1\n' >> "$conf"
run 1 policy check alice; expect_err "config_error"; expect_no_stdout
cp "$T/conf.keep" "$conf"

# --- policy lint ---------------------------------------------------------------------
run 0 policy lint; expect_out_is "$conf: ok"
[ ! -s "$T/err" ] || fail "lint of a good file wrote to stderr"
ok
run 0 policy lint "$srcdir/policy/sspr.conf"; expect_out_is "$srcdir/policy/sspr.conf: ok"
# A table of bad files: TEXT (printf format) and every error expected, as
# LINE:TEXT; lint must report each at its line and nothing else.
lint_case() {
	local text=$1 f=$T/bad.conf e line msg
	shift
	# shellcheck disable=SC2059 # the text is a printf format
	printf "$text" > "$f"
	run 1 policy lint "$f"
	expect_no_stdout
	for e in "$@"; do
		line=${e%%:*} msg=${e#*:}
		grep -qF -- "$f:$line: " "$T/err" || fail "no error at line $line of $(cat -A "$f"): $(cat "$T/err")"
		grep -F -- "$f:$line: " "$T/err" | grep -qF -- "$msg" \
			|| fail "line $line: no '$msg' in: $(cat "$T/err")"
	done
	[ "$(wc -l < "$T/err")" = $# ] || fail "expected $# errors, got: $(cat "$T/err")"
	ok
}
lint_case 'frobnicate = yes\n' '1:unknown key "frobnicate"'
lint_case 'min_uid = lots\n' '1:min_uid = "lots": not a decimal number'
lint_case 'min_uid = -5\n' '1:min_uid = "-5": not a decimal number'
lint_case 'deny = 0\n' '1:deny = "0": out of range 1..1000'
lint_case 'min_length = 5\n' '1:min_length = "5": out of range 6..512'
lint_case 'recovery_codes = 41\n' '1:recovery_codes = "41": out of range 0..40'
lint_case 'window = 99999999999999999999\n' '1:window = "99999999999999999999"'
lint_case 'allow_remote = maybe\n' '1:allow_remote = "maybe": expected yes or no'
lint_case 'hash = md5\n' '1:hash = "md5": weak hash method'
lint_case 'hash = rot13\n' '1:hash = "rot13": unknown hash method'
lint_case 'require_recovery_code = sometimes\n' '1:expected no, remote or always'
lint_case 'on_success = maybe\n' '1:expected login or relogin'
lint_case 'syslog_facility = kern\n' '1:syslog_facility = "kern"'
lint_case 'notify_user = root\n' '1:notify_command never runs as root'
lint_case 'notify_user = 1000\n' '1:not a user name'
lint_case 'notify_command = relative/cmd\n' '1:must be empty or start with an absolute path'
lint_case 'notify_timeout = 0\n' '1:notify_timeout = "0": out of range 1..300'
lint_case 'notify_timeout = 301\n' '1:notify_timeout = "301": out of range 1..300'
lint_case 'deny_shells = /bin/false bash\n' '1:entry "bash" is not an absolute path'
lint_case 'min_uid =\n' '1:a value is required'
lint_case 'noequals\n' "1:missing '='"
lint_case ' = 5\n' "1:missing key before '='"
lint_case 'window = 1\nwindow = 2\n' '2:duplicate key window = "2" (first set on line 1)'
lint_case 'min_uid = 2000\nmax_uid = 1000\n' '2:max_uid = "1000": less than min_uid (2000)'
lint_case 'deny = 30\nhard_deny = 20\n' '2:less than deny'
lint_case 'window = 1\001\n' '1:control character'
lint_case 'window = 1\000\n' '1:NUL byte'
lint_case "window = 1 #$(printf '%05000d' 0)\\n" '1:line longer than'
lint_case '# comment\n\n  min_uid = 1000   # fine\nfrobnicate = 1\n\tdeny = x\n#\nmax_uid = 1\nhash = des\nwindow = 1 # ok\nconceal = perhaps\r\nlast' \
	'4:unknown key "frobnicate"' '5:deny = "x": not a decimal number' \
	'7:max_uid = "1": less than min_uid (1000)' '8:hash = "des": weak hash method' \
	'10:conceal = "perhaps": expected yes or no' "11:missing '=' in \"last\""
# good files: comments, blank lines, CRLF, no final newline, every key
lint_case_ok() {
	# shellcheck disable=SC2059
	printf "$1" > "$T/good.conf"
	run 0 policy lint "$T/good.conf"; expect_out_is "$T/good.conf: ok"
	[ ! -s "$T/err" ] || fail "errors for a good file: $(cat "$T/err")"
	ok
}
lint_case_ok ''
lint_case_ok '# only a comment\n\n'
lint_case_ok 'min_uid = 1000\r\nallow_groups =\r\nservices = sshd # where#not-a-comment\nwindow = 2'
head -c 70000 /dev/zero | tr '\0' '#' > "$T/big.conf"
run 1 policy lint "$T/big.conf"; expect_err "larger than 65536 bytes"
run 1 policy lint "$T/none.conf"; expect_err_is "$T/none.conf: No such file or directory"
run 1 policy lint "$T"; expect_err_is "$T: not a regular file"
# The configuration in use: its owner and mode count too (the helper
# refuses it), and it must exist; another file is checked for syntax only.
chmod 0666 "$conf"
run 1 policy lint
expect_err_is "$conf: must be owned by uid $(id -u) and not writable by group or others (owner uid $(id -u), mode 0666)"
expect_no_stdout
run 1 policy lint "$conf"; expect_err "must be owned by uid"
printf 'bogus = 1\n' >> "$conf"
bogus_line=$(wc -l < "$conf") # the line after the shipped file's last
run 1 policy lint
expect_err "$conf: must be owned by uid"; expect_err "$conf:$bogus_line: unknown key \"bogus\""
[ "$(wc -l < "$T/err")" = 2 ] || fail "expected 2 errors: $(cat "$T/err")"
ok
cp "$conf" "$T/copy.conf"
chmod 0666 "$T/copy.conf"
run 1 policy lint "$T/copy.conf"; expect_err_is "$T/copy.conf:$bogus_line: unknown key \"bogus\" (value \"1\")"
cp "$T/conf.keep" "$conf"
chmod 0644 "$conf"
cp "$conf" "$T/copy.conf"
chmod 0666 "$T/copy.conf"
run 0 policy lint "$T/copy.conf"; expect_out_is "$T/copy.conf: ok"
if [ "$(id -u)" = 0 ]; then
	chown 65534 "$T/copy.conf"
	run 0 policy lint "$T/copy.conf"; expect_out_is "$T/copy.conf: ok"
	chown 65534 "$conf"
	run 1 policy lint; expect_err "(owner uid 65534, mode 0644)"
	chown 0 "$conf"
fi
ln -s "$conf" "$T/link.conf"
run 0 policy lint "$T/link.conf"; expect_out_is "$T/link.conf: ok"
mv "$conf" "$T/conf.away"
run 1 policy lint; expect_err_is "$conf: No such file or directory"
mkdir "$conf"
run 1 policy lint; expect_err_is "$conf: not a regular file"
rmdir "$conf"
ln -s "$T/conf.away" "$conf"
run 1 policy lint; expect_err "$conf: is a symbolic link"
rm "$conf"
mv "$T/conf.away" "$conf"
run 0 policy lint; expect_out_is "$conf: ok"

# --- expire ------------------------------------------------------------------------
cp "$ROOT/etc/shadow" "$T/shadow.keep"
[ ! -e "$ROOT/etc/shadow-" ] || fail "shadow- before any rewrite"
ok
unchanged() {
	cmp -s "$ROOT/etc/shadow" "$T/shadow.keep" || fail "shadow changed by a refused batch"
	[ ! -e "$ROOT/etc/shadow-" ] || fail "a refused batch made shadow-"
	ok
}
# expired USER...: the kept shadow with field 3 of USER... set to 0
expired() {
	local list=" $* "
	awk -F: -v OFS=: -v list="$list" 'index(list, " " $1 " ") { $3 = 0 } 1' "$T/shadow.keep"
}
run 1 expire alice ghost dave
expect_err_is "sspr-cli expire: unknown user ghost (unknown_user)
sspr-cli expire: nothing was changed"
expect_no_stdout
unchanged
run 1 expire alice dave erin
expect_err_is "sspr-cli expire: erin has no line in $ROOT/etc/shadow (not_local); nothing was changed"
expect_no_stdout
unchanged
run 1 expire --group mixed; expect_err "erin has no line"; expect_no_stdout
unchanged
run 1 expire --group nosuch; expect_err_is "sspr-cli expire: unknown group nosuch"
unchanged
run 0 expire --group empty; expect_out_is "Group empty has no members: nothing to expire."
unchanged
run 0 expire alice bob dave
expect_out_is "Expired the password of alice (uid 1001).
Expired the password of bob (uid 1002).
Expired the password of dave (uid 1004)."
[ ! -s "$T/err" ] || fail "expire wrote to stderr: $(cat "$T/err")"
expired alice bob dave > "$T/shadow.want"
cmp -s "$ROOT/etc/shadow" "$T/shadow.want" || fail "shadow after expire: $(diff "$T/shadow.want" "$ROOT/etc/shadow")"
cmp -s "$ROOT/etc/shadow-" "$T/shadow.keep" || fail "shadow- is not the old shadow"
[ "$(mode_of "$ROOT/etc/shadow")" = 600 ] || fail "shadow mode $(mode_of "$ROOT/etc/shadow")"
ok
# the batch again, a name twice: once each, nothing else changes
cp "$ROOT/etc/shadow" "$T/shadow.now"
run 0 expire dave alice dave
expect_out_is "Expired the password of dave (uid 1004).
Expired the password of alice (uid 1001)."
cmp -s "$ROOT/etc/shadow" "$T/shadow.now" || fail "expiring again changed shadow"
ok
cp "$T/shadow.keep" "$ROOT/etc/shadow"
rm -f "$ROOT/etc/shadow-"
# --group: the listed members (alice, dave) and frank by his primary gid
run 0 expire --group team
expect_out_is "Expired the password of alice (uid 1001).
Expired the password of dave (uid 1004).
Expired the password of frank (uid 1006)."
expired alice dave frank > "$T/shadow.want"
cmp -s "$ROOT/etc/shadow" "$T/shadow.want" || fail "shadow after --group: $(diff "$T/shadow.want" "$ROOT/etc/shadow")"
ok
run 0 expire -g sudo; expect_out_is "Expired the password of bob (uid 1002)."
# a locked account is no bar: expire changes no password
run 0 expire carol; expect_out_is "Expired the password of carol (uid 1003)."
grep -q '^carol:!.*:0:0:99999:7:::$' "$ROOT/etc/shadow" || fail "carol not expired"
ok
cp "$T/shadow.keep" "$ROOT/etc/shadow"
rm -f "$ROOT/etc/shadow-"

# --- gc ----------------------------------------------------------------------------
cp "$ROOT/etc/passwd" "$T/passwd.keep"
run 0 enroll frank --qr none; take_codes 10
run 0 enroll dave --force --qr none; take_codes 10
run 0 enroll carol --force --qr none; take_codes 10
rm "$users/1003"                    # codes without a record
printf 'sspr-record 1\ngarbage\n' > "$users/1002"   # unusable, but bob exists
chmod 0600 "$users/1002"
sed -i -e '/^frank:/d' -e 's/^dave:/david:/' "$ROOT/etc/passwd"
find "$users" -mindepth 1 -printf '%f\n' | sort > "$T/users.before"
run 0 gc --dry-run
sort "$T/out" > "$T/out.sorted"
[ "$(cat "$T/out.sorted")" = "Would remove 5 files.
would remove users/1003.codes (no enrollment record)
would remove users/1004 (uid 1004 is david now, not dave)
would remove users/1004.codes (uid 1004 is david now, not dave)
would remove users/1006 (no account has uid 1006)
would remove users/1006.codes (no account has uid 1006)" ] || fail "gc --dry-run: $(cat "$T/out")"
ok
expect_err "users/1002 cannot be used"
[ "$(find "$users" -mindepth 1 -printf '%f\n' | sort)" = "$(cat "$T/users.before")" ] \
	|| fail "gc --dry-run removed files"
ok
run 0 gc
expect_out "removed users/1006 (no account has uid 1006)"
expect_out "Removed 5 files, pruned "
for f in 1003.codes 1004 1004.codes 1006 1006.codes; do
	[ ! -e "$users/$f" ] || fail "gc left users/$f"
done
for f in 1001 1001.codes 1002; do
	[ -e "$users/$f" ] || fail "gc removed users/$f, which is live"
done
ok
run 0 gc; expect_out "Removed 0 files"
cp "$T/passwd.keep" "$ROOT/etc/passwd"
rm "$users/1002"
run 0 revoke alice
[ -z "$(ls "$users")" ] || fail "records left: $(ls "$users")"
ok

# --- not admin: no root, no SSPR_ROOT --------------------------------------------
# (self-service through a helper that is not there: see the end for the
# real one)
nohelper=$T/no/such/sspr-helper
nonadmin() {
	local rc
	set +e
	if [ "$(id -u)" = 0 ]; then
		command -v setpriv >/dev/null || return 1
		env -u SSPR_ROOT SSPR_HELPER="$nohelper" setpriv --reuid=65534 --regid=65534 \
			--clear-groups -- "$cli" "$@" >"$T/out" 2>"$T/err" </dev/null
	else
		env -u SSPR_ROOT SSPR_HELPER="$nohelper" "$cli" "$@" >"$T/out" 2>"$T/err" </dev/null
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
	expect_err "alice is not you: only your own account ("
	expect_no_stdout
	[ "$(nonadmin status)" = 1 ] || fail "status as a user"
	expect_err_is "sspr-cli: cannot run the helper $nohelper (self-service needs it installed setuid root; see sspr-helper(8))"
	[ "$(nonadmin revoke alice)" = 1 ] || fail "revoke as a user"
	[ "$(nonadmin recovery-codes)" = 1 ] || fail "recovery-codes as a user"
	expect_err "sspr-cli: cannot run the helper $nohelper"
	[ "$(nonadmin recovery-codes alice)" = 1 ] || fail "recovery-codes alice as a user"
	expect_err "alice is not you: only your own account ("
	[ "$(nonadmin enroll --secret "$SECRET" --qr none)" = 2 ] || fail "enroll --secret as a user"
	expect_err "--secret is for root only"
	[ "$(nonadmin unlock alice)" = 1 ] || fail "unlock as a user"
	expect_err "sspr-cli unlock: only root may unlock a user"
	[ "$(nonadmin policy check alice)" = 1 ] || fail "policy check as a user"
	expect_err "sspr-cli policy check: only root may check the policy"
	[ "$(nonadmin expire alice)" = 1 ] || fail "expire as a user"
	expect_err "sspr-cli expire: only root may expire passwords"
	[ "$(nonadmin gc)" = 1 ] || fail "gc as a user"
	expect_err "sspr-cli gc: only root may remove records"
	[ "$(nonadmin policy lint --help)" = 0 ] || fail "policy lint --help as a user"
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
id -u > "$T/audit-uid"  # by_uid= as seen in there (a user namespace maps us to 0)
"$cli" enroll alice --secret $SECRET --qr none >/dev/null
"$cli" enroll alice --force --secret $SECRET --qr ansi >/dev/null
"$cli" enroll bob --force --qr none >/dev/null 2>&1
"$cli" recovery-codes alice >"$T/audit-codes"
"$cli" unlock alice >/dev/null
"$cli" expire alice dave >/dev/null
"$cli" gc >/dev/null
"$cli" revoke alice >/dev/null
"$cli" revoke bob >/dev/null
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
		me=$(cat "$T/audit-uid")
		grep -q "event=enroll user=alice uid=1001 method=totp by_uid=$me replaced=no seq=[0-9][0-9]*$" <<<"$lines" \
			|| fail "no enroll event: $lines"
		grep -q "event=enroll user=alice uid=1001 method=totp by_uid=$me replaced=yes seq=[0-9][0-9]*$" <<<"$lines" \
			|| fail "no re-enroll event: $lines"
		grep -q "event=enroll user=bob uid=1002 method=totp by_uid=$me replaced=no override=deny_group seq=[0-9][0-9]*$" <<<"$lines" \
			|| fail "no override in bob's enroll event: $lines"
		grep -q "event=revoke user=alice uid=1001 by_uid=$me seq=[0-9][0-9]*$" <<<"$lines" || fail "no revoke event"
		[ "$(grep -c "event=recovery_codes user=alice uid=1001 count=10 by_uid=$me seq=[0-9][0-9]*$" <<<"$lines")" = 3 ] \
			|| fail "not 3 recovery_codes events for alice: $lines"
		grep -q "event=recovery_codes user=bob uid=1002 count=10 by_uid=$me seq=[0-9][0-9]*$" <<<"$lines" \
			|| fail "no recovery_codes event for bob: $lines"
		grep -q "event=unlock user=alice uid=1001 by_uid=$me was_locked=no seq=[0-9][0-9]*$" <<<"$lines" \
			|| fail "no unlock event: $lines"
		grep -q "event=expire user=alice uid=1001 by_uid=$me seq=[0-9][0-9]*$" <<<"$lines" || fail "no expire event for alice"
		grep -q "event=expire user=dave uid=1004 by_uid=$me seq=[0-9][0-9]*$" <<<"$lines" || fail "no expire event for dave"
		grep -qE "event=gc removed=0 tallies_pruned=[0-9]+ by_uid=$me seq=[0-9][0-9]*$" <<<"$lines" || fail "no gc event: $lines"
		[ "$(wc -l < "$T/audit-codes")" = 10 ] || fail "recovery-codes printed $(wc -l < "$T/audit-codes") lines"
		while read -r code; do
			if grep -qiF -e "$code" -e "${code/-/}" "$T/syslog"; then fail "a recovery code in the audit log"; fi
		done < "$T/audit-codes"
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

# --- self-service: a user's own account, through the real helper ----------------
# SSPR_CLI_SELF=1 takes an ordinary user's path in the test root; the helper
# (not setuid) runs as we do.  Our own uid is "grace" in a swapped passwd
# file, with a known password; "alice" is someone else.
if [ -n "$helper" ] && [ -x "$helper" ]; then
	myuid=$(id -u) mygid=$(id -g)
	other=4242
	[ "$myuid" != "$other" ] || other=4243
	for f in passwd group shadow; do cp "$ROOT/etc/$f" "$T/$f.self-keep"; done
	cat > "$ROOT/etc/passwd" <<EOF
grace:x:$myuid:$mygid:Grace:/home/grace:/bin/bash
alice:x:$other:$mygid:Alice:/home/alice:/bin/bash
EOF
	printf 'grace:x:%s:\n' "$mygid" > "$ROOT/etc/group"
	PW=Current-Pass-1
	# shellcheck disable=SC2016 # a crypt hash: SHA-512 of Current-Pass-1
	hk='$6$saltsaltsaltsalt$c9JIefE8rRfGSfightZiv86dwPYZBT/Wq5nWJp/xt9dvaFfslx99zm7US/u2ZG7l9.QYt2d1E3MRlhKjrDMea0'
	printf 'grace:%s:20000:0:99999:7:::\nalice:%s:20000:0:99999:7:::\n' "$hk" "$hk" \
		> "$ROOT/etc/shadow"
	# our uid may be root's: the uid range and deny_users must let it in
	sed -e 's/^min_uid = .*/min_uid = 0/' -e 's/^max_uid = .*/max_uid = 4294967294/' \
		-e 's/^deny_users = .*/deny_users =/' "$T/conf.keep" > "$conf"
	cp "$conf" "$T/conf.self"
	notice=$ROOT/var/lib/sspr/notices/$myuid.reenroll
	NOW=$((NOW + 3600))

	# self RC INPUT ARGS...: sspr-cli as grace, INPUT (printf format) on
	# stdin; stdout in $T/out, stderr in $T/err; fails unless it exits RC.
	self() {
		local want=$1 rc
		# shellcheck disable=SC2059 # the input is a printf format
		printf "$2" > "$T/in"
		shift 2
		set +e
		env LD_PRELOAD="$nw" NSS_WRAPPER_PASSWD="$ROOT/etc/passwd" \
			NSS_WRAPPER_GROUP="$ROOT/etc/group" SSPR_ROOT="$ROOT" SSPR_NOW="$NOW" \
			SSPR_CLI_SELF=1 SSPR_HELPER="$helper" \
			"$cli" "$@" >"$T/out" 2>"$T/err" <"$T/in"
		rc=$?
		set -e
		[ "$rc" = "$want" ] || fail "self-service sspr-cli $* exited $rc, expected $want
--- stdout:
$(cat "$T/out")
--- stderr:
$(cat "$T/err")"
		ok
	}
	# the secret of the URI on the first line of stdout
	uri_secret() { head -n 1 "$T/out" | sed -n 's/.*[?&]secret=\([A-Z2-7]*\)&.*/\1/p'; }
	have_oath=0
	command -v oathtool >/dev/null && have_oath=1
	totp() { oathtool --totp -b "$1" -N "@$NOW"; }

	# a first enrollment: the password is enough
	[ ! -e "$users/$myuid" ] || fail "a record for uid $myuid before self-service"
	ok
	self 0 "$PW\n" enroll --qr none --issuer Test
	take_codes 10
	[ ! -s "$T/err" ] || fail "self enroll wrote to stderr: $(cat "$T/err")"
	ok
	s1=$(uri_secret)
	[ ${#s1} = 32 ] || fail "self enroll: no 20-byte secret in $(cat "$T/out")"
	ok
	expect_out_is "otpauth://totp/Test:grace?secret=$s1&issuer=Test&algorithm=SHA1&digits=6&period=30"
	[ -f "$users/$myuid" ] || fail "self enroll stored no record"
	[ "$(mode_of "$users/$myuid")" = 600 ] || fail "record mode $(mode_of "$users/$myuid")"
	[ -f "$users/$myuid.codes" ] || fail "self enroll stored no recovery codes"
	[ ! -e "$notice" ] || fail "a first enrollment left a notice"
	ok
	run 0 status grace --json
	expect_out '"user":"grace","uid":'"$myuid"',"enrolled":true,"type":"totp","algorithm":"sha1","digits":6,"period":30,"created":"'"$(iso "$NOW")"'","last_used":null,"recovery_codes":10,'"$RL0"

	# a wrong password: refused and counted against the name
	self 1 "not-the-password\n" status
	expect_err_is "Wrong password."
	expect_no_stdout
	run 0 status grace --json; expect_out '"recent_failures":1,"consecutive_failures":1,'
	# no password at all: nothing asked of the helper, nothing counted
	self 1 "" status; expect_err "no password: give your current password on the first line"
	self 1 "\n" status; expect_err "no password"
	run 0 status grace --json; expect_out '"recent_failures":1,'

	# the caller's own account only
	for c in enroll status recovery-codes; do
		self 1 "$PW\n" "$c" alice
		expect_err_is "sspr-cli $c: alice is not you: only your own account (grace) without root"
		expect_no_stdout
	done
	self 1 "$PW\n" status ghost; expect_err "ghost is not you"
	self 2 "$PW\n" enroll --secret "$SECRET" --qr none; expect_err "--secret is for root only"
	self 2 "$PW\n" enroll --digits 7; expect_err "--digits"
	self 2 "$PW\n" status --bogus; expect_err "unknown option '--bogus'"
	self 0 "" status --help; expect_out "Self-service:"
	self 0 "" enroll --help; expect_out "Self-service:"
	self 0 "" recovery-codes --help; expect_out "Self-service:"
	self 0 "" --help; expect_out "SSPR_CLI_SELF=1"
	# the admin commands stay the admin's
	self 1 "" revoke grace; expect_err "only root"
	self 1 "" unlock grace; expect_err "only root"

	# status as the user: the same layout, without the rate-limit state
	self 0 "$PW\n" status
	expect_out_is "user:           grace
uid:            $myuid
enrolled:       yes
type:           totp
algorithm:      sha1
digits:         6
period:         30
created:        $(iso "$NOW")
last used:      never
recovery codes: 10 left"
	self 0 "$PW\n" status grace --json
	expect_out_is '{"user":"grace","uid":'"$myuid"',"enrolled":true,"type":"totp","algorithm":"sha1","digits":6,"period":30,"created":"'"$(iso "$NOW")"'","last_used":null,"recovery_codes":10}'
	run 0 status grace --json; expect_out '"consecutive_failures":0,'

	# replacing the enrollment takes --force and a current code
	cp "$users/$myuid" "$T/self-rec1"
	self 1 "$PW\n" enroll --qr none
	expect_err_is "sspr-cli enroll: you are already enrolled (use --force to replace it; that takes a current code too)"
	expect_no_stdout
	self 1 "$PW\n" enroll --force --qr none
	expect_err_is "sspr-cli enroll: a current code is needed: give it on the second line of standard input"
	expect_no_stdout
	cmp -s "$users/$myuid" "$T/self-rec1" || fail "a refused re-enrollment changed the record"
	[ ! -e "$notice" ] || fail "a refused re-enrollment left a notice"
	ok
	if [ "$have_oath" = 1 ]; then
		NOW=$((NOW + 60))
		code=$(totp "$s1")
		bad=$(printf '%06d' $(( (10#$code + 1) % 1000000 )))
		self 1 "$PW\n$bad\n" enroll --force --qr none
		expect_err_is "Invalid code."; expect_no_stdout
		run 0 status grace --json; expect_out '"recent_failures":2,'
		cmp -s "$users/$myuid" "$T/self-rec1" || fail "a wrong code changed the record"
		ok
		self 0 "$PW\n$code\n" enroll --force --qr none --hotp --digits 8 --issuer H
		take_codes 10
		s2=$(uri_secret)
		if [ ${#s2} != 32 ] || [ "$s2" = "$s1" ]; then fail "re-enrollment kept the secret"; fi
		ok
		expect_out_is "otpauth://hotp/H:grace?secret=$s2&issuer=H&algorithm=SHA1&digits=8&counter=0"
		[ -f "$notice" ] || fail "a re-enrollment left no notice"
		grep -qx 'kind reenroll' "$notice" || fail "notice: $(cat "$notice")"
		grep -qx 'service sspr-cli' "$notice" || fail "notice: $(cat "$notice")"
		ok
		self 0 "$PW\n" status
		expect_out "type:           hotp"
		expect_out "digits:         8"
		if grep -q "^period:" "$T/out"; then fail "HOTP status shows a period"; fi
		ok
		rm -f "$notice"
		# back to TOTP, by a code of the HOTP authenticator (counter 0)
		code=$(oathtool --hotp -d 8 -b "$s2" -c 0)
		self 0 "$PW\n$code\n" enroll --force --qr none --issuer Test
		take_codes 10
		s3=$(uri_secret)
		[ -f "$notice" ] || fail "a re-enrollment left no notice"
		ok
		cp "$T/codes" "$T/self-codes1"

		# new recovery codes: a current code, or one of the old codes
		NOW=$((NOW + 60))
		self 1 "$PW\n" recovery-codes; expect_err "a current code is needed"
		self 0 "$PW\n$(totp "$s3")\n" recovery-codes
		take_codes 10
		expect_no_stdout
		cp "$T/codes" "$T/self-codes2"
		[ -z "$(sort "$T/self-codes1" "$T/self-codes2" | uniq -d)" ] || fail "a new set repeats a code"
		ok
		self 1 "$PW\n$(sed -n 1p "$T/self-codes1")\n" recovery-codes
		expect_err_is "Invalid code."
		c=$(sed -n 2p "$T/self-codes2")
		low=${c/-/}
		self 0 "$PW\n ${low,,} \r\n" recovery-codes
		take_codes 10
		run 0 status grace --json; expect_out '"recovery_codes":10,'
		expect_out '"last_used":"'"$(iso "$NOW")"'"'

		# the QR code, drawn as the admin's enroll draws it
		NOW=$((NOW + 60))
		self 0 "$PW\n$(totp "$s3")\n" enroll --force --issuer Example
		take_codes 10
		s4=$(uri_secret)
		secret_only_in_uri "$s4"
		tail -n +2 "$T/out" > "$T/self.qr"
		[ "$(wc -l < "$T/self.qr")" -ge 15 ] || fail "self enroll: QR code too short"
		if grep -qv '^[█▀▄ ]*$' "$T/self.qr"; then fail "self enroll: not half blocks"; fi
		ok
		NOW=$((NOW + 60))
		self 0 "$PW\n$(totp "$s4")\n" enroll --force --issuer Example --qr ansi
		take_codes 10
		s5=$(uri_secret)
		tail -n +2 "$T/out" > "$T/self.qr"
		grep -q $'\e\\[40m' "$T/self.qr" || fail "self ansi: no dark modules"
		ok
		NOW=$((NOW + 60))
		self 0 "$PW\n$(totp "$s5")\n" enroll --force --issuer Example --qr "svg:$T/self.svg"
		take_codes 10
		s6=$(uri_secret)
		expect_out_is "otpauth://totp/Example:grace?secret=$s6&issuer=Example&algorithm=SHA1&digits=6&period=30"
		expect_err "QR code written to $T/self.svg"
		grep -q '</svg>' "$T/self.svg" || fail "self enroll: no SVG"
		[ "$(mode_of "$T/self.svg")" = 600 ] || fail "SVG mode $(mode_of "$T/self.svg")"
		ok
		# a taken file name: refused before the password is asked
		cp "$users/$myuid" "$T/self-rec2"
		run 0 status grace --json; grep -o '"recent_failures":[0-9]*' "$T/out" > "$T/rf1"
		NOW=$((NOW + 60))
		self 1 "wrong\n" enroll --force --qr "svg:$T/self.svg"
		expect_err_is "sspr-cli enroll: $T/self.svg already exists; refusing to overwrite it"
		run 0 status grace --json; grep -o '"recent_failures":[0-9]*' "$T/out" > "$T/rf2"
		cmp -s "$T/rf1" "$T/rf2" || fail "a refused SVG name cost a password try"
		cmp -s "$users/$myuid" "$T/self-rec2" || fail "a refused SVG name changed the record"
		ok
		# refused in the helper: the SVG file claimed is removed again
		self 1 "wrong\n" enroll --force --qr "svg:$T/self2.svg"
		expect_err_is "Wrong password."
		[ ! -e "$T/self2.svg" ] || fail "a refused enrollment left its SVG file"
		ok
	else
		echo "note: oathtool missing, self-service with a current code not checked"
	fi

	# rate limits: deny = 2, failures of the password count
	NOW=$((NOW + 3600))
	sed -i 's/^deny = .*/deny = 2/' "$conf"
	self 1 "wrong-1\n" status; expect_err_is "Wrong password."
	self 1 "wrong-2\n" status; expect_err_is "Wrong password.
Too many failures; try again later."
	self 1 "$PW\n" status; expect_err_is "Too many failures; try again later."
	expect_no_stdout
	run 0 status grace --json; expect_out '"locked":true,'
	run 0 unlock grace
	self 0 "$PW\n" status; expect_out "enrolled:       yes"
	cp "$T/conf.self" "$conf"

	# self_enroll = no: refused, for status too
	sed -i 's/^self_enroll = .*/self_enroll = no/' "$conf"
	for c in enroll status recovery-codes; do
		self 1 "$PW\n" "$c"
		expect_err_is "sspr-cli: refused: self-service is off (self_enroll = no)"
		expect_no_stdout
	done
	cp "$T/conf.self" "$conf"
	# the policy still decides who may enroll (status stays open)
	sed -i 's/^deny_users =.*/deny_users = grace/' "$conf"
	self 1 "$PW\n" enroll --force --qr none; expect_err_is "sspr-cli: refused: deny_user"
	self 0 "$PW\n" status; expect_out "enrolled:       yes"
	cp "$T/conf.self" "$conf"

	# not enrolled: status says so, recovery codes are refused, an
	# enrollment needs no code
	run 0 revoke grace
	self 0 "$PW\n" status
	expect_out_is "user:           grace
uid:            $myuid
enrolled:       no
recovery codes: none issued"
	self 0 "$PW\n" status --json
	expect_out_is '{"user":"grace","uid":'"$myuid"',"enrolled":false,"recovery_codes":null}'
	self 1 "$PW\n" recovery-codes; expect_err_is "sspr-cli: refused: not_enrolled"
	self 0 "$PW\n" enroll --qr none --algorithm sha256 --period 60; take_codes 10
	expect_out "&algorithm=SHA256&digits=6&period=60"

	# on a terminal: echo off for the password, asked again after a
	# wrong one (python3's pty module plays the terminal)
	if command -v python3 >/dev/null; then
		cat > "$T/onterm.py" <<'PY'
import os, pty, signal, sys
signal.alarm(60)
answers = os.environ["ANSWERS"].split("|")
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
buf, pos = b"", 0
def more():
    global buf
    try:
        d = os.read(fd, 4096)
    except OSError:
        d = b""
    buf += d
    return bool(d)
for a in answers:
    while True:
        hits = [(buf.find(p, pos), p) for p in (b"Current password: ", b"Verification code: ")]
        hits = [h for h in hits if h[0] >= 0]
        if hits:
            i, p = min(hits)
            pos = i + len(p)
            break
        if not more():
            break
    os.write(fd, a.encode() + b"\n")
while more():
    pass
_, st = os.waitpid(pid, 0)
sys.stdout.write(buf.decode("utf-8", "replace").replace("\r\n", "\n"))
sys.exit(os.waitstatus_to_exitcode(st))
PY
		set +e
		ANSWERS="wrong-pass-typed|$PW" env LD_PRELOAD="$nw" NSS_WRAPPER_PASSWD="$ROOT/etc/passwd" \
			NSS_WRAPPER_GROUP="$ROOT/etc/group" SSPR_ROOT="$ROOT" SSPR_NOW="$NOW" \
			SSPR_CLI_SELF=1 SSPR_HELPER="$helper" python3 "$T/onterm.py" "$cli" status \
			>"$T/out" 2>"$T/err"
		rc=$?
		set -e
		[ "$rc" = 0 ] || fail "status on a terminal exited $rc: $(cat "$T/out" "$T/err")"
		ok
		expect_out_is "Current password: 
Wrong password.
Current password: 
user:           grace
uid:            $myuid
enrolled:       yes
type:           totp
algorithm:      sha256
digits:         6
period:         60
created:        $(iso "$NOW")
last used:      never
recovery codes: 10 left"
	else
		echo "note: python3 missing, self-service on a terminal not checked"
	fi

	# recovery_codes = 0: an enrollment without codes, and none to renew
	run 0 revoke grace
	sed -i 's/^recovery_codes = .*/recovery_codes = 0/' "$conf"
	self 0 "$PW\n" enroll --qr none
	[ "$(wc -l < "$T/out")" = 1 ] || fail "codes with recovery_codes = 0: $(cat "$T/out")"
	expect_out "otpauth://totp/"
	self 1 "$PW\n" recovery-codes; expect_no_stdout
	cp "$T/conf.self" "$conf"

	# leave nothing of grace behind
	run 0 revoke grace
	rm -f "$notice"
	for f in passwd group shadow; do cp "$T/$f.self-keep" "$ROOT/etc/$f"; done
	cp "$T/conf.keep" "$conf"
else
	echo "note: helper not given, self-service not checked"
fi

echo "PASS: $n checks"
