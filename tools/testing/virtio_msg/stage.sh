#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# stage.sh ARCH [KERNEL]: build everything a guest of ARCH runs and pack it.
# KERNEL is "debug" (the default: the project's test kernel, kernel.sh) or
# "stock" (Debian's own kernel, stock-kernel.sh; x86_64 only), which also
# picks the output directory: $VMSG_OUT/ARCH, or $VMSG_OUT/ARCH-stock.
#
#   - the modules, built out of tree in a private copy of the sources so
#     that both arches can be staged without clobbering each other;
#   - the kselftests, through the kernel's own selftests/lib.mk;
#   - the device-side tools in tools/virtio-msg, when present;
#   - a busybox initramfs with all of the above and guest-init.sh as /init.
#
# Output: initramfs.cpio and kernel (a link to the kernel image) in the
# output directory.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

arch=$(vmsg_arch "${1:-x86_64}")
kernel=$(vmsg_kernel_kind "${2:-debug}")
cross=$(vmsg_cross "$arch")
if [ "$kernel" = stock ]; then
	kdir=$("$VMSG_BENCH/stock-kernel.sh" "$arch" --headers)
	kimage=$("$VMSG_BENCH/stock-kernel.sh" "$arch" --image)
	kmods=$("$VMSG_BENCH/stock-kernel.sh" "$arch" --modules)
else
	# VMSG_KDIR: another build of the test kernel (an older cached one).
	kdir=${VMSG_KDIR:-$("$VMSG_BENCH/kernel.sh" "$arch")}
	kimage=$kdir/$(vmsg_kimage "$arch")
fi
ksrc=$(vmsg_ksrc)
kver=$(cat "$kdir/include/config/kernel.release")
out=$VMSG_OUT/$(vmsg_lane "$arch" "$kernel")
root=$out/root
mkdir -p "$out"
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc/virtio_msg,opt/virtio_msg,lib/modules/"$kver"/extra}

# Modules
vmsg_log "$arch: building modules against $kver"
mkdir -p "$out/build"
rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
	--exclude='*.mod*' --exclude='*.order' "$VMSG_TOP/Kbuild" "$VMSG_TOP/drivers" \
	"$VMSG_TOP/include" "$out/build/src/"
make -s -C "$kdir" M="$out/build/src" ARCH="$arch" CROSS_COMPILE="$cross" \
	W=1 modules
find "$out/build/src" -name '*.ko' -exec cp {} "$root/lib/modules/$kver/extra/" \;
if [ "$kernel" = stock ]; then
	# Debian builds these as modules (the test kernels have them built
	# in): the drivers of the devices virtio-msg offers, and what the
	# tests and make bench use. With their dependencies, uncompressed so
	# that busybox's modprobe needs no xz.
	sysmap=$(dirname "$kimage")/System.map-$kver
	for m in virtio_blk virtio_net virtio_rng ext4 crc32c_generic veth \
		 null_blk configfs brd nbd; do
		modprobe -d "$(dirname "$(dirname "$(dirname "$kmods")")")" \
			-S "$kver" --show-depends "$m"
	done | awk '$1 == "insmod" { print $2 }' | sort -u | while read -r ko; do
		rel=${ko#"$kmods"/}
		mkdir -p "$root/lib/modules/$kver/$(dirname "$rel")"
		case "$ko" in
		*.xz) xz -dc "$ko" > "$root/lib/modules/$kver/${rel%.xz}" ;;
		*) cp "$ko" "$root/lib/modules/$kver/$rel" ;;
		esac
	done
	cp "$kmods/modules.builtin" "$kmods/modules.builtin.modinfo" \
		"$kmods/modules.order" "$root/lib/modules/$kver/"
else
	sysmap=$kdir/System.map
	make -s -C "$kdir" ARCH="$arch" CROSS_COMPILE="$cross" \
		INSTALL_MOD_PATH="$root" modules_install >/dev/null
fi
depmod -b "$root" -F "$sysmap" "$kver"

# kselftests, in a shadow of the kernel's selftests tree so that lib.mk and
# kselftest_harness.h are found at their in-tree relative paths, built and
# installed by the selftests' own install target: the guest gets
# run_kselftest.sh and its list too. The suites run each program from
# /opt/virtio_msg/selftests, the installed directory.
vmsg_log "$arch: building kselftests and tools"
kshadow=$out/build/ksft
ksft=$kshadow/tools/testing/selftests
rm -rf "$kshadow"
mkdir -p "$ksft/drivers" "$kshadow/scripts"
rsync -a "$ksrc/tools/testing/selftests/Makefile" \
	"$ksrc/tools/testing/selftests/lib.mk" \
	"$ksrc/tools/testing/selftests/run_kselftest.sh" \
	"$ksrc/tools/testing/selftests/kselftest.h" \
	"$ksrc/tools/testing/selftests/kselftest_harness.h" \
	"$ksrc/tools/testing/selftests/kselftest" "$ksft/"
rsync -a "$ksrc/scripts/subarch.include" "$kshadow/scripts/"
rsync -a "$VMSG_TOP/tools/testing/selftests/drivers/virtio_msg" \
	"$ksft/drivers/"
make -s -C "$ksft" TARGETS=drivers/virtio_msg ARCH="$arch" \
	CROSS_COMPILE="$cross" KHDR_INCLUDES="-I$VMSG_TOP/include/uapi" \
	LDFLAGS=-static INSTALL_PATH="$root/opt/virtio_msg/kselftest" \
	install >/dev/null
ln -s kselftest/drivers/virtio_msg "$root/opt/virtio_msg/selftests"
# The load generators of make bench (built, never run as tests).
mkdir -p "$root/opt/virtio_msg/bench"
make -s -C "$ksft/drivers/virtio_msg/bench" ARCH="$arch" \
	CROSS_COMPILE="$cross" OUTPUT="$root/opt/virtio_msg/bench" \
	KHDR_INCLUDES="-I$VMSG_TOP/include/uapi" LDFLAGS=-static

# Device-side library, backends and their tests.
if [ -f "$VMSG_TOP/tools/virtio-msg/Makefile" ]; then
	make -s -C "$VMSG_TOP/tools/virtio-msg" CROSS_COMPILE="$cross" \
		OUTPUT="$out/build/tools" LDFLAGS=-static
	mkdir -p "$root/opt/virtio_msg/tools"
	find "$out/build/tools" -maxdepth 2 -type f -perm -u+x \
		-exec cp {} "$root/opt/virtio_msg/tools/" \;
fi

# The simulated FF-A partition and its device side, where the kernel has
# FF-A (arm64); the test script goes everywhere and skips without them.
mkdir -p "$root/opt/virtio_msg/ffa"
install -m 755 "$VMSG_BENCH/ffa_sim/ffa-test.sh" "$root/opt/virtio_msg/ffa/"
if grep -q '^CONFIG_ARM_FFA_TRANSPORT=y' "$kdir/.config" &&
   [ -d "$out/build/tools" ]; then
	vmsg_log "$arch: building the simulated FF-A partition"
	rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
		--exclude='*.mod*' "$VMSG_BENCH/ffa_sim/" "$out/build/ffa_sim/"
	make -s -C "$kdir" M="$out/build/ffa_sim" ARCH="$arch" \
		CROSS_COMPILE="$cross" VMSG_TOP="$out/build/src" W=1 modules
	cp "$out/build/ffa_sim/virtio_msg_ffa_sim.ko" \
		"$root/lib/modules/$kver/extra/"
	depmod -b "$root" -F "$sysmap" "$kver"
	"${cross}gcc" -Wall -Wextra -Werror -O2 -std=gnu11 -D_GNU_SOURCE \
		-static -I"$VMSG_TOP/tools/virtio-msg/include" \
		-I"$VMSG_TOP/tools/virtio-msg/backends" \
		-I"$VMSG_TOP/include/uapi" -I"$VMSG_BENCH/ffa_sim" \
		-o "$root/opt/virtio_msg/ffa/vmsg-ffa-sim" \
		"$VMSG_BENCH/ffa_sim/vmsg-ffa-sim.c" \
		"$out/build/tools/backends/models/libmodels.a" \
		"$out/build/tools/lib/libvirtio-msg.a"
	"${cross}gcc" -Wall -Wextra -Werror -O2 -std=gnu11 -D_GNU_SOURCE \
		-static -o "$root/opt/virtio_msg/ffa/ffa-check" \
		"$VMSG_BENCH/ffa_sim/ffa-check.c"
fi

# initramfs
cp "$VMSG_CACHE/busybox/$arch/bin/busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 755 "$VMSG_BENCH/guest-init.sh" "$root/init"
install -m 755 "$VMSG_BENCH/guest-uevent.sh" "$root/sbin/vmsg-uevent"
install -m 755 "$VMSG_BENCH/demo-guest.sh" "$root/opt/virtio_msg/demo.sh"
install -m 755 "$VMSG_BENCH/bench-guest.sh" "$root/opt/virtio_msg/bench.sh"
# VMSG_SUITES (a regex on the suite name) narrows a run while developing;
# check.sh reports a narrowed run as missing suites, so it cannot pass.
grep -v '^#' "$VMSG_BENCH/suites" | grep -v '^[[:space:]]*$' |
	awk -v re="${VMSG_SUITES:-.}" '$2 ~ re' > "$root/etc/virtio_msg/suites"
# VMSG_FUZZ_ARGS and VMSG_FUZZ_TIMEOUT: the fuzzer's options and time
# limit when the guest boots with vmsg.mode=fuzz (fuzz.sh).
echo "${VMSG_FUZZ_ARGS:-}" > "$root/etc/virtio_msg/fuzz.args"
echo "${VMSG_FUZZ_TIMEOUT:-300}" > "$root/etc/virtio_msg/fuzz.timeout"
# VMSG_BENCH_SECONDS and VMSG_BENCH_TIMEOUT: the length of each
# measurement and the time limit of them all with vmsg.mode=bench (bench.sh).
echo "${VMSG_BENCH_SECONDS:-3}" > "$root/etc/virtio_msg/bench.seconds"
echo "${VMSG_BENCH_TIMEOUT:-300}" > "$root/etc/virtio_msg/bench.timeout"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) \
	> "$out/initramfs.cpio"
ln -sf "$kimage" "$out/kernel"
vmsg_log "$arch: staged $(du -h "$out/initramfs.cpio" | cut -f1) initramfs"
