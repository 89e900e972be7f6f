#!/bin/bash
# Crash sweep of the audit journal (issue 5, SPEC section 7): for every
# syscall one journal operation makes and every occurrence k of it, kill
# the process with SIGKILL right there (strace -e
# inject=SYSCALL:signal=SIGKILL:when=k), on a copy of a journal of 5
# entries, then check:
#   - right after the kill, the secret key that was to sign the new entry
#     is either still the current one (the state's sk, the entry absent
#     from journal.log) or gone from every file of the journal directory
#     (grep for its hex); never both gone and the entry lost, never kept
#     beside the entry;
#   - one more append succeeds, verification (from the first key, and from
#     the kept one) passes, so no gap and no broken chain, and the entry
#     killed is there exactly when it was committed;
#   - no state.new is left and the old key is gone after that append.
# Swept: an append to a journal, the first append (the journal starting
# itself) and a rotation.  Any user may run it; a sanitizer build skips
# (the sweeps count the journal's own syscalls).
# RELIABILITY_LONG=1 also sweeps the start-up syscalls.
# usage: journal-crash.sh DRIVER
set -euo pipefail
driver=$1
. "$(dirname "$0")/lib.sh"
need_strace
need_plain_build "$driver"
need timeout

# tmpfs when there is one: the syscalls are the same, the fsyncs cheap
T=$(mktemp -d "$( [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/var/tmp}")/sspr-jcrash.XXXXXX")
trap 'rm -rf "$T"' EXIT
budget_start=$SECONDS

# the template: a journal of 5 entries, its first key
mkdir -m 0700 "$T/tmpl"
timeout 30 "$driver" append "$T/tmpl" "event=seed user=alice" 5 > "$T/out"
key=$(sed -n 's/^first_key=//p' "$T/out")
[ ${#key} = 64 ] || fail "no first key from the driver: $(cat "$T/out")"
timeout 30 "$driver" verify "$T/tmpl" "$key" | grep -q '^ok entries=5 ' || fail "template does not verify"

fresh() { rm -rf "$T/w"; cp -a "$T/tmpl" "$T/w"; }
state_sk() { sed -n 's/^sk //p' "$T/w/journal/state" 2>/dev/null | head -n 1; }
count() { grep -c -- "$1" "$T/w/journal/journal.log" 2>/dev/null || true; }

points=0 total=0 killed=0 unreached=0 problems=0
n_current=0 n_pending=0 n_gone=0

problem() { problems=$((problems + 1)); echo "PROBLEM: $*"; }

# sweep_append: the append of entry 6 ("event=swept") killed at every point
sweep_append() {
	local s first last k rc old cur swept holders v after
	local -a table
	fresh
	mapfile -t table < <(syscall_table "$T/trace" "$T/w" "$driver" append "$T/w" "event=swept")
	for line in "${table[@]}"; do
		read -r s first last <<<"$line"
		total=$((total + last - first + 1))
	done
	for line in "${table[@]}"; do
		read -r s first last <<<"$line"
		for ((k = first; k <= last; k++)); do
			over_budget && return 0
			fresh
			old=$(state_sk)
			[ ${#old} = 128 ] || fail "no sk in the template state"
			points=$((points + 1))
			rc=0
			{ timeout 30 strace -f -qq -o /dev/null -e trace="$s" \
				-e inject="$s:signal=SIGKILL:when=$k" \
				"$driver" append "$T/w" "event=swept" >/dev/null 2>&1; } 2>/dev/null || rc=$?
			if [ "$rc" = 137 ]; then killed=$((killed + 1)); else unreached=$((unreached + 1)); fi
			# right after the kill
			cur=$(state_sk)
			swept=$(count 'event=swept')
			holders=$(grep -rlF -- "$old" "$T/w/journal" 2>/dev/null | sed "s|$T/w/journal/||" | tr '\n' ' ' || true)
			if [ -z "$holders" ]; then
				n_gone=$((n_gone + 1)); outcome=gone
			elif [ "$holders" = "state " ] && [ "$cur" = "$old" ] && [ "$swept" = 0 ]; then
				outcome=current
			else
				problem "append $s when=$k: old key in [$holders], state's key is the old one: $([ "$cur" = "$old" ] && echo yes || echo no), entry in journal.log: $swept"
				outcome=bad
			fi
			# one more append, then verify
			if ! timeout 30 "$driver" append "$T/w" "event=after" > "$T/out" 2>&1; then
				problem "append $s when=$k: the next append failed: $(cat "$T/out")"
				continue
			fi
			for kk in "$key" ""; do
				# shellcheck disable=SC2086
				v=$(timeout 60 "$driver" verify "$T/w" $kk 2>&1) || true
				case $v in
				"ok entries=6 "* | "ok entries=7 "*) ;;
				*) problem "append $s when=$k: verify${kk:+ --key}: $v" ;;
				esac
			done
			swept=$(count 'event=swept')
			after=$(count 'event=after')
			[ "$after" = 1 ] || problem "append $s when=$k: the next entry is there $after times"
			case $outcome in
			gone) [ "$swept" = 1 ] || problem "append $s when=$k: its key is gone, its entry is not in the journal" ;;
			current) if [ "$swept" = 1 ]; then n_pending=$((n_pending + 1)); else n_current=$((n_current + 1)); fi ;;
			esac
			[ "$swept" -le 1 ] || problem "append $s when=$k: the entry is there $swept times"
			[ ! -e "$T/w/journal/state.new" ] || problem "append $s when=$k: state.new left"
			! grep -rqF -- "$old" "$T/w/journal" || problem "append $s when=$k: the old key outlived the next append"
		done
	done
}

# sweep_rotate: a rotation of the 5 entries killed at every point; then a
# rotation again (it must work or say there is nothing to rotate), an
# append, and verification from the first key and from the kept keys
r_points=0 r_killed=0 r_unreached=0 r_done=0 r_notyet=0
sweep_rotate() {
	local s first last k rc v out
	local -a table
	fresh
	mapfile -t table < <(syscall_table "$T/trace" "$T/w" "$driver" rotate "$T/w")
	for line in "${table[@]}"; do
		read -r s first last <<<"$line"
		total=$((total + last - first + 1))
	done
	for line in "${table[@]}"; do
		read -r s first last <<<"$line"
		for ((k = first; k <= last; k++)); do
			over_budget && return 0
			fresh
			r_points=$((r_points + 1))
			rc=0
			{ timeout 30 strace -f -qq -o /dev/null -e trace="$s" \
				-e inject="$s:signal=SIGKILL:when=$k" \
				"$driver" rotate "$T/w" >/dev/null 2>&1; } 2>/dev/null || rc=$?
			if [ "$rc" = 137 ]; then r_killed=$((r_killed + 1)); else r_unreached=$((r_unreached + 1)); fi
			if [ -e "$T/w/journal/journal-00000000000000000001.log" ]; then
				r_done=$((r_done + 1))
			else
				r_notyet=$((r_notyet + 1))
				out=$(timeout 30 "$driver" rotate "$T/w" 2>&1) \
					|| problem "rotate $s when=$k: the rotation again failed: $out"
			fi
			out=$(timeout 30 "$driver" append "$T/w" "event=after" 2>&1) \
				|| { problem "rotate $s when=$k: the next append failed: $out"; continue; }
			for kk in "$key" ""; do
				# shellcheck disable=SC2086
				v=$(timeout 60 "$driver" verify "$T/w" $kk 2>&1) || true
				case $v in
				"ok entries=6 first=1 last=6 files=2 "*) ;;
				*) problem "rotate $s when=$k: verify${kk:+ --key}: $v" ;;
				esac
			done
			# the first segment can go: the kept key for 6 takes over
			rm -f "$T/w/journal/journal-00000000000000000001.log"
			v=$(timeout 60 "$driver" verify "$T/w" 2>&1) || true
			case $v in
			"ok entries=1 first=6 last=6 "*) ;;
			*) problem "rotate $s when=$k: verify without the first segment: $v" ;;
			esac
		done
	done
}

# sweep_start: the very first append (the journal starts itself) killed
# at every point; the next append must work and the chain verify from
# the kept key
s_points=0 s_killed=0 s_unreached=0
sweep_start() {
	local s first last k rc v out
	local -a table
	rm -rf "$T/w"; mkdir -m 0700 "$T/w"
	mapfile -t table < <(syscall_table "$T/trace" "$T/w" "$driver" append "$T/w" "event=first")
	for line in "${table[@]}"; do
		read -r s first last <<<"$line"
		total=$((total + last - first + 1))
	done
	for line in "${table[@]}"; do
		read -r s first last <<<"$line"
		for ((k = first; k <= last; k++)); do
			over_budget && return 0
			rm -rf "$T/w"; mkdir -m 0700 "$T/w"
			s_points=$((s_points + 1))
			rc=0
			{ timeout 30 strace -f -qq -o /dev/null -e trace="$s" \
				-e inject="$s:signal=SIGKILL:when=$k" \
				"$driver" append "$T/w" "event=first" >/dev/null 2>&1; } 2>/dev/null || rc=$?
			if [ "$rc" = 137 ]; then s_killed=$((s_killed + 1)); else s_unreached=$((s_unreached + 1)); fi
			out=$(timeout 30 "$driver" append "$T/w" "event=after" 2>&1) \
				|| { problem "first append $s when=$k: the next append failed: $out"; continue; }
			v=$(timeout 60 "$driver" verify "$T/w" 2>&1) || true
			case $v in
			"ok entries=1 "* | "ok entries=2 "*) ;;
			*) problem "first append $s when=$k: verify: $v" ;;
			esac
		done
	done
}

start=$SECONDS
# JOURNAL_SWEEPS="append start rotate" (the default) chooses the sweeps
for w in ${JOURNAL_SWEEPS:-append start rotate}; do
	"sweep_$w"
done
echo "journal crash sweep ($([ "$LONG" = 1 ] && echo long || echo journal) mode, $((SECONDS - start)) s):"
echo "  append of entry 6: $points kill points (killed there: $killed, not reached: $unreached)"
echo "    old key still the current one, entry not written:  $n_current (the next append made entry 6 its own)"
echo "    old key still the current one, whole state.new beside it: $n_pending (rolled forward: entry 6 is the killed one)"
echo "    old key gone from every file:                      $n_gone (entry 6 written or rolled forward)"
echo "  first append: $s_points kill points (killed there: $s_killed, not reached: $s_unreached)"
echo "  rotation: $r_points kill points (killed there: $r_killed, not reached: $r_unreached);" \
	"segment renamed before the kill: $r_done, not yet: $r_notyet"
report_budget "$((points + s_points + r_points))" "$total"
echo "  problems: $problems"
[ $((killed + s_killed + r_killed)) -gt 0 ] || fail "no kill point found"
[ "$problems" = 0 ] || fail "journal crash sweep found problems"
echo "PASS: journal crash sweep"
