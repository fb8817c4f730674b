#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The virtio-msg demo, run inside a guest by `make demo`: four ordinary
# virtio drivers (blk, net, rng, console) bound to devices served by
# userspace backends over the loopback bus, then over AMP with an
# ivshmem-doorbell device, then (arm64) a disk over FF-A through the
# simulated partition of ffa_sim. Exits 0 only if every step
# worked. The backends speak the v2 wire generation, or the one given
# with vmsg.wire=v1|v2 on the kernel command line.

T=/opt/virtio_msg/tools
failed=0
pids=""

say() { printf '\n=== %s\n' "$*"; }
ok() { echo "--> ok: $*"; }
bad() { echo "--> FAILED: $*"; failed=$((failed + 1)); }

# wait_for TEST... : poll up to 120 s for a condition to hold.
wait_for() {
	i=0
	while ! "$@"; do
		i=$((i + 1))
		[ $i -gt 1200 ] && return 1
		usleep 100000
	done
}

# Has driver NAME bound a virtio device? Evaluated anew on every poll.
has_vdev() {
	[ -n "$(vdevs_of "$1")" ]
}

start() {
	"$@" &
	pids="$pids $!"
}

# The virtio device directories whose driver is NAME.
vdevs_of() {
	for d in /sys/bus/virtio/drivers/"$1"/virtio*; do
		[ -e "$d" ] && echo "$d"
	done
}

# blk_roundtrip DISK: 8 MiB of random bytes written, read back cold and
# compared; leaves them in /tmp/pattern and their checksum in $want.
blk_roundtrip() {
	dd if=/dev/urandom of=/tmp/pattern bs=1M count=8 2>/dev/null
	want=$(sha256sum < /tmp/pattern | cut -d' ' -f1)
	dd if=/tmp/pattern of="$1" bs=1M conv=fsync 2>/dev/null
	echo 3 > /proc/sys/vm/drop_caches
	got=$(dd if="$1" bs=1M count=8 2>/dev/null | sha256sum | cut -d' ' -f1)
	echo "written  $want"
	echo "read     $got"
	[ "$want" = "$got" ] && ok "checksums match" || bad "checksums differ"
}

# ping_pair IF1 IF2 NET: IF2 in a network namespace of its own, so that a
# ping from NET.1 to NET.2 crosses the bus.
ping_pair() {
	if [ -z "$2" ]; then
		bad "want two virtio-net interfaces, found: $*"
		return
	fi
	unshare -n sleep 600 &
	nspid=$!
	pids="$pids $nspid"
	usleep 200000
	ip link set dev "$2" netns "$nspid" &&
		ip addr add "$3.1/24" dev "$1" && ip link set "$1" up &&
		nsenter -t "$nspid" -n ip addr add "$3.2/24" dev "$2" &&
		nsenter -t "$nspid" -n ip link set "$2" up &&
		ping -c 3 -W 5 "$3.2" && ok "ping across $1 -> $2" ||
		bad "ping between $1 and $2"
}

say "loading the virtio-msg loopback bus"
modprobe virtio_msg_loopback allow_console=1 && ok "$(lsmod | grep -c virtio_msg) modules" ||
	bad "modprobe virtio_msg_loopback"


wire=v2
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	vmsg.wire=*) wire=${arg#vmsg.wire=} ;;
	esac
done

say "starting the backends (userspace device side), wire generation $wire"
start "$T/vmsg-blk" --size 64 --quiet --wire "$wire"
start "$T/vmsg-rng" --quiet --wire "$wire"
start "$T/vmsg-net" --quiet --wire "$wire"
# An hvc write spins, interrupts off, until the device takes the bytes; the
# backend is a process of this guest, so it gets a CPU of its own, and
# whatever may spin for it (khvcd, the bus's delivery work, our writer)
# stays on the other (Documentation/userspace-api/virtio_msg_loopback.rst).
echo 1 > /sys/devices/virtual/workqueue/virtio_msg_lb/cpumask ||
	bad "pinning the loopback delivery work"
start taskset 2 "$T/vmsg-console" --quiet --wire "$wire"
for drv in virtio_blk virtio_rng virtio_net virtio_console; do
	if wait_for has_vdev "$drv"; then
		ok "$drv bound to $(vdevs_of $drv | xargs -n1 basename | xargs)"
	else
		bad "no device bound to $drv"
	fi
done

say "block: the disk (lsblk)"
for b in /sys/block/vd*; do
	[ -e "$b" ] || continue
	echo "$(basename "$b")  $(($(cat "$b/size") / 2048)) MiB  ro=$(cat "$b/ro")" \
		" via $(basename "$(readlink -f "$b/device")")"
done
disk=$(ls -d /sys/block/vd* 2>/dev/null | head -n 1)
disk=/dev/${disk##*/}

say "block: write 8 MiB, read it back, compare checksums"
if [ -b "$disk" ]; then
	blk_roundtrip "$disk"
	mkdir -p /mnt
	mke2fs -q "$disk" > /dev/null && mount -t ext2 "$disk" /mnt &&
		cp /tmp/pattern /mnt/pattern && umount /mnt &&
		mount -t ext2 "$disk" /mnt &&
		[ "$(sha256sum < /mnt/pattern | cut -d' ' -f1)" = "$want" ] &&
		umount /mnt && ok "ext2: file survives a remount" ||
		bad "ext2 round trip"
else
	bad "no virtio block device"
fi

say "net: the two back-to-back interfaces (ip link)"
nics=""
for d in $(vdevs_of virtio_net); do
	for n in "$d"/net/*; do
		[ -e "$n" ] && nics="$nics ${n##*/}"
	done
done
ip link show
set -- $nics
ping_pair "$1" "$2" 10.99.0

say "rng: bytes from /dev/hwrng"
echo "current rng: $(cat /sys/class/misc/hw_random/rng_current)"
n=$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | tee /tmp/rng | wc -c)
hexdump -C /tmp/rng
[ "$n" -eq 32 ] && ok "32 bytes" || bad "read $n bytes from /dev/hwrng"

say "console: echo through the hvc port"
n=$(ls -d /sys/bus/virtio/drivers/virtio_console/virtio*/virtio-ports/* 2>/dev/null | wc -l)
echo "$n console port(s)"
hvc=""
for i in 0 1 2 3 4 5 6 7; do
	# Only a live port opens; the guest's own console is not an hvc.
	if [ -c /dev/hvc$i ] && (exec 4<>/dev/hvc$i) 2>/dev/null; then
		hvc=/dev/hvc$i
		break
	fi
done
if [ -n "$hvc" ]; then
	taskset -p 1 "$(pidof khvcd)" >/dev/null
	msg="hello over virtio-msg $$"
	# Raw and without local echo, or the echo would bounce back for ever.
	exec 3<>"$hvc"
	stty raw -echo <&3
	timeout 20 head -c ${#msg} <&3 > /tmp/echo &
	reader=$!
	taskset 1 sh -c 'printf %s "$1" >&3' sh "$msg"
	wait $reader
	exec 3<&-
	echo "wrote to $hvc: $msg"
	echo "read back:    $(cat /tmp/echo)"
	[ "$(cat /tmp/echo)" = "$msg" ] && ok "echo through $hvc" ||
		bad "console echo"
else
	bad "no live hvc port"
fi

say "virtio-msg statistics per device"
for d in /sys/bus/virtio/devices/virtio*; do
	[ -d "$d/virtio_msg" ] || continue
	s=/sys/kernel/debug/virtio_msg/$(basename "$d")
	drv=$(basename "$(readlink -f "$d/driver")")
	echo "$(basename "$d") ($drv): probe round trips $(cat $s/probe_round_trips)," \
		"requests $(cat $s/requests), timeouts $(cat $s/timeouts)," \
		"bad $(cat $s/bad_messages), late $(cat $s/late_replies)," \
		"kicks sent $(cat $s/sent_event_avail), used events $(cat $s/received_event_used)"
done

say "stopping the backends"
for p in $pids; do kill "$p" 2>/dev/null; done
wait
modprobe -r virtio_msg_loopback && ok "modules unloaded" || bad "unload"

# With an ivshmem-doorbell device (make demo gives one), the same drivers
# over the AMP bus: vmsg-amp on the host serves a disk and two network
# devices from the shared region.
amp_pci=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ] &&
		amp_pci=$(readlink -f "$d")
done
# The entries of class directory $1 whose device is on the AMP bus.
amp_entries() {
	for e in "$1"/*; do
		case "$(readlink -f "$e/device" 2>/dev/null)" in
		"$amp_pci"/*) echo "${e##*/}" ;;
		esac
	done
}
amp_ready() {
	[ -n "$(amp_entries /sys/block)" ] &&
		[ "$(amp_entries /sys/class/net | wc -l)" -ge 2 ]
}
if [ -n "$amp_pci" ]; then
	say "AMP: the devices of vmsg-amp on the host, over shared memory"
	modprobe virtio_msg_amp_pci && wait_for amp_ready &&
		ok "virtio_msg_amp_pci: $(amp_entries /sys/block) and" \
		   "$(amp_entries /sys/class/net | xargs) via ${amp_pci##*/}" ||
		bad "no AMP disk and network devices"
	say "AMP block: write 8 MiB, read it back, compare checksums"
	amp_disk=$(amp_entries /sys/block | head -n 1)
	[ -n "$amp_disk" ] && blk_roundtrip "/dev/$amp_disk" ||
		bad "no AMP disk"
	say "AMP net: ping between the two interfaces"
	ping_pair $(amp_entries /sys/class/net) 10.98.0
	for d in /sys/bus/virtio/devices/virtio*; do
		case "$(readlink -f "$d")" in
		"$amp_pci"/*)
			echo "$(basename "$d"): DMA window" \
				"$(cat $d/virtio_msg/dma_window_size) bytes," \
				"bounced $(cat /sys/kernel/debug/virtio_msg/$(basename "$d")/dma_bounce_bytes) now" ;;
		esac
	done
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait
	rmmod virtio_msg_amp_pci && ok "AMP glue unloaded" || bad "AMP unload"
fi

# Where the kernel has FF-A (arm64), a disk served by an FF-A partition:
# the simulated one of ffa_sim, whose device side is vmsg-ffa-sim.
F=/opt/virtio_msg/ffa
# The entries of class directory $1 whose device is on the FF-A bus.
ffa_entries() {
	for e in "$1"/*; do
		case "$(readlink -f "$e/device" 2>/dev/null)" in
		*/arm-ffa-*) echo "${e##*/}" ;;
		esac
	done
}
ffa_ready() {
	[ -n "$(ffa_entries /sys/block)" ]
}
if modprobe virtio_msg_ffa_sim 2>/dev/null; then
	say "FF-A: a disk served by an FF-A partition (the simulated one)"
	modprobe virtio_msg_ffa || bad "modprobe virtio_msg_ffa"
	"$F/vmsg-ffa-sim" --blk 16 -q &
	ffa_sim=$!
	# Up to a minute, a look a second: ffa_ready forks per disk.
	i=0
	while ! ffa_ready && [ $i -lt 60 ]; do
		sleep 1
		i=$((i + 1))
	done
	if ffa_ready; then
		ffa_disk=$(ffa_entries /sys/block | head -n 1)
		part=$(readlink -f "/sys/block/$ffa_disk/device" | tr / '\n' |
			grep -m1 '^arm-ffa-')
		ok "$ffa_disk: $(($(cat "/sys/block/$ffa_disk/size") / 2048)) MiB" \
		   "served over FF-A by partition $part (simulated)"
		dmesg | grep -m1 'virtio-msg bus: .* shared as area' |
			sed 's/^\[[^]]*\] //'
		say "FF-A block: write 8 MiB, read it back, compare checksums"
		blk_roundtrip "/dev/$ffa_disk"
	else
		bad "no disk over FF-A"
	fi
	kill "$ffa_sim" 2>/dev/null
	wait "$ffa_sim"
	rmmod virtio_msg_ffa && rmmod virtio_msg_ffa_sim &&
		ok "FF-A bus and partition unloaded" || bad "FF-A unload"
else
	say "FF-A: skipped: no FF-A on $(uname -m)"
fi

echo
if [ $failed -eq 0 ]; then
	echo "demo: every step worked (wire generation $wire)"
else
	echo "demo: $failed step(s) failed (wire generation $wire)"
fi
[ $failed -eq 0 ]
