#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# check.sh: the whole bench, as `make check` runs it on a fresh machine.
# Installs what is missing, builds both test kernels (cached), fetches
# Debian's own kernel (cached), runs the linters, stages and boots the
# x86_64 and arm64 guests on the test kernels and an x86_64 guest on
# Debian's kernel (the stock lane, x86_64-stock), then prints the results
# per lane and suite and one closing "N passed, N failed" line.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ARCHES=${VMSG_ARCHES-x86_64 arm64}
# The arches of the stock lane (empty: none).
STOCK_ARCHES=${VMSG_STOCK_ARCHES-x86_64}
start=$(date +%s)
mkdir -p "$VMSG_OUT"

"$VMSG_BENCH/setup.sh"
for arch in $ARCHES; do
	"$VMSG_BENCH/kernel.sh" "$arch" >/dev/null
done
for arch in $STOCK_ARCHES; do
	"$VMSG_BENCH/stock-kernel.sh" "$arch" >/dev/null
done

lint=$VMSG_OUT/lint.result
"$VMSG_BENCH/lint.sh" --results "$lint" || true

# Every guest also gets an ivshmem-doorbell device served by vmsg-amp, for
# the AMP suite (device numbers 0 to 4, as virtio_msg_amp.c expects).
export VMSG_AMP=${VMSG_AMP---blk 16 --net --rng --console}
# The arm64 guest also has the AMP bus in its device tree, polled, with a
# region in its RAM that vmsg-amp serves (virtio_msg_amp_dt expects a disk
# and an entropy source there); guest.sh ignores it for x86_64.
export VMSG_AMP_DT=${VMSG_AMP_DT---blk 16 --rng}

logs=()
for arch in $ARCHES; do
	rm -f "$VMSG_OUT/$arch/console.log"
	if "$VMSG_BENCH/guest.sh" check "$arch"; then
		:
	else
		vmsg_log "$arch: staging or boot failed"
	fi
	logs+=("$arch=$VMSG_OUT/$arch/console.log")
done
# Debian's kernel has none of patches/: the cases that need one skip
# there, and a hang all the same ends the lane after its own time limit.
for arch in $STOCK_ARCHES; do
	lane=$(vmsg_lane "$arch" stock)
	rm -f "$VMSG_OUT/$lane/console.log"
	if VMSG_TIMEOUT=${VMSG_STOCK_TIMEOUT:-900} \
		"$VMSG_BENCH/guest.sh" check "$arch" stock; then
		:
	else
		vmsg_log "$lane: staging or boot failed"
	fi
	logs+=("$lane=$VMSG_OUT/$lane/console.log")
done

rc=0
python3 "$VMSG_BENCH/vmsg_run.py" report --suites "$VMSG_BENCH/suites" \
	--lint "$lint" "${logs[@]}" > "$VMSG_OUT/report.txt" || rc=$?
vmsg_log "check took $(( $(date +%s) - start )) s; guest logs in $VMSG_OUT"
cat "$VMSG_OUT/report.txt"
exit $rc
