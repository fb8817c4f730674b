#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install what the virtio-msg bench needs on a Debian 12 machine, through apt
# only, and only what is missing. Safe to run again: it does nothing when
# everything is already there. (dwarves brings pahole, for the BTF of
# modules built against Debian's own kernel: stock-kernel.sh; dkms is
# for lint's dkms stage, which runs it on trees of its own.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PKGS="linux-source-6.12 qemu-system-x86 qemu-system-arm gcc
      gcc-aarch64-linux-gnu libc6-dev libc6-dev-arm64-cross make bc bison
      flex libssl-dev libelf-dev cpio kmod xz-utils rsync ccache sparse
      dt-schema yamllint libyaml-dev pkg-config python3 python3-ply python3-git perl
      dwarves dkms"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed" || missing="$missing $p"
done

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

need_update=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	vmsg_log "adding the arm64 dpkg architecture (for busybox-static:arm64)"
	$SUDO dpkg --add-architecture arm64
	need_update=1
fi

if [ -n "$missing" ] || [ $need_update -eq 1 ]; then
	vmsg_log "apt-get update"
	$SUDO apt-get update -qq
fi
if [ -n "$missing" ]; then
	vmsg_log "installing:$missing"
	# shellcheck disable=SC2086
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null
fi

# Kernel source, unpacked once per package version.
ksrc=$(vmsg_ksrc)
if [ ! -f "$ksrc/Makefile" ]; then
	vmsg_log "unpacking $VMSG_KPKG into $ksrc"
	mkdir -p "$VMSG_CACHE/src"
	tmp=$(mktemp -d "$VMSG_CACHE/src/.unpack.XXXXXX")
	tar -C "$tmp" -xf /usr/src/linux-source-6.12.tar.xz
	rm -rf "$ksrc"
	mv "$tmp"/linux-source-6.12 "$ksrc"
	rmdir "$tmp"
fi

# Static busybox for each guest arch, unpacked from the Debian package.
for arch in x86_64 arm64; do
	deb=$(vmsg_debarch "$arch")
	bb=$VMSG_CACHE/busybox/$arch/bin/busybox
	[ -x "$bb" ] && continue
	vmsg_log "fetching busybox-static:$deb"
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root \
		"busybox-static:$deb" >/dev/null)
	rm -rf "$VMSG_CACHE/busybox/$arch"
	mkdir -p "$VMSG_CACHE/busybox/$arch"
	dpkg-deb -x "$tmp"/busybox-static_*.deb "$VMSG_CACHE/busybox/$arch"
	rm -rf "$tmp"
	[ -x "$bb" ] || vmsg_die "busybox-static:$deb has no /bin/busybox"
done
exit 0
