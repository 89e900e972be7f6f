#!/bin/bash
# The Debian package: `dpkg-buildpackage -us -uc -b` builds libpam-sspr
# from a copy of the tree; lintian finds no error; the package holds the
# module, the helper 4755 root:root, the CLI, the man pages, the
# pam-auth-update profile, the tmpfiles.d snippet of the state directory
# and sspr.conf as a conffile; and `meson install --destdir` of the same
# configuration produces the same files with the same modes (but for what
# only a Debian package has: /usr/share/doc/libpam-sspr, the lintian
# overrides, the pam-auth-update profile; man pages compressed).  Root
# only (meson install sets the helper's owner and setuid bit only as root).
#
# usage: test-deb.sh SRCDIR [CACHEDIR]
#   CACHEDIR: where build-deb.sh keeps the build of this tree, for
#   test-deb-install.sh to reuse
#
# Nothing is installed on the machine: the package is only unpacked
# (dpkg-deb -x) into a temp dir; the build products live in CACHEDIR (in
# the meson build dir) or a temp dir that is removed afterwards.
set -euo pipefail

if [ $# -lt 1 ]; then
	echo "usage: test-deb.sh SRCDIR" >&2
	exit 2
fi
src=$(readlink -f "$1")
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root"
	exit 77
fi
for c in dpkg-buildpackage dpkg-deb dh dpkg-architecture meson ninja timeout; do
	command -v "$c" >/dev/null || { echo "SKIP: $c missing (devscripts/debhelper/dpkg-dev)"; exit 77; }
done
(cd "$src" && dpkg-checkbuilddeps) >/dev/null 2>&1 ||
	{ echo "SKIP: build dependencies missing: $(cd "$src" && dpkg-checkbuilddeps 2>&1 | tail -1)"; exit 77; }

T=$(mktemp -d /tmp/sspr-deb.XXXXXX)
trap 'rm -rf --one-file-system "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)

# --- 1. build the package from a copy of the tree ------------------------
# (build-deb.sh: once per content of the tree, shared with
# test-deb-install.sh through CACHEDIR; a temp dir when none is given)
echo "building the package (or reusing the build of this same tree)"
pkgdir=$("$(dirname "$(readlink -f "$0")")/build-deb.sh" "$src" "${2:-$T/cache}") || fail "dpkg-buildpackage"
deb=$(ls "$pkgdir"/libpam-sspr_*.deb)
echo "built $(basename "$deb")"

if command -v lintian >/dev/null; then
	out=$(timeout -k 10 120 lintian --fail-on error "$pkgdir"/pam-sspr_*.changes 2>&1) || {
		echo "$out"
		fail "lintian reports errors"
	}
	echo "lintian (no errors):"
	echo "$out" | grep -v 'running with root privileges' | sed 's/^/  /'
else
	echo "NOTE: lintian not installed, not run"
fi

# --- 2. what the package holds --------------------------------------------
# "MODE OWNER PATH" for every non-directory, sorted
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { p = $6; sub(/^\.\//, "", p); print $1, $2, p }' |
	sort -k3 >"$T/deb.list"
echo "--- package files"; cat "$T/deb.list"
want() { # MODE OWNER PATH
	grep -qxF -e "$1 $2 $3" "$T/deb.list" || fail "package lacks '$1 $2 $3'"
}
want -rwsr-xr-x root/root usr/libexec/sspr/sspr-helper
want -rw-r--r-- root/root "usr/lib/$MA/security/pam_sspr.so"
want -rwxr-xr-x root/root usr/bin/sspr-cli
want -rw-r--r-- root/root etc/security/sspr.conf
want -rw-r--r-- root/root usr/share/pam-configs/sspr
want -rw-r--r-- root/root usr/lib/tmpfiles.d/pam-sspr.conf
for m in man8/pam_sspr.8 man8/sspr-helper.8 man8/sspr-cli.8 man5/sspr.conf.5; do
	want -rw-r--r-- root/root "usr/share/man/$m.gz"
done

mkdir "$T/x" "$T/ctrl"
dpkg-deb -x "$deb" "$T/x"
dpkg-deb -e "$deb" "$T/ctrl"
grep -qx /etc/security/sspr.conf "$T/ctrl/conffiles" || fail "sspr.conf is not a conffile"
grep -q '^d /var/lib/sspr 0700 root root' "$T/x/usr/lib/tmpfiles.d/pam-sspr.conf" ||
	fail "tmpfiles.d snippet: $(cat "$T/x/usr/lib/tmpfiles.d/pam-sspr.conf")"
grep -q 'install -d -m 0700 -o root -g root /var/lib/sspr' "$T/ctrl/postinst" || fail "postinst does not make /var/lib/sspr"
grep -q 'systemd-tmpfiles .*--create pam-sspr.conf' "$T/ctrl/postinst" || fail "postinst does not run systemd-tmpfiles"
grep -q '^[[:space:]]*pam-auth-update --package$' "$T/ctrl/postinst" || fail "postinst does not run pam-auth-update --package"
grep -q '^[[:space:]]*pam-auth-update --package --remove sspr$' "$T/ctrl/prerm" || fail "prerm does not remove the profile"
cmp -s "$T/x/usr/share/pam-configs/sspr" "$src/debian/pam-configs/sspr" || fail "packaged profile differs from debian/pam-configs/sspr"
# the module finds the helper where the package put it
grep -aq "/usr/libexec/sspr/sspr-helper" "$T/x/usr/lib/$MA/security/pam_sspr.so" ||
	fail "pam_sspr.so does not name /usr/libexec/sspr/sspr-helper"
if command -v nm >/dev/null; then
	extra=$(nm -D --defined-only "$T/x/usr/lib/$MA/security/pam_sspr.so" | awk '$2 ~ /^[TDB]$/ && $3 !~ /^pam_sm_/ { print $3 }')
	[ -z "$extra" ] || fail "pam_sspr.so exports more than pam_sm_*: $extra"
fi
"$T/x/usr/bin/sspr-cli" --help >/dev/null 2>&1 || "$T/x/usr/bin/sspr-cli" help >/dev/null 2>&1 ||
	fail "the packaged sspr-cli does not run"
echo "ok: package contents, modes, conffile, maintainer scripts"

# --- 3. meson install --destdir of the same configuration -----------------
# the options of debian/rules' dh_auto_configure, with dh's own ones
# (prefix, sysconfdir, localstatedir, libdir, buildtype)
opts=$(sed -n '/^override_dh_auto_configure:/,/^$/p' "$src/debian/rules" | grep -o -- '-D[a-z_]*=[^ \\]*' |
	sed "s/\$(DEB_HOST_MULTIARCH)/$MA/")
# shellcheck disable=SC2086
timeout -k 10 120 meson setup "$T/build" "$src" --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
	--libdir="lib/$MA" --buildtype=plain $opts >"$T/meson.log" 2>&1 || { tail -20 "$T/meson.log"; fail "meson setup"; }
timeout -k 10 300 meson compile -C "$T/build" >>"$T/meson.log" 2>&1 || { tail -20 "$T/meson.log"; fail "meson compile"; }
timeout -k 10 60 meson install -C "$T/build" --destdir "$T/root" >>"$T/meson.log" 2>&1 ||
	{ tail -20 "$T/meson.log"; fail "meson install"; }
(cd "$T/root" && find . ! -type d -printf '%M %u/%g %P\n') |
	sed -E 's#^(\S+ \S+ usr/share/man/\S+)$#\1.gz#' | sort -k3 >"$T/meson.list"
# what only the Debian package has
grep -Ev ' (usr/share/doc/libpam-sspr/|usr/share/lintian/overrides/libpam-sspr$|usr/share/pam-configs/sspr$)' \
	"$T/deb.list" >"$T/deb.cmp"
if ! diff -u "$T/deb.cmp" "$T/meson.list"; then
	fail "meson install --destdir differs from the package (- package, + meson)"
fi
echo "ok: meson install --destdir has the package's files and modes ($(wc -l <"$T/meson.list") files)"
echo "PASS"
