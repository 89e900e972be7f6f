#!/bin/bash
# Real ENOSPC (issue 4): the writer on a file system that is full, in a
# mount namespace of its own (nothing of the machine is touched):
#   - a small tmpfs with too few blocks for the new copy;
#   - a tmpfs with no inode left for the temporary file, then with one
#     left (tmpfs counts links: the backup link fails after the write);
#   - a small ext4 file system on a loop device (delayed allocation: the
#     error may come at write or at fsync), when loop mounts work here.
# Each time: exit 1, shadow byte for byte the old file (same inode), no
# temporary file left; and once space is back, the next run succeeds.
# usage: enospc.sh DRIVER PROBE
set -euo pipefail
driver=$1 probe=$2
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (mounts in a mount namespace)"
need unshare mount umount timeout cmp
if [ "${SSPR_ENOSPC_NS:-}" != 1 ]; then
	exec env SSPR_ENOSPC_NS=1 timeout 120 unshare -m --propagation private "$0" "$@"
fi

T=$(mktemp -d "${TMPDIR:-/var/tmp}/sspr-enospc.XXXXXX")
trap 'umount -l "$T/m" 2>/dev/null || true; rm -rf "$T"' EXIT
mkdir "$T/m"
cases=0 clean=0

# a shadow file of n extra users (about 100 bytes a line)
big_etc() {
	local d=$1 n=$2
	make_etc "$d"
	awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++)
		printf "fill%06d:$y$j9T$abcdefghijklmnopqrstuv$ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq:19000:0:99999:7:::\n", i }' \
		>> "$d/shadow"
}

# expect_clean_failure WHAT DIR: the writer fails cleanly in DIR
expect_clean_failure() {
	local what=$1 d=$2 rc=0 ino
	cases=$((cases + 1))
	cp "$d/shadow" "$T/before"
	ino=$(inode "$d/shadow")
	"$driver" update "$d" alice "$HASH_NEW" "$TODAY" 2>"$T/err" || rc=$?
	[ "$rc" = 1 ] || fail "$what: exit $rc, want 1 ($(cat "$T/err"))"
	cmp -s "$d/shadow" "$T/before" || fail "$what: shadow changed"
	[ "$(inode "$d/shadow")" = "$ino" ] || fail "$what: shadow replaced"
	[ -z "$(leftovers "$d")" ] || fail "$what: left $(leftovers "$d")"
	clean=$((clean + 1))
	echo "PASS: $what: exit 1, $(sed 's/^sspr-shadow-driver: //' "$T/err"), old file intact, nothing left"
}

expect_success() {
	local what=$1 d=$2
	"$driver" update "$d" alice "$HASH_NEW" "$TODAY" || fail "$what: next run failed"
	[ "$("$probe" field "$d/shadow" alice 2)" = "$HASH_NEW" ] || fail "$what: not written"
	[ -z "$(leftovers "$d")" ] || fail "$what: left $(leftovers "$d")"
	echo "PASS: $what: with space back the next run writes"
}

# 1. tmpfs, blocks: 40 KiB of shadow in 64 KiB
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$T/m"
big_etc "$T/m/etc" 340
echo "shadow: $(stat -c %s "$T/m/etc/shadow") bytes on a 64 KiB tmpfs"
expect_clean_failure "tmpfs out of blocks" "$T/m/etc"
# an expire batch too
rc=0; "$driver" expire "$T/m/etc" alice bob 2>/dev/null || rc=$?
[ "$rc" = 1 ] && cmp -s "$T/m/etc/shadow" "$T/before" && [ -z "$(leftovers "$T/m/etc")" ] \
	|| fail "expire on a full tmpfs: exit $rc"
echo "PASS: tmpfs out of blocks: expire batch exit 1, old file intact"
mount -o remount,size=256k "$T/m"
expect_success "tmpfs out of blocks" "$T/m/etc"
umount "$T/m"

# 2. tmpfs, inodes: none left for the temporary file
mount -t tmpfs -o size=1m,nr_inodes=16,mode=0755 tmpfs "$T/m"
make_etc "$T/m/etc"
: > "$T/m/etc/.pwd.lock"
i=0
while [ "$i" -lt 32 ] && : 2>/dev/null > "$T/m/f$i"; do i=$((i + 1)); done
expect_clean_failure "tmpfs out of inodes" "$T/m/etc"
# one left: the temporary file is made, the link of the old file is not
# (tmpfs counts links against nr_inodes)
rm -f "$T/m/f0"
expect_clean_failure "tmpfs with one inode: no room for the backup link" "$T/m/etc"
rm -f "$T/m/f1"
expect_success "tmpfs out of inodes" "$T/m/etc"
umount "$T/m"

# 3. ext4 on a loop device, filled up
if command -v mkfs.ext4 >/dev/null && truncate -s 4M "$T/img" &&
   mkfs.ext4 -q -F -b 1024 -m 0 "$T/img" >/dev/null 2>&1 &&
   mount -o loop "$T/img" "$T/m" 2>/dev/null; then
	big_etc "$T/m/etc" 2000
	sync
	# fill all but a few blocks: less than the ~200 KiB a copy needs
	dd if=/dev/zero of="$T/m/fill" bs=1k count=100000 2>/dev/null || true
	sync
	echo "shadow: $(stat -c %s "$T/m/etc/shadow") bytes, ext4 free: $(df --output=avail -k "$T/m" | tail -1) KiB"
	expect_clean_failure "ext4 full" "$T/m/etc"
	rm -f "$T/m/fill"
	sync
	expect_success "ext4 full" "$T/m/etc"
	umount "$T/m"
else
	echo "SKIP: ext4 on a loop device (cannot mount one here)"
fi

echo "ENOSPC cases: $cases, clean failures: $clean"
[ "$cases" = "$clean" ] || fail "unclean failures"
echo "PASS: real ENOSPC"
