# SPDX-License-Identifier: GPL-2.0-only
#
# virtio-msg: out-of-tree build and test bench entry points.
#
#   make                    build the modules against the project's test kernel
#   make ARCH=arm64         cross-build them for arm64
#   make KDIR=/lib/modules/$(uname -r)/build
#                           build them against another kernel tree
#   make demo [ARCH=arm64] [KERNEL=debug|stock]
#                           boot a guest and show blk, net, rng and console
#                           working over virtio-msg; x86_64 boots Debian's
#                           own kernel unless KERNEL=debug (the test kernel),
#                           arm64 the test kernel (no stock arm64 lane)
#   make check              set up, lint, build and test in the QEMU guests
#                           (x86_64 and arm64 test kernels, Debian's x86_64)
#   make lint               checkpatch, sparse, W=1, dkms, kernel-doc,
#                           dt-schema, and the patch series applied, built
#                           and checked
#   make patches            the upstream patch series against Linux 6.12, with
#                           a cover letter, in .out/patches
#   make fuzz [ARCH=arm64] [FUZZ_MESSAGES=N] [FUZZ_SEED=S] [FUZZ_TIME=S]
#                           boot a guest and run only the loopback fuzzer,
#                           long; results in .out/fuzz/ARCH
#   make bench [ARCH=arm64] [BENCH_TIME=S] [KERNEL=debug|stock]
#                           boot a guest and measure the loopback bus against
#                           references in the same guest (pipe, null_blk,
#                           brd where the kernel has it as a module, veth),
#                           S seconds per figure, with what each operation
#                           cost the device side; on the test kernel unless
#                           KERNEL=stock (x86_64: Debian's own, non-debug);
#                           table in .out/bench/ARCH/bench.txt and bench.json
#                           (.out/bench/x86_64-stock/ for KERNEL=stock)
#   make install [KDIR=...] [DESTDIR=...] [INSTALL_MOD_PATH=...] [PREFIX=...]
#                           the modules into /lib/modules/KVER/updates (KDIR
#                           defaults to the running kernel's build tree here),
#                           then depmod; the backends into PREFIX/bin
#                           (/usr/local); SIGN_KEY=key.pem SIGN_CERT=cert.der
#                           signs the modules with a key of your own (MOK)
#   make uninstall          the same arguments, removes what install put
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

# Installing is for the machine's own kernel, never a test kernel.
ifneq ($(filter install install_modules uninstall,$(MAKECMDGOALS)),)
KDIR ?= /lib/modules/$(shell uname -r)/build
endif

# The demo's kernel: Debian's own (stock-kernel.sh) where the bench has it.
ifeq ($(VMSG_ARCH),x86_64)
KERNEL ?= stock
else
KERNEL ?= debug
endif

# The bench's kernel: the test kernel unless KERNEL is given (on the
# command line or in the environment), whatever the demo's default.
BENCH_KERNEL := $(if $(filter file,$(origin KERNEL)),debug,$(KERNEL))

# Deferred: only targets that need the kernel build (or reuse) it.
KDIR ?= $(shell $(BENCH)/kernel.sh $(VMSG_ARCH))

KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) ARCH=$(VMSG_ARCH) \
	CROSS_COMPILE=$(CROSS_COMPILE)

.PHONY: all modules clean check demo lint shell setup kernel fuzz bench \
	install install_modules install_tools uninstall \
	patches

all: modules

modules:
	$(KMAKE) modules

# Installation: Kbuild's modules_install into INSTALL_MOD_DIR, under
# DESTDIR and INSTALL_MOD_PATH. depmod runs here (Kbuild's is turned off),
# and only for a live system: a staging tree holds a fraction of the
# kernel's modules, and a headers package has no System.map for Kbuild's.
PREFIX ?= /usr/local
INSTALL_MOD_DIR ?= updates
MODROOT = $(DESTDIR)$(INSTALL_MOD_PATH)
KVER = $(shell cat $(KDIR)/include/config/kernel.release)
kconf = $(patsubst "%",%,$(shell sed -n 's/^$(1)=//p' \
	$(KDIR)/include/config/auto.conf))

# A kernel with MODULE_SIG_ALL has Kbuild sign what it installs with the
# kernel's own key, and Kbuild prints sign-file's errors (and goes on)
# when that key is not there, as in every distribution's headers package.
# Sign only when the key is there; SIGN_KEY and SIGN_CERT sign with
# another key (a MOK) instead, after installing uncompressed modules:
# a signature covers the file as the kernel loads it.
SIG_KEY = $(call kconf,CONFIG_MODULE_SIG_KEY)
KERNEL_CAN_SIGN = $(or $(filter pkcs11:%,$(SIG_KEY)), \
	$(and $(wildcard $(if $(filter /%,$(SIG_KEY)),,$(KDIR)/)$(SIG_KEY)), \
	      $(wildcard $(KDIR)/certs/signing_key.x509)))
MODINST_ARGS = INSTALL_MOD_PATH=$(MODROOT) INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) \
	$(if $(SIGN_KEY),CONFIG_MODULE_SIG_ALL= CONFIG_MODULE_COMPRESS_ALL=, \
	$(if $(KERNEL_CAN_SIGN),,CONFIG_MODULE_SIG_ALL=))
ifneq ($(SIGN_KEY),)
ifeq ($(SIGN_CERT),)
$(error SIGN_KEY needs SIGN_CERT, the key's certificate)
endif
endif
MODDIR = $(MODROOT)/lib/modules/$(KVER)/$(INSTALL_MOD_DIR)
MODULES = $(shell sed -n 's,^$(CURDIR)/\(.*\)\.o$$,\1.ko,p' $(CURDIR)/modules.order)

install: install_modules install_tools

install_modules: modules
	@test -n "$(KVER)" || { echo "$(KDIR): no kernel release" >&2; exit 1; }
	$(KMAKE) $(MODINST_ARGS) cmd_depmod=: quiet_cmd_depmod= modules_install
ifneq ($(SIGN_KEY),)
	$(foreach m,$(MODULES),$(KDIR)/scripts/sign-file \
		$(or $(call kconf,CONFIG_MODULE_SIG_HASH),sha256) \
		$(SIGN_KEY) $(SIGN_CERT) $(MODDIR)/$(m) &&) true
else
	@$(if $(filter y,$(call kconf,CONFIG_MODULE_SIG_ALL)), \
	$(if $(KERNEL_CAN_SIGN),:,echo "modules not signed: $(KDIR) has no \
	signing key (README, \"Secure Boot\")"),:)
endif
ifeq ($(MODROOT),)
	depmod -a $(KVER)
endif

install_tools:
	$(MAKE) -C tools/virtio-msg PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) install

uninstall:
	rm -f $(MODDIR)/drivers/virtio/virtio_msg*.ko* \
		$(MODDIR)/drivers/virtio/tests/virtio_msg*.ko*
ifeq ($(MODROOT),)
	depmod -a $(KVER)
endif
	$(MAKE) -C tools/virtio-msg PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) uninstall

check:
	$(BENCH)/check.sh

# The demo also serves a disk and two network devices over AMP from the host.
demo:
	VMSG_AMP="$${VMSG_AMP---blk 16 --net}" \
		$(BENCH)/guest.sh demo $(VMSG_ARCH) $(KERNEL)

lint:
	$(BENCH)/lint.sh

patches:
	$(BENCH)/patches.sh

fuzz:
	FUZZ_MESSAGES="$(FUZZ_MESSAGES)" FUZZ_SEED="$(FUZZ_SEED)" \
	FUZZ_TIME="$(FUZZ_TIME)" FUZZ_ARGS="$(FUZZ_ARGS)" \
		$(BENCH)/fuzz.sh $(VMSG_ARCH)

bench:
	BENCH_TIME="$(BENCH_TIME)" $(BENCH)/bench.sh $(VMSG_ARCH) \
		$(BENCH_KERNEL)

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
