#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# guest.sh MODE ARCH [KERNEL]: stage and boot a guest of ARCH (VMSG_AMP,
# VMSG_AMP_DT: see below) on the test kernel (KERNEL debug, the default) or
# on Debian's own kernel (KERNEL stock, x86_64; its files go to
# $VMSG_OUT/ARCH-stock instead of $VMSG_OUT/ARCH).
#   check  run every suite non-interactively; log in $VMSG_OUT/ARCH/console.log
#   demo   run the demo, showing its output; exit 0 only if it all worked
#   shell  interactive shell on the serial console (Ctrl-A X quits QEMU)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mode=${1:-shell}
arch=$(vmsg_arch "${2:-x86_64}")
kernel=$(vmsg_kernel_kind "${3:-debug}")
"$VMSG_BENCH/stage.sh" "$arch" "$kernel"
out=$VMSG_OUT/$(vmsg_lane "$arch" "$kernel")
tee=""
[ "$mode" = demo ] && tee=--tee
# VMSG_AMP="DEVICE OPTIONS" (for instance "--rng --console"): start vmsg-amp
# on the host, built natively, and give the guest an ivshmem-doorbell
# device served by it. Off by default.
amp=()
if [ -n "${VMSG_AMP:-}" ]; then
	make -s -C "$VMSG_TOP/tools/virtio-msg" OUTPUT="$VMSG_OUT/host-tools" \
		"$VMSG_OUT/host-tools/backends/vmsg-amp"
	amp=(--amp-bin "$VMSG_OUT/host-tools/backends/vmsg-amp" --amp "$VMSG_AMP")
fi
# VMSG_AMP_DT="DEVICE OPTIONS" (arm64 only, ignored elsewhere): back the
# guest's RAM with a shared file, add the virtio-msg node of amp-dt.dtsi to
# its device tree and serve that node's region with vmsg-amp --region.
if [ -n "${VMSG_AMP_DT:-}" ] && [ "$arch" = arm64 ]; then
	make -s -C "$VMSG_TOP/tools/virtio-msg" OUTPUT="$VMSG_OUT/host-tools" \
		"$VMSG_OUT/host-tools/backends/vmsg-amp"
	kdir=${VMSG_KDIR:-$("$VMSG_BENCH/kernel.sh" "$arch")}
	# The test kernel's own dtc, so that no package is needed for it.
	amp+=(--amp-dt-bin "$VMSG_OUT/host-tools/backends/vmsg-amp"
	      --amp-dt "$VMSG_AMP_DT" --dtc "$kdir/scripts/dtc/dtc")
fi
python3 "$VMSG_BENCH/vmsg_run.py" boot --mode "$mode" $tee "${amp[@]}" \
	--timeout "${VMSG_TIMEOUT:-1200}" "$arch" "$out/kernel" \
	"$out/initramfs.cpio" "$out/console.log"
if [ "$mode" = demo ]; then
	grep -q '^@@vmsg demo rc=0' "$out/console.log" || {
		vmsg_log "demo failed; console log: $out/console.log"
		exit 1
	}
	# The demo must also leave a clean kernel log.
	python3 "$VMSG_BENCH/vmsg_run.py" splats "$out/console.log"
fi
