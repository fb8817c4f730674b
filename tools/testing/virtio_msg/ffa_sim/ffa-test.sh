#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# ffa-test.sh notif|poll: virtio-msg over FF-A through the simulated
# partition, in the guest. KTAP on stdout; every test is skipped where
# the simulator cannot load (no FF-A: x86_64).
#
# The partition serves rng, blk, two network devices wired back to back
# and an echoing console. The memory shared with it is the region of the
# device tree's virtio,msg-ffa node in notif mode (where the guest has
# the node: vmsg_run.py adds it with the AMP nodes), and memory the bus
# allocates in poll mode (dt_pool=0). Then it turns hostile through the simulator's
# control file (busy storms, malformed answers, ERROR, event floods,
# AREA_RELEASE, an abort and reset), and the bus is unloaded and loaded
# again with I/O running. Every wait is bounded; a case whose protection
# in the driver is gone fails on a bound or on a count.
# The checks are functions run through check(); "A && B || why" is meant.
# shellcheck disable=SC2317,SC2015
mode=${1:-notif}
dir=$(dirname "$0")
out=/tmp/ffa-sim.$$.log
sdir=/sys/kernel/debug/virtio_msg_ffa_sim
stats=$sdir/stats
drv=/sys/bus/arm_ffa/drivers/virtio-msg-ffa
params=/sys/module/virtio_msg_ffa/parameters
core_params=/sys/module/virtio_msg/parameters
n=0
failed=0
TESTS=20

ok() {
	n=$((n + 1))
	echo "ok $n $1"
}

fail() {
	n=$((n + 1))
	failed=1
	echo "not ok $n $1"
}

check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name"; fi
}

# Say why a check failed, as a KTAP diagnostic; always false.
why() {
	echo "# $*"
	return 1
}

stat() {
	awk -v k="$1" '$1 == k { print $2 }' "$stats"
}

# The bus driver's counters for the bound partition.
dstat() {
	awk -v k="$1" '$1 == k { print $2 }' \
		"/sys/kernel/debug/virtio_msg_ffa/$p/stats" 2>/dev/null
}

# Counter $2 of stat or dstat ($1) is at least $3, read afresh each call.
at_least() {
	v=$("$1" "$2")
	[ -n "$v" ] && [ "$v" -ge "$3" ]
}

ctl() {
	echo "$*" > "$sdir/control"
}

# Seconds since boot, without a fork.
now() {
	read -r up _ < /proc/uptime
	echo "${up%.*}"
}

# Wait up to $1 tenths of a second for the command to succeed; by the
# clock, since one try may take long under emulation.
wait_for() {
	end=$(($(now) + $1 / 10 + 1))
	shift
	while ! "$@" 2>/dev/null; do
		[ "$(now)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# Run the command in the background and wait up to $1 tenths of a second
# for it to end. False if it did not; its exit status is in $rc.
bounded() {
	t=$1
	shift
	"$@" &
	bpid=$!
	while kill -0 "$bpid" 2>/dev/null; do
		t=$((t - 1))
		if [ "$t" -le 0 ]; then
			rc=124
			return 1
		fi
		sleep 0.1
	done
	wait "$bpid"
	rc=$?
	return 0
}

# Wait up to $1 tenths of a second for background job $2 to end.
job_ends() {
	t=$1
	while kill -0 "$2" 2>/dev/null; do
		t=$((t - 1))
		[ "$t" -gt 0 ] || return 1
		sleep 0.1
	done
	wait "$2" 2>/dev/null
	return 0
}

echo "TAP version 13"
echo "1..$TESTS"
notif=1
ffa_args=
if [ "$mode" = poll ]; then
	notif=0
	ffa_args=dt_pool=0
fi
if ! modprobe virtio_msg_ffa_sim notifications=$notif busy_every=5 \
	2>/dev/null; then
	i=1
	while [ $i -le $TESTS ]; do
		echo "ok $i ffa_$mode # SKIP no FF-A simulator on $(uname -m)"
		i=$((i + 1))
	done
	exit 0
fi
# The hvc ttys live before the partition's console comes.
hvc0=$("$dir/ffa-check" hvcs)
# shellcheck disable=SC2086
modprobe virtio_msg_ffa $ffa_args

"$dir/vmsg-ffa-sim" --rng --blk 16 --net --console --isolation \
	> "$out" 2>&1 &
sim=$!

part() {
	for d in "$drv"/arm-ffa-*; do
		[ -e "$d" ] && basename "$d" && return 0
	done
	return 1
}

below_ffa() {
	case "$(readlink -f "$1")" in
	*arm-ffa*) return 0 ;;
	esac
	return 1
}

disk() {
	for b in /sys/block/vd*; do
		[ -e "$b" ] || continue
		below_ffa "$b/device" && basename "$b" && return 0
	done
	return 1
}

ifaces() {
	for i in /sys/class/net/*; do
		below_ffa "$i/device" && basename "$i"
	done
}

have_disk() { disk > /dev/null; }
have_rng() { grep -q virtio_rng /sys/class/misc/hw_random/rng_available; }
have_net() { [ "$(ifaces | wc -l)" = 2 ]; }
have_console() {
	for v in /sys/class/virtio-ports/*; do
		[ -e "$v" ] && below_ffa "$v/device" && return 0
	done
	return 1
}
have_all() { have_disk && have_rng && have_net && have_console; }

probed=0
wait_for 600 have_all && probed=1
check "ffa_${mode}_probe" [ $probed = 1 ]
p=$(part)

# Big-endian bytes of a device-tree property, as one hex string.
dt_hex() {
	od -An -tx1 "$1" | tr -d ' \n'
}

# "BASE SIZE" of the region the virtio,msg-ffa node names, found as the
# driver finds it: by phandle (2 address and 2 size cells, as in
# amp-dt.dtsi).
dt_region() {
	for nd in /proc/device-tree/*; do
		[ -f "$nd/compatible" ] &&
			grep -q 'virtio,msg-ffa' "$nd/compatible" || continue
		ph=$(dt_hex "$nd/memory-region")
		for r in /proc/device-tree/reserved-memory/*; do
			[ -f "$r/phandle" ] && [ "$(dt_hex "$r/phandle")" = "$ph" ] ||
				continue
			reg=$(dt_hex "$r/reg")
			[ ${#reg} = 32 ] || return 1
			echo "0x${reg%????????????????} 0x${reg#????????????????}"
			return 0
		done
	done
	return 1
}

# The memory the partition was given: with the node and dt_pool, exactly
# the node's region (the simulator saw the pages of one share span it);
# else memory the bus allocated, outside it.
region=$(dt_region)
pool_ok() {
	lo=$(stat share_lo)
	hi=$(stat share_hi)
	[ -n "$lo" ] && [ -n "$hi" ] || why "no share seen" || return 1
	if [ -n "$region" ] && [ "$mode" = notif ]; then
		# shellcheck disable=SC2086
		set -- $region
		[ "$(dstat pool)" = dt ] ||
			why "pool is $(dstat pool), not the device tree's" ||
			return 1
		[ $(($(dstat pool_phys))) = $(($1)) ] &&
			[ $(($(dstat pool_kb) * 1024)) = $(($2)) ] ||
			why "pool $(dstat pool_phys) $(dstat pool_kb) KiB, region $region" ||
			return 1
		[ $((lo)) = $(($1)) ] && [ $((hi)) = $(($1 + $2)) ] ||
			why "shared $lo-$hi, region $region" || return 1
		return 0
	fi
	[ -z "$region" ] && echo "# no virtio,msg-ffa node: allocated pool"
	[ "$(dstat pool)" = vmalloc ] ||
		why "pool is $(dstat pool), not allocated" || return 1
	[ -z "$region" ] && return 0
	# shellcheck disable=SC2086
	set -- $region
	[ $((hi)) -le $(($1)) ] || [ $((lo)) -ge $(($1 + $2)) ] ||
		[ "$(stat share_ranges)" -gt 1 ] ||
		why "allocated pool shared as the region ($lo-$hi)"
}
check "ffa_${mode}_pool" pool_ok

# rng: bytes come out of /dev/hwrng.
rng_ok() {
	r=$(sed 's/ /\n/g' /sys/class/misc/hw_random/rng_available |
		grep virtio_rng | head -1)
	[ -n "$r" ] && echo "$r" > /sys/class/misc/hw_random/rng_current
	[ "$(dd if=/dev/hwrng bs=512 count=8 2>/dev/null | wc -c)" = 4096 ]
}
check "ffa_${mode}_rng" rng_ok

# blk: what is written reads back, past the page cache.
blk_ok() {
	d=$(disk) || return 1
	dd if=/dev/urandom of=/tmp/ffa-pat bs=64k count=64 2>/dev/null
	dd if=/tmp/ffa-pat of=/dev/"$d" bs=64k conv=fsync 2>/dev/null || return 1
	sync
	echo 3 > /proc/sys/vm/drop_caches
	a=$(md5sum < /tmp/ffa-pat)
	b=$(dd if=/dev/"$d" bs=64k count=64 2>/dev/null | md5sum)
	rm -f /tmp/ffa-pat
	[ "$a" = "$b" ]
}
check "ffa_${mode}_blk_data" blk_ok

# net: frames from one device reach the other, intact and in order.
net_ok() {
	# shellcheck disable=SC2046
	"$dir/ffa-check" net $(ifaces)
}
check "ffa_${mode}_net" net_ok

# The hvc tty of the partition's console: the one that came with it.
hvc_new() {
	m=$(($("$dir/ffa-check" hvcs) & ~hvc0))
	[ "$m" != 0 ] || return 1
	i=0
	while [ $((m & 1)) = 0 ]; do
		m=$((m >> 1))
		i=$((i + 1))
	done
	echo "$i"
}

# console: a line written to its tty comes back. An hvc write spins with
# interrupts off until the device side, a process of this guest, has the
# bytes: one short write, once the tty is live, with ffa-check keeping
# the writer and the device side on different CPUs.
console_ok() {
	wait_for 300 hvc_new || why "no new hvc tty" || return 1
	h=$(hvc_new)
	bounded 600 "$dir/ffa-check" console "/dev/hvc$h" "$sim" ||
		why "echo on hvc$h hangs" || return 1
	[ "$rc" = 0 ] || why "no echo on hvc$h"
}
check "ffa_${mode}_console" console_ok

check "ffa_${mode}_isolation" grep -q "isolation: ok" "$out"

events_ok() {
	if [ "$notif" = 1 ]; then
		[ "$(stat notifications)" -gt 0 ]
	else
		[ "$(stat notifications)" = 0 ] && [ "$(stat polls)" -gt 0 ]
	fi
}
check "ffa_${mode}_events" events_ok
check "ffa_${mode}_busy_retried" [ "$(stat busy)" -gt 0 ]

unbind() { echo "$p" > "$drv"/unbind; }
bind() { echo "$p" > "$drv"/bind; }
# Bind again and wait for every device.
rebind() {
	bounded 600 bind && [ "$rc" = 0 ] || return 1
	wait_for 600 have_all
}

# Unbind with devices live: AREA_UNSHARE then reclaim; bind again.
u0=$(stat area_unshares)
r0=$(stat reclaims)
unbind_ok() {
	[ -n "$p" ] || return 1
	unbind || return 1
	[ "$(stat area_unshares)" = $((u0 + 1)) ] &&
		[ "$(stat reclaims)" = $((r0 + 1)) ] || return 1
	rebind || return 1
	# The region went back with the binding, for the next one.
	[ "$notif" = 0 ] || [ -z "$region" ] || [ "$(dstat pool)" = dt ] ||
		why "pool is $(dstat pool) after a rebind, not dt"
}
check "ffa_${mode}_unbind_rebind" unbind_ok

# Bit $1 of the negotiated features of each network device, one a line.
net_bit() {
	for v in /sys/bus/virtio/devices/virtio*; do
		below_ffa "$v" && [ "$(cat "$v/device")" = 0x0001 ] &&
			cut -c$(($1 + 1)) "$v/features"
	done
}

# The partition is treated as a device: the network devices offer STATUS
# (bit 16), which virtio_msg_hardened_devices() leaves out, and MAC (bit
# 5). Bound with trusted_device_side set, the same devices negotiate
# STATUS; bound again without, they do not.
hardened_ok() {
	tp=$params/trusted_device_side
	[ "$(cat "$tp")" = N ] || why "trusted_device_side is not N"
	st=$?
	[ "$(net_bit 5 | tr -d '\n')" = 11 ] || why "MAC not negotiated"
	st=$((st + $?))
	[ "$(net_bit 16 | tr -d '\n')" = 00 ] || why "STATUS got through"
	st=$((st + $?))
	echo Y > "$tp"
	bounded 600 unbind && rebind || why "no rebind, trusted"
	st=$((st + $?))
	[ "$(net_bit 16 | tr -d '\n')" = 11 ] ||
		why "trusted, STATUS still hidden"
	st=$((st + $?))
	echo N > "$tp"
	bounded 600 unbind && rebind || why "no rebind"
	st=$((st + $?))
	[ "$(net_bit 16 | tr -d '\n')" = 00 ] ||
		why "STATUS got through again"
	st=$((st + $?))
	[ "$st" = 0 ]
}
check "ffa_${mode}_hardened" hardened_ok

# A busy storm: with devices live, a kick fails after busy_retries busy
# answers (and is kept); the disk's I/O resumes once the storm ends.
# During the storm, unbinding ends, and a bind fails after exactly
# busy_retries + 1 tries of VERSION.
storm_ok() {
	retries=3
	d=$(disk) || return 1
	echo "$retries" > "$params"/busy_retries
	f0=$(dstat busy_failed)
	ctl storm 1
	dd if=/dev/"$d" of=/dev/null bs=64k count=16 iflag=direct \
		2>/dev/null &
	io=$!
	wait_for 300 at_least dstat busy_failed $((f0 + 3)) ||
		why "no request failed after busy_retries busy answers"
	st=$?
	ctl storm 0
	job_ends 300 "$io" || why "I/O did not resume after the storm"
	st=$((st + $?))

	ctl storm 1
	bounded 600 unbind || why "unbind hangs in a busy storm"
	st=$((st + $?))
	m0=$(stat messages)
	bounded 300 bind || why "bind hangs in a busy storm"
	st=$((st + $?))
	[ "$rc" != 0 ] || why "bind worked in a busy storm"
	st=$((st + $?))
	m1=$(stat messages)
	ctl storm 0
	echo 16 > "$params"/busy_retries
	[ $((m1 - m0)) = $((retries + 1)) ] ||
		why "VERSION sent $((m1 - m0)) times, not $((retries + 1))"
	st=$((st + $?))
	rebind || return 1
	# The unbind in the storm could not reclaim the device tree's region;
	# the bind after it RESET the partition, which then lets go of the
	# region: the next binding has it again.
	if [ "$notif" = 1 ] && [ -n "$region" ]; then
		bounded 600 unbind && rebind ||
			why "no rebind after the storm" || return 1
		[ "$(dstat pool)" = dt ] ||
			why "pool is $(dstat pool) after the storm, not dt" ||
			return 1
	fi
	[ "$st" = 0 ]
}
check "ffa_${mode}_busy_storm" storm_ok

# Answers that are not the request's response fail the request at once,
# counted, instead of waiting for the request timeout (a minute here).
bad_ok() {
	to=$(cat "$core_params"/request_timeout_ms)
	echo 60000 > "$core_params"/request_timeout_ms
	res=0
	for m in msg_id dev_num token type long short error; do
		bounded 600 unbind || { res=1; why "$m: unbind hangs"; break; }
		x0=$(stat mangled)
		ctl bad "$m"
		bounded 300 bind && [ "$rc" = 0 ] ||
			{ res=1; why "$m: bind failed"; break; }
		if ! wait_for 150 at_least dstat bad 1; then
			res=1
			why "$m: no bad answer counted"
		fi
		[ "$(stat mangled)" -gt "$x0" ] ||
			{ res=1; why "$m: nothing mangled"; }
		have_disk && { res=1; why "$m: a disk probed"; }
		ctl bad none
	done
	ctl bad none
	bounded 600 unbind
	echo "$to" > "$core_params"/request_timeout_ms
	rebind && [ "$res" = 0 ]
}
check "ffa_${mode}_malformed" bad_ok

rng_vdev() {
	for v in /sys/bus/virtio/devices/virtio*; do
		below_ffa "$v" && [ "$(cat "$v/device")" = 0x0004 ] &&
			basename "$v" && return 0
	done
	return 1
}

# ERROR naming a request in flight fails it at once: the driver's probe
# ends well before the request timeout (a minute) and nothing timed out.
error_ok() {
	v=$(rng_vdev) || return 1
	rd=/sys/bus/virtio/drivers/virtio_rng
	to=$(cat "$core_params"/request_timeout_ms)
	echo "$v" > "$rd"/unbind || return 1
	echo 60000 > "$core_params"/request_timeout_ms
	t0=$(cat "/sys/kernel/debug/virtio_msg/$v/timeouts")
	e0=$(dstat error)
	i0=$(stat injected)
	ctl error 1
	bounded 300 sh -c "echo $v > $rd/bind" 2>/dev/null
	st=$?
	ctl error 0
	echo "$to" > "$core_params"/request_timeout_ms
	[ "$st" = 0 ] || why "probe waited for ERRORed requests"
	st=$?
	[ "$(stat injected)" -gt "$i0" ] || why "no ERROR injected"
	st=$((st + $?))
	[ "$(dstat error)" -gt "$e0" ] || why "no ERROR counted"
	st=$((st + $?))
	[ "$(cat "/sys/kernel/debug/virtio_msg/$v/timeouts")" = "$t0" ] ||
		why "a request timed out"
	st=$((st + $?))
	# A probe cut short leaves the device's status as it was: start anew.
	bounded 600 unbind && rebind && rng_ok && [ "$st" = 0 ]
}
check "ffa_${mode}_error" error_ok

# Wait until the simulator has handed out every flood event, for as long
# as the count moves: false only once it stayed put for $1 tenths of a
# second. A loaded machine makes the wait longer, never fail; a drain
# that stopped does.
flood_drained() {
	left=$(stat flood_left)
	end=$(($(now) + $1 / 10 + 1))
	while [ "$left" != 0 ]; do
		sleep 0.1
		v=$(stat flood_left)
		if [ "$v" != "$left" ]; then
			left=$v
			end=$(($(now) + $1 / 10 + 1))
		elif [ "$(now)" -ge "$end" ]; then
			return 1
		fi
	done
}

# A flood of events for no device, many times event_poll_max, each
# ringing the notification, while the disk is written: every event is
# fetched, in passes of exactly event_poll_max (none more, and the cap
# was reached), none is dropped as bad, and rng and the disk work during
# and after. Then EVENT_POLL never runs dry, and unbinding still ends.
# Nothing here is a rate: only a drain that stops or a count that is off
# fails. The first failure ends the run, so that a broken drain fails
# this case within the suite's time limit instead of the whole suite.
flood_run() {
	nr=$((max * 64))
	# A fresh binding, so that drain_max knows passes under this cap only.
	bounded 600 unbind && rebind || why "no fresh binding" || return 1
	e0=$(dstat events)
	b0=$(dstat bad)
	f0=$(stat flooded)
	ctl flood "$nr"
	bounded 600 blk_ok && [ "$rc" = 0 ] ||
		why "blk failed in a flood" || return 1
	flood_drained 600 ||
		why "the drain stopped with $(stat flood_left) events left" ||
		return 1
	[ $(($(stat flooded) - f0)) = "$nr" ] ||
		why "$(($(stat flooded) - f0)) events handed out, not $nr" ||
		return 1
	# The last event handed out may still be on its way to the counter.
	wait_for 300 at_least dstat events $((e0 + nr)) ||
		why "$(($(dstat events) - e0)) events fetched of $nr" || return 1
	[ "$(dstat bad)" = "$b0" ] || why "flood events counted bad" ||
		return 1
	[ "$(dstat drain_max)" = "$max" ] ||
		why "the longest drain took $(dstat drain_max) events, not $max" ||
		return 1
	rng_ok && blk_ok || why "rng or blk failed after the flood" ||
		return 1

	ctl flood 4000000000
	# Under way: one event handed out is enough, however long it takes.
	wait_for 600 at_least stat flooded $((f0 + nr + 1)) ||
		why "no endless flood" || return 1
	bounded 600 unbind || why "unbind hangs in a flood"
}

flood_ok() {
	max0=$(cat "$params"/event_poll_max)
	max=16
	echo "$max" > "$params"/event_poll_max
	flood_run
	st=$?
	ctl flood 0
	echo "$max0" > "$params"/event_poll_max
	# Bound still if the run stopped early.
	[ -e "$drv/$p" ] && bounded 600 unbind
	rebind && [ "$st" = 0 ]
}
check "ffa_${mode}_event_flood" flood_ok

# AREA_RELEASE of an area never shared is dropped: the devices stay.
release_bogus_ok() {
	b0=$(dstat bad)
	ctl release 2
	wait_for 100 at_least dstat bad $((b0 + 1)) ||
		why "release of area 2 not dropped"
	st=$?
	have_all && blk_ok && [ "$st" = 0 ]
}
check "ffa_${mode}_release_bogus" release_bogus_ok

# Reading the disk fails (its device is broken or gone).
disk_fails() {
	d=$(disk) || return 0
	! dd if=/dev/"$d" of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null
}

# Every device is there and the disk reads: a lost device never works
# again, so these are new ones.
all_back() {
	have_all && ! disk_fails
}

# Read the disk until it fails; in the background.
reader() {
	d=$(disk) || return 0
	while dd if=/dev/"$d" of=/dev/null bs=64k count=256 iflag=direct \
		2>/dev/null; do
		:
	done
}

# AREA_RELEASE with I/O running: the devices are lost (I/O fails), the
# reader stops, the memory is reclaimed without AREA_UNSHARE, once; a
# second release and an unbind change nothing; bound again, the devices
# come back.
release_ok() {
	reader &
	io=$!
	sleep 1
	u0=$(stat area_unshares)
	r0=$(stat reclaims)
	ctl release 1
	job_ends 300 "$io" || why "reader hangs after AREA_RELEASE"
	st=$?
	disk_fails || why "disk works after AREA_RELEASE"
	st=$((st + $?))
	ctl release 1
	sleep 0.5
	bounded 600 unbind || why "unbind hangs after AREA_RELEASE"
	st=$((st + $?))
	[ "$(stat reclaims)" = $((r0 + 1)) ] ||
		why "$(($(stat reclaims) - r0)) reclaims"
	st=$((st + $?))
	[ "$(stat area_unshares)" = "$u0" ] || why "AREA_UNSHARE sent"
	st=$((st + $?))
	rebind && blk_ok && [ "$st" = 0 ]
}
check "ffa_${mode}_area_release" release_ok

# The partition aborts with I/O running: the devices are lost (I/O
# fails) and the reader stops; once the partition answers again, the
# memory is shared anew and new devices replace the old ones, and work.
reset_ok() {
	reader &
	io=$!
	sleep 1
	r0=$(stat reclaims)
	s0=$(stat shares)
	ctl down 1
	job_ends 300 "$io" || why "reader hangs with the partition down"
	st=$?
	disk_fails || why "disk works with the partition down"
	st=$((st + $?))
	[ "$(stat aborted)" -gt 0 ] || why "nothing aborted"
	st=$((st + $?))
	ctl down 0
	wait_for 600 all_back || why "devices not back after the reset"
	st=$((st + $?))
	[ "$(stat reclaims)" = $((r0 + 1)) ] &&
		[ "$(stat shares)" = $((s0 + 1)) ] || why "memory not shared anew"
	st=$((st + $?))
	blk_ok && rng_ok && [ "$st" = 0 ]
}
check "ffa_${mode}_reset" reset_ok

# Unload and load again with I/O running, three rounds: AREA_UNSHARE and
# reclaim each time, the reader stops, the devices come back.
reload_ok() {
	for round in 1 2 3; do
		reader &
		io=$!
		sleep 1
		u0=$(stat area_unshares)
		r0=$(stat reclaims)
		bounded 600 rmmod virtio_msg_ffa && [ "$rc" = 0 ] ||
			why "round $round: rmmod failed ($rc)" || return 1
		[ "$(stat area_unshares)" = $((u0 + 1)) ] &&
			[ "$(stat reclaims)" = $((r0 + 1)) ] ||
			why "round $round: no AREA_UNSHARE and reclaim" ||
			return 1
		job_ends 300 "$io" || why "round $round: reader hangs" ||
			return 1
		# shellcheck disable=SC2086
		modprobe virtio_msg_ffa $ffa_args || return 1
		wait_for 600 have_all || why "round $round: no devices" ||
			return 1
		# The region came back for the next binding, even after the
		# reclaim the busy storm denied (retried once RESET).
		if [ "$mode" = notif ] && [ -n "$region" ] &&
			[ "$(dstat pool)" != dt ]; then
			why "round $round: pool is $(dstat pool), not dt"
			return 1
		fi
	done
	p=$(part)
	blk_ok
}
check "ffa_${mode}_reload_live" reload_ok

# Unload with devices live.
u0=$(stat area_unshares)
r0=$(stat reclaims)
unload_ok() {
	rmmod virtio_msg_ffa || return 1
	[ "$(stat area_unshares)" = $((u0 + 1)) ] &&
		[ "$(stat reclaims)" = $((r0 + 1)) ]
}
check "ffa_${mode}_unload" unload_ok

kill $sim
wait $sim
echo "# stats: $(tr '\n' ' ' < "$stats")"
sed 's/^/# /' "$out"
rm -f "$out"
rmmod virtio_msg_ffa_sim
exit $failed
