#!/bin/bash
# The module exports only pam_sm_* (STYLE.md: a version script, checked).
set -euo pipefail
mod=$1
command -v nm >/dev/null || { echo "SKIP: nm missing"; exit 77; }
syms=$(nm -D --defined-only "$mod" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort)
bad=$(printf '%s\n' "$syms" | grep -v '^pam_sm_' || true)
if [ -n "$bad" ]; then
	echo "FAIL: $mod exports more than pam_sm_*:"; printf '  %s\n' $bad; exit 1
fi
for want in pam_sm_authenticate pam_sm_setcred pam_sm_open_session pam_sm_close_session; do
	printf '%s\n' "$syms" | grep -qx "$want" || { echo "FAIL: $want not exported"; exit 1; }
done
echo "PASS: exports: $(echo $syms)"
