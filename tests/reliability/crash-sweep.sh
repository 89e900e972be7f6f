#!/bin/bash
# Crash sweep (issue 4): for every syscall the shadow writer makes and
# every occurrence k of it, kill the writer with SIGKILL right there
# (strace -e inject=SYSCALL:signal=SIGKILL:when=k), on a copy of a test etc
# directory, and check what is left:
#   - shadow is byte for byte the complete old or the complete new file,
#     parses, and has the old owner, group and mode;
#   - shadow- is the old shadow- or the old shadow, and never the same
#     inode as shadow (shadow-utils truncates shadow- in place);
#   - the next run succeeds and leaves no temporary file.
# Both rewrites are swept: a reset (update) and an expire batch.  First,
# to show that the sweep bites, it is run over a deliberately naive writer
# (truncate in place, two writes), where it must find torn files.  Any user
# may run it (as root the files are root:shadow, as Debian has them).
# RELIABILITY_LONG=1 also sweeps the start-up syscalls before the writer.
# usage: crash-sweep.sh DRIVER PROBE
set -euo pipefail
driver=$1 probe=$2
. "$(dirname "$0")/lib.sh"
need_strace
need_plain_build "$driver"
need timeout

T=$(mktemp -d "${TMPDIR:-/var/tmp}/sspr-crash.XXXXXX")
trap 'rm -rf "$T"' EXIT
make_etc "$T/tmpl"
budget_start=$SECONDS

reset_counts() {
	points=0 total=0 killed=0 torn=0 bad_owner=0 bad_backup=0 same_inode=0 unparsed=0
	left=0 next_failed=0 unreached=0 n_old=0 n_new=0
}
reset_counts

# sweep NAME CHECKS DRIVER-ARGS...: CHECKS is "all", or "torn" for the
# naive writer (only whether shadow is whole).
sweep() {
	local what=$1 checks=$2 s first last k rc state parse owner inode backup next leftn
	shift 2
	local -a cmd=("$@") table
	# the expected new file
	"$probe" sweep-reset "$T/tmpl" "$T/exp"
	"$driver" "${cmd[0]}" "$T/exp" "${cmd[@]:1}" || fail "$what: a plain run failed"
	cp "$T/exp/shadow" "$T/new"
	"$probe" sweep-reset "$T/tmpl" "$T/w"
	mapfile -t table < <(syscall_table "$T/trace" "$T/w" "$driver" "${cmd[0]}" "$T/w" "${cmd[@]:1}")
	for line in "${table[@]}"; do
		read -r s first last <<<"$line"
		total=$((total + last - first + 1))
	done
	for line in "${table[@]}"; do
		read -r s first last <<<"$line"
		for ((k = first; k <= last; k++)); do
			over_budget && return 0
			"$probe" sweep-reset "$T/tmpl" "$T/w"
			points=$((points + 1))
			rc=0
			{ timeout 30 strace -f -qq -o /dev/null -e trace="$s" \
				-e inject="$s:signal=SIGKILL:when=$k" \
				"$driver" "${cmd[0]}" "$T/w" "${cmd[@]:1}" >/dev/null 2>&1; } 2>/dev/null || rc=$?
			# strace re-raises the tracee's fatal signal: 137 = SIGKILL
			if [ "$rc" = 137 ]; then
				killed=$((killed + 1))
			else
				unreached=$((unreached + 1))
			fi
			read -r state parse owner inode backup next leftn < <("$probe" sweep-check \
				"$T/tmpl" "$T/new" "$T/w" bob "$HASH_NEXT" "$TODAY")
			case $state in
			state=old) n_old=$((n_old + 1)) ;;
			state=new) n_new=$((n_new + 1)) ;;
			*) torn=$((torn + 1)); [ "$checks" = torn ] || echo "TORN: $what $s when=$k" ;;
			esac
			[ "$checks" = all ] || continue
			[ "$parse" = parse=ok ] || { unparsed=$((unparsed + 1)); echo "UNPARSED: $what $s when=$k"; }
			[ "$owner" = owner=ok ] || { bad_owner=$((bad_owner + 1)); echo "OWNER/MODE: $what $s when=$k"; }
			[ "$inode" = inode=ok ] || { same_inode=$((same_inode + 1)); echo "SAME INODE: $what $s when=$k"; }
			[ "$backup" = backup=ok ] || { bad_backup=$((bad_backup + 1)); echo "BACKUP: $what $s when=$k"; }
			[ "$next" = next=ok ] || { next_failed=$((next_failed + 1)); echo "NEXT RUN FAILED: $what $s when=$k: $next"; }
			[ "$leftn" = left=0 ] || { left=$((left + 1)); echo "LEFTOVER: $what $s when=$k: $leftn"; }
		done
	done
}

start=$SECONDS
sweep naive torn naive-update alice "$HASH_NEW" "$TODAY"
echo "harness check: a naive in-place writer, $points kill points: $torn torn files (must be > 0)"
[ "$torn" -gt 0 ] || fail "the sweep does not catch a naive writer"
reset_counts
sweep update all update alice "$HASH_NEW" "$TODAY"
sweep expire all expire alice bob last

echo "crash sweep ($([ "$LONG" = 1 ] && echo long || echo writer) mode, $((SECONDS - start)) s):"
echo "  kill points tried: $points of $total (killed there: $killed, not reached: $unreached)"
report_budget "$points" "$total"
echo "  shadow left: old file $n_old times, new file $n_new times"
echo "  torn or corrupt files found: $((torn + unparsed))"
echo "  wrong owner or mode: $bad_owner"
echo "  bad shadow- backups: $bad_backup; shadow and shadow- one inode: $same_inode"
echo "  next run failed: $next_failed; temporary files left after it: $left"
[ "$points" -gt 0 ] || fail "no kill point found"
[ $((torn + unparsed + bad_owner + bad_backup + same_inode + next_failed + left)) = 0 ] \
	|| fail "crash sweep found problems"
echo "PASS: crash sweep"
