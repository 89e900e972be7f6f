#!/bin/bash
# Secrets never outlive their use: the TOTP secret (raw and base32), the
# code, the new password and the recovery codes (the one typed and the
# set) are absent from a core of the helper taken with gcore at its very
# end (gdb stops it at exit_group), and from the syslog lines captured
# meanwhile (with-devlog.sh).  Two sessions: a TOTP code and a reset; a
# recovery code and a reset.
# Root only (the helper makes itself undumpable: only root can take its
# core); a test root, so the helper is not elevated but runs the same code.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root "gcore of an undumpable process"
need gdb gcore oathtool timeout python3
need_plain_build "$HELPER" "the sanitizer runtime's shadow memory makes the core huge and its quarantine keeps freed buffers on purpose"

tmpbase=/tmp; [ -d /dev/shm ] && [ -w /dev/shm ] && tmpbase=/dev/shm
W=$(mktemp -d "$tmpbase/sspr-secrets.XXXXXX")
trap "${KEEP:+:} rm -rf \"$W\"" EXIT # KEEP=1: leave the cores
R=$W/root
make_root "$R"
in_root "$R" "$ENROLL" alice "$SECRET" totp 4 > "$W/codes"
code=$(totp_at "$NOW")
rc=$(sed -n 2p "$W/codes")
pw1='Secret-New-Pass-Word-One-91'
pw2='Secret-New-Pass-Word-Two-92'

# the helper under gdb: stopped at exit_group, its core written, then let go
cat > "$W/under-gdb" <<G
#!/bin/sh
n=\$(ls '$W' | grep -c '^core' || true)
exec 3>&1
exec gdb -q -nx -batch -ex 'set startup-with-shell on' -ex 'catch syscall exit_group' \
	-ex 'run <&0 >&3 2>/dev/null' -ex "gcore $W/core\$n" -ex 'continue' \
	--args '$HELPER' > '$W/gdb.log' 2>&1
G
chmod +x "$W/under-gdb"
SSPR_DEVLOG_OUT=$W/syslog LOGCATCH=$LOGCATCH "$WITH_DEVLOG" bash -c '
	. "$1"; R=$2
	in_root "$R" timeout 60 "$CLIENT" "$3" hello alice sshd 192.0.2.1 verify "$4" reset "$5"
	in_root "$R" timeout 60 "$CLIENT" "$3" hello alice sshd 192.0.2.1 verify "$6" reset "$7"
' _ "$(dirname "$0")/lib.sh" "$R" "$W/under-gdb" "$code" "$pw1" "$rc" "$pw2" > "$W/out" 2>&1 || true
[ "$(grep -c '^reply: OK$' "$W/out")" = 6 ] || { cat "$W/gdb.log"; fail "sessions: $(cat "$W/out")"; }
ls "$W"/core* >/dev/null 2>&1 || { cat "$W/gdb.log"; fail "no core written"; }
[ "$(ls "$W"/core* | wc -l)" = 2 ] || fail "expected 2 cores: $(ls "$W")"
grep -q 'sspr-helper' "$W/syslog" || fail "no helper line captured in syslog"
# a control: the cores do hold the sessions' data (the user's name)
for c in "$W"/core*; do grep -qa alice "$c" || fail "control: no 'alice' in $c: not the helper's core?"; done

# every form of every secret
secrets=$W/secrets
{
	echo "totp-secret-base32 $SECRET"
	echo "totp-secret-base32-lower ${SECRET,,}"
	echo "code $code"
	echo "password-1 $pw1"
	echo "password-2 $pw2"
	n=0
	while read -r c; do
		n=$((n + 1))
		echo "recovery-code-$n $c"
		echo "recovery-code-$n-nodash ${c/-/}"
	done < "$W/codes"
} > "$secrets"
python3 - "$secrets" "$W" <<'PY' || fail "a secret survived (see above)"
import base64, glob, sys
secrets, w = sys.argv[1], sys.argv[2]
needles = []
for line in open(secrets):
    name, value = line.split()
    needles.append((name, value.encode()))
    if name == "totp-secret-base32":
        needles.append(("totp-secret-raw", base64.b32decode(value)))
bad = 0
for f in sorted(glob.glob(w + "/core*")) + [w + "/syslog"]:
    data = open(f, "rb").read()
    for name, value in needles:
        if value in data:
            where = data.find(value)
            print("FAIL: %s found in %s at offset %d" % (name, f.rsplit("/", 1)[1], where))
            bad = 1
    print("  %s: %d bytes searched for %d needles" % (f.rsplit("/", 1)[1], len(data), len(needles)))
sys.exit(bad)
PY
pass "TOTP secret, code, new passwords and recovery codes absent from the helper's core at exit and from syslog"
