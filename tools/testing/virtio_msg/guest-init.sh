#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the virtio-msg test guests (busybox). The kernel command line
# picks the mode: vmsg.mode=check runs every suite listed in
# /etc/virtio_msg/suites and powers off; vmsg.mode=demo runs the demo;
# vmsg.mode=fuzz runs only the loopback fuzzer, with the options in
# /etc/virtio_msg/fuzz.args and a time limit of /etc/virtio_msg/fuzz.timeout
# seconds (make fuzz); vmsg.mode=bench runs the measurements of make bench
# (/opt/virtio_msg/bench.sh) within /etc/virtio_msg/bench.timeout seconds;
# vmsg.mode=shell gives a shell.
#
# Results go to the console between "@@vmsg begin KIND NAME" and
# "@@vmsg end KIND NAME rc=N" lines, which the host-side runner parses.

/bin/busybox mkdir -p /proc /sys /dev /tmp /run /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
hostname vmsg-guest
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
export HOME=/root
# Which fixes of patches/ the kernel carries. The test kernels (release
# ending in -vmsg, configs/common.config) carry them all; another kernel,
# Debian's own in the stock lane, none, and the tests that need one skip:
# patches/0001 and 0002 (virtio_blk fails the requests a broken queue
# holds, instead of waiting for them for ever in del_gendisk() or in the
# probe's partition scan; the fuzzer, which corrupts rings, needs it):
# VMSG_BLK_BREAK_FIXED; patches/0004 (virtio_console frees a broken hvc
# write once): VMSG_HVC_BREAK_FIXED.
case "$(uname -r)" in
*-vmsg)
	export VMSG_BLK_BREAK_FIXED=1
	export VMSG_HVC_BREAK_FIXED=1
	;;
*)
	# Debian's kernel has its virtio drivers as modules: load them as
	# udev would when a device appears (/sbin/vmsg-uevent). Nothing
	# loads the bus modules by alias yet: the tests modprobe
	# virtio_msg_loopback and virtio_msg_amp_pci by name.
	uevent /sbin/vmsg-uevent > /dev/null 2>&1 &
	;;
esac

mode=check
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	vmsg.mode=*) mode=${arg#vmsg.mode=} ;;
	esac
done

# Per-suite time limit inside the guest; the host adds its own.
SUITE_TIMEOUT=300

run_kunit() {
	name=$1 module=$2
	echo "@@vmsg begin kunit $name"
	if [ ! -d /sys/kernel/debug/kunit ] &&
	   ! grep -q "/$module\.ko:" "/lib/modules/$(uname -r)/modules.dep"; then
		# Debian's kernel: no CONFIG_KUNIT, so no suite module either
		# (Kbuild builds them only with it).
		echo "KTAP version 1"
		echo "1..1"
		echo "ok 1 $name # SKIP CONFIG_KUNIT is off in this kernel ($(uname -r))"
		echo "@@vmsg end kunit $name rc=0"
		return
	fi
	modprobe "$module"
	rc=$?
	results=/sys/kernel/debug/kunit/$name/results
	if [ $rc -eq 0 ] && [ -r "$results" ]; then
		cat "$results"
	else
		echo "# modprobe $module: rc=$rc, no results for suite $name"
		rc=1
	fi
	modprobe -r "$module" || rc=1
	echo "@@vmsg end kunit $name rc=$rc"
}

dump_dmesg() {
	echo "@@vmsg begin dmesg"
	dmesg
	echo "@@vmsg end dmesg"
}

# A task stuck in the kernel survives SIGKILL, and so would `timeout`:
# after the limit, a watchdog shows the kernel log (hung-task reports
# included) and powers off, so a hang costs minutes, not the host timeout.
watchdog() {
	sleep $((SUITE_TIMEOUT + 30))
	echo "@@vmsg watchdog: $1 still running after $SUITE_TIMEOUT s"
	dump_dmesg
	reboot -f
}

run_program() {
	kind=$1 name=$2 prog=$3
	shift 3
	echo "@@vmsg begin $kind $name"
	(cd "$(dirname "$prog")" && timeout -s KILL "$SUITE_TIMEOUT" "$prog" "$@")
	echo "@@vmsg end $kind $name rc=$?"
}

kmemleak_report() {
	k=/sys/kernel/debug/kmemleak
	[ -w $k ] || return 0
	# Objects younger than 5 s are never reported; let them age first.
	sleep 6
	echo scan > $k
	echo scan > $k
	echo "@@vmsg begin kmemleak"
	cat $k
	echo "@@vmsg end kmemleak"
}

run_check() {
	echo "@@vmsg boot arch=$(uname -m) release=$(uname -r)"
	# An ivshmem-doorbell device (1af4:1110), when the host added one.
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor" "$d/device" 2>/dev/null | tr '\n' ' ')" = \
		  "0x1af4 0x1110 " ] && echo "@@vmsg pci ivshmem ${d##*/}"
	done
	while read -r kind name what; do
		watchdog "$name" &
		dog=$!
		case "$kind" in
		kunit) run_kunit "$name" "$what" < /dev/null ;;
		kselftest|program)
			# The program's path, then its options if any.
			# shellcheck disable=SC2086
			set -- $what
			prog=$1
			shift
			run_program "$kind" "$name" "/opt/virtio_msg/$prog" "$@" < /dev/null ;;
		esac
		kill $dog
	done < /etc/virtio_msg/suites
	kmemleak_report
	dump_dmesg
	echo "@@vmsg done"
}

# The fuzzer alone, for as long as make fuzz asked, then the same
# kmemleak scan and kernel log as a check run.
run_fuzz() {
	echo "@@vmsg boot arch=$(uname -m) release=$(uname -r)"
	SUITE_TIMEOUT=$(cat /etc/virtio_msg/fuzz.timeout 2>/dev/null || echo 300)
	# shellcheck disable=SC2046
	set -- $(cat /etc/virtio_msg/fuzz.args 2>/dev/null)
	watchdog virtio_msg_loopback_fuzz &
	dog=$!
	run_program kselftest virtio_msg_loopback_fuzz \
		/opt/virtio_msg/selftests/virtio_msg_loopback_fuzz "$@" < /dev/null
	kill $dog
	kmemleak_report
	dump_dmesg
	echo "@@vmsg done"
}

# The measurements of make bench, then the kernel log for its splats.
run_bench() {
	echo "@@vmsg boot arch=$(uname -m) release=$(uname -r)"
	SUITE_TIMEOUT=$(cat /etc/virtio_msg/bench.timeout 2>/dev/null || echo 300)
	watchdog bench &
	dog=$!
	run_program program bench /opt/virtio_msg/bench.sh < /dev/null
	kill $dog
	dump_dmesg
	echo "@@vmsg done"
}

case "$mode" in
check)
	run_check
	;;
fuzz)
	run_fuzz
	;;
bench)
	run_bench
	;;
demo)
	/opt/virtio_msg/demo.sh
	rc=$?
	dump_dmesg
	echo "@@vmsg demo rc=$rc"
	;;
*)
	echo "virtio-msg guest: modules are in /lib/modules/$(uname -r)," \
		"tests in /opt/virtio_msg; leave the shell to power off."
	setsid cttyhack sh -l
	;;
esac
sync
reboot -f
