#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# fuzz.sh ARCH: a long run of the loopback fuzzer (virtio_msg_loopback_fuzz)
# alone in a guest of ARCH, as `make fuzz` runs it. The environment sets:
#
#   FUZZ_MESSAGES   messages read plus written to stop after (1000000)
#   FUZZ_SEED       the seed (default: a random one, printed)
#   FUZZ_TIME       time limit of the fuzzing, in seconds (3600)
#   FUZZ_ARGS       more fuzzer options (--keep-going, --verbose, ...)
#
# The console log goes to $VMSG_OUT/fuzz/ARCH/console.log and what the
# fuzzer and the kernel reported to $VMSG_OUT/fuzz/ARCH/summary.txt, which
# is printed. Exits 0 only if the fuzzer passed and the kernel log has no
# splat.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

arch=$(vmsg_arch "${1:-x86_64}")
messages=${FUZZ_MESSAGES:-1000000}
seed=${FUZZ_SEED:-0x$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')}
time_s=${FUZZ_TIME:-3600}
out=$VMSG_OUT/fuzz/$arch
mkdir -p "$out"

# The guest's own limit leaves room for the last round and the kmemleak
# scan; the host's leaves room for booting and powering off.
export VMSG_FUZZ_ARGS="--seed $seed --messages $messages --time-limit $time_s ${FUZZ_ARGS:-}"
export VMSG_FUZZ_TIMEOUT=$((time_s + 300))
export VMSG_SUITES='^virtio_msg_loopback_fuzz$'
vmsg_log "$arch: fuzzing with $VMSG_FUZZ_ARGS"
"$VMSG_BENCH/stage.sh" "$arch"
python3 "$VMSG_BENCH/vmsg_run.py" boot --mode fuzz \
	--timeout $((VMSG_FUZZ_TIMEOUT + 300)) "$arch" "$VMSG_OUT/$arch/kernel" \
	"$VMSG_OUT/$arch/initramfs.cpio" "$out/console.log"

rc=0
{
	echo "fuzz $arch: $VMSG_FUZZ_ARGS"
	grep -a -E '^# (fuzz|kmsg):|@@vmsg (end|watchdog|host)' \
		"$out/console.log" | tr -d '\r' || true
	python3 "$VMSG_BENCH/vmsg_run.py" splats "$out/console.log" || rc=1
	grep -q '@@vmsg end kselftest virtio_msg_loopback_fuzz rc=0' \
		"$out/console.log" || rc=1
	grep -q '@@vmsg done' "$out/console.log" || rc=1
	[ $rc = 0 ] && echo "fuzz $arch: passed" || echo "fuzz $arch: FAILED"
} > "$out/summary.txt" 2>&1 || rc=1
cat "$out/summary.txt"
vmsg_log "console log: $out/console.log"
exit $rc
