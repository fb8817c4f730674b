#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# dt-check.sh BINDING.yaml...: run the kernel's dt_binding_check on our
# bindings. dt_binding_check only looks inside the kernel tree, so the
# bindings are copied into a hard-linked shadow of the kernel source.
#
# Debian 12 ships dt-schema 2022.08 while 6.12 asks for 2023.9; the
# kernel's own schemas validate with it, so the minimum is lowered here
# rather than installing dt-schema from outside Debian.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] || vmsg_die "usage: dt-check.sh BINDING.yaml..."
ksrc=$(vmsg_ksrc)
shadow=$VMSG_CACHE/dt/src-$(vmsg_src_version)
build=$VMSG_CACHE/dt/build-$(vmsg_src_version)

if [ ! -f "$shadow/Makefile" ]; then
	rm -rf "$shadow"
	mkdir -p "$(dirname "$shadow")"
	cp -al "$ksrc" "$shadow"
fi

files=()
for f in "$@"; do
	rel=${f#Documentation/devicetree/bindings/}
	[ "$rel" != "$f" ] || vmsg_die "$f is not under Documentation/devicetree/bindings"
	dst=$shadow/Documentation/devicetree/bindings/$rel
	mkdir -p "$(dirname "$dst")"
	# Replace, never write through, a hard link into the real tree.
	rm -f "$dst"
	cp "$VMSG_TOP/$f" "$dst"
	files+=("$rel")
done

mkdir -p "$build"
# The old dt-schema refuses a few of the kernel's own schemas ("ignoring,
# error in schema"); only what concerns our files is reported.
pats=()
for rel in "${files[@]}"; do
	pats+=(-e "bindings/${rel%.yaml}.")
done
rc=0
make -s -C "$shadow" O="$build" DT_SCHEMA_MIN_VERSION=2022.08 \
	DT_SCHEMA_FILES="$(IFS=:; echo "${files[*]}")" dt_binding_check \
	> "$build/check.log" 2>&1 || rc=$?
grep -F "${pats[@]}" "$build/check.log" || true
# A failure that names none of our files still fails.
if [ $rc -ne 0 ] && ! grep -qF "${pats[@]}" "$build/check.log"; then
	echo "dt_binding_check failed (rc=$rc):"
	tail -n 20 "$build/check.log"
fi
