/*
 * Exception dispatch for exceptions taken at EL1 (vectors.S sends those
 * from EL0 to el0.c and ipc_fast.c itself). Today the kernel expects only IRQs from EL1 (and
 * synchronous faults from EL1 while a self-test has armed a recovery);
 * everything else is a bug, reported with a decoded dump — exception class
 * by name, ESR, FAR, ELR, SPSR, all registers, a symbolised backtrace —
 * before the kernel halts.
 */
#include <mica/irq.h>
#include <mica/ksyms.h>
#include <mica/memlayout.h>
#include <mica/object.h>
#include <mica/panic.h>
#include <mica/printk.h>
#include <mica/trap.h>

static const char *const vector_names[16] = {
    "sync from EL1t",   "IRQ from EL1t",   "FIQ from EL1t",   "SError from EL1t",
    "sync from EL1h",   "IRQ from EL1h",   "FIQ from EL1h",   "SError from EL1h",
    "sync from EL0",    "IRQ from EL0",    "FIQ from EL0",    "SError from EL0",
    "sync from EL0/32", "IRQ from EL0/32", "FIQ from EL0/32", "SError from EL0/32",
};

const char *exception_class_name(unsigned ec)
{
    switch (ec) {
    case 0x00: return "Unknown reason (undefined instruction)";
    case 0x01: return "WFI/WFE trapped";
    case 0x07: return "FP/SIMD access trapped";
    case 0x0E: return "Illegal execution state";
    case 0x15: return "SVC from AArch64";
    case 0x16: return "HVC from AArch64";
    case 0x17: return "SMC from AArch64";
    case 0x18: return "MSR/MRS/system instruction trapped";
    case 0x20: return "Instruction Abort (lower EL)";
    case 0x21: return "Instruction Abort (same EL)";
    case 0x22: return "PC alignment fault";
    case 0x24: return "Data Abort (lower EL)";
    case 0x25: return "Data Abort (same EL)";
    case 0x26: return "SP alignment fault";
    case 0x2C: return "FP exception";
    case 0x2F: return "SError interrupt";
    case 0x30: return "Breakpoint (lower EL)";
    case 0x31: return "Breakpoint (same EL)";
    case 0x32: return "Software step (lower EL)";
    case 0x33: return "Software step (same EL)";
    case 0x34: return "Watchpoint (lower EL)";
    case 0x35: return "Watchpoint (same EL)";
    case 0x3C: return "BRK instruction";
    default: return "Reserved/unhandled exception class";
    }
}

void fault_status_describe(uint32_t iss, char *buf, size_t len)
{
    unsigned fsc = iss & 0x3F;
    unsigned level = fsc & 3;
    const char *kind;
    switch (fsc >> 2) {
    case 0: kind = "address size fault"; break;
    case 1: kind = "translation fault"; break;
    case 2: kind = "access flag fault"; break;
    case 3: kind = "permission fault"; break;
    default:
        level = 99;
        kind = fsc == 0x10   ? "synchronous external abort"
               : fsc == 0x21 ? "alignment fault"
               : fsc == 0x30 ? "TLB conflict abort"
                             : "other fault";
    }
    if (level != 99)
        snprintf(buf, len, "%s, level %u", kind, level);
    else
        snprintf(buf, len, "%s (FSC 0x%02x)", kind, fsc);
}

static bool is_abort(unsigned ec)
{
    return ec == 0x20 || ec == 0x21 || ec == 0x24 || ec == 0x25;
}

void trap_dump(const char *why, const struct trap_frame *f)
{
    unsigned ec = (unsigned)(f->esr >> 26) & 0x3F;
    uint32_t iss = (uint32_t)(f->esr & 0x1FFFFFF);
    printk("\n*** %s\n", why);
    printk("    exception class 0x%02x: %s\n", ec, exception_class_name(ec));
    if (is_abort(ec)) {
        char desc[64];
        fault_status_describe(iss, desc, sizeof(desc));
        printk("    fault: %s%s\n", desc,
               (ec == 0x24 || ec == 0x25) ? ((iss & (1 << 6)) ? " on write" : " on read")
                                          : " on fetch");
    }
    printk("    ESR  %016lx  FAR  %016lx\n", f->esr, f->far);
    printk("    ELR  %016lx  SPSR %016lx  SP %016lx\n", f->elr, f->spsr, f->sp);
    char sym[80];
    ksyms_describe(f->elr, sym, sizeof(sym));
    printk("    at   %s\n", sym);
    for (int i = 0; i < 31; i += 2) {
        if (i == 30)
            printk("    x30 %016lx\n", f->x[30]);
        else
            printk("    x%-2d %016lx  x%-2d %016lx\n", i, f->x[i], i + 1, f->x[i + 1]);
    }
    backtrace_print(f->elr, f->x[29]);
}

extern char __text_start[], __text_end[];
extern char boot_stack_top[];

/* Frame records live on the boot stack today (thread stacks will join). */
static bool on_kernel_stack(uint64_t fp)
{
    uint64_t top = (uintptr_t)boot_stack_top;
    return fp < top && fp + 16 <= top && fp >= top - BOOT_STACK_SIZE;
}

void backtrace_print(uint64_t pc, uint64_t fp)
{
    char sym[80];
    printk("    backtrace:\n");
    ksyms_describe(pc, sym, sizeof(sym));
    printk("      #0 %016lx %s\n", pc, sym);
    for (int depth = 1; depth < 32 && fp; depth++) {
        /* Follow only aligned records on a kernel stack: a corrupt chain
         * must not fault while we are already reporting a fault. */
        if ((fp & 0xF) || !on_kernel_stack(fp))
            break;
        uint64_t *frame = (uint64_t *)fp;
        uint64_t lr = frame[1];
        if (lr < (uintptr_t)__text_start || lr >= (uintptr_t)__text_end)
            break;
        ksyms_describe(lr - 4, sym, sizeof(sym));
        printk("      #%d %016lx %s\n", depth, lr - 4, sym);
        if (frame[0] <= fp)
            break; /* stacks grow down: the chain must go up */
        fp = frame[0];
    }
}

static bool try_recover(struct trap_frame *f)
{
    struct fault_recovery *r = &this_cpu()->recovery;
    if (!r->armed)
        return false;
    r->armed = false;
    r->esr = f->esr;
    r->far = f->far;
    r->elr = f->elr;
    r->count++;
    trap_dump("expected fault (self-test), recovering", f);
    f->elr = r->resume_pc;
    return true;
}

bool usercopy_fixup(struct trap_frame *frame);

/* vectors.S, for kinds 0..7 (taken at EL1); returns to the same frame. */
void trap_dispatch(unsigned kind, struct trap_frame *frame)
{
    switch (kind) {
    case 5:
        /* IRQ from EL1h: only the idle loop (or a self-test) runs with
         * interrupts on, and neither holds the kernel lock. */
        spin_lock(&kernel_lock);
        irq_handle();
        spin_unlock(&kernel_lock);
        return;
    case 4: /* sync from EL1h */
        if (usercopy_fixup(frame) || try_recover(frame))
            return;
        break;
    default: break;
    }
    if (this_cpu()->in_panic)
        panic_halt(); /* faulted while panicking: no second dump */
    console_emergency();
    trap_dump(vector_names[kind & 15], frame);
    panic_halt();
}

/* arch/aarch64/probe.S */
extern char probe_read64_fault[], probe_write64_fault[], probe_exec_fault[];
int probe_read64(uintptr_t addr, uint64_t *out);
int probe_write64(uintptr_t addr, uint64_t value);
int probe_exec(uintptr_t addr);

static void arm_recovery(void *resume)
{
    struct fault_recovery *r = &this_cpu()->recovery;
    r->resume_pc = (uintptr_t)resume;
    r->esr = r->far = r->elr = 0;
    r->armed = true;
}

static int finish_probe(int rc)
{
    this_cpu()->recovery.armed = false;
    return rc;
}

int fault_probe_read(uintptr_t addr, uint64_t *value)
{
    arm_recovery(probe_read64_fault);
    return finish_probe(probe_read64(addr, value));
}

int fault_probe_write(uintptr_t addr, uint64_t value)
{
    arm_recovery(probe_write64_fault);
    return finish_probe(probe_write64(addr, value));
}

int fault_probe_exec(uintptr_t addr)
{
    arm_recovery(probe_exec_fault);
    return finish_probe(probe_exec(addr));
}
