#!/bin/bash
# RLIMIT_FSIZE (issue 4): a writer run under a file size limit smaller than
# shadow must fail cleanly: exit 1 (-EFBIG, checked before any write, so
# no SIGXFSZ kills it half way), shadow the same inode with the same bytes,
# no temporary file.  At or above the size it writes.  Any user may run
# it.  (The setuid helper, which raises its limits, is helper-limits.sh.)
# usage: fsize.sh DRIVER PROBE
set -euo pipefail
driver=$1 probe=$2
. "$(dirname "$0")/lib.sh"
need prlimit cmp

T=$(mktemp -d "${TMPDIR:-/var/tmp}/sspr-fsize.XXXXXX")
trap 'rm -rf "$T"' EXIT
make_etc "$T/etc"
size=$(stat -c %s "$T/etc/shadow")
cp "$T/etc/shadow" "$T/before"
ino=$(inode "$T/etc/shadow")
cases=0

for limit in 0 1 512 $((size / 2)) $((size - 100)); do
	for op in update expire; do
		# stderr through a pipe: a file there would itself be over the limit
		rc=0
		if [ "$op" = update ]; then
			err=$(prlimit --fsize="$limit" "$driver" update "$T/etc" alice "$HASH_NEW" "$TODAY" \
				2>&1 >/dev/null) || rc=$?
		else
			err=$(prlimit --fsize="$limit" "$driver" expire "$T/etc" alice bob 2>&1 >/dev/null) \
				|| rc=$?
		fi
		[ "$rc" != $((128 + 25)) ] || fail "$op, limit $limit: killed by SIGXFSZ"
		[ "$rc" = 1 ] || fail "$op, limit $limit: exit $rc, want 1"
		case $err in *'File too large'*) ;; *) fail "$op, limit $limit: $err" ;; esac
		cmp -s "$T/etc/shadow" "$T/before" || fail "$op, limit $limit: shadow changed"
		[ "$(inode "$T/etc/shadow")" = "$ino" ] || fail "$op, limit $limit: shadow replaced"
		[ -z "$(leftovers "$T/etc")" ] || fail "$op, limit $limit: left $(leftovers "$T/etc")"
		cases=$((cases + 1))
	done
done
echo "PASS: $cases runs under RLIMIT_FSIZE below the file size: exit 1 (File too large), old file intact, nothing left"

# the new file is a few bytes longer than the old one: the limit is on it
new=$(( size + ${#HASH_NEW} - $(awk -F: '/^alice:/ { print length($2) + length($3) }' "$T/etc/shadow") + ${#TODAY} ))
rc=0
err=$(prlimit --fsize=$((new - 1)) "$driver" update "$T/etc" alice "$HASH_NEW" "$TODAY" 2>&1) || rc=$?
[ "$rc" = 1 ] && cmp -s "$T/etc/shadow" "$T/before" || fail "limit one byte short: exit $rc"
prlimit --fsize="$new" "$driver" update "$T/etc" alice "$HASH_NEW" "$TODAY" \
	|| fail "limit exactly the new size: failed"
[ "$(stat -c %s "$T/etc/shadow")" = "$new" ] || fail "new size $(stat -c %s "$T/etc/shadow"), want $new"
[ "$("$probe" field "$T/etc/shadow" alice 2)" = "$HASH_NEW" ] || fail "not written"
[ -z "$(leftovers "$T/etc")" ] || fail "left $(leftovers "$T/etc")"
echo "PASS: one byte short of the new file fails cleanly; exactly its size ($new bytes) writes"
