#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# patches.sh [OUTDIR]: write the upstream patch series (git format-patch,
# with a cover letter) against Linux 6.12 from this tree's files, as
# series/series lays them out, into OUTDIR (default .out/patches). Prints
# the patch files. lint.sh proves the series applies, builds after every
# patch and is checkpatch-clean.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-$VMSG_OUT/patches}
"$VMSG_BENCH/setup.sh" >&2
ksrc=$(vmsg_ksrc)
[ -f "$ksrc/MAINTAINERS" ] || vmsg_die "no kernel source in $ksrc (run: make kernel)"
exec python3 "$VMSG_BENCH/patches.py" "$VMSG_TOP" "$ksrc" \
	"$VMSG_OUT/patches-work" "$out"
