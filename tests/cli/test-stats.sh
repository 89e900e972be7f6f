#!/bin/bash
# sspr-cli stats on a journal with known counts, times and durations, in
# all three formats; the prometheus output checked by a strict parser of
# the text exposition format and, when installed, by promtool.
#   test-stats.sh SSPR-CLI CONFDIR SRCDIR JOURNAL-APPEND STATEDIR
set -euo pipefail

cli=$1 confdir=$2 append=$4 statedir=$5
export LC_ALL=C.UTF-8
if grep -q libasan <<<"$(ldd "$cli" 2>/dev/null || true)"; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
fi
T=$(mktemp -d /tmp/sspr-stats.XXXXXX)
trap 'rm -rf "$T"' EXIT
ROOT=$T/root
mkdir -p "$ROOT/etc" "$ROOT$confdir" "$ROOT$statedir"
chmod 0700 "$ROOT$statedir"
export SSPR_ROOT=$ROOT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pass() { echo "PASS: $*"; }

now=$(date +%s)
old=$((now - 10 * 86400))   # ten days ago: outside --since 7d
t=$((now - 3600))
{
	# outside the window: must not count with --since 7d
	echo "$old event=reset_start user=alice uid=1001 session=00"
	echo "$old event=code_ok user=alice uid=1001 method=totp session=00"
	echo "$old event=reset_ok user=alice uid=1001 method=totp duration_ms=999999 session=00"
	# in the window: 10 attempts
	for i in 0 1 2 3 4 5 6 7 8 9; do
		echo "$t event=reset_start user=u$i uid=200$i service=sshd rhost=192.0.2.$i tty=ssh session=s$i"
	done
	# codes: totp 4 ok 3 failed, hotp 1 ok 1 failed, recovery 1 ok, no method 2 failed
	for i in 1 2 3 4; do echo "$t event=code_ok user=u$i uid=200$i method=totp try=1 session=s$i"; done
	for i in 1 2 3; do echo "$t event=code_fail user=u$i uid=200$i method=totp try=1 session=s$i"; done
	echo "$t event=code_ok user=u5 uid=2005 method=hotp try=1 session=s5"
	echo "$t event=code_fail user=u5 uid=2005 method=hotp try=1 session=s5"
	echo "$t event=code_ok user=u6 uid=2006 method=recovery try=1 session=s6"
	echo "$t event=code_fail user_hash=0123456789abcdef try=1 session=s7"
	echo "$t event=code_fail user_hash=0123456789abcdef method=- try=2 session=s7"
	# six resets: totp 1..4 s, hotp 5 s, recovery 60 s
	for i in 1 2 3 4; do
		echo "$t event=reset_ok user=u$i uid=200$i method=totp durable=yes duration_ms=${i}000 session=s$i"
	done
	echo "$t event=reset_ok user=u5 uid=2005 method=hotp durable=yes duration_ms=5000 session=s5"
	echo "$t event=reset_ok user=u6 uid=2006 method=recovery durable=yes duration_ms=60000 session=s6"
	echo "$t event=reset_fail user=u8 uid=2008 reason=timeout session=s8"
	echo "$t event=reset_fail user=u9 uid=2009 reason=timeout session=s9"
	echo "$t event=locked user=u7 uid=2007 until=x session=s7"
	echo "$t event=locked user=u8 uid=2008 until=x session=s8"
	for i in 1 2 3 4 5; do echo "$t event=rate_limited user=u9 uid=2009 reason=rate_user session=s9"; done
	echo "$t event=denied user=u0 uid=2000 reason=deny_group session=s0"
	echo "$t event=quality_fail user=u1 uid=2001 reason=\"too short\" session=s1"
	echo "$t event=enroll user=u1 uid=2001 method=totp by_uid=0"
	echo "$t event=notify_ok user=u1 uid=2001 pid=42 session=s1"
	echo "$t event=notify_fail user=u2 uid=2002 reason=timeout pid=43 session=s2"
} > "$T/events"
"$append" "$ROOT$statedir" < "$T/events" > "$T/seqs" || { echo "FAIL: journal-append"; exit 1; }
n=$(wc -l < "$T/events")
[ "$(tail -1 "$T/seqs")" = "$n" ] && pass "journal of $n entries built" || fail "seqs: $(tail -1 "$T/seqs") for $n lines"
"$cli" audit verify > "$T/verify" || fail "audit verify: $(cat "$T/verify")"

# --- text ---------------------------------------------------------------
"$cli" stats --since 7d > "$T/text" 2> "$T/err" || fail "stats exited $?: $(cat "$T/err")"
want() { grep -qxF -- "$1" "$T/text" && pass "text: $1" || fail "text: no line '$1' in: $(cat "$T/text")"; }
want "reset attempts:    10"
want "resets:            6 (success rate 60.0%)"
want "reset failures:    2"
want "code checks:       6 ok, 6 failed (failure rate 50.0%)"
want "lockouts:          2"
want "rate-limit hits:   5"
want "denied:            1"
want "quality failures:  1"
want "notify failures:   1"
want "time to reset:     median 3.0 s, p95 60.0 s (6)"
want "  totp      resets 4, codes 4 ok 3 failed (42.9%), time to reset median 2.0 s, p95 4.0 s (4)"
want "  hotp      resets 1, codes 1 ok 1 failed (50.0%), time to reset median 5.0 s, p95 5.0 s (1)"
want "  recovery  resets 1, codes 1 ok 0 failed (0.0%), time to reset median 60.0 s, p95 60.0 s (1)"
want "  none      resets 0, codes 0 ok 2 failed (100.0%), time to reset -"
# without --since the old reset counts too
"$cli" stats > "$T/all"
grep -qxF "resets:            7 (success rate 63.6%)" "$T/all" && pass "no --since: 7 of 11" ||
	fail "no --since: $(grep resets: "$T/all")"
grep -qxF "time to reset:     median 4.0 s, p95 1000.0 s (7)" "$T/all" && pass "no --since: durations" ||
	fail "no --since: $(grep 'time to reset' "$T/all")"

# --- json ---------------------------------------------------------------
"$cli" stats --since 7d --format json > "$T/json"
python3 - "$T/json" <<'PY' && pass "json figures" || fail "json: $(cat "$T/json")"
import json, sys
d = json.load(open(sys.argv[1]))
exp = {"attempts": 10, "resets": 6, "success_rate": 0.6, "reset_failures": 2,
       "code_ok": 6, "code_fail": 6, "code_failure_rate": 0.5, "lockouts": 2,
       "rate_limited": 5, "denied": 1, "quality_failures": 1, "notify_failures": 1}
for k, v in exp.items():
    assert d[k] == v, (k, d[k], v)
assert d["entries"] == 42, d["entries"]  # 45 made, 3 before --since
assert d["time_to_reset_ms"] == {"count": 6, "median": 3000, "p95": 60000}, d["time_to_reset_ms"]
m = d["methods"]
assert set(m) == {"totp", "hotp", "recovery", "none"}, m
assert m["totp"]["resets"] == 4 and m["totp"]["code_ok"] == 4 and m["totp"]["code_fail"] == 3
assert m["totp"]["time_to_reset_ms"] == {"count": 4, "median": 2000, "p95": 4000}
assert m["none"]["code_failure_rate"] == 1 and m["none"]["time_to_reset_ms"]["median"] is None
PY
"$cli" stats --format json --since 2000-01-01 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["resets"]==7 and d["since"]=="2000-01-01T00:00:00Z", d' &&
	pass "json: --since ISO date" || fail "json: --since ISO date"

# --- prometheus -------------------------------------------------------------
"$cli" stats --since 7d --format prometheus > "$T/prom"
python3 - "$T/prom" <<'PY' && pass "prometheus: strict format and figures" || fail "prometheus: $(cat "$T/prom")"
import re, sys
name = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
lab = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(rf'^({name})(\{{(?:{lab})(?:,{lab})*\}})? (NaN|[+-]Inf|[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)$')
help_ = re.compile(rf'^# HELP ({name}) \S.*$')
type_ = re.compile(rf'^# TYPE ({name}) (counter|gauge|summary|histogram|untyped)$')
types, helps, vals, seen_family = {}, set(), {}, []
text = open(sys.argv[1]).read()
assert text.endswith("\n")
for ln in text.splitlines():
    if m := help_.match(ln):
        assert m[1] not in helps, "two HELP for " + m[1]
        helps.add(m[1]); continue
    if m := type_.match(ln):
        assert m[1] not in types, "two TYPE for " + m[1]
        assert m[1] in helps, "TYPE before HELP: " + m[1]
        types[m[1]] = m[2]; seen_family.append(m[1]); continue
    m = sample.match(ln)
    assert m, "bad line: " + repr(ln)
    fam = m[1]
    for suf in ("_sum", "_count"):
        if fam.endswith(suf) and fam[:-len(suf)] in types and types[fam[:-len(suf)]] == "summary":
            fam = fam[:-len(suf)]
    assert fam in types, "sample before its TYPE: " + ln
    assert fam == seen_family[-1], "family split: " + ln
    if types[fam] == "counter":
        assert fam.endswith("_total"), fam
    assert (m[1] + (m[2] or "")) not in vals, "duplicate series " + ln
    vals[m[1] + (m[2] or "")] = float(m[3])
def v(k): return vals[k]
assert v("sspr_reset_attempts_total") == 10
assert v('sspr_resets_total{method="totp"}') == 4
assert v('sspr_resets_total{method="recovery"}') == 1
assert v("sspr_reset_success_ratio") == 0.6
assert v('sspr_code_checks_total{method="totp",result="fail"}') == 3
assert v('sspr_code_checks_total{method="none",result="fail"}') == 2
assert v("sspr_code_failure_ratio") == 0.5
assert v("sspr_lockouts_total") == 2 and v("sspr_rate_limited_total") == 5
assert v("sspr_notify_failures_total") == 1
assert v('sspr_time_to_reset_seconds{method="totp",quantile="0.5"}') == 2.0
assert v('sspr_time_to_reset_seconds{method="totp",quantile="0.95"}') == 4.0
assert v('sspr_time_to_reset_seconds_count{method="totp"}') == 4
assert v('sspr_time_to_reset_seconds_sum{method="totp"}') == 10.0
PY
if command -v promtool >/dev/null; then
	promtool check metrics < "$T/prom" > "$T/promtool" 2>&1 && pass "promtool check metrics" ||
		fail "promtool: $(cat "$T/promtool")"
else
	echo "note: promtool not installed (Debian's prometheus): the strict parser above stands in"
fi

# --- usage errors, empty journal -----------------------------------------------
rc=0; "$cli" stats --format xml > /dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] && pass "bad --format is a usage error" || fail "bad --format exited $rc"
rc=0; "$cli" stats --since yesterday > /dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] && pass "bad --since is a usage error" || fail "bad --since exited $rc"
rm -rf "$ROOT$statedir/journal"
"$cli" stats --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["entries"]==0 and d["success_rate"] is None' &&
	pass "no journal: zeros, no rate" || fail "no journal"

[ "$fails" = 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all stats checks passed"
