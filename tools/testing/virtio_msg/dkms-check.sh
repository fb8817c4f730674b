#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# dkms-check.sh KDIR: dkms add and dkms build of this tree, with its
# dkms.conf, against the kernel build tree (or headers) KDIR, for the
# machine's arch.
#
# DKMS runs on trees of its own in $VMSG_OUT/dkms (--sourcetree,
# --dkmstree, --installtree), so nothing of the system's DKMS changes
# and no root is needed: dkms add (given -m and -v, not a path) and dkms
# build ask only for write access to the DKMS tree; install would want
# root. DKMS signs what it builds when it finds KDIR's scripts/sign-file;
# the key and certificate it would create in /var/lib/dkms are pointed
# at that directory too (it makes them itself, as on a first install),
# so a signing kernel has its modules signed by a throwaway key. Prints
# the modules built with their aliases and signer; exits non-zero when
# dkms fails.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || vmsg_die "usage: $0 KDIR"
kdir=$(realpath "$1")
[ -r "$kdir/include/config/kernel.release" ] ||
	vmsg_die "$kdir: no include/config/kernel.release (not a kernel build tree)"
kver=$(cat "$kdir/include/config/kernel.release")
# dkms and modinfo live in /usr/sbin, which a user's PATH may lack.
export PATH=$PATH:/usr/sbin:/sbin
command -v dkms >/dev/null || vmsg_die "dkms is not installed (apt-get install dkms)"

name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"$/\1/p' "$VMSG_TOP/dkms.conf")
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$VMSG_TOP/dkms.conf")
work=$VMSG_OUT/dkms
rm -rf "$work"
mkdir -p "$work/source" "$work/dkms" "$work/install"
rsync -a --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
	--exclude='*.mod*' --exclude='*.order' --exclude='Module.symvers' \
	"$VMSG_TOP/Kbuild" "$VMSG_TOP/drivers" "$VMSG_TOP/include" \
	"$VMSG_TOP/dkms.conf" "$work/source/$name-$ver/"

# dkms reads these from the environment when framework.conf leaves them
# unset, as Debian's does.
export sign_file=$kdir/scripts/sign-file
export mok_signing_key=$work/mok.key
export mok_certificate=$work/mok.pub
trees=(--sourcetree "$work/source" --dkmstree "$work/dkms"
       --installtree "$work/install")

vmsg_log "dkms: $name $ver against $kver ($kdir)"
dkms add -m "$name" -v "$ver" "${trees[@]}"
dkms build -m "$name" -v "$ver" -k "$kver" --kernelsourcedir "$kdir" \
	"${trees[@]}" || {
	cat "$work/dkms/$name/$ver/build/make.log" 2>/dev/null || true
	exit 1
}
dkms status -m "$name" "${trees[@]}"
for m in "$work/dkms/$name/$ver/$kver"/*/module/*.ko*; do
	printf '%s: signer %s; %s\n' "$(basename "$m")" \
		"$(modinfo -F signer "$m" || true)" \
		"$(modinfo -F alias "$m" | tr '\n' ' ')"
done
