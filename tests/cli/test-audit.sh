#!/bin/bash
# sspr-cli audit init|verify|rotate in a test root (SSPR_ROOT): the
# tamper table of tests/unit/test_journal.c driven through the CLI, whose
# output must name the entry: `bad entry seq=N: WHY` on stdout and exit 1
# at the first bad entry, `ok: ...` and exit 0 otherwise.  Entries are
# appended by sspr-journal-driver (tests/reliability/journal-driver.c:
# the library's own append, as the helper and the CLI make them), which
# also plays the attacker who re-signs an entry with the state's key.
# Any user may run it.
# usage: test-audit.sh SSPR_CLI JOURNAL_DRIVER
set -euo pipefail
cli=$1 driver=$2
export LC_ALL=C.UTF-8
n=0
fail() { echo "FAIL: $*" >&2; exit 1; }

T=$(mktemp -d /tmp/sspr-audittest.XXXXXX)
trap 'rm -rf "$T"' EXIT
ROOT=$T/root
SD=$ROOT/var/lib/sspr
mkdir -p "$ROOT/etc" "$SD"
chmod 0700 "$SD"
J=$SD/journal

# cli RC ARGS...: sspr-cli in the test root; stdout in $T/out, stderr in
# $T/err; fails unless it exits RC
cli() {
	local want=$1 rc
	shift
	set +e
	env SSPR_ROOT="$ROOT" SSPR_NOW=1767225600 timeout 120 "$cli" "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	set -e
	[ "$rc" = "$want" ] || fail "sspr-cli $* exited $rc, expected $want
--- stdout:
$(cat "$T/out")
--- stderr:
$(cat "$T/err")"
	n=$((n + 1))
}

# bad_at SEQ ARGS...: audit verify ARGS fails naming entry SEQ, in one line
bad_at() {
	local seq=$1
	shift
	cli 1 audit verify "$@"
	[ "$(wc -l <"$T/out")" = 1 ] || fail "$CASE: verify $*: not one line: $(cat "$T/out")"
	grep -Eq "^bad entry seq=$seq: .+" "$T/out" \
		|| fail "$CASE: verify $*: expected bad entry seq=$seq, got: $(cat "$T/out")"
}

append() { timeout 60 "$driver" append "$SD" "$@" >/dev/null; }

# --- no journal, init -----------------------------------------------------------
cli 1 audit verify
grep -q "no audit journal" "$T/err" || fail "verify without a journal: $(cat "$T/err")"
cli 0 audit init
KEY=$(cat "$T/out")
[[ $KEY =~ ^[0-9a-f]{64}$ ]] || fail "audit init printed: $KEY"
[ "$(wc -l <"$T/out")" = 1 ] || fail "audit init printed more than the key"
grep -qx "1 $KEY" "$J/keys" || fail "the first key is not kept in keys"
[ "$(stat -c %a "$J")" = 700 ] || fail "journal directory mode $(stat -c %a "$J")"
cli 1 audit init
grep -q -- "--force" "$T/err" || fail "init over a journal: $(cat "$T/err")"
grep -qx "1 $KEY" "$J/keys" || fail "a refused init changed keys"
cli 0 audit verify --key "$KEY"
grep -q "^ok: no entries yet" "$T/out" || fail "verify of an empty chain: $(cat "$T/out")"

# --- a journal of 20 entries ------------------------------------------------------
for i in $(seq 1 20); do append "event=test n=$i user=alice"; done
cli 0 audit verify --key "$KEY"
grep -q "^ok: 20 entries, seq=1\.\.20 in 1 file" "$T/out" || fail "verify: $(cat "$T/out")"
grep -q "note: checked from the key kept" "$T/out" && fail "--key given, yet the kept key is named"
cli 0 audit verify
grep -q "^ok: 20 entries" "$T/out" || fail "verify (kept key): $(cat "$T/out")"
grep -q "note: checked from the key kept" "$T/out" || fail "verify without --key says nothing of the kept key"
for f in "$J"/*; do
	[ "$(stat -c %a "$f")" = 600 ] || fail "$(basename "$f") mode $(stat -c %a "$f")"
done
# a wrong key, a malformed one
OTHER=$(printf '%064d' 0 | tr 0 7)
CASE="wrong key" bad_at 1 --key "$OTHER"
cli 2 audit verify --key 1234
cli 2 audit verify --key "${KEY}00"
cli 2 audit verify --key "$KEY" extra

cp -a "$J" "$T/pristine"
# a second chain, for a forged entry: its entry 8 is well formed, of
# another key, chained to another entry 7
mkdir -m 0700 "$T/other"
timeout 60 "$driver" append "$T/other" "event=test user=mallory" 10 >/dev/null
FORGED=$(sed -n 8p "$T/other/journal/journal.log")

restore() { rm -rf "$J"; cp -a "$T/pristine" "$J"; }
log=$J/journal.log
# lowercase hex digit at the end of line L changed to another one
flip_last() {
	awk -v l="$1" 'NR == l { c = substr($0, length($0), 1); $0 = substr($0, 1, length($0) - 1) (c == "0" ? "1" : "0") } { print }' "$log" >"$T/tmp"
	cat "$T/tmp" >"$log"
}
edit() { sed -E -i "$1" "$log"; }

# CASE SEQ: the tamper, then verification from the key and from the kept one
tamper() {
	local seq=$1
	shift
	restore
	"$@"
	bad_at "$seq" --key "$KEY"
	bad_at "$seq"
}
CASE="payload byte" tamper 7 edit '7s/user=alice/user=alicf/'
CASE="payload byte, last entry" tamper 20 edit '20s/user=alice/user=alicf/'
CASE="payload shorter, last entry" tamper 20 edit '20s/user=alice/user=alic/'
CASE="time byte (still a date)" tamper 7 edit '7s/T00:00:/T00:10:/'
CASE="time byte (no date)" tamper 7 edit '7s/time=2026-01-01/time=2026-02-30/'
CASE="prev byte" tamper 7 edit '7{s/ prev=[0-9a-e]/ prev=f/;t;s/ prev=f/ prev=e/}'
CASE="next byte" tamper 7 edit '7{s/ next=[0-9a-e]/ next=f/;t;s/ next=f/ next=e/}'
CASE="sig byte" tamper 7 flip_last 7
CASE="sig byte, last entry" tamper 20 flip_last 20
CASE="sig in upper case, last entry" tamper 20 edit '20s/ sig=(.*)$/ sig=\U\1/'
CASE="control byte" tamper 7 edit '7s/user=alice/user=al\x01ice/'
CASE="delete entry" tamper 7 edit '7d'
CASE="delete the last but one" tamper 19 edit '19d'
CASE="swap two entries" tamper 7 edit '7{h;d};8G'
CASE="duplicate entry" tamper 8 edit '7p'
CASE="duplicate of the last" tamper 21 edit '20p'
CASE="forged entry inserted" tamper 8 edit "7a\\
$FORGED"
CASE="re-signed with the state's key" tamper 7 timeout 60 "$driver" resign "$SD" 7
CASE="re-signed with the state's key, last" tamper 20 timeout 60 "$driver" resign "$SD" 20
CASE="empty line" tamper 8 edit '7G'
CASE="garbage line" tamper 7 edit '7s/.*/hello world/'
# the tail cut: the state names entry 20
CASE="last 3 cut" tamper 18 edit '18,$d'
CASE="all cut" tamper 1 edit '1,$d'
# the last entry cut, alone: taken for a crash before it reached the
# file, and put back from the state
restore
head -n 19 "$log" >"$T/tmp"
cat "$T/tmp" >"$log"
cli 0 audit verify --key "$KEY"   # one entry cut: the state puts it back
grep -q "^ok: 20 entries" "$T/out" || fail "the last entry cut is not rolled forward: $(cat "$T/out")"
cmp -s "$log" "$T/pristine/journal.log" || fail "the rolled-forward entry is not the original"
# the state removed with the tail: caught all the same
restore
head -n 10 "$log" >"$T/tmp"
cat "$T/tmp" >"$log"
rm "$J/state"
CASE="tail cut, state removed" bad_at 11 --key "$KEY"
grep -q "the state is missing" "$T/out" || fail "verify without a state: $(cat "$T/out")"

# --- rotation ---------------------------------------------------------------------
restore
cli 0 audit rotate
grep -q "^rotated seq=1\.\.20 to journal-00000000000000000001\.log" "$T/out" || fail "rotate: $(cat "$T/out")"
K21=$(sed -n 's/^key of seq=21: //p' "$T/out")
[[ $K21 =~ ^[0-9a-f]{64}$ ]] || fail "rotate did not print the key of seq=21"
cli 0 audit rotate
grep -q "^nothing to rotate" "$T/out" || fail "rotate of an empty segment: $(cat "$T/out")"
for i in $(seq 21 30); do append "event=test n=$i user=bob"; done
cli 0 audit rotate
K31=$(sed -n 's/^key of seq=31: //p' "$T/out")
for i in $(seq 31 35); do append "event=test n=$i user=carol"; done
cli 0 audit verify --key "$KEY"
grep -q "^ok: 35 entries, seq=1\.\.35 in 3 files" "$T/out" || fail "verify across files: $(cat "$T/out")"
cp -a "$J" "$T/rotated"
# an entry edited in a rotated file
log=$J/journal-00000000000000000021.log
edit '5s/user=bob/user=bop/'
CASE="edit in a rotated file" bad_at 25 --key "$KEY"
# the middle file removed
rm -rf "$J"; cp -a "$T/rotated" "$J"
rm "$J/journal-00000000000000000021.log"
CASE="middle file removed" bad_at 21 --key "$KEY"
CASE="middle file removed" bad_at 21
# the first file removed (retention): the kept key of seq=21 takes over
rm -rf "$J"; cp -a "$T/rotated" "$J"
rm "$J/journal-00000000000000000001.log"
cli 0 audit verify
grep -q "^ok: 15 entries, seq=21\.\.35 in 2 files" "$T/out" || fail "verify after retention: $(cat "$T/out")"
cli 0 audit verify --key "$K21"
CASE="first file removed, first key given" bad_at 1 --key "$KEY"
grep -q "missing (the journal present starts at seq=21; the key given signs seq=1)" "$T/out" ||
	fail "first file removed: $(cat "$T/out")"
rm "$J/journal-00000000000000000021.log"
cli 0 audit verify --key "$K31"
grep -q "^ok: 5 entries, seq=31\.\.35" "$T/out" || fail "verify from the key of seq=31: $(cat "$T/out")"

# --- init --force -------------------------------------------------------------------
rm -rf "$J"; cp -a "$T/rotated" "$J"
cli 0 audit init --force
KEY2=$(cat "$T/out")
[[ $KEY2 =~ ^[0-9a-f]{64}$ ]] && [ "$KEY2" != "$KEY" ] || fail "init --force printed: $KEY2"
cli 0 audit verify --key "$KEY2"
grep -q "^ok: no entries yet" "$T/out" || fail "verify after init --force: $(cat "$T/out")"
append "event=test n=1"
cli 0 audit verify --key "$KEY2"
CASE="old key on the new chain" bad_at 1 --key "$KEY"
aside=$(find "$SD" -maxdepth 1 -name 'journal.replaced-*' | head -n 1)
[ -n "$aside" ] && cmp -s "$aside/journal.log" "$T/rotated/journal.log" \
	|| fail "init --force did not keep the old chain aside"
cli 0 audit init --force   # twice in one second
[ "$(find "$SD" -maxdepth 1 -name 'journal.replaced-*' | wc -l)" = 2 ] || fail "second init --force"

echo "PASS: sspr-cli audit ($n runs)"
