#!/bin/bash
# Symlinks, FIFOs and hard links planted at every path the helper opens
# (pam_oath CVE-2024-47191 followed a symlink in a state directory):
#   state dir: the dir itself, users/ (UID record, UID.codes, .lock),
#   hostkey, tally/ (global, u-HASH, s-HASH, their .lock files), notices/
#   (UID.reset), journal/; the shadow files of the test root's etc
#   (shadow, shadow-, .pwd.lock, stale .sspr-shadow* temporaries); the
#   pam_faillock tally and faillock.conf.
# The plant points at a canary outside: a valid copy of the same file made
# for an attacker (another TOTP secret, other recovery codes).  For every
# plant, up to three sessions run (the attacker's TOTP code; the
# attacker's recovery code, where codes are concerned; the real code and a
# reset), each bounded by timeout:
#   - no hang (a FIFO must not block an open);
#   - the canary's bytes, mode and owner unchanged;
#   - the attacker's codes are never accepted (a followed link would
#     hand the helper the attacker's record, codes or key);
#   - where the helper reads or locks the planted file, it refuses the
#     session (no reset); where it replaces or removes it (shadow-, stale
#     temporaries, notices), the plant is gone, not written through.
# First a clean session under strace lists every path the helper opens in
# the test root: a path that this table does not cover fails the test, so
# a new state file cannot slip past.
# Unprivileged (test root, helper not elevated); as root the same.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need oathtool timeout
need_strace

ATTACKER=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
tmpbase=/tmp; [ -d /dev/shm ] && [ -w /dev/shm ] && tmpbase=/dev/shm
W=$(mktemp -d "$tmpbase/sspr-plant.XXXXXX")
trap 'rm -rf "$W"' EXIT
S=${STATEDIR#/}

# --- templates: A (the real state), B (the attacker's, same host key) ----
build_template() {
	local r=$1 secret=$2
	make_root "$r"
	mkdir -p "$r/var/run/faillock" "$r/etc/security"
	printf 'dir = /var/run/faillock\n' > "$r/etc/security/faillock.conf"
	[ -e "$W/A/$S/hostkey" ] && { cp -p "$W/A/$S/hostkey" "$r/$S/hostkey"; }
	in_root "$r" "$ENROLL" alice "$secret" totp 3 > "$r.codes"
	# a first failure, so that the tallies u-HASH and s-HASH exist
	in_root "$r" "$CLIENT" "$HELPER" hello alice sshd 192.0.2.1 verify 999999 >/dev/null || true
	# and a reset, so that the notice and the journal exist
	in_root "$r" "$CLIENT" "$HELPER" hello alice sshd 192.0.2.1 \
		verify "$(SECRET=$secret totp_at $((NOW - 30)))" reset 'Template-pass-word-1' > "$r.out" || true
	grep -c '^reply: OK$' "$r.out" | grep -qx 3 || fail "template reset: $(cat "$r.out")"
	# a pam_faillock tally for the reset to clear (the template's reset cleared it)
	printf 'faillock-tally-of-alice\n' > "$r/var/run/faillock/alice"
	chmod 0600 "$r/var/run/faillock/alice"
	rm -f "$r/wrap"
}
build_template "$W/A" "$SECRET"
build_template "$W/B" "$ATTACKER"
cmp -s "$W/A/$S/hostkey" "$W/B/$S/hostkey" || fail "templates do not share the host key"
atk_totp=$(SECRET=$ATTACKER totp_at "$NOW")
atk_rc=$(sed -n 2p "$W/B.codes")
real_totp=$(totp_at "$NOW")

# --- every path the helper opens in a clean session ---------------------
cp -a "$W/A" "$W/T"
cat > "$W/traced" <<T
#!/bin/sh
exec strace -f -qq -y -s 300 -o '$W/trace' \
	-e trace=open,openat,mkdirat,unlinkat,renameat,renameat2,linkat "$HELPER"
T
chmod +x "$W/traced"
in_root "$W/T" "$CLIENT" "$W/traced" hello alice sshd 192.0.2.1 verify "$real_totp" \
	reset 'Clean-pass-word-42' > "$W/clean.out" || true
grep -c '^reply: OK$' "$W/clean.out" | grep -qx 3 || fail "clean session: $(cat "$W/clean.out")"
in_root "$W/T" "$CLIENT" "$W/traced" hello alice sshd 192.0.2.1 verify "$(sed -n 1p "$W/A.codes")" \
	>> "$W/clean.out" || true
# "openat(7</root/var/lib/sspr/tally>, "u-..."" and "openat(AT_FDCWD, "/root/..."";
# a temporary name's random part becomes *
seen=$(sed -nE -e 's|^[0-9]+ +[a-z0-9]+\([0-9]+<([^>]*)>, "([^"]*)".*|\1/\2|p' \
                -e 's|^[0-9]+ +[a-z0-9]+\(AT_FDCWD, "([^"]*)".*|\1|p' "$W/trace" |
	grep "^$W/T/" | sed "s|^$W/T/||; s|/\.$||" |
	sed -E 's/\.[0-9a-f]{8,}$/.*/; s/(u|s)-[0-9a-f]{32}/\1-HASH/' | sort -u)
[ -n "$seen" ] || fail "no path found in the trace"

# The table: path (HASH: the name's keyed hash; *: a random suffix), the
# kinds to plant, and what the helper must do with it:
#   refuse   it reads or locks the file: the session must not reset
#   replace  it renames a new file over it or removes it
#   any      either: it only reads it, in a file root owns for real; or
#            it is a temporary name of the state files (random, O_EXCL:
#            a stale one is left alone, never written through)
#   refuse-nohl  refuse, but a hard link may be used (shadow, .pwd.lock,
#            sspr.conf: a second name of a file root owns, never written
#            through: the shadow writer renames a new file over the name)
hashu=$(cd "$W/A/$S/tally" && ls u-* | grep -v lock)
hashs=$(cd "$W/A/$S/tally" && ls s-* | grep -v lock)
table="
$S                              dir       refuse
$S/hostkey                      file      refuse
$S/users                        dir       refuse
$S/users/.lock                  file      refuse
$S/users/1001                   file      refuse
$S/users/1001.codes             file      refuse-rc
$S/users/.1001.*                file      any
$S/users/.1001.codes.*          file      any
$S/tally                        dir       refuse
$S/tally/global                 file      refuse
$S/tally/global.lock            file      refuse
$S/tally/.global.*              file      any
$S/tally/u-HASH                 file      refuse
$S/tally/u-HASH.lock            file      refuse
$S/tally/.u-HASH.*              file      any
$S/tally/s-HASH                 file      refuse
$S/tally/s-HASH.lock            file      refuse
$S/tally/.s-HASH.*              file      any
$S/notices                      dir       any
$S/notices/1001.reset           file      replace
$S/notices/.1001.reset.*        file      any
$S/journal                      dir       any
$S/journal/.lock                file      any
$S/journal/journal.log          file      any
$S/journal/state                file      any
$S/journal/state.new            file      any
$S/journal/keys                 file      any
$S/journal/.keys.*              file      any
etc                             dir       refuse
etc/shadow                      file      refuse-nohl
etc/shadow-                     file      replace
etc/.pwd.lock                   file      refuse-nohl
etc/.sspr-shadow.*              file      replace
etc/.sspr-shadow-bak.*          file      replace
var/run/faillock                dir       any
var/run/faillock/alice          file      any
etc/security/faillock.conf      file      any
${CONFDIR#/}/sspr.conf          file      refuse-nohl
"
covered=$(awk 'NF { print $1 }' <<<"$table" | sed 's|^\(.*\)$|\1|')
missing=$(comm -23 <(sed -E 's|^(etc/passwd\|etc/group\|etc/login.defs)$||' <<<"$seen" | grep . | sort -u) \
                   <(sort -u <<<"$covered") || true)
[ -z "$missing" ] || fail "paths the helper opens that this test does not plant: $missing"
echo "the helper opened $(wc -l <<<"$seen") paths in the test root; all in the table"

# concrete name of a table path in a root (a random suffix gets a fixed one)
concrete() { sed -e "s/u-HASH/$hashu/; s/s-HASH/$hashs/" -e 's/\*$/0123456789abcdef/' <<<"$1"; }

# trial N PATH TYPE EXPECT KIND: one plant in a fresh copy of A; prints
# "ok: ..." or "FAIL: ..."
trial() {
	local n=$1 path=$2 type=$3 expect=$4 kind=$5 p R c before after what atk1 atk2 real reset_ok a
	p=$(concrete "$path")
	R=$W/r$n
	cp -a "$W/A" "$R"
	mkdir -p "$W/out$n"
	# the canary: the attacker's version of this path, or a file
	c=$W/out$n/canary
	if [ -e "$W/B/$p" ]; then cp -a "$W/B/$p" "$c"
	elif [ "$type" = dir ]; then mkdir "$c"
	else printf 'canary\n' > "$c"; chmod 0600 "$c"
	fi
	before=$(cd "$W/out$n" && find canary -printf '%p %m %u %s\n' -type f -exec sha256sum {} + | sort)
	mkdir -p "$(dirname "$R/$p")"
	rm -rf "${R:?}/$p"
	case $kind in
	symlink) ln -s "$c" "$R/$p" ;;
	fifo) mkfifo -m 0600 "$R/$p" ;;
	hardlink) ln "$c" "$R/$p" ;;
	esac
	what="$kind at $path"
	# each: the replies of one session (HELLO's first)
	atk1=$(in_root "$R" timeout 20 "$CLIENT" "$HELPER" hello alice sshd 192.0.2.1 verify "$atk_totp" 2>/dev/null || echo "exit $?")
	# the attacker's recovery code: where the codes, their key or their
	# directory are planted
	atk2=
	case $path in "$S"|"$S/users"*|"$S/hostkey")
		atk2=$(in_root "$R" timeout 20 "$CLIENT" "$HELPER" hello alice sshd 192.0.2.1 verify "$atk_rc" 2>/dev/null || echo "exit $?") ;;
	esac
	real=$(in_root "$R" timeout 20 "$CLIENT" "$HELPER" hello alice sshd 192.0.2.1 verify "$real_totp" \
		reset 'Planted-pass-word-42' 2>/dev/null || echo "exit $?")
	if grep -q '^exit 124$' <<<"$atk1$atk2$real"; then echo "FAIL: $what: the helper hung"; return; fi
	after=$(cd "$W/out$n" && find canary -printf '%p %m %u %s\n' -type f -exec sha256sum {} + | sort)
	if [ "$before" != "$after" ]; then echo "FAIL: $what: the canary changed: $before -> $after"; return; fi
	for a in "$atk1" "$atk2"; do
		if [ "$(sed -n 2p <<<"$a")" = 'reply: OK' ]; then
			echo "FAIL: $what: an attacker's code was accepted: $(tr '\n' ' ' <<<"$a")"; return
		fi
	done
	reset_ok=$([ "$(grep -c '^reply: OK$' <<<"$real")" = 3 ] && echo yes || echo no)
	case $expect in
	refuse|refuse-nohl)
		if [ "$reset_ok" = yes ] && ! { [ "$expect" = refuse-nohl ] && [ "$kind" = hardlink ]; }; then
			echo "FAIL: $what: the helper used it (a reset went through)"; return
		fi ;;
	refuse-rc)
		# read only for a recovery code: the attacker's was refused above
		;;
	replace)
		if [ "$reset_ok" = yes ] && { [ -L "$R/$p" ] || [ -p "$R/$p" ] ||
		   { [ -e "$R/$p" ] && [ "$(stat -c %i "$R/$p")" = "$(stat -c %i "$c")" ]; }; }; then
			echo "FAIL: $what: still in place after a reset"; return
		fi ;;
	esac
	echo "ok: $what ($expect; reset: $reset_ok)"
	rm -rf "$R" "$W/out$n"
}

n=0
jobs=$(nproc 2>/dev/null || echo 2)
while read -r path type expect; do
	[ -n "$path" ] || continue
	for kind in symlink fifo hardlink; do
		[ "$type" = dir ] && [ "$kind" = hardlink ] && continue
		n=$((n + 1))
		trial "$n" "$path" "$type" "$expect" "$kind" > "$W/res$n" &
		[ "$(jobs -rp | wc -l)" -lt "$jobs" ] || wait -n
	done
done <<<"$table"
wait
bad=0
for i in $(seq 1 "$n"); do
	cat "$W/res$i"
	grep -q '^ok: ' "$W/res$i" || bad=1
done
[ "$bad" = 0 ] || fail "see above"
pass "$n plants: no hang, no canary written, no attacker code accepted, no reset over a planted file it reads"
