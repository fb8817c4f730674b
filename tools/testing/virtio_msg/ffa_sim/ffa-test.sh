#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# ffa-test.sh notif|poll: virtio-msg over FF-A through the simulated
# partition, in the guest. KTAP on stdout; every test is skipped where
# the simulator cannot load (no FF-A: x86_64).
# The checks are functions run through check().
# shellcheck disable=SC2317
mode=${1:-notif}
dir=$(dirname "$0")
out=/tmp/ffa-sim.$$.log
stats=/sys/kernel/debug/virtio_msg_ffa_sim/stats
drv=/sys/bus/arm_ffa/drivers/virtio-msg-ffa
n=0
failed=0
TESTS=8

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

stat() {
	awk -v k="$1" '$1 == k { print $2 }' "$stats"
}

# Wait up to $1 tenths of a second for the command to succeed.
wait_for() {
	t=$1
	shift
	while ! "$@" 2>/dev/null; do
		t=$((t - 1))
		[ $t -gt 0 ] || return 1
		sleep 0.1
	done
}

echo "TAP version 13"
echo "1..$TESTS"
notif=1
[ "$mode" = poll ] && notif=0
if ! modprobe virtio_msg_ffa_sim notifications=$notif busy_every=5 \
	2>/dev/null; then
	i=1
	while [ $i -le $TESTS ]; do
		echo "ok $i ffa_$mode # SKIP no FF-A simulator on $(uname -m)"
		i=$((i + 1))
	done
	exit 0
fi
modprobe virtio_msg_ffa

"$dir/vmsg-ffa-sim" --rng --blk 16 --isolation > "$out" 2>&1 &
sim=$!

part() {
	for d in "$drv"/arm-ffa-*; do
		[ -e "$d" ] && basename "$d" && return 0
	done
	return 1
}

disk() {
	for b in /sys/block/vd*; do
		[ -e "$b" ] || continue
		case "$(readlink -f "$b/device")" in
		*arm-ffa*) basename "$b"; return 0 ;;
		esac
	done
	return 1
}

have_disk() { disk > /dev/null; }
have_rng() { grep -q virtio_rng /sys/class/misc/hw_random/rng_available; }

probed=0
wait_for 300 have_disk && wait_for 100 have_rng && probed=1
check "ffa_${mode}_probe" [ $probed = 1 ]

# rng: bytes come out of /dev/hwrng.
rng=$(sed 's/ /\n/g' /sys/class/misc/hw_random/rng_available | grep virtio_rng | head -1)
[ -n "$rng" ] && echo "$rng" > /sys/class/misc/hw_random/rng_current
got=$(dd if=/dev/hwrng bs=512 count=8 2>/dev/null | wc -c)
check "ffa_${mode}_rng" [ "$got" = 4096 ]

# blk: what is written reads back, past the page cache.
d=$(disk)
blk_ok() {
	[ -n "$d" ] || return 1
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

# Unbind with devices live: AREA_UNSHARE then reclaim; bind again.
p=$(part)
u0=$(stat area_unshares)
r0=$(stat reclaims)
unbind_ok() {
	[ -n "$p" ] || return 1
	echo "$p" > "$drv"/unbind || return 1
	[ "$(stat area_unshares)" = $((u0 + 1)) ] &&
		[ "$(stat reclaims)" = $((r0 + 1)) ] || return 1
	echo "$p" > "$drv"/bind || return 1
	wait_for 300 have_disk
}
check "ffa_${mode}_unbind_rebind" unbind_ok

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
