#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench.sh ARCH [KERNEL]: the measurements of `make bench`, side by side in
# one guest of ARCH (bench-guest.sh) on the test kernel (KERNEL debug, the
# default) or on Debian's own (stock, x86_64), and their table. The
# environment sets:
#
#   BENCH_TIME   seconds per measurement window (3)
#   VMSG_AMP     the devices vmsg-amp serves the guest over the AMP bus
#                ("--blk 64 --net --rng"; empty: no AMP rows)
#
# Writes $VMSG_OUT/bench/LANE/bench.txt (printed) and bench.json (LANE:
# ARCH, or ARCH-stock), next to the guest's console.log. Figures, not results: the exit status is
# non-zero only if the guest did not finish its run or its kernel log has
# a splat.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

arch=$(vmsg_arch "${1:-x86_64}")
kernel=$(vmsg_kernel_kind "${2:-debug}")
lane=$(vmsg_lane "$arch" "$kernel")
secs=${BENCH_TIME:-3}
out=$VMSG_OUT/bench/$lane
mkdir -p "$out"
rm -f "$out/bench.txt" "$out/bench.json"

export VMSG_BENCH_SECONDS=$secs
# About four dozen windows, setting up and filling the disks; the host's
# limit leaves room for booting and powering off.
export VMSG_BENCH_TIMEOUT=$((secs * 80 + 540))
vmsg_log "$lane: benchmarks, $secs s per measurement"
"$VMSG_BENCH/stage.sh" "$arch" "$kernel"
# The AMP rows: a disk as big as the loopback's, an rng, two net devices.
amp=()
VMSG_AMP=${VMSG_AMP---blk 64 --net --rng}
if [ -n "$VMSG_AMP" ]; then
	make -s -C "$VMSG_TOP/tools/virtio-msg" OUTPUT="$VMSG_OUT/host-tools" \
		"$VMSG_OUT/host-tools/backends/vmsg-amp"
	amp=(--amp-bin "$VMSG_OUT/host-tools/backends/vmsg-amp" --amp "$VMSG_AMP")
fi
# The host's load around the run: other guests move the figures.
load0=$(cut -d' ' -f1-3 /proc/loadavg)
python3 "$VMSG_BENCH/vmsg_run.py" boot --mode bench "${amp[@]}" \
	--timeout $((VMSG_BENCH_TIMEOUT + 600)) "$arch" "$VMSG_OUT/$lane/kernel" \
	"$VMSG_OUT/$lane/initramfs.cpio" "$out/console.log"
load1=$(cut -d' ' -f1-3 /proc/loadavg)

python3 "$VMSG_BENCH/bench_report.py" --arch "$arch" \
	--host-load "$load0 before, $load1 after ($(nproc) CPUs)" \
	"$out/console.log" "$out"
rc=0
python3 "$VMSG_BENCH/vmsg_run.py" splats "$out/console.log" || rc=1
if ! grep -q '@@vmsg end program bench rc=0' "$out/console.log" ||
	! grep -q '@@vmsg done' "$out/console.log"; then
	vmsg_log "$lane: the guest did not finish its run"
	rc=1
fi
vmsg_log "table: $out/bench.txt, $out/bench.json; console log: $out/console.log"
exit $rc
