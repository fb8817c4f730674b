// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for DMA through a bus's window.
 *
 * A bus with no peer (its send op fails) is registered against the real
 * core and given a window of vmalloc()ed memory; the DMA devices the core
 * makes on it are then driven through the ordinary DMA API, as virtio_ring
 * and the drivers would, and the window is inspected directly. Misuse
 * (unknown or double unmaps) calls the engine itself, so that no DMA API
 * debugging layer reports what the test does on purpose.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/virtio_msg.h>

#include "../virtio_msg_core.h"

/* Small, so that exhaustion is quick: 64 granules of 2 KiB. */
#define TEST_WIN_SIZE		SZ_128K
/* An arbitrary bus base, far from any CPU address. */
#define TEST_BUS_BASE		0x4000000000ULL

struct dma_test {
	struct virtio_msg_bus bus;
	struct virtio_msg_bus_desc desc;
	struct virtio_msg_bus_ops ops;
	struct virtio_msg_dma_window win;
	void *mem;
	struct device *dev[2];
};

static int dma_test_send(struct virtio_msg_bus *bus,
			 const struct virtio_msg_hdr *msg)
{
	return -ENODEV;
}

static void dma_test_unregister(void *data)
{
	struct dma_test *t = data;
	int i;

	for (i = 0; i < ARRAY_SIZE(t->dev); i++)
		if (!IS_ERR_OR_NULL(t->dev[i]))
			vmsg_dma_dev_destroy(t->dev[i]);
	virtio_msg_bus_unregister(&t->bus);
	vfree(t->mem);
}

/* A registered bus with a window of @shm_size bytes of shared memory. */
static struct dma_test *dma_test_setup(struct kunit *test, u64 shm_size)
{
	static atomic_t buses = ATOMIC_INIT(0);
	struct dma_test *t;
	char name[32];
	int i;

	/* A window needs per-device DMA ops; on x86, Xen brings them. */
	if (!IS_ENABLED(CONFIG_ARCH_HAS_DMA_OPS))
		kunit_skip(test, "needs CONFIG_ARCH_HAS_DMA_OPS");
	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	snprintf(name, sizeof(name), "virtio-msg-dmatest%d",
		 atomic_inc_return(&buses));
	t->bus.parent = kunit_device_register(test, name);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t->bus.parent);
	t->ops.send = dma_test_send;
	t->desc.name = "dmatest";
	t->desc.ops = &t->ops;
	t->desc.max_msg_size = VIRTIO_MSG_MAX_SIZE_MIN;
	t->bus.desc = &t->desc;
	t->mem = vzalloc(TEST_WIN_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, t->mem);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_register(&t->bus), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							dma_test_unregister,
							t), 0);

	t->win.vaddr = t->mem;
	t->win.size = TEST_WIN_SIZE;
	t->win.bus_base = TEST_BUS_BASE;
	t->win.shm_size = shm_size;
	/* Not the memory's real address: only translated, never mapped. */
	t->win.phys = shm_size ? 0x80000000ULL : 0;
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_set_dma_window(&t->bus, &t->win),
			0);
	for (i = 0; i < ARRAY_SIZE(t->dev); i++) {
		t->dev[i] = vmsg_dma_dev_create(t->bus.core->window,
						t->bus.parent, i);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t->dev[i]);
	}
	return t;
}

static struct vmsg_dma_ctx *ctx_of(struct dma_test *t, int i)
{
	return vmsg_dma_dev_ctx(t->dev[i]);
}

/* The window bytes behind bus address @addr. */
static u8 *win_ptr(struct dma_test *t, dma_addr_t addr)
{
	return t->mem + (addr - TEST_BUS_BASE);
}

static bool in_window(dma_addr_t addr, size_t size)
{
	return addr >= TEST_BUS_BASE &&
	       addr + size <= TEST_BUS_BASE + TEST_WIN_SIZE;
}

static void fill(u8 *p, size_t n, u8 seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = seed + i * 7;
}

static bool filled(const u8 *p, size_t n, u8 seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != (u8)(seed + i * 7))
			return false;
	return true;
}

static void vmsg_dma_test_coherent(struct kunit *test)
{
	struct dma_test *t = dma_test_setup(test, 0);
	struct vmsg_dma_window *win = t->bus.core->window;
	dma_addr_t h1, h2;
	u8 *p1, *p2;

	p1 = dma_alloc_coherent(t->dev[0], 5000, &h1, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p1);
	p2 = dma_alloc_coherent(t->dev[1], 100, &h2, GFP_ATOMIC);
	KUNIT_ASSERT_NOT_NULL(test, p2);

	/* In the window, page aligned, bus address = base + offset. */
	KUNIT_EXPECT_TRUE(test, in_window(h1, 5000));
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(p1));
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(p2));
	KUNIT_EXPECT_PTR_EQ(test, p1, win_ptr(t, h1));
	KUNIT_EXPECT_PTR_EQ(test, p2, win_ptr(t, h2));
	KUNIT_EXPECT_EQ(test, h1 - TEST_BUS_BASE, (u64)(p1 - (u8 *)t->mem));
	KUNIT_EXPECT_NULL(test, memchr_inv(p1, 0, 5000));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx_of(t, 0)->coherent_bytes),
			5000);
	KUNIT_EXPECT_EQ(test, vmsg_dma_window_used(win),
			(u64)PAGE_ALIGN(5000) + PAGE_ALIGN(100));

	/* Freed memory comes back zeroed. */
	memset(p1, 0xaa, 5000);
	dma_free_coherent(t->dev[0], 5000, p1, h1);
	p1 = dma_alloc_coherent(t->dev[0], 5000, &h1, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p1);
	KUNIT_EXPECT_NULL(test, memchr_inv(p1, 0, 5000));

	dma_free_coherent(t->dev[0], 5000, p1, h1);
	dma_free_coherent(t->dev[1], 100, p2, h2);
	KUNIT_EXPECT_EQ(test, vmsg_dma_window_used(win), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx_of(t, 0)->coherent_bytes),
			0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx_of(t, 0)->bad_unmaps), 0);
}

static void vmsg_dma_test_to_device(struct kunit *test)
{
	struct dma_test *t = dma_test_setup(test, 0);
	u8 *buf = kunit_kmalloc(test, 3000, GFP_KERNEL);
	dma_addr_t a;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	fill(buf, 3000, 1);
	a = dma_map_single(t->dev[0], buf, 3000, DMA_TO_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(t->dev[0], a));
	KUNIT_EXPECT_TRUE(test, in_window(a, 3000));
	KUNIT_EXPECT_TRUE(test, filled(win_ptr(t, a), 3000, 1));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx_of(t, 0)->bounce_bytes),
			3000);

	/* The CPU changes a part; sync for the device carries it over. */
	fill(buf + 1000, 500, 9);
	dma_sync_single_range_for_device(t->dev[0], a, 1000, 500,
					 DMA_TO_DEVICE);
	KUNIT_EXPECT_TRUE(test, filled(win_ptr(t, a) + 1000, 500, 9));
	KUNIT_EXPECT_TRUE(test, filled(win_ptr(t, a), 1000, 1));

	/* What the peer writes into a to-device copy never comes back. */
	memset(win_ptr(t, a), 0xee, 3000);
	dma_sync_single_for_cpu(t->dev[0], a, 3000, DMA_TO_DEVICE);
	dma_unmap_single(t->dev[0], a, 3000, DMA_TO_DEVICE);
	KUNIT_EXPECT_TRUE(test, filled(buf, 1000, 1));
	KUNIT_EXPECT_TRUE(test, filled(buf + 1000, 500, 9));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx_of(t, 0)->bounce_bytes), 0);
	KUNIT_EXPECT_EQ(test, vmsg_dma_window_used(t->bus.core->window), 0);
}

static void vmsg_dma_test_from_device(struct kunit *test)
{
	struct dma_test *t = dma_test_setup(test, 0);
	u8 *buf = kunit_kmalloc(test, 3000, GFP_KERNEL);
	dma_addr_t a;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	/* What an earlier mapping left in the window must not leak in. */
	memset(t->mem, 0x55, TEST_WIN_SIZE);
	fill(buf, 3000, 3);
	a = dma_map_single(t->dev[0], buf, 3000, DMA_FROM_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(t->dev[0], a));
	KUNIT_EXPECT_TRUE(test, in_window(a, 3000));

	/* The device writes a part; the CPU syncs that part only. */
	fill(win_ptr(t, a) + 100, 200, 4);
	dma_sync_single_range_for_cpu(t->dev[0], a, 100, 200, DMA_FROM_DEVICE);
	KUNIT_EXPECT_TRUE(test, filled(buf + 100, 200, 4));
	KUNIT_EXPECT_TRUE(test, filled(buf, 100, 3));

	/* Then more; unmap copies back, and what it did not write stays. */
	fill(win_ptr(t, a) + 2000, 1000, 5);
	dma_unmap_single(t->dev[0], a, 3000, DMA_FROM_DEVICE);
	KUNIT_EXPECT_TRUE(test, filled(buf, 100, 3));
	KUNIT_EXPECT_TRUE(test, filled(buf + 100, 200, 4));
	KUNIT_EXPECT_TRUE(test, filled(buf + 2000, 1000, 5));
	KUNIT_EXPECT_TRUE(test, filled(buf + 300, 1700, (3 + 300 * 7) & 0xff));
}

/* An abandoned buffer's memory may be reused: unmap copies nothing. */
static void vmsg_dma_test_abandon(struct kunit *test)
{
	struct dma_test *t = dma_test_setup(test, 0);
	u8 *buf = kunit_kmalloc(test, 300, GFP_KERNEL);
	dma_addr_t a;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	fill(buf, 300, 3);
	a = dma_map_single(t->dev[0], buf, 300, DMA_FROM_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(t->dev[0], a));
	fill(win_ptr(t, a), 300, 4);
	vmsg_dma_abandon(ctx_of(t, 0), true);
	dma_unmap_single(t->dev[0], a, 300, DMA_FROM_DEVICE);
	vmsg_dma_abandon(ctx_of(t, 0), false);
	KUNIT_EXPECT_TRUE(test, filled(buf, 300, 3));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx_of(t, 0)->bounce_bytes), 0);
	KUNIT_EXPECT_EQ(test, vmsg_dma_window_used(t->bus.core->window), 0);

	/* And copies again once that is over. */
	a = dma_map_single(t->dev[0], buf, 300, DMA_FROM_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(t->dev[0], a));
	fill(win_ptr(t, a), 300, 5);
	dma_unmap_single(t->dev[0], a, 300, DMA_FROM_DEVICE);
	KUNIT_EXPECT_TRUE(test, filled(buf, 300, 5));
}

static void vmsg_dma_test_bidirectional(struct kunit *test)
{
	struct dma_test *t = dma_test_setup(test, 0);
	struct page *page = alloc_pages(GFP_KERNEL, 1);
	dma_addr_t a;
	u8 *buf;

	KUNIT_ASSERT_NOT_NULL(test, page);
	buf = page_address(page);
	/* Across a page boundary of the original. */
	fill(buf + PAGE_SIZE - 700, 1400, 6);
	a = dma_map_page(t->dev[0], page, PAGE_SIZE - 700, 1400,
			 DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(t->dev[0], a));
	KUNIT_EXPECT_TRUE(test, filled(win_ptr(t, a), 1400, 6));
	fill(win_ptr(t, a), 1400, 7);
	dma_sync_single_for_cpu(t->dev[0], a, 1400, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_TRUE(test, filled(buf + PAGE_SIZE - 700, 1400, 7));
	fill(buf + PAGE_SIZE - 700, 1400, 8);
	dma_sync_single_for_device(t->dev[0], a, 1400, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_TRUE(test, filled(win_ptr(t, a), 1400, 8));
	fill(win_ptr(t, a), 1400, 9);
	dma_unmap_page(t->dev[0], a, 1400, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_TRUE(test, filled(buf + PAGE_SIZE - 700, 1400, 9));
	__free_pages(page, 1);
}

static void vmsg_dma_test_sg(struct kunit *test)
{
	static const unsigned int len[] = { 100, 2500, 4096 };
	struct dma_test *t = dma_test_setup(test, 0);
	struct scatterlist sgl[ARRAY_SIZE(len)], *sg;
	u8 *buf[ARRAY_SIZE(len)];
	int i, n;

	sg_init_table(sgl, ARRAY_SIZE(len));
	for_each_sg(sgl, sg, ARRAY_SIZE(len), i) {
		buf[i] = kunit_kmalloc(test, len[i], GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, buf[i]);
		fill(buf[i], len[i], 10 + i);
		sg_set_buf(sg, buf[i], len[i]);
	}
	n = dma_map_sg(t->dev[1], sgl, ARRAY_SIZE(len), DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_EQ(test, n, ARRAY_SIZE(len));
	for_each_sg(sgl, sg, n, i) {
		KUNIT_EXPECT_TRUE(test, in_window(sg_dma_address(sg),
						  sg_dma_len(sg)));
		KUNIT_EXPECT_EQ(test, sg_dma_len(sg), len[i]);
		KUNIT_EXPECT_TRUE(test, filled(win_ptr(t, sg_dma_address(sg)),
					       len[i], 10 + i));
		fill(win_ptr(t, sg_dma_address(sg)), len[i], 20 + i);
	}
	dma_sync_sg_for_cpu(t->dev[1], sgl, n, DMA_BIDIRECTIONAL);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_TRUE(test, filled(buf[i], len[i], 20 + i));
		fill(buf[i], len[i], 30 + i);
	}
	dma_sync_sg_for_device(t->dev[1], sgl, n, DMA_BIDIRECTIONAL);
	for_each_sg(sgl, sg, n, i) {
		KUNIT_EXPECT_TRUE(test, filled(win_ptr(t, sg_dma_address(sg)),
					       len[i], 30 + i));
		fill(win_ptr(t, sg_dma_address(sg)), len[i], 40 + i);
	}
	dma_unmap_sg(t->dev[1], sgl, ARRAY_SIZE(len), DMA_BIDIRECTIONAL);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_TRUE(test, filled(buf[i], len[i], 40 + i));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx_of(t, 1)->bounce_bytes), 0);
	KUNIT_EXPECT_EQ(test, vmsg_dma_window_used(t->bus.core->window), 0);
}

static void vmsg_dma_test_exhaustion(struct kunit *test)
{
	struct dma_test *t = dma_test_setup(test, 0);
	size_t max = dma_max_mapping_size(t->dev[0]);
	u8 *buf = kunit_kzalloc(test, max + 1, GFP_KERNEL);
	dma_addr_t a[TEST_WIN_SIZE / SZ_2K + 1];
	struct scatterlist sgl[2];
	int i, n = 0;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	/* A quarter of this small window. */
	KUNIT_EXPECT_EQ(test, max, TEST_WIN_SIZE / 4);
	a[0] = dma_map_single(t->dev[0], buf, max + 1, DMA_TO_DEVICE);
	KUNIT_EXPECT_TRUE(test, dma_mapping_error(t->dev[0], a[0]));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx_of(t, 0)->map_failures),
			1);

	/* Fill the window with 2 KiB mappings from both devices. */
	for (i = 0; i < ARRAY_SIZE(a); i++) {
		a[i] = dma_map_single(t->dev[i & 1], buf, SZ_2K,
				      DMA_TO_DEVICE);
		if (dma_mapping_error(t->dev[i & 1], a[i]))
			break;
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, TEST_WIN_SIZE / SZ_2K);
	KUNIT_EXPECT_EQ(test, vmsg_dma_window_used(t->bus.core->window),
			(u64)TEST_WIN_SIZE);
	/* A failed scatterlist leaves nothing behind. */
	sg_init_table(sgl, 2);
	sg_set_buf(&sgl[0], buf, 100);
	sg_set_buf(&sgl[1], buf + 100, 100);
	KUNIT_EXPECT_EQ(test, dma_map_sg(t->dev[0], sgl, 2, DMA_TO_DEVICE), 0);
	KUNIT_EXPECT_NULL(test, dma_alloc_coherent(t->dev[0], 10, &a[n],
						   GFP_ATOMIC));

	/* Give two back: mapping works again. */
	dma_unmap_single(t->dev[0], a[0], SZ_2K, DMA_TO_DEVICE);
	dma_unmap_single(t->dev[1], a[1], SZ_2K, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, dma_map_sg(t->dev[0], sgl, 2, DMA_TO_DEVICE), 2);
	dma_unmap_sg(t->dev[0], sgl, 2, DMA_TO_DEVICE);
	for (i = 2; i < n; i++)
		dma_unmap_single(t->dev[i & 1], a[i], SZ_2K, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, vmsg_dma_window_used(t->bus.core->window), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx_of(t, 0)->bad_unmaps), 0);
}

/* Driver bugs: warned about and counted, nothing freed twice. */
static void vmsg_dma_test_bad_unmap(struct kunit *test)
{
	struct dma_test *t = dma_test_setup(test, 0);
	struct vmsg_dma_ctx *c0 = ctx_of(t, 0), *c1 = ctx_of(t, 1);
	u8 *buf = kunit_kzalloc(test, 5000, GFP_KERNEL);
	dma_addr_t a, b, h;
	void *p;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	a = vmsg_dma_map(c0, virt_to_phys(buf), 3000, DMA_FROM_DEVICE, 0);
	KUNIT_ASSERT_NE(test, a, DMA_MAPPING_ERROR);
	p = vmsg_dma_alloc(c0, 100, &h);
	KUNIT_ASSERT_NOT_NULL(test, p);

	vmsg_dma_unmap(c0, 0x1234, 10, DMA_TO_DEVICE, 0);	/* outside */
	vmsg_dma_unmap(c0, a + SZ_2K, 100, DMA_FROM_DEVICE, 0);	/* inside */
	vmsg_dma_unmap(c0, a, 2999, DMA_FROM_DEVICE, 0);	/* size */
	vmsg_dma_unmap(c1, a, 3000, DMA_FROM_DEVICE, 0);	/* other dev */
	vmsg_dma_unmap(c0, h, 100, DMA_TO_DEVICE, 0);	/* coherent */
	vmsg_dma_free(c0, 3000, win_ptr(t, a), a);	/* streaming */
	vmsg_dma_sync(c1, a, 10, DMA_FROM_DEVICE, true);	/* other dev */
	vmsg_dma_sync(c0, a + 2990, 20, DMA_FROM_DEVICE, true); /* beyond */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&c0->bad_unmaps), 6);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&c1->bad_unmaps), 2);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&c0->bounce_bytes), 3000);

	/* The real mapping is intact: a new one cannot take its place. */
	b = vmsg_dma_map(c1, virt_to_phys(buf), 100, DMA_TO_DEVICE, 0);
	KUNIT_ASSERT_NE(test, b, DMA_MAPPING_ERROR);
	KUNIT_EXPECT_TRUE(test, b >= a + 3000 || b + 100 <= a);

	vmsg_dma_unmap(c0, a, 3000, DMA_FROM_DEVICE, 0);
	vmsg_dma_unmap(c0, a, 3000, DMA_FROM_DEVICE, 0);	/* twice */
	vmsg_dma_free(c0, 100, p, h);
	vmsg_dma_free(c0, 100, p, h);				/* twice */
	vmsg_dma_unmap(c1, b, 100, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&c0->bad_unmaps), 8);
	KUNIT_EXPECT_EQ(test, vmsg_dma_window_used(t->bus.core->window), 0);
}

/* What a driver leaks goes back to the window with its DMA device. */
static void vmsg_dma_test_leak(struct kunit *test)
{
	struct dma_test *t = dma_test_setup(test, 0);
	u8 *buf = kunit_kzalloc(test, 100, GFP_KERNEL);
	dma_addr_t a, h;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	a = dma_map_single(t->dev[0], buf, 100, DMA_TO_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(t->dev[0], a));
	KUNIT_ASSERT_NOT_NULL(test, dma_alloc_coherent(t->dev[0], 100, &h,
						       GFP_KERNEL));
	KUNIT_EXPECT_NE(test, vmsg_dma_window_used(t->bus.core->window), 0);
	vmsg_dma_dev_destroy(t->dev[0]);
	t->dev[0] = NULL;
	KUNIT_EXPECT_EQ(test, vmsg_dma_window_used(t->bus.core->window), 0);
}

static void vmsg_dma_test_window_check(struct kunit *test)
{
	struct dma_test *t = dma_test_setup(test, 0);
	struct virtio_msg_dma_window w = t->win;

	/* Once per registration. */
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_set_dma_window(&t->bus, &w),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, vmsg_dma_window_check(&w), 0);
	w.size = 0;
	KUNIT_EXPECT_EQ(test, vmsg_dma_window_check(&w), -EINVAL);
	w.size = TEST_WIN_SIZE + 1;
	KUNIT_EXPECT_EQ(test, vmsg_dma_window_check(&w), -EINVAL);
	w = t->win;
	w.vaddr += 1;
	KUNIT_EXPECT_EQ(test, vmsg_dma_window_check(&w), -EINVAL);
	w = t->win;
	w.bus_base = U64_MAX - TEST_WIN_SIZE + 2;
	KUNIT_EXPECT_EQ(test, vmsg_dma_window_check(&w), -EINVAL);
	w = t->win;
	w.shm_size = TEST_WIN_SIZE;
	w.phys = 0x80000000ULL;
	KUNIT_EXPECT_EQ(test, vmsg_dma_window_check(&w), -EINVAL);
	w.shm_size = PAGE_SIZE;
	w.phys = 0;	/* shared memory needs a physical address */
	KUNIT_EXPECT_EQ(test, vmsg_dma_window_check(&w), -EINVAL);
	w.phys = 0x80000000ULL;
	KUNIT_EXPECT_EQ(test, vmsg_dma_window_check(&w), 0);
}

static void vmsg_dma_test_shm(struct kunit *test)
{
	struct dma_test *t = dma_test_setup(test, 2 * PAGE_SIZE);
	const struct vmsg_dma_window *win = t->bus.core->window;
	u64 shm = TEST_BUS_BASE + TEST_WIN_SIZE - 2 * PAGE_SIZE;
	u64 addr;

	/* The allocator stays out of the shared memory part. */
	KUNIT_EXPECT_EQ(test, vmsg_dma_window_size(win),
			(u64)TEST_WIN_SIZE - 2 * PAGE_SIZE);

	addr = shm + 16;
	KUNIT_EXPECT_EQ(test, vmsg_dma_shm_translate(win, &addr, 100), 0);
	KUNIT_EXPECT_EQ(test, addr, 0x80000000ULL + TEST_WIN_SIZE -
			2 * PAGE_SIZE + 16);
	addr = shm;
	KUNIT_EXPECT_EQ(test, vmsg_dma_shm_translate(win, &addr,
						     2 * PAGE_SIZE), 0);
	/* Outside, straddling, wrapping around, empty: hidden. */
	addr = shm - 1;
	KUNIT_EXPECT_EQ(test, vmsg_dma_shm_translate(win, &addr, 2), -EINVAL);
	addr = TEST_BUS_BASE;
	KUNIT_EXPECT_EQ(test, vmsg_dma_shm_translate(win, &addr, 1), -EINVAL);
	addr = shm + PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, vmsg_dma_shm_translate(win, &addr,
						     PAGE_SIZE + 1), -EINVAL);
	addr = shm;
	KUNIT_EXPECT_EQ(test, vmsg_dma_shm_translate(win, &addr, U64_MAX),
			-EINVAL);
	addr = U64_MAX;
	KUNIT_EXPECT_EQ(test, vmsg_dma_shm_translate(win, &addr, 1), -EINVAL);
	addr = shm;
	KUNIT_EXPECT_EQ(test, vmsg_dma_shm_translate(win, &addr, 0), -EINVAL);
}

static struct kunit_case vmsg_dma_cases[] = {
	KUNIT_CASE(vmsg_dma_test_coherent),
	KUNIT_CASE(vmsg_dma_test_to_device),
	KUNIT_CASE(vmsg_dma_test_from_device),
	KUNIT_CASE(vmsg_dma_test_abandon),
	KUNIT_CASE(vmsg_dma_test_bidirectional),
	KUNIT_CASE(vmsg_dma_test_sg),
	KUNIT_CASE(vmsg_dma_test_exhaustion),
	KUNIT_CASE(vmsg_dma_test_bad_unmap),
	KUNIT_CASE(vmsg_dma_test_leak),
	KUNIT_CASE(vmsg_dma_test_window_check),
	KUNIT_CASE(vmsg_dma_test_shm),
	{}
};

static struct kunit_suite vmsg_dma_suite = {
	.name = "virtio_msg_dma",
	.test_cases = vmsg_dma_cases,
};

kunit_test_suite(vmsg_dma_suite);

MODULE_IMPORT_NS(VIRTIO_MSG_NS);
MODULE_IMPORT_NS(VIRTIO_MSG_KUNIT_NS);
MODULE_DESCRIPTION("KUnit tests for DMA through a virtio-msg bus's window");
MODULE_LICENSE("GPL");
