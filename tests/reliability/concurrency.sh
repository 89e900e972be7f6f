#!/bin/bash
# Concurrency (issue 4): everything that writes /etc/shadow on a Debian
# machine, at once, for a bounded time (20 s; 120 s with
# RELIABILITY_LONG=1), in a mount namespace over a copy of /etc:
#   - 4 loops of password resets through sspr-helper (real sessions over
#     its protocol: HOTP code from oathtool, new password; the helper runs
#     as root, not elevated, and writes the real path /etc/shadow);
#   - 4 loops of chpasswd: 2 through PAM (pam_unix writes shadow), 1 with
#     -c SHA512 and 1 with -e (shadow-utils' commonio writes it);
#   - a loop of usermod -c / -f (passwd and shadow), and a loop of
#     useradd / userdel over 8 names (passwd, shadow, group, gshadow).
# Afterwards: every writer's last successful value is in place, no line of
# any of the four files lost or duplicated, untouched lines byte for byte
# the same, no temporary file left, and pwck -r / grpck -r report nothing
# that they did not report before.  Prints "lost updates" and "new pwck
# findings" (both must be 0).  Root only.
# usage: concurrency.sh DRIVER PROBE HELPER CLIENT ENROLL CONFDIR STATEDIR
set -euo pipefail
driver=$1 probe=$2 helper=$3 client=$4 enroll=$5 confdir=$6 statedir=$7
. "$(dirname "$0")/lib.sh"
SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
DURATION=20
[ "$LONG" = 1 ] && DURATION=120

[ "$(id -u)" = 0 ] || skip "needs root (mount namespace, useradd, chpasswd)"
need unshare useradd userdel usermod chpasswd pwck grpck oathtool openssl timeout cmp
if [ "${SSPR_CONC_NS:-}" != 1 ]; then
	exec env SSPR_CONC_NS=1 timeout $((DURATION + 120)) unshare -m --propagation private "$0" "$@"
fi

T=$(mktemp -d /var/tmp/sspr-conc.XXXXXX)
trap 'rm -rf "$T"' EXIT
chmod 0755 "$T"
cp -a /etc "$T/etc"
mount --bind "$T/etc" /etc
[ "$(stat -c %i /etc)" = "$(stat -c %i "$T/etc")" ] || fail "/etc is not the private copy"
case $confdir in
/etc/*) ;;
*) p=$(dirname "$confdir"); [ -d "$p" ] && [ "$p" != / ] || fail "cannot isolate $confdir"
   mount -t tmpfs tmpfs "$p" ;;
esac
sp=$(dirname "$statedir"); [ -d "$sp" ] && [ "$sp" != / ] || fail "cannot isolate $statedir"
mount -t tmpfs tmpfs "$sp"
mkdir -p -m 0755 "$confdir"
mkdir -p -m 0700 "$statedir"

cat > "$confdir/sspr.conf" <<C
services = sshd
use_pwquality = no
hash = sha512
global_rate = 100000
C
chmod 0644 "$confdir/sspr.conf"

# the accounts of the test, which exist only in this copy of /etc
for i in 1 2 3 4; do
	useradd -M -d /nonexistent -u $((19060 + i)) -s /bin/bash "sspr-rr$i"
	echo "sspr-rr$i:Old-pass-word-rr$i" | chpasswd
	"$enroll" "sspr-rr$i" "$SECRET" hotp || fail "enroll sspr-rr$i"
	useradd -M -d /nonexistent -u $((19070 + i)) -s /bin/bash "sspr-cp$i"
	echo "sspr-cp$i:Old-pass-word-cp$i" | chpasswd
done
useradd -M -d /nonexistent -u 19081 -s /bin/bash sspr-um1
mkdir "$T/snap" "$T/last"
for f in passwd shadow group gshadow; do cp -p "/etc/$f" "$T/snap/$f"; done
pwck -r >"$T/pwck.before" 2>&1 || true
grpck -r >"$T/grpck.before" 2>&1 || true

# Is the helper usable here?  One session decides; else the reset loops
# fall back to the writer alone (the driver), which is the same code on
# the file.  SSPR_CONC_NAIVE=1 (a check of the test itself) makes them use
# the driver's naive writer (no lock, truncate in place): the run must
# then find lost updates.
via=helper
[ "${SSPR_CONC_NAIVE:-}" = 1 ] && via=naive
[ "$via" = naive ] || out=$("$client" "$helper" hello sspr-rr1 sshd 192.0.2.9 \
	verify "$(oathtool --hotp -c 0 -b "$SECRET")" reset 'Conc-pass-word-rr1-first' 2>&1 || true)
if [ "$via" = naive ]; then
	echo "NOTE: naive writer: this run must fail"
elif [ "$(grep -c '^reply: OK$' <<<"$out")" = 3 ]; then
	echo 'Conc-pass-word-rr1-first' > "$T/last/sspr-rr1"
else
	via=driver
	echo "NOTE: the helper did not reset ($(tr '\n' ' ' <<<"$out")); reset loops use the driver"
fi

end=$((SECONDS + DURATION))

reset_loop() {
	local k=$1 u=sspr-rr$1 i=0 c=1 ok=0 bad=0 pw out
	[ "$k" = 1 ] || c=0
	while [ "$SECONDS" -lt "$end" ] && [ "$i" -lt 100000 ]; do
		pw="Conc-pass-word-rr$k-$i"
		if [ "$via" = helper ]; then
			out=$("$client" "$helper" hello "$u" sshd 192.0.2.9 \
				verify "$(oathtool --hotp -c "$c" -b "$SECRET")" reset "$pw" 2>&1 || true)
			c=$((c + 1))
			if [ "$(grep -c '^reply: OK$' <<<"$out")" = 3 ]; then
				echo "$pw" > "$T/last/$u"; ok=$((ok + 1))
			else
				bad=$((bad + 1)); echo "$u: $(tr '\n' ' ' <<<"$out")" >> "$T/errors"
			fi
		else
			if "$driver" "$([ "$via" = naive ] && echo naive-update || echo update)" \
				/etc "$u" "$(openssl passwd -6 "$pw")" "$TODAY" 2>>"$T/errors"; then
				echo "$pw" > "$T/last/$u"; ok=$((ok + 1))
			else
				bad=$((bad + 1))
			fi
		fi
		i=$((i + 1))
	done
	echo "$u $ok $bad" >> "$T/counts"
}

chpasswd_loop() {
	local k=$1 u=sspr-cp$1 i=0 ok=0 bad=0 pw
	while [ "$SECONDS" -lt "$end" ] && [ "$i" -lt 100000 ]; do
		pw="Conc-pass-word-cp$k-$i"
		case $k in
		1 | 2) printf '%s:%s\n' "$u" "$pw" | chpasswd 2>>"$T/errors" ;;
		3) printf '%s:%s\n' "$u" "$pw" | chpasswd -c SHA512 -s 1000 2>>"$T/errors" ;;
		4) printf '%s:%s\n' "$u" "$(openssl passwd -6 "$pw")" | chpasswd -e 2>>"$T/errors" ;;
		esac && { echo "$pw" > "$T/last/$u"; ok=$((ok + 1)); } || bad=$((bad + 1))
		i=$((i + 1))
	done
	echo "$u $ok $bad" >> "$T/counts"
}

usermod_loop() {
	local i=0 ok=0 bad=0
	while [ "$SECONDS" -lt "$end" ] && [ "$i" -lt 100000 ]; do
		if usermod -c "conc $i" -f "$i" sspr-um1 2>>"$T/errors"; then
			echo "$i" > "$T/last/sspr-um1"; ok=$((ok + 1))
		else
			bad=$((bad + 1))
		fi
		i=$((i + 1))
	done
	echo "sspr-um1 $ok $bad" >> "$T/counts"
}

# useradd / userdel over 8 names; the model of who exists is kept in
# $T/churn/NAME (present) as each command succeeds
churn_loop() {
	local i=0 ok=0 bad=0 n
	mkdir -p "$T/churn"
	while [ "$SECONDS" -lt "$end" ] && [ "$i" -lt 100000 ]; do
		n=sspr-ch$((i % 8))
		if [ -e "$T/churn/$n" ]; then
			if userdel "$n" 2>>"$T/errors"; then rm "$T/churn/$n"; ok=$((ok + 1)); else bad=$((bad + 1)); fi
		else
			if useradd -M -d /nonexistent -s /usr/sbin/nologin "$n" 2>>"$T/errors"; then
				: > "$T/churn/$n"; ok=$((ok + 1))
			else
				bad=$((bad + 1))
			fi
		fi
		i=$((i + 1))
	done
	echo "churn $ok $bad" >> "$T/counts"
}

: > "$T/errors"
: > "$T/counts"
pids=()
for k in 1 2 3 4; do
	reset_loop "$k" & pids+=($!)
	chpasswd_loop "$k" & pids+=($!)
done
usermod_loop & pids+=($!)
churn_loop & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done

lost=0
lose() { lost=$((lost + 1)); echo "LOST: $*"; }

# 1. every writer's last value
for k in 1 2 3 4; do
	for u in "sspr-rr$k" "sspr-cp$k"; do
		[ -e "$T/last/$u" ] || { lose "$u: no successful write at all"; continue; }
		"$probe" verify /etc/shadow "$u" "$(cat "$T/last/$u")" \
			|| lose "$u: last password $(cat "$T/last/$u") not in shadow"
	done
done
if [ -e "$T/last/sspr-um1" ]; then
	i=$(cat "$T/last/sspr-um1")
	[ "$(getent passwd sspr-um1 | cut -d: -f5)" = "conc $i" ] || lose "sspr-um1: gecos not 'conc $i'"
	[ "$("$probe" field /etc/shadow sspr-um1 7)" = "$i" ] || lose "sspr-um1: inactive not $i"
else
	lose "sspr-um1: no successful usermod"
fi
for i in 0 1 2 3 4 5 6 7; do
	n=sspr-ch$i
	for f in passwd shadow group gshadow; do
		c=$(grep -c "^$n:" "/etc/$f" || true)
		if [ -e "$T/churn/$n" ]; then
			[ "$c" = 1 ] || lose "$n: $c lines in $f, want 1"
		else
			[ "$c" = 0 ] || lose "$n: $c lines in $f after userdel"
		fi
	done
done
# 2. no line lost or duplicated, untouched lines unchanged
for f in passwd shadow group gshadow; do
	d=$(cut -d: -f1 "/etc/$f" | sort | uniq -d)
	[ -z "$d" ] || lose "$f: duplicated names: $d"
	diff <(grep -v '^sspr-' "$T/snap/$f") <(grep -v '^sspr-' "/etc/$f") >/dev/null \
		|| lose "$f: lines of other accounts changed"
	for n in $(grep -o '^sspr-[a-z]*[0-9]*' "$T/snap/$f"); do
		grep -q "^$n:" "/etc/$f" || lose "$f: $n lost"
	done
done
# group lines name members: sspr- groups other than the churn ones unchanged
diff <(cut -d: -f1 /etc/passwd | sort) <(cut -d: -f1 /etc/shadow | sort) >/dev/null \
	|| lose "passwd and shadow name different users"
"$probe" parse /etc/shadow || lose "shadow does not parse"
[ "$(owner_mode /etc/shadow)" = "$(owner_mode "$T/snap/shadow")" ] || lose "shadow owner or mode changed"
[ "$(inode /etc/shadow)" != "$(inode /etc/shadow-)" ] || lose "shadow and shadow- are one inode"
# temporaries of ours, of pam_unix (n*) and of shadow-utils (+, .lock, .PID)
junk=$(cd /etc && ls -A | grep -E '^(\.sspr-shadow.*|n(passwd|shadow|group|gshadow)|(passwd|shadow|group|gshadow)(\+|\.lock|\.[0-9]+))$' || true)
[ -z "$junk" ] || lose "left in /etc: $junk"

# 3. pwck / grpck
pwck -r >"$T/pwck.after" 2>&1 || true
grpck -r >"$T/grpck.after" 2>&1 || true
newfind=$(cat <(comm -13 <(sort "$T/pwck.before") <(sort "$T/pwck.after")) \
              <(comm -13 <(sort "$T/grpck.before") <(sort "$T/grpck.after")) | grep -c . || true)
[ "$newfind" = 0 ] || { echo "new pwck/grpck findings:"; comm -13 <(sort "$T/pwck.before") <(sort "$T/pwck.after"); comm -13 <(sort "$T/grpck.before") <(sort "$T/grpck.after"); }

echo "concurrency run: $DURATION s, resets via the $via, writers (name ok failed):"
sort "$T/counts" | sed 's/^/  /'
if [ -s "$T/errors" ]; then
	echo "  writer errors (failed runs, not lost updates): $(wc -l < "$T/errors") lines, first:"
	sort "$T/errors" | uniq -c | sort -rn | head -5 | sed 's/^/    /'
fi
echo "lost updates: $lost"
echo "new pwck findings: $newfind"
[ "$lost" = 0 ] && [ "$newfind" = 0 ] || fail "concurrency"
echo "PASS: concurrency"
