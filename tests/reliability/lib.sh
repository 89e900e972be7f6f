# Shared by the reliability scripts (sourced, not run).  Bash, set -euo
# pipefail in the caller.

# New hash written by the tests: any string of the crypt alphabet will do
# (the writer does not hash), this one looks like what Debian 12 writes.
HASH_NEW='$y$j9T$Hc8rLqYyE7i0kG8hW1d2n/$Wm5s7cC1dwQv9S3Z0o0ZbCq0Fz1jv2u9Q3pQyG1m2D5'
HASH_NEXT='$y$j9T$0S1ZbCq0Fz1jv2u9Q3pQy/$G1m2D5Hc8rLqYyE7i0kG8hW1d2nWm5s7cC1dwQv9S3Z'
TODAY=20000
LONG=${RELIABILITY_LONG:-0}
# A sweep stops trying new points after this many seconds (a loaded CI
# machine must not hit the meson timeout), and says so; unloaded, the
# sweeps take a small fraction of it.
BUDGET=${RELIABILITY_BUDGET:-$([ "$LONG" = 1 ] && echo 3600 || echo 150)}
budget_hit=0

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || skip "$t missing"
	done
}

# strace must be able to trace and inject here (ptrace may be forbidden in
# a container).
need_strace() {
	need strace
	strace -qq -o /dev/null -e trace=getpid -e inject=getpid:retval=1 true 2>/dev/null \
		|| skip "strace cannot trace or inject here"
}

# The sweeps count and fault the writer's own syscalls.  A sanitizer
# runtime makes its own among them, and LeakSanitizer cannot run under
# ptrace at all (every traced run exits 1): skip there; the sanitizer
# build still runs the writer through every other reliability test.
need_plain_build() {
	# (grep reads all of it: with -q it could exit first, ldd then die of
	# SIGPIPE, and pipefail turn the match into a miss)
	if ldd "$1" 2>/dev/null | grep -E 'lib(asan|tsan|lsan)\.' >/dev/null; then
		skip "$(basename "$1") is built with a sanitizer; the strace sweeps run in a plain build"
	fi
}

# make_etc DIR: a test etc directory with a shadow file of every kind of
# line (comments, blank, NIS, CRLF, no final newline), the target users
# alice and bob, and an older shadow-; root:shadow 0640 when root (as on
# Debian), else the caller's 0640.
make_etc() {
	local d=$1 i
	mkdir -p "$d"
	{
		printf '# shadow of a test machine\n'
		printf 'root:*:19000:0:99999:7:::\n'
		printf 'daemon:*:19000:0:99999:7:::\n'
		printf 'bin:*:19000:0:99999:7:::\n'
		printf '\n'
		for i in $(seq 1 40); do
			printf 'user%02d:$y$j9T$abcdefghijklmnopqrstu%02d$ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop:19%03d:0:99999:7:::\n' "$i" "$i" "$i"
		done
		printf 'alice:$6$oldsalt$oldhasholdhasholdhasholdhash:19500:0:99999:7:::\r\n'
		printf '+@netgroup::::::::\n'
		printf 'odd::::::::\n'
		printf 'bob:$y$j9T$bobsaltbobsaltbobsalt$bobhashbobhashbobhashbobhashbobhashbob:19600:0:99999:7:::\n'
		printf -- '-nisuser::::::::\n'
		printf 'carol:!$6$x$lockedlocked:19600:0:99999:7:::\n'
		printf 'last:$5$s$h:19600::::::'
	} > "$d/shadow"
	printf 'root:*:18000:0:99999:7:::\n' > "$d/shadow-"
	chmod 0640 "$d/shadow"
	chmod 0600 "$d/shadow-"
	if [ "$(id -u)" = 0 ]; then
		chown root:"$(getent group shadow >/dev/null && echo shadow || echo root)" "$d/shadow"
		chown root:root "$d/shadow-"
	fi
}

# leftovers DIR: names of our temporary files in DIR (empty when none)
leftovers() {
	find "$1" -maxdepth 1 -name '.sspr-shadow*' -printf '%f\n'
}

# is_one_of FILE A B: FILE's bytes are A's or B's (prints old/new)
is_one_of() {
	if cmp -s "$1" "$2"; then echo old
	elif cmp -s "$1" "$3"; then echo new
	else echo torn
	fi
}

owner_mode() { stat -c '%u:%g %a' "$1"; }
inode() { stat -c '%d:%i' "$1"; }

# syscall_table DRIVER_ARGS...: run the driver once under strace and print
# "SYSCALL FIRST LAST" for every syscall it makes: the occurrences to
# sweep.  FIRST is 1 in the long mode; else the first occurrence at or
# after the writer's own start (its first use of the etc directory), so the
# dynamic loader's and libc's start-up calls are skipped.  execve and
# exit_group are left out (nothing to fail or kill there).
syscall_table() {
	local log=$1 dir=$2
	shift 2
	strace -f -qq -o "$log" "$@" >/dev/null 2>&1 || true
	awk -v dir="$dir" -v long="$LONG" '
		{ sub(/^[0-9]+ +/, "") }
		/^(\+\+\+|---)/ { next }
		{
			name = $0; sub(/\(.*/, "", name)
			if (name !~ /^[a-z0-9_]+$/ || name == "execve" || name == "exit_group") next
			if (!started && index($0, "\"" dir)) started = 1
			n[name]++
			if (!started && long != 1) skip[name] = n[name]
		}
		END { for (s in n) if (n[s] > skip[s]) printf "%s %d %d\n", s, skip[s] + 1, n[s] }
	' "$log" | sort
}

# over_budget: true (and remembered) once the sweep has used its budget;
# the caller sets budget_start=$SECONDS
over_budget() {
	[ $((SECONDS - budget_start)) -ge "$BUDGET" ] && budget_hit=1
	[ "$budget_hit" = 1 ]
}

report_budget() {
	if [ "$budget_hit" = 1 ]; then
		echo "  NOTE: time budget of $BUDGET s reached (a loaded machine?): $1 of $2 points tried;"
		echo "        RELIABILITY_BUDGET=N raises it"
	fi
}
