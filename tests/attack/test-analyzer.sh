#!/bin/bash
# Static analysis of the helper's sources: pam_sspr/helper/*.c and the lib/
# and policy/ files it links, each compiled again with its own flags from
# compile_commands.json plus gcc's -fanalyzer, and checked by cppcheck.
# Any analyzer warning or cppcheck finding fails the test.  False
# positives are suppressed in the source, narrowly, with a comment saying
# why (cppcheck: `// cppcheck-suppress ID`; gcc: a #pragma around the line).
# usage: test-analyzer.sh SRCDIR BUILDDIR
set -euo pipefail
src=$1 build=$2
cc=$build/compile_commands.json
[ -e "$cc" ] || { echo "FAIL: $cc missing"; exit 1; }
command -v gcc >/dev/null || { echo "SKIP: gcc missing"; exit 77; }
gcc -fanalyzer -x c -c -o /dev/null /dev/null 2>/dev/null || { echo "SKIP: gcc without -fanalyzer"; exit 77; }
command -v cppcheck >/dev/null || { echo "SKIP: cppcheck missing"; exit 77; }
W=$(mktemp -d)
trap "${KEEP:+:} rm -rf \"$W\"" EXIT

# the helper's translation units, with their commands: "FILE<TAB>COMMAND"
python3 - "$cc" "$src" > "$W/units" <<'PY'
import json, os, shlex, sys
cc, src = sys.argv[1], os.path.realpath(sys.argv[2])
seen = set()
for e in json.load(open(cc)):
    f = os.path.realpath(os.path.join(e["directory"], e["file"]))
    rel = os.path.relpath(f, src)
    if not (rel.startswith("pam_sspr/helper/") or rel.startswith("lib/") or rel.startswith("policy/")):
        continue
    if rel in seen:
        continue
    seen.add(rel)
    args = shlex.split(e["command"])
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MQ", "-MF", "-MT"):
            skip = True
            continue
        if a in ("-MD", "-MMD") or a.startswith("-fsanitize") or a.startswith("-fdiagnostics-color"):
            continue
        out.append(a)
    print("%s\t%s\t%s" % (rel, e["directory"], shlex.join(out)))
PY
n=$(wc -l < "$W/units")
[ "$n" -gt 0 ] || { echo "FAIL: no helper sources in $cc"; exit 1; }

# gcc -fanalyzer, two at a time
i=0
while IFS=$'\t' read -r rel dir cmd; do
	i=$((i + 1))
	( cd "$dir" && eval "$cmd -fanalyzer -fdiagnostics-color=never -o /dev/null" ) > "$W/gcc.$i" 2>&1 &
	[ "$(jobs -rp | wc -l)" -lt 2 ] || wait -n
done < "$W/units"
wait
cat "$W"/gcc.* > "$W/gcc.all"
if grep -q 'Wanalyzer' "$W/gcc.all"; then
	grep -B2 -A20 'Wanalyzer' "$W/gcc.all" | head -200
	echo "FAIL: gcc -fanalyzer: $(grep -c 'warning: .*\[-Wanalyzer' "$W/gcc.all") warnings"
	exit 1
fi
echo "gcc -fanalyzer: $n files, no warning"

# cppcheck with the same include paths and defines
incs=$(cut -f3 "$W/units" | tr ' ' '\n' | grep -E '^-(I|D)' | sort -u | tr '\n' ' ')
files=$(cut -f1 "$W/units" | sed "s|^|$src/|")
# Suppressed for all files, each for a reason:
#   resourceLeak, memleak: cppcheck does not model __attribute__((cleanup))
#     (_cleanup_close_, _cleanup_free_, _cleanup_secure_ of
#     include/sspr/common.h): it reports every early return after an open
#     or malloc.  gcc -fanalyzer above does model it and reports leaks.
#   readdirCalled: readdir_r is deprecated; glibc's readdir is safe on a
#     stream of one's own, and the helper is single-threaded.
#   missingIncludeSystem: the system headers are not its to parse.
# shellcheck disable=SC2086
cppcheck -q -j2 --std=c11 --enable=warning,portability --inline-suppr --error-exitcode=1 \
	--suppress=missingIncludeSystem --suppress=resourceLeak --suppress=memleak \
	--suppress=readdirCalled \
	--library=posix $incs -I"$src/include" -I"$build" \
	$files 2> "$W/cppcheck" || { cat "$W/cppcheck"; echo "FAIL: cppcheck"; exit 1; }
[ ! -s "$W/cppcheck" ] || { cat "$W/cppcheck"; echo "FAIL: cppcheck"; exit 1; }
echo "cppcheck: $n files, no finding"
echo "PASS: the helper's sources are clean under gcc -fanalyzer and cppcheck"
