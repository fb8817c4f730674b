#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The measurements of `make bench`, run inside a guest (vmsg.mode=bench):
# every figure next to its reference, in the same boot. Each measurement
# is one console line
#
#   @@bench ID key=value...      a figure (what the load program printed)
#   @@bench ID na WHY            a reference this guest cannot measure
#
# which bench-report.py turns into the table. Nothing here passes or
# fails: a measurement that did not work prints "na" and why. Each window
# lasts /etc/virtio_msg/bench.seconds seconds (3 by default).
#
# busybox ash has "local".
# shellcheck disable=SC3043

T=/opt/virtio_msg/tools
B=/opt/virtio_msg/bench
SECS=$(cat /etc/virtio_msg/bench.seconds 2>/dev/null || echo 3)
# The disks, virtio-msg and null_blk alike, are used over this many MiB.
SPAN=64
pids=""

emit() { echo "@@bench $*"; }

# run ID PROGRAM ARGS...: one measurement, or "na" with its error.
run() {
	local rid="$1" out
	shift
	if out=$("$@" 2>/tmp/bench.err) && [ -n "$out" ]; then
		emit "$rid $out"
	else
		emit "$rid na $(basename "$1") failed: $(head -n 1 /tmp/bench.err)"
	fi
}

# Poll up to 60 s for a condition to hold.
wait_for() {
	local i=0
	while ! "$@"; do
		i=$((i + 1))
		[ $i -gt 600 ] && return 1
		usleep 100000
	done
}

start() {
	"$@" &
	pids="$pids $!"
}

vdevs_of() {
	for d in /sys/bus/virtio/drivers/"$1"/virtio*; do
		[ -e "$d/virtio_msg" ] && echo "$d"
	done
}

has_vdev() { [ -n "$(vdevs_of "$1")" ]; }

# Counters of one device right after its driver bound: probe round trips,
# requests, and the control messages both ways (every sent_* and
# received_* but the data path's kicks and used events).
probe_counters() {
	local s="$1/virtio_msg" msgs=0 f
	for f in "$s"/sent_* "$s"/received_*; do
		case "${f##*/}" in
		sent_event_avail|received_event_used) continue ;;
		esac
		msgs=$((msgs + $(cat "$f")))
	done
	echo "dev=${1##*/} wire=$(cat "$s/wire") bus=loopback" \
		"probe_round_trips=$(cat "$s/probe_round_trips")" \
		"requests=$(cat "$s/requests") messages=$msgs" \
		"kicks=$(cat "$s/sent_event_avail")" \
		"used_events=$(cat "$s/received_event_used")"
}

debug_flags() {
	kasan=no lockdep=no kmemleak=no
	dmesg | grep -q 'KernelAddressSanitizer initialized' && kasan=yes
	[ -e /proc/lockdep ] && lockdep=yes
	[ -e /sys/kernel/debug/kmemleak ] && kmemleak=yes
	echo "release=$(uname -r) machine=$(uname -m) cpus=$(nproc)" \
		"kasan=$kasan lockdep=$lockdep kmemleak=$kmemleak seconds=$SECS"
}

emit "meta $(debug_flags)"

# The hwrng core would keep reading the device to feed the entropy pool;
# quality 0 keeps that thread off, so only our reads reach the device.
echo 0 > /sys/module/rng_core/parameters/default_quality 2>/dev/null
modprobe virtio_msg_loopback || emit "meta na modprobe virtio_msg_loopback failed"
start "$T/vmsg-rng" --quiet
start "$T/vmsg-blk" --size "$SPAN" --quiet
start "$T/vmsg-net" --quiet
for drv in virtio_rng virtio_blk virtio_net; do
	if wait_for has_vdev "$drv"; then
		emit "probe_${drv#virtio_} $(probe_counters "$(vdevs_of "$drv" | head -n 1)")"
	else
		emit "probe_${drv#virtio_} na no device bound to $drv"
	fi
done

# --- request round trip: 64-byte hwrng reads against a pipe ping-pong
rng=$(basename "$(vdevs_of virtio_rng | head -n 1)" 2>/dev/null)
cur=/sys/class/misc/hw_random/rng_current
for r in $(cat /sys/class/misc/hw_random/rng_available 2>/dev/null); do
	case "$r" in virtio_rng.*) echo "$r" > $cur 2>/dev/null ;; esac
done
echo 0 > /sys/class/misc/hw_random/rng_quality 2>/dev/null
case "$(cat $cur 2>/dev/null)" in
virtio_rng.*)
	run rtt_vmsg "$B/vmsg_bench_read" -s 64 -t "$SECS" /dev/hwrng ;;
*)
	emit "rtt_vmsg na the current hwrng is '$(cat $cur 2>/dev/null)', not that of $rng" ;;
esac
run rtt_pipe "$B/vmsg_bench_pipe" -s 64 -t "$SECS"

# --- block: the vmsg-blk RAM disk against a memory-backed null_blk
vd=""
for d in $(vdevs_of virtio_blk); do
	for b in "$d"/block/*; do
		[ -e "$b" ] && vd=/dev/${b##*/}
	done
done
nb=""
nbdir=/sys/kernel/config/nullb/bench
mkdir -p /sys/kernel/config
mount -t configfs configfs /sys/kernel/config 2>/dev/null
if mkdir $nbdir 2>/dev/null; then
	echo "$SPAN" > $nbdir/size
	echo 1 > $nbdir/memory_backed 2>/dev/null
	# The disk is named after the configfs item on 6.12 (nullbN before).
	if echo 1 > $nbdir/power; then
		nb=/dev/bench
		[ -e /sys/block/bench ] || nb=/dev/nullb$(cat $nbdir/index)
	fi
fi
[ -n "$nb" ] && ! wait_for test -b "$nb" && nb=""
emit "meta nullb=${nb:-none} memory_backed=$(cat $nbdir/memory_backed 2>/dev/null || echo none)"
# Fill both disks first, so that reads find data (null_blk allocates its
# memory on the first write).
[ -n "$vd" ] && run fill_vmsg "$B/vmsg_bench_blk" -m seqwrite -b 1048576 -S $SPAN -1 "$vd"
[ -n "$nb" ] && run fill_nullb "$B/vmsg_bench_blk" -m seqwrite -b 1048576 -S $SPAN -1 "$nb"
for w in randread:4096:1 randread:4096:32 randwrite:4096:1 \
	 randwrite:4096:32 seqread:131072:1; do
	mode=${w%%:*}
	bs=${w#*:}
	jobs=${bs#*:}
	bs=${bs%:*}
	id=blk_${mode}_$((bs / 1024))k_qd$jobs
	for disk in vmsg:$vd nullb:$nb; do
		name=${disk%%:*}
		dev=${disk#*:}
		if [ -b "$dev" ]; then
			run "${id}_$name" "$B/vmsg_bench_blk" -m "$mode" -b "$bs" \
				-j "$jobs" -t "$SECS" -S $SPAN "$dev"
		else
			emit "${id}_$name na no $name disk"
		fi
	done
	if [ -e /sys/module/brd ]; then
		emit "${id}_brd na brd is in this kernel but the bench does not set it up"
	else
		emit "${id}_brd na brd (CONFIG_BLK_DEV_RAM) is not in the test kernels"
	fi
	if [ -e /sys/module/nbd ]; then
		emit "${id}_nbd na the guest has no NBD server (nbdkit) for the kernel's nbd"
	else
		emit "${id}_nbd na nbd (CONFIG_BLK_DEV_NBD) is not in this kernel"
	fi
done
[ -n "$nb" ] && echo 0 > $nbdir/power && rmdir $nbdir

# --- net: TCP between two namespaces, over vmsg-net and over veth.
# net_pair ID ADDR_A ADDR_B IF_A IF_B: IF_B goes to a namespace of its
# own with the server; the client stays here with IF_A.
net_pair() {
	local id=$1 a=$2 b=$3 ifa=$4 ifb=$5 ns srv
	unshare -n sleep 600 &
	ns=$!
	pids="$pids $ns"
	usleep 200000
	if ! { ip link set dev "$ifb" netns "$ns" &&
		ip addr add "$a/24" dev "$ifa" && ip link set "$ifa" up &&
		nsenter -t "$ns" -n ip addr add "$b/24" dev "$ifb" &&
		nsenter -t "$ns" -n ip link set "$ifb" up &&
		ping -c 1 -W 10 "$b" > /dev/null; }; then
		emit "net_stream_$id na setting up $ifa and $ifb failed"
		emit "net_rr_$id na setting up $ifa and $ifb failed"
		return
	fi
	nsenter -t "$ns" -n "$B/vmsg_bench_net" server &
	srv=$!
	run "net_stream_$id" "$B/vmsg_bench_net" stream -t "$SECS" "$b"
	run "net_rr_$id" "$B/vmsg_bench_net" rr -t "$SECS" "$b"
	kill $srv
}

set --
for d in $(vdevs_of virtio_net); do
	for n in "$d"/net/*; do
		[ -e "$n" ] && set -- "$@" "${n##*/}"
	done
done
if [ $# -ge 2 ]; then
	net_pair vmsg 10.99.0.1 10.99.0.2 "$1" "$2"
else
	emit "net_stream_vmsg na want two virtio-net interfaces, found $#"
	emit "net_rr_vmsg na want two virtio-net interfaces, found $#"
fi
# The peer of a veth is the interface whose index is the other's iflink.
peer=""
if ip link add vbench0 type veth 2>/tmp/bench.err; then
	want=$(cat /sys/class/net/vbench0/iflink)
	for n in /sys/class/net/*; do
		[ "$(cat "$n/ifindex")" = "$want" ] && peer=${n##*/}
	done
fi
if [ -n "$peer" ]; then
	net_pair veth 10.98.0.1 10.98.0.2 vbench0 "$peer"
else
	emit "net_stream_veth na ip link add type veth: $(head -n 1 /tmp/bench.err)"
	emit "net_rr_veth na ip link add type veth: $(head -n 1 /tmp/bench.err)"
fi

for p in $pids; do kill "$p" 2>/dev/null; done
wait
modprobe -r virtio_msg_loopback || emit "meta na modprobe -r virtio_msg_loopback failed"
exit 0
