#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kernel.sh ARCH: build (or reuse) the virtio-msg test kernel for ARCH and
# print its build directory. The kernel is allnoconfig plus the fragments in
# configs/, cached under $VMSG_CACHE/kernel keyed by vmsg_kernel_key().
set -euo pipefail
. "$(dirname "$0")/lib.sh"

arch=$(vmsg_arch "${1:-x86_64}")
cross=$(vmsg_cross "$arch")
"$VMSG_BENCH/setup.sh" >&2
kdir=$(vmsg_kdir "$arch")

# One builder per arch at a time; a second caller waits and reuses.
mkdir -p "$VMSG_CACHE/kernel"
exec 9>"$VMSG_CACHE/kernel/.lock-$arch"
flock 9
if [ -f "$kdir/.vmsg-built" ]; then
	echo "$kdir"
	exit 0
fi

# The patched source is shared by both arches: its own lock.
ksrc=$(vmsg_kpsrc)
exec 8>"$VMSG_CACHE/src/.lock-patched"
flock 8
if [ ! -f "$ksrc/.vmsg-patched" ]; then
	vmsg_log "applying the kernel patches in $ksrc"
	rm -rf "$ksrc"
	cp -al "$(vmsg_ksrc)" "$ksrc"
	while IFS= read -r p; do
		# Give each patched file its own inode first: the pristine
		# tree shares the others.
		sed -n 's#^+++ b/##p' "$p" | while IFS= read -r f; do
			[ -f "$ksrc/$f" ] || continue
			cp "$ksrc/$f" "$ksrc/$f.vmsg-tmp"
			mv "$ksrc/$f.vmsg-tmp" "$ksrc/$f"
		done
		patch -s -p1 -d "$ksrc" --no-backup-if-mismatch < "$p" ||
			vmsg_die "$(basename "$p") does not apply"
	done < <(vmsg_patches)
	touch "$ksrc/.vmsg-patched"
fi
flock -u 8


vmsg_log "building the $arch test kernel in $kdir"
rm -rf "$kdir"
mkdir -p "$kdir"
# Paths relative to the cache: a tree patched anew reuses what its
# unchanged files compiled to.
export CCACHE_BASEDIR="$VMSG_CACHE" CCACHE_NOHASHDIR=true
kmake() {
	make -s -C "$ksrc" O="$kdir" ARCH="$arch" CROSS_COMPILE="$cross" \
		CC="ccache ${cross}gcc" KBUILD_BUILD_TIMESTAMP="Thu Jan  1 00:00:00 UTC 2026" \
		KBUILD_BUILD_USER=vmsg KBUILD_BUILD_HOST=vmsg "$@"
}

kmake allnoconfig >/dev/null
# shellcheck disable=SC2046
KCONFIG_CONFIG="$kdir/.config" "$ksrc/scripts/kconfig/merge_config.sh" \
	-m -O "$kdir" "$kdir/.config" $(vmsg_fragments "$arch") >/dev/null
kmake olddefconfig >/dev/null

# A fragment line that did not survive olddefconfig is a broken bench.
bad=0
# shellcheck disable=SC2046
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n)
		sym=${line%%=*}
		if grep -q "^$sym=" "$kdir/.config"; then
			vmsg_log "config: wanted $line, got $(grep "^$sym=" "$kdir/.config")"
			bad=1
		fi
		;;
	CONFIG_*=*)
		if ! grep -qxF "$line" "$kdir/.config"; then
			sym=${line%%=*}
			vmsg_log "config: wanted $line, got $(grep -E "^(# )?$sym[= ]" "$kdir/.config" || echo unset)"
			bad=1
		fi
		;;
	esac
done < <(cat $(vmsg_fragments "$arch"))
[ $bad -eq 0 ] || vmsg_die "config fragments for $arch did not apply"

case "$arch" in
arm64) targets="Image modules" ;;
*) targets="bzImage modules" ;;
esac
# shellcheck disable=SC2086
kmake -j"$(nproc)" $targets
touch "$kdir/.vmsg-built"
vmsg_log "$arch test kernel ready"
echo "$kdir"
