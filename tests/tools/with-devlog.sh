#!/bin/bash
# with-devlog.sh: run a command with a /dev/log of its own and capture what
# it (and its children: the module through pam_syslog, the helper, the CLI)
# sends to syslog.  These machines run no syslog daemon; without one,
# syslog(3) drops the lines (or writes them to the console).
#
# usage: with-devlog.sh COMMAND [ARGS...]
# environment:
#   LOGCATCH         path of the logcatch binary (default: next to this
#                    script, then $PATH)
#   SSPR_DEVLOG_OUT  write the captured lines to this file; without it they
#                    are printed on stderr after the command
#   DEVLOG_SECONDS   upper bound for the capture (default 600)
#
# How: a private mount namespace (`unshare -m` as root, `unshare -rm` in a
# user namespace otherwise), a tmpfs over /dev holding bind mounts of the
# usual nodes of the real /dev (null zero full random urandom tty ptmx, pts,
# shm, the fd symlinks), and logcatch bound at /dev/log.  Nothing outside
# the namespace changes; the host's /dev is untouched.
#
# Exit status: the command's; 125 when the capture cannot be set up.
set -euo pipefail

die() { echo "with-devlog: $*" >&2; exit 125; }

if [ "${SSPR_DEVLOG_INNER:-}" != 1 ]; then
	[ $# -ge 1 ] || die "usage: with-devlog.sh COMMAND [ARGS...]"
	self=$(readlink -f "$0")
	lc=${LOGCATCH:-}
	if [ -z "$lc" ]; then
		if [ -x "$(dirname "$self")/logcatch" ]; then
			lc=$(dirname "$self")/logcatch
		else
			lc=$(command -v logcatch || true)
		fi
	fi
	[ -n "$lc" ] && [ -x "$lc" ] || die "logcatch not found (set LOGCATCH)"
	command -v unshare >/dev/null || die "unshare missing (util-linux)"
	if [ "$(id -u)" = 0 ]; then
		ns=(unshare -m --propagation private)
	else
		ns=(unshare -r -m --propagation private)
	fi
	tmp=$(mktemp -d /tmp/sspr-devlog.XXXXXX)
	# The mounts live only in the namespace: once it is gone, $tmp holds
	# plain files and empty directories, removed here, in the host view.
	trap 'rm -rf --one-file-system "$tmp"' EXIT
	set +e
	SSPR_DEVLOG_INNER=1 DEVLOG_TMP=$tmp LOGCATCH=$(readlink -f "$lc") "${ns[@]}" -- \
		bash "$self" "$@"
	rc=$?
	set -e
	exit "$rc"
fi

# --- inside the namespace -------------------------------------------------
unset SSPR_DEVLOG_INNER
tmp=$DEVLOG_TMP
unset DEVLOG_TMP
secs=${DEVLOG_SECONDS:-600}

mkdir "$tmp/olddev"
mount --rbind /dev "$tmp/olddev" || die "cannot bind /dev"
mount -t tmpfs -o mode=0755,nosuid,size=1m sspr-devlog /dev || die "cannot mount a tmpfs on /dev"
for n in null zero full random urandom tty; do
	if [ -L "$tmp/olddev/$n" ]; then
		cp -P "$tmp/olddev/$n" "/dev/$n"
	elif [ -e "$tmp/olddev/$n" ]; then
		: > "/dev/$n"
		mount --bind "$tmp/olddev/$n" "/dev/$n" || die "cannot bind /dev/$n"
	fi
done
# ptys: a new devpts instance, so that /dev/ptmx (a link to pts/ptmx) finds
# its pts directory (a bind-mounted ptmx node would not); else the old one.
mkdir /dev/pts
if [ "$(id -u)" = 0 ] && [ -e /proc/self/uid_map ] && grep -q '^ *0 *0 ' /proc/self/uid_map; then
	ptsopt=newinstance,ptmxmode=0666,mode=0620,gid=5
else
	ptsopt=newinstance,ptmxmode=0666,mode=0620
fi
if ! mount -t devpts -o "$ptsopt" sspr-devpts /dev/pts 2>/dev/null; then
	mount --rbind "$tmp/olddev/pts" /dev/pts || die "cannot bind /dev/pts"
fi
ln -s pts/ptmx /dev/ptmx
for d in shm mqueue hugepages; do
	if [ -d "$tmp/olddev/$d" ]; then
		mkdir "/dev/$d"
		mount --rbind "$tmp/olddev/$d" "/dev/$d" || die "cannot bind /dev/$d"
	fi
done
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr

mkfifo "$tmp/ready"
exec 3<>"$tmp/ready"   # read-write: neither side's open blocks
"$LOGCATCH" -t "$secs" -r "$tmp/ready" -o "$tmp/syslog" /dev/log &
lcpid=$!
trap 'kill -TERM "$lcpid" 2>/dev/null || true' EXIT
read -r -t 10 -u 3 _ || die "logcatch did not start"
exec 3<&-

set +e
"$@"
rc=$?
set -e

kill -TERM "$lcpid" 2>/dev/null || true
wait "$lcpid" || true
trap - EXIT
if [ -n "${SSPR_DEVLOG_OUT:-}" ]; then
	cat "$tmp/syslog" > "$SSPR_DEVLOG_OUT"
else
	echo "--- syslog lines captured: $(wc -l < "$tmp/syslog") ---" >&2
	cat "$tmp/syslog" >&2
fi
exit "$rc"
