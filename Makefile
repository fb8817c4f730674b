# SPDX-License-Identifier: GPL-2.0-only
#
# virtio-msg: out-of-tree build and test bench entry points.
#
#   make                    build the modules against the project's test kernel
#   make ARCH=arm64         cross-build them for arm64
#   make KDIR=/lib/modules/$(uname -r)/build
#                           build them against another kernel tree
#   make demo [ARCH=arm64]  boot a guest and show blk, net, rng and console
#                           working over virtio-msg
#   make check              set up, lint, build and test in both QEMU guests
#   make lint               checkpatch, sparse, W=1, kernel-doc, dt-schema, and
#                           the patch series applied, built and checked
#   make patches            the upstream patch series against Linux 6.12, with
#                           a cover letter, in .out/patches
#   make fuzz [ARCH=arm64] [FUZZ_MESSAGES=N] [FUZZ_SEED=S] [FUZZ_TIME=S]
#                           boot a guest and run only the loopback fuzzer,
#                           long; results in .out/fuzz/ARCH
#   make bench [ARCH=arm64] [BENCH_TIME=S]
#                           boot a guest and measure the loopback bus against
#                           references in the same guest (pipe, null_blk,
#                           veth), S seconds per figure; table in
#                           .out/bench/ARCH/bench.txt and bench.json
#   make shell ARCH=...     boot a guest with everything loaded, interactively
#   make setup              install the Debian packages the bench needs
#   make kernel ARCH=...    build (or reuse) the test kernel for ARCH

ARCH ?= x86_64
BENCH := $(CURDIR)/tools/testing/virtio_msg

ifeq ($(filter arm64 aarch64,$(ARCH)),)
VMSG_ARCH := x86_64
CROSS_COMPILE ?=
else
VMSG_ARCH := arm64
CROSS_COMPILE ?= aarch64-linux-gnu-
endif

# Deferred: only targets that need the kernel build (or reuse) it.
KDIR ?= $(shell $(BENCH)/kernel.sh $(VMSG_ARCH))

KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) ARCH=$(VMSG_ARCH) \
	CROSS_COMPILE=$(CROSS_COMPILE)

.PHONY: all modules clean check demo lint shell setup kernel fuzz bench \
	patches

all: modules

modules:
	$(KMAKE) modules

check:
	$(BENCH)/check.sh

# The demo also serves a disk and two network devices over AMP from the host.
demo:
	VMSG_AMP="$${VMSG_AMP---blk 16 --net}" $(BENCH)/guest.sh demo $(VMSG_ARCH)

lint:
	$(BENCH)/lint.sh

patches:
	$(BENCH)/patches.sh

fuzz:
	FUZZ_MESSAGES="$(FUZZ_MESSAGES)" FUZZ_SEED="$(FUZZ_SEED)" \
	FUZZ_TIME="$(FUZZ_TIME)" FUZZ_ARGS="$(FUZZ_ARGS)" \
		$(BENCH)/fuzz.sh $(VMSG_ARCH)

bench:
	BENCH_TIME="$(BENCH_TIME)" $(BENCH)/bench.sh $(VMSG_ARCH)

shell:
	$(BENCH)/guest.sh shell $(VMSG_ARCH)

setup:
	$(BENCH)/setup.sh

kernel:
	@$(BENCH)/kernel.sh $(VMSG_ARCH)

# Kernel caches stay; see README "Caches".
clean:
	find drivers \( -name '*.o' -o -name '*.ko' -o -name '*.mod' \
		-o -name '*.mod.c' -o -name '.*.cmd' -o -name '*.order' \) -delete
	rm -f Module.symvers modules.order
	rm -rf .out
