#!/bin/bash
# Fault sweep (issue 4): for every syscall the shadow writer makes and
# every occurrence k of it, make that call fail with EIO, ENOSPC, EDQUOT
# and EINTR (strace -e inject=SYSCALL:error=E:when=k; the call is not
# made), on a copy of a test etc directory, and check:
#   - shadow is the complete old or the complete new file, with its owner,
#     group and mode;
#   - old file: the writer failed (exit 1); new file: it succeeded, exit 0
#     or 3 ("written, durability unknown"); never exit 0 or 3 with the old
#     file in place (fail-open), never a failure with the new file in place
#     (misreport);
#   - the next run succeeds and leaves no temporary file.
# RELIABILITY_LONG=1 sweeps the start-up syscalls too, and more errnos.
# usage: fault-sweep.sh DRIVER PROBE
set -euo pipefail
driver=$1 probe=$2
. "$(dirname "$0")/lib.sh"
need_strace
need_plain_build "$driver"
need timeout

errnos="EIO ENOSPC EDQUOT EINTR"
[ "$LONG" = 1 ] && errnos="$errnos EPERM EACCES ENOMEM EROFS EFBIG EBADF EAGAIN ENOENT EEXIST"

T=$(mktemp -d "${TMPDIR:-/var/tmp}/sspr-faults.XXXXXX")
trap 'rm -rf "$T"' EXIT
make_etc "$T/tmpl"
budget_start=$SECONDS

tried=0 total=0 injected=0 torn=0 fail_open=0 misreport=0 bad_owner=0 same_inode=0
left=0 next_failed=0 n_old=0 n_new=0 n_nd=0

sweep() {
	local what=$1 s first last k e rc state parse owner inode backup next leftn
	shift
	local -a cmd=("$@") table
	"$probe" sweep-reset "$T/tmpl" "$T/exp"
	"$driver" "${cmd[0]}" "$T/exp" "${cmd[@]:1}" || fail "$what: a plain run failed"
	cp "$T/exp/shadow" "$T/new"
	"$probe" sweep-reset "$T/tmpl" "$T/w"
	mapfile -t table < <(syscall_table "$T/trace" "$T/w" "$driver" "${cmd[0]}" "$T/w" "${cmd[@]:1}")
	for line in "${table[@]}"; do
		read -r s first last <<<"$line"
		total=$((total + (last - first + 1) * $(wc -w <<<"$errnos")))
	done
	for line in "${table[@]}"; do
		read -r s first last <<<"$line"
		for ((k = first; k <= last; k++)); do
			for e in $errnos; do
				over_budget && return 0
				"$probe" sweep-reset "$T/tmpl" "$T/w"
				tried=$((tried + 1))
				rc=0
				{ timeout 30 strace -f -qq -o "$T/inj" -e trace="$s" \
					-e inject="$s:error=$e:when=$k" \
					"$driver" "${cmd[0]}" "$T/w" "${cmd[@]:1}" >/dev/null 2>&1; } 2>/dev/null || rc=$?
				grep -q '(INJECTED)' "$T/inj" && injected=$((injected + 1))
				read -r state parse owner inode backup next leftn < <("$probe" sweep-check \
					"$T/tmpl" "$T/new" "$T/w" bob "$HASH_NEXT" "$TODAY")
				case ${state#state=}/$rc in
				old/0 | old/3)
					fail_open=$((fail_open + 1)); echo "FAIL-OPEN: $what $s:$e:when=$k exit $rc" ;;
				old/*) n_old=$((n_old + 1)) ;;
				new/0) n_new=$((n_new + 1)) ;;
				new/3) n_nd=$((n_nd + 1)) ;;
				new/*)
					misreport=$((misreport + 1)); echo "MISREPORT: $what $s:$e:when=$k exit $rc" ;;
				*) torn=$((torn + 1)); echo "TORN: $what $s:$e:when=$k" ;;
				esac
				[ "$parse" = parse=ok ] || { torn=$((torn + 1)); echo "UNPARSED: $what $s:$e:when=$k"; }
				[ "$owner" = owner=ok ] || { bad_owner=$((bad_owner + 1)); echo "OWNER/MODE: $what $s:$e:when=$k"; }
				[ "$inode" = inode=ok ] || { same_inode=$((same_inode + 1)); echo "SAME INODE: $what $s:$e:when=$k"; }
				[ "$next" = next=ok ] || { next_failed=$((next_failed + 1)); echo "NEXT RUN FAILED: $what $s:$e:when=$k: $next"; }
				[ "$leftn" = left=0 ] || { left=$((left + 1)); echo "LEFTOVER: $what $s:$e:when=$k: $leftn"; }
			done
		done
	done
}

start=$SECONDS
sweep update update alice "$HASH_NEW" "$TODAY"
sweep expire expire alice bob last

echo "fault sweep ($([ "$LONG" = 1 ] && echo long || echo writer) mode, errnos: $errnos, $((SECONDS - start)) s):"
echo "  injected faults tried: $tried of $total (took effect: $injected)"
report_budget "$tried" "$total"
echo "  old file + failure: $n_old; new file + success: $n_new; new file + durability unknown: $n_nd"
echo "  fail-open exits (success reported, old file in place): $fail_open"
echo "  misreports (failure reported, new file in place): $misreport"
echo "  torn or corrupt files found: $torn; wrong owner or mode: $bad_owner; shadow and shadow- one inode: $same_inode"
echo "  next run failed: $next_failed; temporary files left after it: $left"
[ "$tried" -gt 0 ] || fail "no fault point found"
[ $((torn + fail_open + misreport + bad_owner + same_inode + next_failed + left)) = 0 ] \
	|| fail "fault sweep found problems"
echo "PASS: fault sweep"
