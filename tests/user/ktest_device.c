/* ktest: devices and copy-on-write — resources, physical VMOs (Device
 * memory, never RAM), an IRQ object driven by a real interrupt, and
 * copy-on-write VMO children. The device is one no driver owns (the UARTs
 * belong to the uart driver): on virt the PL031 RTC, whose alarm fires at
 * once when its match register equals the counter; on the Pi the BCM2835
 * system timer, whose compare channel 1 fires when the counter reaches it
 * (channels 0 and 2 belong to the VideoCore). */
#include "ktest.h"

/* PL031 RTC */
#define RTC_DR 0x00
#define RTC_MR 0x04
#define RTC_IMSC 0x10
#define RTC_ICR 0x1C
/* BCM2835 system timer */
#define ST_CS 0x00
#define ST_CLO 0x04
#define ST_C1 0x10

struct board {
    uint64_t dev_pa;
    unsigned dev_irq; /* in the interrupt controller's numbering */
    unsigned timer_irq;
};
static const struct board virt = {0x09010000, 34, 30};
static const struct board raspi = {0x3F003000, 32 + 1, 1};

/* Which board? 0x09010000 is MMIO on virt but RAM on the Pi, and RAM is
 * never handed out as a physical VMO. */
static const struct board *detect(mica_handle_t root, mica_handle_t *dev)
{
    if (mica_vmo_create_physical(root, virt.dev_pa, 4096, dev) == MICA_OK)
        return &virt;
    if (mica_vmo_create_physical(root, raspi.dev_pa, 4096, dev) == MICA_OK)
        return &raspi;
    return NULL;
}

static void raise_interrupt(const struct board *b, volatile uint32_t *r)
{
    if (b == &virt) {
        r[RTC_IMSC / 4] = 1;
        r[RTC_MR / 4] = r[RTC_DR / 4];
    } else {
        r[ST_C1 / 4] = r[ST_CLO / 4] + 100; /* in 100 us */
    }
}

static void quieten(const struct board *b, volatile uint32_t *r)
{
    if (b == &virt) {
        r[RTC_IMSC / 4] = 0;
        r[RTC_ICR / 4] = 1;
    } else {
        r[ST_CS / 4] = 1u << 1;
    }
}

static int test_irq_object(void)
{
    mica_handle_t root = kt_bootinfo()->root_resource, dev, irq, n, as = kt_bootinfo()->self_aspace;
    CHECK(root != 0);
    const struct board *b = detect(root, &dev);
    CHECK(b != NULL);
    uintptr_t regs;
    CHECK_OK(mica_aspace_map(as, dev, 0, 4096, 0, MICA_MAP_READ | MICA_MAP_WRITE, &regs));
    volatile uint32_t *r = (volatile uint32_t *)regs;
    CHECK_OK(mica_notification_create(&n));
    CHECK_STATUS(mica_irq_create(root, b->timer_irq, &irq), MICA_ERR_BAD_STATE); /* the kernel's */
    CHECK_STATUS(mica_irq_create(root, 100000, &irq), MICA_ERR_OUT_OF_RANGE);
    CHECK_OK(mica_irq_create(root, b->dev_irq, &irq));
    mica_handle_t again;
    CHECK_STATUS(mica_irq_create(root, b->dev_irq, &again), MICA_ERR_BAD_STATE); /* taken */
    CHECK_STATUS(mica_irq_ack(irq), MICA_ERR_BAD_STATE);                         /* not bound yet */
    CHECK_STATUS(mica_irq_bind(irq, n, 0), MICA_ERR_INVALID_ARGS);
    CHECK_OK(mica_irq_bind(irq, n, 0x40));
    /* Make the device interrupt (the RTC's counter may tick between our
     * read and write, so try a few times). */
    uint64_t bits = 0;
    int err = MICA_ERR_TIMED_OUT;
    for (int attempt = 0; attempt < 3 && err == MICA_ERR_TIMED_OUT; attempt++) {
        raise_interrupt(b, r);
        err = mica_notify_wait(n, mica_clock_ns() + 300000000UL, &bits);
    }
    CHECK_OK(err);
    CHECK(bits == 0x40);
    /* Masked until acked: quieten the device first, then ack. */
    quieten(b, r);
    CHECK_OK(mica_irq_ack(irq));
    CHECK_STATUS(mica_notify_wait(n, mica_clock_ns() + 5000000, &bits), MICA_ERR_TIMED_OUT);
    CHECK_OK(mica_irq_mask(irq));
    CHECK_OK(mica_handle_close(irq)); /* releases the line */
    CHECK_OK(mica_irq_create(root, b->dev_irq, &irq));
    CHECK_OK(mica_handle_close(irq));
    CHECK_OK(mica_aspace_unmap(as, regs, 4096));
    CHECK_OK(mica_handle_close(dev));
    CHECK_OK(mica_handle_close(n));
    return 0;
}

static int test_resources(void)
{
    mica_handle_t root = kt_bootinfo()->root_resource, uart_res, irq_res, vmo, irq;
    mica_handle_t tmp;
    const struct board *b = detect(root, &tmp);
    CHECK(b != NULL);
    CHECK_OK(mica_handle_close(tmp));
    /* RAM is never a physical VMO; ranges must be page aligned. */
    CHECK_STATUS(mica_vmo_create_physical(root, b == &virt ? 0x40000000 : 0x100000, 4096, &vmo),
                 MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_vmo_create_physical(root, b->dev_pa + 4, 4096, &vmo), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_vmo_create_physical(root, b->dev_pa, 0, &vmo), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_vmo_create_physical(root, ~0UL & ~4095UL, 4096, &vmo), MICA_ERR_INVALID_ARGS);
    /* A narrower resource grants only its own range and kind. */
    CHECK_OK(mica_resource_create(root, MICA_RESOURCE_MMIO, b->dev_pa, 4096, &uart_res));
    CHECK_OK(mica_vmo_create_physical(uart_res, b->dev_pa, 4096, &vmo));
    CHECK_STATUS(mica_vmo_create_physical(uart_res, b->dev_pa + 4096, 4096, &tmp),
                 MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_irq_create(uart_res, b->dev_irq, &irq), MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_resource_create(uart_res, MICA_RESOURCE_MMIO, b->dev_pa, 8192, &tmp),
                 MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_resource_create(root, 7, 0, 1, &tmp), MICA_ERR_INVALID_ARGS);
    CHECK_OK(mica_resource_create(root, MICA_RESOURCE_IRQ, b->dev_irq, 1, &irq_res));
    CHECK_OK(mica_irq_create(irq_res, b->dev_irq, &irq));
    CHECK_OK(mica_handle_close(irq));
    CHECK_STATUS(mica_irq_create(irq_res, b->dev_irq + 1, &irq), MICA_ERR_ACCESS_DENIED);
    /* Device memory: mapped, never executable, not copied by vmo_read. */
    uintptr_t va;
    char byte;
    CHECK_STATUS(mica_aspace_map(kt_bootinfo()->self_aspace, vmo, 0, 4096, 0,
                                 MICA_MAP_READ | MICA_MAP_EXEC, &va),
                 MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_vmo_read(vmo, 0, &byte, 1), MICA_ERR_NOT_SUPPORTED);
    CHECK_STATUS(mica_system_exit(uart_res, 0), MICA_ERR_ACCESS_DENIED); /* only the root may */
    CHECK_OK(mica_handle_close(vmo));
    CHECK_OK(mica_handle_close(irq_res));
    CHECK_OK(mica_handle_close(uart_res));
    return 0;
}

static int test_copy_on_write(void)
{
    mica_handle_t parent, child, grandchild, as = kt_bootinfo()->self_aspace;
    uint64_t a = 0xAAAA, b = 0xBBBB, c = 0xCCCC, got;
    CHECK_OK(mica_vmo_create(3 * 4096, &parent));
    CHECK_OK(mica_vmo_write(parent, 0, &a, 8));
    CHECK_OK(mica_vmo_write(parent, 4096, &a, 8));
    CHECK_OK(mica_vmo_create_child(parent, 0, 3 * 4096, &child));
    CHECK_OK(mica_vmo_read(child, 0, &got, 8));
    CHECK(got == a); /* the child starts as the parent */
    /* Map the child twice: reads share the parent's page until a write. */
    uintptr_t v1, v2;
    CHECK_OK(mica_aspace_map(as, child, 0, 3 * 4096, 0, MICA_MAP_READ | MICA_MAP_WRITE, &v1));
    CHECK_OK(mica_aspace_map(as, child, 0, 3 * 4096, 0, MICA_MAP_READ, &v2));
    CHECK(*(volatile uint64_t *)v1 == a && *(volatile uint64_t *)v2 == a);
    *(volatile uint64_t *)v1 = b;         /* copy on write */
    CHECK(*(volatile uint64_t *)v2 == b); /* the other mapping sees the child's copy */
    CHECK_OK(mica_vmo_read(parent, 0, &got, 8));
    CHECK(got == a);                              /* the parent is untouched */
    CHECK_OK(mica_vmo_write(child, 4096, &c, 8)); /* a write through the syscall copies too */
    CHECK(*(volatile uint64_t *)(v2 + 4096) == c);
    CHECK_OK(mica_vmo_read(parent, 4096, &got, 8));
    CHECK(got == a);
    /* An offset child of the child, and bad arguments. */
    CHECK_OK(mica_vmo_create_child(child, 4096, 4096, &grandchild));
    CHECK_OK(mica_vmo_read(grandchild, 0, &got, 8));
    CHECK(got == c);
    CHECK_OK(mica_handle_close(grandchild));
    CHECK_STATUS(mica_vmo_create_child(parent, 1, 4096, &grandchild), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_vmo_create_child(parent, 3 * 4096, 4096, &grandchild), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_vmo_create_child(parent, 0, 0, &grandchild), MICA_ERR_INVALID_ARGS);
    mica_handle_t noread;
    CHECK_OK(mica_handle_dup(parent, MICA_RIGHT_MAP | MICA_RIGHT_DUPLICATE, &noread));
    CHECK_STATUS(mica_vmo_create_child(noread, 0, 4096, &grandchild), MICA_ERR_ACCESS_DENIED);
    CHECK_OK(mica_handle_close(noread));
    /* The parent outlives its handle while the child needs it. */
    CHECK_OK(mica_handle_close(parent));
    CHECK(*(volatile uint64_t *)(v2 + 8192) == 0);
    CHECK_OK(mica_aspace_unmap(as, v1, 3 * 4096));
    CHECK_OK(mica_aspace_unmap(as, v2, 3 * 4096));
    CHECK_OK(mica_handle_close(child));
    return 0;
}

static int test_contiguous(void)
{
    mica_handle_t root = kt_bootinfo()->root_resource, ram, vmo, other;
    uint64_t pa, pa2;
    uintptr_t va;
    CHECK_OK(mica_vmo_create_contiguous(root, 64 * 1024, &vmo, &pa));
    CHECK(pa != 0 && (pa & 0xFFFF) == 0); /* naturally aligned block */
    CHECK_OK(mica_aspace_map(kt_bootinfo()->self_aspace, vmo, 0, 64 * 1024, 0,
                             MICA_MAP_READ | MICA_MAP_WRITE, &va));
    ((volatile uint64_t *)va)[4096] = 0xD3A; /* offset 32 KiB */
    uint64_t got;
    CHECK_OK(mica_vmo_read(vmo, 32768, &got, 8));
    CHECK(got == 0xD3A);
    CHECK_OK(mica_aspace_unmap(kt_bootinfo()->self_aspace, va, 64 * 1024));
    CHECK_OK(mica_handle_close(vmo));
    /* A RAM resource grants allocations up to its size; others grant none. */
    CHECK_OK(mica_resource_create(root, MICA_RESOURCE_RAM, 0, 8192, &ram));
    CHECK_OK(mica_vmo_create_contiguous(ram, 8192, &vmo, &pa2));
    CHECK_STATUS(mica_vmo_create_contiguous(ram, 16384, &other, &pa2), MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_vmo_create_contiguous(root, 0, &other, &pa2), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_vmo_create_contiguous(root, 8UL << 20, &other, &pa2), MICA_ERR_INVALID_ARGS);
    mica_handle_t irqres;
    CHECK_OK(mica_resource_create(root, MICA_RESOURCE_IRQ, 40, 1, &irqres));
    CHECK_STATUS(mica_vmo_create_contiguous(irqres, 4096, &other, &pa2), MICA_ERR_ACCESS_DENIED);
    CHECK_OK(mica_handle_close(irqres));
    CHECK_OK(mica_handle_close(vmo));
    CHECK_OK(mica_handle_close(ram));
    return 0;
}

const struct ktest ktests_device[] = {
    {"user_contiguous_dma_vmo", test_contiguous},
    {"user_irq_object", test_irq_object},
    {"user_resources_physical_vmo", test_resources},
    {"user_copy_on_write", test_copy_on_write},
    {NULL, NULL},
};
