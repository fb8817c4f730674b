# SPDX-License-Identifier: GPL-2.0-only
#
# Shared paths and helpers for the virtio-msg test bench. Sourced by the
# other scripts in this directory; never run on its own.
#
# Everything expensive (kernel source, test kernels, ccache, busybox) lives
# in $VMSG_CACHE, outside the repository, so a clean clone reuses it.

VMSG_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
VMSG_BENCH=$VMSG_TOP/tools/testing/virtio_msg
VMSG_CACHE=${VMSG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtio-msg}
VMSG_OUT=${VMSG_OUT:-$VMSG_TOP/.out}
VMSG_KPKG=linux-source-6.12
export CCACHE_DIR=${CCACHE_DIR:-$VMSG_CACHE/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}

vmsg_die() { echo "vmsg: error: $*" >&2; exit 1; }
vmsg_log() { echo "vmsg: $*" >&2; }

# Canonical arch name: x86_64 or arm64.
vmsg_arch() {
	case "${1:-x86_64}" in
	x86_64|x86|amd64) echo x86_64 ;;
	arm64|aarch64) echo arm64 ;;
	*) vmsg_die "unsupported ARCH '$1' (use x86_64 or arm64)" ;;
	esac
}

# Which kernel a guest boots: debug (the test kernels, kernel.sh) or stock
# (Debian's own, stock-kernel.sh).
vmsg_kernel_kind() {
	case "${1:-debug}" in
	debug|stock) echo "$1" ;;
	*) vmsg_die "unknown KERNEL '$1' (use debug or stock)" ;;
	esac
}

# A lane's name, and its directory under $VMSG_OUT: ARCH, or ARCH-stock.
vmsg_lane() {
	if [ "$2" = stock ]; then
		echo "$1-stock"
	else
		echo "$1"
	fi
}

vmsg_cross() {
	case "$1" in
	arm64) echo aarch64-linux-gnu- ;;
	*) echo "" ;;
	esac
}

vmsg_debarch() {
	case "$1" in
	arm64) echo arm64 ;;
	*) echo amd64 ;;
	esac
}

vmsg_kimage() {
	case "$1" in
	arm64) echo arch/arm64/boot/Image ;;
	*) echo arch/x86/boot/bzImage ;;
	esac
}

vmsg_src_version() {
	dpkg-query -W -f='${Version}' "$VMSG_KPKG" 2>/dev/null | tr '~:+' '___'
}

vmsg_ksrc() {
	local v
	v=$(vmsg_src_version)
	[ -n "$v" ] || vmsg_die "$VMSG_KPKG is not installed (run: make setup)"
	echo "$VMSG_CACHE/src/linux-$v"
}

# Config fragments for an arch, in merge order.
vmsg_fragments() {
	local c=$VMSG_BENCH/configs
	echo "$c/common.config $c/$1.config"
	case "$1" in
	x86_64) echo "$c/debug.config" ;;
	arm64) echo "$c/lockdep.config" ;;
	esac
}

# Bump when kernel.sh changes how a kernel is built.
VMSG_KERNEL_RECIPE=2

# Kernel patches the series carries (patches/*.patch), in order.
vmsg_patches() {
	local p
	for p in "$VMSG_TOP"/patches/*.patch; do
		[ -f "$p" ] && echo "$p"
	done
}

# Source tree the test kernels are built from: the unpacked source with
# the series' kernel patches applied, as a hard-linked copy so the pristine
# tree stays as it is. kernel.sh creates it under its lock.
vmsg_kpsrc() {
	local sum
	sum=$(vmsg_patches | xargs -r cat | sha256sum | cut -c1-12)
	echo "$(vmsg_ksrc)-p$sum"
}

# Cache key of a test kernel: recipe, source version, fragments, compiler.
vmsg_kernel_key() {
	local arch=$1 cross
	cross=$(vmsg_cross "$arch")
	{
		echo "$VMSG_KERNEL_RECIPE"
		vmsg_src_version
		# shellcheck disable=SC2046
		cat $(vmsg_fragments "$arch")
		vmsg_patches | xargs -r cat
		"${cross}gcc" --version 2>/dev/null | head -n 1
	} | sha256sum | cut -c1-12
}

vmsg_kdir() {
	echo "$VMSG_CACHE/kernel/$1-$(vmsg_kernel_key "$1")"
}
