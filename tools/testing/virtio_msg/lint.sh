#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# lint.sh [--results FILE]: the kernel's own checkers over our sources.
#   checkpatch   scripts/checkpatch.pl --strict on every kernel source file
#                (the simulated FF-A partition's module included)
#                that no patch of the series adds (the patches stage
#                checks those), and on the kernel patches in patches/
#   sparse-W1    C=2 W=1 module build for x86_64 and arm64, no diagnostics
#   stock-W1     W=1 module build against Debian's own x86_64 kernel
#   dkms         dkms add and dkms build with dkms.conf against the same
#                headers, on private DKMS trees (skipped without dkms)
#   kernel-doc   scripts/kernel-doc -none -Wall, no diagnostics
#   dt-bindings  dt_binding_check on Documentation/devicetree/bindings
#   patches      the upstream series (patches.sh) applied with git am to
#                the 6.12 source, built in-tree after each patch (W=1,
#                modpost) for x86_64 and arm64, checkpatch --strict on each
#   maintainers  every file of ours has an F: line, every F: line a file
# Prints what each checker reported; exits non-zero if any reported.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

results=/dev/null
[ "${1:-}" = "--results" ] && results=$2
: > "$results"
ksrc=$(vmsg_ksrc)
work=$VMSG_OUT/lint
mkdir -p "$work"
status=0

record() {
	local name=$1 log=$2
	if [ -s "$log" ]; then
		echo "lint: $name reported:"
		sed 's/^/  /' "$log"
		echo "fail $name" >> "$results"
		status=1
	else
		echo "lint: $name clean"
		echo "ok $name" >> "$results"
	fi
}

cd "$VMSG_TOP"
# With the simulated FF-A partition: a kernel module, if only for tests.
mapfile -t ksources < <(git ls-files -co --exclude-standard \
	'drivers/*.[ch]' 'include/*.h' 'tools/testing/selftests/*.[ch]' \
	tools/testing/virtio_msg/ffa_sim/virtio_msg_ffa_sim.c \
	tools/testing/virtio_msg/ffa_sim/ffa_sim.h | sort -u)

# The upstream series (make patches): applies with git am, builds in-tree
# after every patch (W=1, modpost) for x86_64 and arm64, checkpatch-clean
# patch by patch; see patches-check.sh. Run first, for checkpatch to know
# what the series covers, and recorded in its place below. Its output goes
# to a file of its own: patches-check.sh writes its log to
# $work/patches.log, and prints it.
rm -rf "$work/patches"
"$VMSG_BENCH/patches-check.sh" > "$work/series.log" 2>&1 ||
	[ -s "$work/series.log" ] || echo "patches-check.sh failed" > "$work/series.log"
# Progress lines of a cold run are not findings.
sed -i '/^vmsg: series: preparing/d' "$work/series.log"

# The files the series adds had checkpatch as patches: in the kernel tree,
# and stricter than -f, which makes checks of some warnings and does not
# know where a file sits in the tree. They are left out of the per-file
# pass only when every patch went in; after a failed git am the patches
# behind it were never checked.
declare -A inseries=()
if ! grep -q ': git am failed:' "$work/series.log"; then
	while IFS= read -r f; do
		inseries[$f]=1
	done < <(find "$work/patches" -name '[0-9]*.patch' ! -name '0000-*' \
		-exec sed -n 's#^+++ b/##p' {} + 2>/dev/null)
fi

# checkpatch needs to run from the kernel tree to find its data files.
: > "$work/checkpatch.log"
for f in "${ksources[@]}"; do
	[ -z "${inseries[$f]:-}" ] || continue
	(cd "$ksrc" && ./scripts/checkpatch.pl --strict --no-tree --quiet \
		--show-types -f "$VMSG_TOP/$f") >> "$work/checkpatch.log" 2>&1 || true
done
# The kernel patches the series carries are checked as patches.
while IFS= read -r p; do
	(cd "$ksrc" && ./scripts/checkpatch.pl --strict --quiet \
		--show-types "$p") >> "$work/checkpatch.log" 2>&1 || true
done < <(vmsg_patches)
record checkpatch "$work/checkpatch.log"

: > "$work/sparse.log"
for arch in x86_64 arm64; do
	kdir=$("$VMSG_BENCH/kernel.sh" "$arch")
	src=$work/src-$arch
	rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
		--exclude='*.mod*' --exclude='*.order' Kbuild drivers include "$src/"
	checker="C=2 CHECK=sparse"
	# sparse runs on the x86_64 build; W=1 covers both.
	[ "$arch" = x86_64 ] || checker=""
	# shellcheck disable=SC2086
	make -s -C "$kdir" M="$src" ARCH="$arch" \
		CROSS_COMPILE="$(vmsg_cross "$arch")" W=1 $checker modules \
		> "$work/build-$arch.log" 2>&1 || echo "build failed ($arch)" >> "$work/sparse.log"
	grep -E 'warning:|error:|note:' "$work/build-$arch.log" \
		>> "$work/sparse.log" || true
done
record sparse-W1 "$work/sparse.log"

# The same modules against Debian's own x86_64 kernel (stock-kernel.sh),
# which has no KUnit: W=1, no diagnostics.
: > "$work/stock.log"
kdir=$("$VMSG_BENCH/stock-kernel.sh" x86_64 --headers)
src=$work/src-x86_64-stock
rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
	--exclude='*.mod*' Kbuild drivers include "$src/"
make -s -C "$kdir" M="$src" W=1 modules > "$work/build-x86_64-stock.log" 2>&1 ||
	echo "build failed (x86_64-stock)" >> "$work/stock.log"
grep -E 'warning:|error:|note:' "$work/build-x86_64-stock.log" \
	>> "$work/stock.log" || true
record stock-W1 "$work/stock.log"

# dkms.conf: dkms add and dkms build against the same headers, on DKMS
# trees of its own (dkms-check.sh), as an unprivileged user can. dkms
# comes with make setup; where it is missing the stage says so and skips.
if PATH=$PATH:/usr/sbin:/sbin command -v dkms >/dev/null; then
	if "$VMSG_BENCH/dkms-check.sh" "$kdir" > "$work/dkms.out" 2>&1; then
		: > "$work/dkms.log"
	else
		{ echo "dkms-check.sh failed:"; cat "$work/dkms.out"; } > "$work/dkms.log"
	fi
	record dkms "$work/dkms.log"
else
	echo "lint: dkms skipped: dkms is not installed (make setup installs it)"
	echo "skip dkms dkms is not installed" >> "$results"
fi

: > "$work/kernel-doc.log"
for f in "${ksources[@]}"; do
	case "$f" in tools/*) continue ;; esac
	"$ksrc/scripts/kernel-doc" -none -Wall "$f" >> "$work/kernel-doc.log" 2>&1 || true
done
record kernel-doc "$work/kernel-doc.log"

# The upstream series, run above.
record patches "$work/series.log"

# MAINTAINERS: every file of ours is covered by an F: line, and every F:
# line covers something.
git ls-files -co --exclude-standard | python3 -c '
import fnmatch, sys
pats = [l.split(None, 1)[1].strip() for l in open("MAINTAINERS")
        if l.startswith("F:")]
files = [f.strip() for f in sys.stdin if f.strip()]
top = ("README", "Makefile", "Kbuild", "Kconfig", "MAINTAINERS", ".gitignore",
       # Ours in part; in a kernel tree they belong to VIRTIO CORE.
       "drivers/virtio/Kconfig", "drivers/virtio/Makefile")
def hit(p, f):
    return f.startswith(p) if p.endswith("/") else fnmatch.fnmatch(f, p)
for f in files:
    if f in top or f.startswith(".ci/"):
        continue
    if not any(hit(p, f) for p in pats):
        print("MAINTAINERS: no F: line covers " + f)
for p in pats:
    if not any(hit(p, f) for f in files):
        print("MAINTAINERS: F: " + p + " matches no file")
' > "$work/maintainers.log"
record maintainers "$work/maintainers.log"

bindings=$(git ls-files -co --exclude-standard 'Documentation/devicetree/bindings/*.yaml' 2>/dev/null)
if [ -n "$bindings" ]; then
	"$VMSG_BENCH/dt-check.sh" $bindings > "$work/dt.log" 2>&1 ||
		echo "dt-check failed" >> "$work/dt.log"
	record dt-bindings "$work/dt.log"
fi
exit $status
