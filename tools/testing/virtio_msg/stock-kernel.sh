#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# stock-kernel.sh [ARCH] [--image|--modules|--headers|--release]: fetch
# (once) and unpack Debian's own 6.12 kernel, as users run it, and print
# where it is:
#
#   image   PATH   the kernel image (vmlinuz)
#   modules PATH   its modules tree (lib/modules/RELEASE, depmod run)
#   headers PATH   its headers, for make -C PATH M=... modules
#   release NAME   its release (uname -r)
#
# With one of the options, only that path. The packages are
# linux-image-ABI-amd64-unsigned, linux-headers-ABI-amd64,
# linux-headers-ABI-common and linux-kbuild-ABI, all of one version
# (VMSG_STOCK_ABI, VMSG_STOCK_VERSION below; set them to use another),
# fetched with apt-get download and unpacked with dpkg-deb -x, without
# root and without running any maintainer script, under
# $VMSG_CACHE/stock/ABI-amd64.
#
# x86_64 only: the arm64 headers need linux-kbuild's host programs
# (fixdep, modpost) for the build machine, and Debian ships them only in
# the arm64 linux-kbuild package, as arm64 binaries; cross-building
# modules against them would mean rebuilding those programs from the
# source first.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

arch=$(vmsg_arch "${1:-x86_64}")
[ $# -gt 0 ] && shift
[ "$arch" = x86_64 ] ||
	vmsg_die "the stock kernel lane is x86_64 only (see $0)"

# The kernel ABI name and the package version, pinned. The source of the
# test kernels (linux-source-6.12) is the same release.
abi=${VMSG_STOCK_ABI:-6.12.118+deb12}
version=${VMSG_STOCK_VERSION:-6.12.118-1~deb12u1}
flavour=amd64
release=$abi-$flavour
top=$VMSG_CACHE/stock/$release
root=$top/root
headers=$root/usr/src/linux-headers-$release
common=$root/usr/src/linux-headers-$abi-common
moddir=$root/lib/modules/$release
image=$root/boot/vmlinuz-$release

mkdir -p "$top"
exec 9>"$top/.lock"
flock 9
if [ ! -f "$top/.vmsg-unpacked" ]; then
	"$VMSG_BENCH/setup.sh" >&2
	vmsg_log "fetching Debian's kernel $release ($version)"
	rm -rf "$top/debs" "$root"
	mkdir -p "$top/debs" "$root"
	(cd "$top/debs" && apt-get download -qq -o APT::Sandbox::User=root \
		"linux-image-$release-unsigned=$version" \
		"linux-headers-$release=$version" \
		"linux-headers-$abi-common=$version" \
		"linux-kbuild-$abi=$version") ||
		vmsg_die "apt-get download of the $release packages failed" \
			"(apt-get update, or set VMSG_STOCK_ABI and" \
			"VMSG_STOCK_VERSION to a version apt-cache policy lists)"
	for deb in "$top"/debs/*.deb; do
		dpkg-deb -x "$deb" "$root"
	done
	# The packages' absolute paths point into /usr/src and /usr/lib
	# of an installed system: make them point into this tree.
	sed -i "s#^include /usr/src/#include $root/usr/src/#" \
		"$headers/Makefile"
	ln -sfn "../../../usr/src/linux-headers-$release" "$moddir/build"
	ln -sfn "../../../usr/src/linux-headers-$abi-common" "$moddir/source"
	for d in "$headers" "$common"; do
		[ -e "$d/scripts/basic" ] ||
			vmsg_die "$d/scripts does not resolve"
	done
	grep -q "^include $common/Makefile" "$headers/Makefile" ||
		vmsg_die "unexpected $headers/Makefile"
	depmod -b "$root" -F "$root/boot/System.map-$release" "$release"
	# The packages themselves are no longer needed.
	rm -rf "$top/debs"
	touch "$top/.vmsg-unpacked"
fi
flock -u 9

case "${1:-}" in
--image) echo "$image" ;;
--modules) echo "$moddir" ;;
--headers) echo "$headers" ;;
--release) echo "$release" ;;
"")
	echo "image   $image"
	echo "modules $moddir"
	echo "headers $headers"
	echo "release $release"
	;;
*) vmsg_die "unknown option $1" ;;
esac
