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
# Each loopback window also says what the device side did meanwhile
# (cost_run): the backend's system calls (where the kernel has syscall
# histograms), the times it slept, its CPU time in user and system mode,
# and the device's kicks and used events, which bench_report.py turns
# into a cost per operation; and where the guest's kernel spent its
# timer ticks (the kernel is booted with profile=4: vmsg_bench_profile).
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
# received_* but the data path's kicks and used events); on bus $2
# (loopback by default).
probe_counters() {
	local s="/sys/kernel/debug/virtio_msg/${1##*/}" msgs=0 f
	for f in "$s"/sent_* "$s"/received_*; do
		case "${f##*/}" in
		sent_event_avail|received_event_used) continue ;;
		esac
		msgs=$((msgs + $(cat "$f")))
	done
	echo "dev=${1##*/} wire=$(cat "$1/virtio_msg/wire") bus=${2:-loopback}" \
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
rngpid=$!
start "$T/vmsg-blk" --size "$SPAN" --quiet
blkpid=$!
start "$T/vmsg-net" --quiet
netpid=$!
for drv in virtio_rng virtio_blk virtio_net; do
	if wait_for has_vdev "$drv"; then
		emit "probe_${drv#virtio_} $(probe_counters "$(vdevs_of "$drv" | head -n 1)")"
	else
		emit "probe_${drv#virtio_} na no device bound to $drv"
	fi
done

# --- what a loopback window costs the device side. The backends' system
# calls are counted by a histogram trigger on raw_syscalls:sys_enter
# (CONFIG_HIST_TRIGGERS: Debian's kernel has it, the test kernels do not),
# on for the whole loopback part so that every syscall of a figure and of
# its reference alike pays for the tracepoint.
cost_hist=""
cost_trig=""
mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
t=/sys/kernel/tracing/events/raw_syscalls/sys_enter
if [ -w $t/trigger ] && [ -e $t/hist ]; then
	cost_trig="hist:keys=common_pid.execname:vals=hitcount"
	cost_trig="$cost_trig if common_pid == $rngpid || common_pid == $blkpid"
	cost_trig="$cost_trig || common_pid == $netpid"
	echo "$cost_trig" > $t/trigger 2>/dev/null && cost_hist=$t/hist
fi
emit "meta cost_syscalls=$([ -n "$cost_hist" ] && echo yes || echo no)"

# "syscalls sleeps user_ticks sys_ticks kicks used_events" of backend
# $cost_pid (the backends are single-threaded) and of the virtio devices
# $cost_vdevs now.
cost_counters() {
	local sc=0 d s k=0 u=0
	[ -n "$cost_hist" ] && sc=$(awk -v p="$cost_pid" '
		$0 ~ "\\[ *" p "\\]" {
			for (i = 1; i < NF; i++) if ($i == "hitcount:") n = $(i + 1)
		}
		END { print n + 0 }' "$cost_hist")
	for d in $cost_vdevs; do
		s=/sys/kernel/debug/virtio_msg/${d##*/}
		k=$((k + $(cat "$s/sent_event_avail" 2>/dev/null || echo 0)))
		u=$((u + $(cat "$s/received_event_used" 2>/dev/null || echo 0)))
	done
	echo "$sc $(awk '$1 == "voluntary_ctxt_switches:" { print $2 }' \
		/proc/"$cost_pid"/status) $(awk '{ print $14, $15 }' \
		/proc/"$cost_pid"/stat) $k $u"
}

# cost_run ID PROGRAM ARGS...: run(), with what backend $cost_pid and the
# devices $cost_vdevs did over the window: be_syscalls (only where
# counted), be_sleeps (voluntary context switches), be_user_ms and
# be_sys_ms (in ticks of 10 ms), kicks and used_events; and kprof, the
# kernel's ticks over the window (where the kernel has /proc/profile).
cost_run() {
	local rid="$1" before after out prof=""
	shift
	"$B/vmsg_bench_profile" -r 2>/dev/null
	before=$(cost_counters)
	if out=$("$@" 2>/tmp/bench.err) && [ -n "$out" ]; then
		after=$(cost_counters)
		prof=$("$B/vmsg_bench_profile" 2>/dev/null)
		emit "$rid $out $(echo "$before $after" | awk -v h="$cost_hist" '{
			if (h != "") printf "be_syscalls=%d ", $7 - $1
			printf "be_sleeps=%d be_user_ms=%d be_sys_ms=%d",
				$8 - $2, ($9 - $3) * 10, ($10 - $4) * 10
			printf " kicks=%d used_events=%d", $11 - $5, $12 - $6
		}') $prof"
	else
		emit "$rid na $(basename "$1") failed: $(head -n 1 /tmp/bench.err)"
	fi
}

# --- request round trip: 64-byte hwrng reads against a pipe ping-pong
rng=$(basename "$(vdevs_of virtio_rng | head -n 1)" 2>/dev/null)
cur=/sys/class/misc/hw_random/rng_current
for r in $(cat /sys/class/misc/hw_random/rng_available 2>/dev/null); do
	case "$r" in virtio_rng.*) echo "$r" > $cur 2>/dev/null ;; esac
done
echo 0 > /sys/class/misc/hw_random/rng_quality 2>/dev/null
case "$(cat $cur 2>/dev/null)" in
virtio_rng.*)
	cost_pid=$rngpid
	cost_vdevs=$(vdevs_of virtio_rng)
	cost_run rtt_vmsg "$B/vmsg_bench_read" -s 64 -t "$SECS" /dev/hwrng ;;
*)
	emit "rtt_vmsg na the current hwrng is '$(cat $cur 2>/dev/null)', not that of $rng" ;;
esac
run rtt_pipe "$B/vmsg_bench_pipe" -s 64 -t "$SECS"

# --- block: the vmsg-blk RAM disk against a memory-backed null_blk and,
# where the kernel has it as a module, brd
vd=""
for d in $(vdevs_of virtio_blk); do
	for b in "$d"/block/*; do
		[ -e "$b" ] && vd=/dev/${b##*/}
	done
done
nb=""
nbdir=/sys/kernel/config/nullb/bench
# Where null_blk is a module (Debian's kernel), it and configfs must be
# loaded before configfs is mounted; no device of its own.
[ -e /sys/module/null_blk ] || modprobe null_blk nr_devices=0 2>/dev/null
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
# brd of the same size, where the kernel has it as a module (Debian's
# does; built in, its disks would be of the kernel's size, not ours).
rd=""
if [ ! -e /sys/module/brd ] &&
	modprobe brd rd_nr=1 rd_size=$((SPAN * 1024)) max_part=0 2>/dev/null &&
	wait_for test -b /dev/ram0; then
	rd=/dev/ram0
fi
emit "meta brd=${rd:-none}"
# NBD: the kernel's nbd driver, served from memory by a userspace process
# (vmsg_bench_nbd) over a socket pair, as another disk served by a process.
nbd=""
nbd_why="nbd (CONFIG_BLK_DEV_NBD) is not in this kernel"
nbd_size() { [ "$(cat /sys/block/nbd0/size 2>/dev/null || echo 0)" -gt 0 ]; }
if modprobe nbd nbds_max=1 2>/dev/null && wait_for test -b /dev/nbd0; then
	"$B/vmsg_bench_nbd" -S $SPAN /dev/nbd0 2>/tmp/nbd.err &
	nbd_pid=$!
	if wait_for nbd_size; then
		nbd=/dev/nbd0
	else
		nbd_why="vmsg_bench_nbd failed: $(head -n 1 /tmp/nbd.err)"
	fi
fi
# Fill the disks first, so that reads find data (null_blk, brd and the
# NBD server allocate or touch their memory on the first write).
[ -n "$vd" ] && run fill_vmsg "$B/vmsg_bench_blk" -m seqwrite -b 1048576 -S $SPAN -1 "$vd"
[ -n "$nb" ] && run fill_nullb "$B/vmsg_bench_blk" -m seqwrite -b 1048576 -S $SPAN -1 "$nb"
[ -n "$rd" ] && run fill_brd "$B/vmsg_bench_blk" -m seqwrite -b 1048576 -S $SPAN -1 "$rd"
[ -n "$nbd" ] && run fill_nbd "$B/vmsg_bench_blk" -m seqwrite -b 1048576 -S $SPAN -1 "$nbd"
cost_pid=$blkpid
cost_vdevs=$(vdevs_of virtio_blk)
for w in randread:4096:1 randread:4096:32 randwrite:4096:1 \
	 randwrite:4096:32 seqread:131072:1; do
	mode=${w%%:*}
	bs=${w#*:}
	jobs=${bs#*:}
	bs=${bs%:*}
	id=blk_${mode}_$((bs / 1024))k_qd$jobs
	for disk in vmsg:$vd nullb:$nb brd:$rd nbd:$nbd; do
		name=${disk%%:*}
		dev=${disk#*:}
		r=run
		[ "$name" = vmsg ] && r=cost_run
		if [ -b "$dev" ]; then
			$r "${id}_$name" "$B/vmsg_bench_blk" -m "$mode" -b "$bs" \
				-j "$jobs" -t "$SECS" -S $SPAN "$dev"
		elif [ "$name" = brd ] && [ -e /sys/module/brd ]; then
			emit "${id}_brd na brd is built into this kernel, its disks not of our size"
		elif [ "$name" = brd ]; then
			emit "${id}_brd na brd (CONFIG_BLK_DEV_RAM) is not a module of this kernel"
		elif [ "$name" = nbd ]; then
			emit "${id}_nbd na $nbd_why"
		else
			emit "${id}_$name na no $name disk"
		fi
	done
done
[ -n "$nb" ] && echo 0 > $nbdir/power && rmdir $nbdir
[ -n "$rd" ] && rmmod brd
if [ -n "$nbd" ]; then
	"$B/vmsg_bench_nbd" -d "$nbd"
	wait "$nbd_pid"
fi

# --- net: TCP between two namespaces, over vmsg-net and over veth.
# Each figure goes through $net_run (run, cost_run for the loopback or
# amp_run for the AMP bus).
net_run=run
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
	$net_run "net_stream_$id" "$B/vmsg_bench_net" stream -t "$SECS" "$b"
	$net_run "net_rr_$id" "$B/vmsg_bench_net" rr -t "$SECS" "$b"
	kill $srv
}

set --
for d in $(vdevs_of virtio_net); do
	for n in "$d"/net/*; do
		[ -e "$n" ] && set -- "$@" "${n##*/}"
	done
done
if [ $# -ge 2 ]; then
	cost_pid=$netpid
	cost_vdevs=$(vdevs_of virtio_net)
	net_run=cost_run
	net_pair vmsg 10.99.0.1 10.99.0.2 "$1" "$2"
	net_run=run
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

[ -n "$cost_hist" ] && echo "!$cost_trig" > "${cost_hist%/hist}/trigger"
for p in $pids; do kill "$p" 2>/dev/null; done
wait
pids=""
modprobe -r virtio_msg_loopback || emit "meta na modprobe -r virtio_msg_loopback failed"

# --- the AMP bus: the same loads over an ivshmem-doorbell device served by
# vmsg-amp on the host (make bench starts it), with the bus's own counters
# (debugfs) around each window: messages through the queues, doorbells
# both ways, and how many of each per message.
amp_pci=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ] &&
		amp_pci=$(readlink -f "$d")
done
# The virtio devices of driver $1 on the AMP bus.
amp_vdevs_of() {
	for d in /sys/bus/virtio/drivers/"$1"/virtio*; do
		case "$(readlink -f "$d")" in "$amp_pci"/*) echo "$d" ;; esac
	done
}
amp_ready() {
	[ -n "$(amp_vdevs_of virtio_blk)" ] && [ -n "$(amp_vdevs_of virtio_rng)" ] &&
		[ "$(amp_vdevs_of virtio_net | wc -l)" -ge 2 ]
}
# The debugfs statistics of the AMP instance of $amp_pci.
amp_stats_file() {
	for f in /sys/kernel/debug/virtio_msg_amp/amp*/stats; do
		grep -qx "parent ${amp_pci##*/}" "$f" 2>/dev/null && echo "$f"
	done
}
# "sent received rung taken notif_sent notif_received" now.
amp_counters() {
	awk '$1 == "messages_sent" { s = $2 } $1 == "messages_received" { r = $2 }
	     $1 == "doorbells_rung" { dr = $2 } $1 == "doorbells_taken" { dt = $2 }
	     $1 == "notifications_sent" { ns = $2 }
	     $1 == "notifications_received" { nr = $2 }
	     END { print s + 0, r + 0, dr + 0, dt + 0, ns + 0, nr + 0 }' "$amp_stats"
}
# amp_run ID PROGRAM ARGS...: run(), with what the bus did meanwhile.
amp_run() {
	local rid="$1" before after out t0 t1
	shift
	before=$(amp_counters)
	t0=$(cut -d' ' -f1 /proc/uptime)
	if out=$("$@" 2>/tmp/bench.err) && [ -n "$out" ]; then
		t1=$(cut -d' ' -f1 /proc/uptime)
		after=$(amp_counters)
		emit "$rid $out $(echo "$before $after $t0 $t1" | awk '{
			m = ($7 - $1) + ($8 - $2); d = ($9 - $3) + ($10 - $4)
			n = ($11 - $5) + ($12 - $6); t = $14 - $13
			if (t <= 0) t = 1
			printf "amp_msgs=%d amp_doorbells=%d amp_notif=%d", m, d, n
			printf " amp_msgs_s=%.0f", m / t
			if (m > 0) printf " amp_doorbells_per_msg=%.3f", d / m
			if (m + n > 0) printf " amp_doorbells_per_event=%.3f", d / (m + n)
		}')"
	else
		emit "$rid na $(basename "$1") failed: $(head -n 1 /tmp/bench.err)"
	fi
}
amp_na() {
	for i in rtt_amp blk_randread_4k_qd1_amp blk_randread_4k_qd32_amp \
		 blk_randwrite_4k_qd1_amp blk_randwrite_4k_qd32_amp \
		 blk_seqread_128k_qd1_amp net_stream_amp net_rr_amp; do
		emit "$i na $*"
	done
}

amp_stats=""
if [ -z "$amp_pci" ]; then
	amp_na "no ivshmem-doorbell device (make bench gives one unless VMSG_AMP is empty)"
elif ! modprobe virtio_msg_amp_pci || ! wait_for amp_ready; then
	amp_na "the AMP devices did not come (virtio_msg_amp_pci)"
else
	amp_stats=$(amp_stats_file)
fi
if [ -n "$amp_stats" ]; then
	emit "meta amp_pci=${amp_pci##*/} amp_devices=$(ls -d /sys/bus/virtio/devices/virtio* |
		while read -r d; do readlink -f "$d"; done | grep -c "^$amp_pci/")"
	# The queues alone: bus PINGs one after the other, in batches of 100
	# for a window, timed by the kernel (debugfs "ping").
	ping=${amp_stats%/stats}/ping
	end=$(($(cut -d. -f1 /proc/uptime) + SECS))
	: > /tmp/amp_ping
	while [ "$(cut -d. -f1 /proc/uptime)" -lt $end ] &&
		echo 100 > "$ping" 2>/tmp/bench.err; do
		cat "$ping" >> /tmp/amp_ping
	done
	if [ -s /tmp/amp_ping ]; then
		emit "amp_ping $(awk '$1 == "pings" { n += $2 }
			$1 == "total_ns" { t += $2 }
			$1 == "min_ns" && (min == "" || $2 < min) { min = $2 }
			$1 == "max_ns" && $2 > max { max = $2 }
			END { if (n == 0 || t == 0) { print "pings=0"; exit }
			      printf "pings=%d avg_us=%.1f min_us=%.1f max_us=%.1f msgs_s=%.0f\n",
				n, t / n / 1000, min / 1000, max / 1000, 2 * n / (t / 1e9) }' /tmp/amp_ping)"
	else
		emit "amp_ping na writing $ping failed: $(head -n 1 /tmp/bench.err)"
	fi

	# The loopback's rng went with its module: the AMP one is left.
	for r in $(cat /sys/class/misc/hw_random/rng_available 2>/dev/null); do
		case "$r" in virtio_rng.*) echo "$r" > $cur 2>/dev/null ;; esac
	done
	case "$(cat $cur 2>/dev/null)" in
	virtio_rng.*)
		amp_run rtt_amp "$B/vmsg_bench_read" -s 64 -t "$SECS" /dev/hwrng ;;
	*)
		emit "rtt_amp na the current hwrng is '$(cat $cur 2>/dev/null)'" ;;
	esac

	vd=""
	for d in $(amp_vdevs_of virtio_blk); do
		for b in "$d"/block/*; do
			[ -e "$b" ] && vd=/dev/${b##*/}
		done
	done
	if [ -b "$vd" ]; then
		amp_run fill_amp "$B/vmsg_bench_blk" -m seqwrite -b 1048576 -S $SPAN -1 "$vd"
		for w in randread:4096:1 randread:4096:32 randwrite:4096:1 \
			 randwrite:4096:32 seqread:131072:1; do
			mode=${w%%:*}
			bs=${w#*:}
			jobs=${bs#*:}
			bs=${bs%:*}
			amp_run "blk_${mode}_$((bs / 1024))k_qd${jobs}_amp" \
				"$B/vmsg_bench_blk" -m "$mode" -b "$bs" -j "$jobs" \
				-t "$SECS" -S $SPAN "$vd"
		done
	else
		amp_na "no AMP disk"
	fi

	set --
	for d in $(amp_vdevs_of virtio_net); do
		for n in "$d"/net/*; do
			[ -e "$n" ] && set -- "$@" "${n##*/}"
		done
	done
	if [ $# -ge 2 ]; then
		net_run=amp_run
		net_pair amp 10.97.0.1 10.97.0.2 "$1" "$2"
		net_run=run
	else
		emit "net_stream_amp na want two AMP virtio-net interfaces, found $#"
		emit "net_rr_amp na want two AMP virtio-net interfaces, found $#"
	fi
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait
	emit "amp_totals $(tr ' ' '=' < "$amp_stats" | tr '\n' ' ')"
	rmmod virtio_msg_amp_pci || emit "meta na rmmod virtio_msg_amp_pci failed"
fi

# --- the FF-A bus (arm64): the same loads through the simulated partition
# of ffa_sim, whose device side is vmsg-ffa-sim, once with FF-A
# notifications and once polled. Never busy (busy_every=0): a figure of
# the path, not of the busy retries the tests provoke.
F=/opt/virtio_msg/ffa
ffa_ids="rtt blk_randread_4k_qd1 blk_seqread_128k_qd1 net_stream net_rr"
ffa_na() {
	local m=$1 i
	shift
	for i in rng blk net; do
		emit "probe_ffa_${m}_$i na $*"
	done
	for i in $ffa_ids; do
		emit "${i}_ffa_$m na $*"
	done
}
# The virtio devices of driver $1 below an FF-A partition.
ffa_vdevs_of() {
	for d in /sys/bus/virtio/drivers/"$1"/virtio*; do
		case "$(readlink -f "$d")" in */arm-ffa-*) echo "$d" ;; esac
	done
}
ffa_ready() {
	[ -n "$(ffa_vdevs_of virtio_blk)" ] && [ -n "$(ffa_vdevs_of virtio_rng)" ] &&
		[ "$(ffa_vdevs_of virtio_net | wc -l)" -ge 2 ]
}
ffa_mode() {
	local m=$1 notif=1 d b n vd sim
	[ "$m" = poll ] && notif=0
	if ! modprobe virtio_msg_ffa_sim notifications=$notif busy_every=0 \
		2>/tmp/bench.err; then
		ffa_na "$m" "no FF-A simulator on $(uname -m)"
		return
	fi
	modprobe virtio_msg_ffa
	"$F/vmsg-ffa-sim" --rng --blk "$SPAN" --net -q &
	sim=$!
	if ! wait_for ffa_ready; then
		ffa_na "$m" "the FF-A devices did not come"
	else
		emit "meta ffa_$m=$(dmesg | grep 'virtio-msg bus: .* shared as area' |
			tail -n 1 | sed 's/.*virtio-msg bus: //; s/ /_/g')"
		for i in rng blk net; do
			emit "probe_ffa_${m}_$i $(probe_counters \
				"$(ffa_vdevs_of "virtio_$i" | head -n 1)" ffa_$m)"
		done
		for r in $(cat /sys/class/misc/hw_random/rng_available 2>/dev/null); do
			case "$r" in virtio_rng.*) echo "$r" > $cur 2>/dev/null ;; esac
		done
		case "$(cat $cur 2>/dev/null)" in
		virtio_rng.*)
			run "rtt_ffa_$m" "$B/vmsg_bench_read" -s 64 -t "$SECS" /dev/hwrng ;;
		*)
			emit "rtt_ffa_$m na the current hwrng is '$(cat $cur 2>/dev/null)'" ;;
		esac
		vd=""
		for d in $(ffa_vdevs_of virtio_blk); do
			for b in "$d"/block/*; do
				[ -e "$b" ] && vd=/dev/${b##*/}
			done
		done
		run "fill_ffa_$m" "$B/vmsg_bench_blk" -m seqwrite -b 1048576 -S $SPAN -1 "$vd"
		run "blk_randread_4k_qd1_ffa_$m" "$B/vmsg_bench_blk" -m randread \
			-b 4096 -j 1 -t "$SECS" -S $SPAN "$vd"
		run "blk_seqread_128k_qd1_ffa_$m" "$B/vmsg_bench_blk" -m seqread \
			-b 131072 -j 1 -t "$SECS" -S $SPAN "$vd"
		set --
		for d in $(ffa_vdevs_of virtio_net); do
			for n in "$d"/net/*; do
				[ -e "$n" ] && set -- "$@" "${n##*/}"
			done
		done
		net_pair "ffa_$m" 10.96.0.1 10.96.0.2 "$1" "$2"
		emit "ffa_totals_$m $(tr ' ' '=' < /sys/kernel/debug/virtio_msg_ffa_sim/stats |
			tr '\n' ' ')"
	fi
	for p in $pids; do kill "$p" 2>/dev/null; done
	kill "$sim" 2>/dev/null
	wait
	pids=""
	rmmod virtio_msg_ffa virtio_msg_ffa_sim ||
		emit "meta na rmmod virtio_msg_ffa virtio_msg_ffa_sim failed"
}
ffa_mode notif
ffa_mode poll

# The ceiling of a bus that copies every byte: memcpy of the same blocks,
# from RAM and out of the shared region (read-only: the bus is gone).
for bs in 4096 131072; do
	run "memcpy_$((bs / 1024))k" "$B/vmsg_bench_memcpy" -b $bs -t "$SECS"
	if [ -n "$amp_pci" ] && [ -e "$amp_pci/resource2" ]; then
		run "memcpy_region_$((bs / 1024))k" "$B/vmsg_bench_memcpy" \
			-b $bs -t "$SECS" -r "$amp_pci/resource2"
	else
		emit "memcpy_region_$((bs / 1024))k na no ivshmem-doorbell device"
	fi
done
exit 0
