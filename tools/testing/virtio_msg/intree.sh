#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# intree.sh DEST [KSRC]: a copy of the kernel source KSRC (default: the
# bench's unpacked 6.12 source) at DEST with this tree in it, as the
# series would be once applied: the drivers, the KUnit suites and their
# Kconfig entries and Makefile lines in drivers/virtio/, the headers, and
# the kselftests in tools/testing/selftests/drivers/virtio_msg/. KSRC is
# only read. For the kernel's own runners:
#
#   tools/testing/kunit/kunit.py run --arch=x86_64 \
#           --kunitconfig=drivers/virtio/tests \
#           --kunitconfig=drivers/virtio/tests/x86_64.kunitconfig
#   make headers
#   make -C tools/testing/selftests TARGETS=drivers/virtio_msg run_tests
#
# The fixes in patches/ are not applied: neither runner needs them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	vmsg_die "usage: $0 DEST [KSRC]"
fi
dest=$1
ksrc=${2:-$(vmsg_ksrc)}
if [ ! -f "$ksrc/Makefile" ] || [ ! -f "$ksrc/drivers/virtio/Kconfig" ]; then
	vmsg_die "$ksrc: not a kernel source tree"
fi
[ ! -e "$dest" ] || vmsg_die "$dest exists"
grep -q VIRTIO_MSG "$ksrc/drivers/virtio/Kconfig" &&
	vmsg_die "$ksrc has virtio-msg already"

vmsg_log "copying $ksrc to $dest"
cp -a --reflink=auto "$ksrc" "$dest"

cd "$VMSG_TOP"
products=(--exclude='*.o' --exclude='*.ko' --exclude='.*.cmd'
	  --exclude='*.mod*' --exclude='*.order' --exclude='*.d')
rsync -a "${products[@]}" drivers/virtio/virtio_msg* "$dest/drivers/virtio/"
rsync -a "${products[@]}" drivers/virtio/tests "$dest/drivers/virtio/"
rsync -a include/ "$dest/include/"
rsync -a "${products[@]}" \
	tools/testing/selftests/drivers/virtio_msg \
	"$dest/tools/testing/selftests/drivers/"

# Our entries go inside the virtio menu, our objects after the others.
python3 - drivers/virtio/Kconfig "$dest/drivers/virtio/Kconfig" <<'EOF'
import sys
ours = [l for l in open(sys.argv[1]).read().splitlines()
        if not l.startswith('# SPDX')]
path = sys.argv[2]
lines = open(path).read().splitlines()
end = 'endif # VIRTIO_MENU'
if end not in lines:
    sys.exit(path + ': no "' + end + '"')
i = len(lines) - 1 - lines[::-1].index(end)
lines[i:i] = [''] + ours + ['']
open(path, 'w').write('\n'.join(lines) + '\n')
EOF
grep -v '^# SPDX' drivers/virtio/Makefile >> "$dest/drivers/virtio/Makefile"
vmsg_log "$dest: ready"
