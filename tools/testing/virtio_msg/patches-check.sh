#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# patches-check.sh: prove the upstream series (patches.sh) against a kernel
# tree. Generates the series into .out/lint/patches, applies it with git am
# to a copy of the Linux 6.12 source and, after every patch:
#   - checkpatch.pl --strict on the patch (commit message included; a
#     patch of userspace code may ignore the types series/series names);
#   - every DT compatible a .c file of the tree matches is documented in
#     Documentation/devicetree/bindings by then;
#   - if the patch touches drivers/, include/ or a Kconfig: each virtio-msg
#     option enabled as a module (scripts/config, olddefconfig) on top of
#     the x86_64 and the arm64 test kernels' .config, and drivers/virtio/
#     built in-tree with W=1, then modpost on its modules against the test
#     kernel's Module.symvers (namespaces, unresolved symbols, section
#     mismatches). An option no arch can enable is a failure.
# Prints every problem; silent and exit 0 when there is none.
#
# The tree (hard links into the unpacked source, with a git repository
# whose base commit holds only the files the series changes) and one
# object directory per arch (modules_prepare once) live in
# $VMSG_CACHE/series, reused under a lock. The compiler goes through
# ccache; the build results of a step are kept by the hash of the series
# up to that patch (and the test kernels), checkpatch's by the patch's own
# hash, and only what passed is kept: what did not change is not checked
# again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ARCHES=${VMSG_SERIES_ARCHES:-x86_64 arm64}
out=$VMSG_OUT/lint/patches
"$VMSG_BENCH/patches.sh" "$out" >/dev/null
mapfile -t series < <(find "$out" -name '[0-9]*.patch' ! -name '0000-*' | sort)
[ ${#series[@]} -gt 0 ] || vmsg_die "no patches in $out"

ksrc=$(vmsg_ksrc)
top=$VMSG_CACHE/series
mkdir -p "$top/results"
exec 7>"$top/.lock"
flock 7
log=$out.log
: > "$log"

declare -A kdir
for arch in $ARCHES; do
	kdir[$arch]=$("$VMSG_BENCH/kernel.sh" "$arch")
done

# The tree: a hard-linked copy of the source. Its base commit tracks only
# the kernel files the series modifies, each a file of its own (git
# replaces files rather than writing through links, and so does the reset
# below; the base copies them once).
modified=$(sed -n 's#^--- a/##p' "${series[@]}" | sort -u |
	while IFS= read -r f; do [ ! -f "$ksrc/$f" ] || echo "$f"; done)
tree=$top/src-$(vmsg_src_version)
if [ ! -f "$tree/.vmsg-base" ] ||
	[ "$(cat "$tree/.vmsg-base")" != "$(printf '%s\nLICENSES' "$modified")" ]; then
	vmsg_log "series: preparing $tree"
	rm -rf "$tree"
	cp -al "$ksrc" "$tree"
	(
		cd "$tree"
		git init -q
		git config user.name vmsg
		git config user.email vmsg@localhost
		git config status.showUntrackedFiles no
		for f in $modified; do
			cp "$f" "$f.vmsg-tmp"
			mv "$f.vmsg-tmp" "$f"
		done
		# spdxcheck.py, run by checkpatch, reads LICENSES from HEAD.
		# shellcheck disable=SC2086
		git add -f LICENSES $modified
		git commit -q -m "base: the files the series changes"
		git tag base
	)
	echo "$modified" > "$tree/.vmsg-base"
	echo LICENSES >> "$tree/.vmsg-base"
fi
cd "$tree"
git am --abort >/dev/null 2>&1 || true
git reset -q --hard base

export CCACHE_BASEDIR="$VMSG_CACHE" CCACHE_NOHASHDIR=true
kmake() {
	local arch=$1 cross
	shift
	cross=$(vmsg_cross "$arch")
	make -s -C "$tree" O="$top/build-$arch" ARCH="$arch" \
		CROSS_COMPILE="$cross" CC="ccache ${cross}gcc" "$@"
}

# Every virtio-msg option of the tree as a module, on the test kernel's
# config; prints the options that did not stick.
configure() {
	local arch=$1 obj=$top/build-$1 syms s args=()
	syms=$(sed -n 's/^config \(VIRTIO_MSG[A-Z0-9_]*\)$/\1/p' drivers/virtio/Kconfig)
	cp "${kdir[$arch]}/.config" "$obj/.config"
	for s in $syms; do
		args+=(-m "$s")
	done
	[ ${#args[@]} -eq 0 ] || ./scripts/config --file "$obj/.config" "${args[@]}"
	kmake "$arch" olddefconfig >/dev/null
	for s in $syms; do
		grep -qx "CONFIG_$s=m" "$obj/.config" || echo "$s"
	done
}

# Object directories: modules_prepare once per test kernel.
for arch in $ARCHES; do
	obj=$top/build-$arch
	if [ "$(cat "$obj/.vmsg-prepared" 2>/dev/null)" != "${kdir[$arch]}" ]; then
		vmsg_log "series: preparing the $arch object directory"
		rm -rf "$obj"
		mkdir -p "$obj"
		configure "$arch" >/dev/null
		kmake "$arch" -j"$(nproc)" modules_prepare >/dev/null
		echo "${kdir[$arch]}" > "$obj/.vmsg-prepared"
	fi
done

# checkpatch of each patch runs in the tree in the background, two at a
# time, while the next patches go in: its lookup of DT compatibles in the
# tree could then see a later binding, so that check is also done here, in
# order.
declare -A ignore=()
while read -r n types; do
	ignore[$n]="${ignore[$n]:+${ignore[$n]},}$types"
done < <(awk '
	/^[ \t]*#/ || !NF { next }
	/^[^ \t]/ { n++; next }
	$1 == "checkpatch-ignore" { $1 = ""; sub(/^ /, ""); gsub(/ /, ","); print n, $0 }
	' "$VMSG_BENCH/series/series")
cpjobs=()
i=0
hash=$(for arch in $ARCHES; do basename "${kdir[$arch]}"; done | sha256sum | cut -c1-16)
for p in "${series[@]}"; do
	name=$(basename "$p")
	i=$((i + 1))
	ign=${ignore[$i]:-}
	hash=$( (echo "$hash"; echo "$ign"; cat "$p") | sha256sum | cut -c1-16)
	res=$top/results/$hash

	if ! git am -q --whitespace=error-all "$p" > "$res.am" 2>&1; then
		{ echo "$name: git am failed:"; cat "$res.am"; } >> "$log"
		git am --abort >/dev/null 2>&1 || true
		break
	fi

	# checkpatch's verdict depends on the patch alone (and the kernel's
	# checkpatch): kept by the patch's own hash, so a change early in the
	# series does not check the big patches after it again.
	cp=$top/results/cp-$( (vmsg_src_version; echo "$ign"; cat "$p") |
		sha256sum | cut -c1-16)
	if [ ! -f "$cp" ]; then
		while [ "$(jobs -rp | wc -l)" -ge 2 ]; do
			wait -n || true
		done
		(
			# spdxcheck.py needs python3-ply and python3-git, Debian's
			# python3 (not one earlier in PATH).
			PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict \
				--quiet --show-types \
				${ign:+--ignore "$ign"} "$p" > "$cp.tmp" 2>&1 || true
			mv "$cp.tmp" "$cp"
		) &
	fi
	cpjobs+=("$name:$cp")

	# DT compatibles of the tree's drivers are documented by now.
	compats=$(git diff --name-only HEAD~1 HEAD -- '*.c' | xargs -r grep -ho \
		'\.compatible = "[^"]*"' | sed 's/.*= "\(.*\)"/\1/' || true)
	for compat in $compats; do
		grep -rqE "(\"|const: )$compat\"?\$" Documentation/devicetree/bindings/ ||
			echo "$name: DT compatible \"$compat\" is not documented yet" >> "$log"
	done

	git diff --name-only HEAD~1 HEAD | grep -qE '^(drivers|include)/|Kconfig' || continue
	if [ -f "$res.build" ]; then
		cat "$res.build" >> "$log"
		continue
	fi
	: > "$res.build.tmp"
	declare -A stuck=()
	for arch in $ARCHES; do
		obj=$top/build-$arch
		for s in $(configure "$arch"); do
			stuck[$s]="${stuck[$s]:-}$arch "
		done
		if ! kmake "$arch" -j"$(nproc)" W=1 drivers/virtio/ > "$res.$arch.log" 2>&1; then
			echo "$name: $arch: the build failed:" >> "$res.build.tmp"
		fi
		sed "s#^#$name: $arch: #" "$res.$arch.log" >> "$res.build.tmp"
		if [ -s "$obj/drivers/virtio/modules.order" ]; then
			(cd "$obj" && ./scripts/mod/modpost -M -E -W \
				-i "${kdir[$arch]}/Module.symvers" \
				-T drivers/virtio/modules.order \
				-o vmsg-modules.symvers) > "$res.$arch.modpost" 2>&1 ||
				echo "$name: $arch: modpost failed" >> "$res.build.tmp"
			sed "s#^#$name: $arch: #" "$res.$arch.modpost" >> "$res.build.tmp"
		fi
	done
	narch=$(echo $ARCHES | wc -w)
	for s in "${!stuck[@]}"; do
		[ "$(echo ${stuck[$s]} | wc -w)" -lt "$narch" ] ||
			echo "$name: CONFIG_$s=m did not stick on ${stuck[$s]}" >> "$res.build.tmp"
	done
	unset stuck
	cat "$res.build.tmp" >> "$log"
	# Keep only what passed: a failure is checked again next time.
	if [ -s "$res.build.tmp" ]; then
		rm -f "$res.build.tmp"
	else
		mv "$res.build.tmp" "$res.build"
	fi
done
wait
for j in "${cpjobs[@]}"; do
	name=${j%%:*}
	f=${j#*:}
	if [ -s "$f" ]; then
		sed "s#^#$name: #" "$f" >> "$log"
		# Checked again next time.
		rm -f "$f"
	fi
done
cat "$log"
[ ! -s "$log" ]
