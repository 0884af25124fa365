/*
 * kernel_main: the boot CPU's path from boot/entry.S to an idle, fully set
 * up kernel. Order matters and is the whole point of this file:
 *
 *   per-CPU pointer -> MMU bookkeeping -> device tree (or board defaults)
 *   -> console (replays what was logged so far) -> linear map of RAM
 *   -> page allocator -> interrupt controller -> timer -> banner
 *   -> self-tests (test build) or idle.
 */
#include <arch/irqflags.h>
#include <board.h>
#include <libfdt.h>
#include <mica/aspace.h>
#include <mica/console_drivers.h>
#include <mica/cpu.h>
#include <mica/idle.h>
#include <mica/ipc.h>
#include <mica/irq.h>
#include <mica/irq_object.h>
#include <mica/memory.h>
#include <mica/panic.h>
#include <mica/platform.h>
#include <mica/printk.h>
#include <mica/process.h>
#include <mica/resource.h>
#include <mica/selftest.h>
#include <mica/status.h>
#include <mica/timer.h>
#include <mica/userboot.h>
#include <mica/vm.h>
#include <mica/vmo.h>

struct platform_info platform;
unsigned boot_entry_el;
extern int boot_early_status;

/* Pick the console: a build-time choice, else /chosen stdout-path, else the
 * board default the early page tables mapped. */
static void console_setup(void)
{
    struct console *con = NULL;
#if defined(MICA_CONSOLE_PL011) || defined(MICA_CONSOLE_MINIUART)
    con = board_early_console();
    printk("console: %s (build option)\n", con->name);
#else
    static struct console dt_console;
    if (platform.console != UART_NONE) {
        volatile void *regs = ioremap(platform.console_pa, 0x100);
        if (regs && platform.console == UART_PL011)
            pl011_console_init(&dt_console, platform.console_pa, regs);
        else if (regs)
            miniuart_console_init(&dt_console, platform.console_pa, regs);
        if (regs)
            con = &dt_console;
    }
    if (!con) {
        con = board_early_console();
        printk("console: no usable stdout-path in the device tree; using the board default %s\n",
               con->name);
    }
#endif
    console_activate(con);
}

static void print_banner(void)
{
    uint64_t midr, el;
    char cpu[96];
    __asm__ volatile("mrs %0, midr_el1" : "=r"(midr));
    __asm__ volatile("mrs %0, CurrentEL" : "=r"(el));
    cpu_describe(midr, cpu, sizeof(cpu));
    struct console *con = console_active();
    uint64_t freq = arch_timer_frequency();
    struct kimage_layout img;
    kimage_layout(&img);

    printk("\nMica %s%s on %s\n", MICA_VERSION, kernel_is_test_build ? " (self-test build)" : "",
           BOARD_NAME);
    printk("  model     %s%s\n", platform.model, platform.from_dtb ? "" : "");
    printk("  cpu       %s\n", cpu);
    printk("  cpus      %u in device tree, cpu 0 running, others parked (%s)\n",
           platform.n_cpus ? platform.n_cpus : 1,
           platform.cpu_enable_method[0] ? platform.cpu_enable_method : "no enable-method");
    printk("  entry     EL%u, running at EL%lu\n", boot_entry_el, (el >> 2) & 3);
    printk("  console   %s at 0x%lx %s\n", con->name, con->phys, platform.console_path);
    printk("  timer     generic timer, %lu.%02lu MHz, IRQ %u, one-shot (tickless)\n",
           freq / 1000000, (freq % 1000000) / 10000, platform.timer_irq);
    printk("  irq       %s at 0x%lx, 0x%lx\n", irq_controller_name(), platform.intc_regs[0].base,
           platform.intc_regs[1].base);
    printk("  ipc       fast path %s\n", MICA_IPC_FASTPATH ? "on" : "off (build option)");
    printk("  kernel    text %lx-%lx rodata %lx-%lx data+bss %lx-%lx\n", img.text, img.text_end - 1,
           img.rodata, img.rodata_end - 1, img.data, img.end - 1);
    printk("  memory map:\n");
    memory_print_map();
}

static bool range_in_ram(paddr_t base, uint64_t size)
{
    for (unsigned i = 0; i < platform.n_memory; i++) {
        const struct mem_range *r = &platform.memory[i];
        if (base >= r->base && size <= r->size && base - r->base <= r->size - size)
            return true;
    }
    return false;
}

/* RAM beyond the linear map cannot be used: drop it before anyone sees it. */
static void clip_memory_to_linear_map(void)
{
    for (unsigned i = 0; i < platform.n_memory; i++) {
        struct mem_range *r = &platform.memory[i];
        if (r->base >= PHYS_MAP_SIZE)
            r->size = 0;
        else if (r->size > PHYS_MAP_SIZE - r->base)
            r->size = PHYS_MAP_SIZE - r->base;
    }
}

static void read_device_tree(paddr_t dtb_pa, size_t *dtb_size)
{
    static char why[160];
    size_t mapped = 0;
    uint64_t mmfr0;
    __asm__ volatile("mrs %0, id_aa64mmfr0_el1" : "=r"(mmfr0));
    static const unsigned pa_bits[] = {32, 36, 40, 42, 44, 48, 52};
    unsigned parange = MIN((unsigned)(mmfr0 & 0xF), 5u);
    bool addressable =
        dtb_pa < (1UL << pa_bits[parange]) - FIXMAP_DTB_SIZE && IS_ALIGNED(dtb_pa, 8);
    const void *fdt = dtb_pa && addressable ? dtb_map(dtb_pa, &mapped) : NULL;
    int err;
    if (!dtb_pa) {
        snprintf(why, sizeof(why), "no device tree was passed (x0 = 0)");
        err = ERR_NOT_FOUND;
    } else if (!addressable) {
        snprintf(why, sizeof(why), "x0 = 0x%lx is not a usable device tree address", dtb_pa);
        err = ERR_OUT_OF_RANGE;
    } else if (!fdt) {
        snprintf(why, sizeof(why), "cannot map the device tree at 0x%lx", dtb_pa);
        err = ERR_NO_MEMORY;
    } else {
        err = dt_parse(fdt, mapped, &platform, why, sizeof(why));
        if (!err && !range_in_ram(dtb_pa, fdt_totalsize(fdt))) {
            snprintf(why, sizeof(why), "the device tree at 0x%lx lies outside the RAM it describes",
                     dtb_pa);
            err = ERR_OUT_OF_RANGE;
        }
    }
    *dtb_size = err ? 0 : fdt_totalsize(fdt);
    if (!err)
        return;
    printk("boot: %s (x0 = 0x%lx)\n", why, dtb_pa);
    if (board_defaults(&platform) != OK)
        panic("boot: no usable device tree, and board %s has no defaults to fall back on",
              BOARD_NAME);
    printk("boot: using the documented %s board defaults (docs/boards.md)\n", BOARD_NAME);
}

/* The kernel object caches and the scheduler (this CPU becomes idle). */
static void objects_init(void)
{
    handle_init();
    process_init();
    thread_init();
    vmo_init();
    aspace_init();
    ipc_init();
    resource_init();
    irq_object_init();
    sched_init_cpu();
}

/* Start init and become this CPU's idle thread. EL0 may read the counter
 * (CNTKCTL_EL1.EL0PCTEN/EL0VCTEN) and TTBR0 walks are switched on. */
NORETURN static void start_userspace(bool have_bootfs, paddr_t dtb_pa, size_t dtb_size)
{
    uint64_t v;
    __asm__ volatile("mrs %0, cntkctl_el1" : "=r"(v));
    __asm__ volatile("msr cntkctl_el1, %0" ::"r"(v | 3));
    /* The boot identity map (global entries) must be gone before TTBR0
     * walks are switched on: load the empty table and flush. */
    aspace_deactivate();
    __asm__ volatile("dsb ishst\n tlbi vmalle1is\n dsb ish\n isb" ::: "memory");
    __asm__ volatile("mrs %0, tcr_el1" : "=r"(v));
    __asm__ volatile("msr tcr_el1, %0\n isb" ::"r"(v & ~(1UL << 7)));
    arch_irq_disable();
    fpsimd_init_cpu(); /* libfdt (boot only) was the last kernel FP user */
    spin_lock(&kernel_lock);
    int err = have_bootfs ? userboot_start(dtb_pa, dtb_size, platform.bootargs) : ERR_NOT_FOUND;
    spin_unlock(&kernel_lock);
    if (err)
        printk("Mica: idle (no userspace)\n");
    sched_run_idle();
}

void kernel_main(paddr_t dtb_pa, unsigned entry_el, paddr_t load_pa)
{
    cpu_init_boot();
    mmu_init(load_pa);
    boot_entry_el = entry_el;
    printk("Mica: boot cpu up at EL1 (entered at EL%u), image at 0x%lx, device tree at 0x%lx\n",
           entry_el, load_pa, dtb_pa);
    if (boot_early_status)
        panic("boot: early page tables failed: %s", status_name(boot_early_status));

    size_t dtb_size;
    read_device_tree(dtb_pa, &dtb_size);
    console_setup();

    clip_memory_to_linear_map();
    int err = mmu_map_linear(platform.memory, platform.n_memory);
    if (err)
        panic("boot: cannot map RAM: %s%s", status_name(err),
              err == ERR_NOT_FOUND ? " (the kernel image is outside the RAM the DTB describes)"
                                   : "");
    paddr_t bootfs_pa;
    size_t bootfs_size;
    bool have_bootfs = bootfs_locate(&bootfs_pa, &bootfs_size);
    if (have_bootfs)
        memory_add_reservation(bootfs_pa, bootfs_size, "bootfs");
    memory_init(&platform, dtb_pa, dtb_size);
    mmu_use_page_alloc();
    board_park_secondaries(&platform);

    err = irq_init(&platform);
    if (err)
        panic("boot: interrupt controller %s: %s", intc_kind_name(platform.intc), status_name(err));
    timer_init_cpu();
    objects_init();
    print_banner();
    arch_irq_enable();

    if (kernel_is_test_build) {
        int failed = selftest_run(platform.bootargs);
        if (failed || selftest_mode_exits(platform.bootargs)) {
            console_flush();
            semihost_exit(failed ? EXIT_TESTS_FAILED : EXIT_TESTS_PASSED);
            panic("selftest: semihosting unavailable");
        }
    }
    start_userspace(have_bootfs, dtb_pa, dtb_size);
}
