/*
 * Exceptions from EL0: system calls, page faults, interrupts, and every
 * other synchronous exception, which goes to the thread's fault endpoint
 * (mica/abi.h, "Faults") or, without one, ends the faulting process.
 * vectors.S sends an svc to el0_svc (ipc_fast.c), which takes the big
 * kernel lock and, when the fast path does not apply, comes to
 * el0_syscall here; everything else comes to el0_trap, which takes the
 * lock itself. user_return() releases it on the way back.
 */
#include <mica/aspace.h>
#include <mica/ipc.h>
#include <mica/irq.h>
#include <mica/printk.h>
#include <mica/process.h>
#include <mica/syscall.h>
#include <mica/trap.h>
#include <mica/usercopy.h>

#define EC_FP_ACCESS 0x07
#define EC_IABT_LOWER 0x20
#define EC_DABT_LOWER 0x24

static void fault_kill(struct trap_frame *f)
{
    struct thread *t = current_thread();
    unsigned ec = (unsigned)(f->esr >> 26) & 0x3F;
    char desc[64] = "";
    if (ec == EC_IABT_LOWER || ec == EC_DABT_LOWER)
        fault_status_describe((uint32_t)f->esr, desc, sizeof(desc));
    printk("fault: process '%s' killed: %s%s%s at pc 0x%lx, address 0x%lx (ESR 0x%lx)\n",
           t->proc->name, exception_class_name(ec), desc[0] ? ", " : "", desc, f->elr, f->far,
           f->esr);
    process_terminate(t->proc, (int64_t)f->esr, MICA_EXIT_FAULT);
}

/* Could a lazily mapped page explain this abort? Translation, access-flag
 * and permission faults, yes; an alignment fault (an unaligned access to
 * Device memory, say) or an external abort, never: retrying it after
 * aspace_fault would fault again for ever. */
static bool lazily_resolvable(uint64_t esr)
{
    unsigned fsc = (unsigned)esr & 0x3C;
    return fsc == 0x04 || fsc == 0x08 || fsc == 0x0C;
}

/* What kind of fault a synchronous exception is, for the fault message. */
static uint64_t fault_kind(unsigned ec, uint64_t esr)
{
    switch (ec) {
    case EC_IABT_LOWER:
    case EC_DABT_LOWER: return (esr & 0x3F) == 0x21 ? MICA_FAULT_ALIGNMENT : MICA_FAULT_PAGE;
    case 0x00: return MICA_FAULT_UNDEFINED;
    case 0x22:
    case 0x26: return MICA_FAULT_ALIGNMENT;
    default: return MICA_FAULT_OTHER;
    }
}

/* Every synchronous exception from EL0 but svc. */
void el0_sync(struct trap_frame *f)
{
    unsigned ec = (unsigned)(f->esr >> 26) & 0x3F;
    struct thread *t = current_thread();
    if (ec == EC_FP_ACCESS) {
        fpsimd_trap(t);
        return;
    }
    if ((ec == EC_IABT_LOWER || ec == EC_DABT_LOWER) && lazily_resolvable(f->esr)) {
        bool write = ec == EC_DABT_LOWER && (f->esr & (1 << 6));
        struct aspace *as = t->proc->aspace;
        if (as && aspace_fault(as, f->far, write, ec == EC_IABT_LOWER) == OK)
            return; /* a lazily mapped page: retry the access */
    }
    /* A handler decides; without one (or if it is gone) the process ends.
     * A thread killed while it waited just exits (user_return). */
    if (t->fault_ep && (ipc_fault(t, fault_kind(ec, f->esr), f) == OK || t->killed))
        return;
    fault_kill(f);
}

/* Last step before eret to EL0 (also a new thread's first entry): honour
 * kill and preemption, then let go of the kernel lock. */
void user_return(struct trap_frame *f)
{
    (void)f;
    sched_preempt_check();
    spin_unlock(&kernel_lock);
}

struct trap_frame *el0_syscall(struct trap_frame *f)
{
    syscall_dispatch(f);
    console_kick(); /* tell the UART driver about new log text */
    user_return(f);
    return f;
}

/* vectors.S: every exception from EL0 but svc (kind: the vector's number,
 * 8 synchronous, 9 IRQ, 10 FIQ, 11 SError, 12..15 from AArch32). */
struct trap_frame *el0_trap(unsigned kind, struct trap_frame *f)
{
    spin_lock(&kernel_lock);
    if (kind == 8) {
        el0_sync(f);
    } else if (kind == 9) {
        irq_handle();
    } else {
        fault_kill(f); /* FIQ, SError, AArch32 */
    }
    console_kick(); /* tell the UART driver about new log text */
    user_return(f);
    return f;
}

/* A fault inside copy_from_user/copy_to_user (EL1): resolve a lazily mapped
 * user page, or make the copy fail with ERR_FAULT. */
bool usercopy_fixup(struct trap_frame *f)
{
    if (f->elr < (uintptr_t)usercopy_start || f->elr >= (uintptr_t)usercopy_end)
        return false;
    unsigned ec = (unsigned)(f->esr >> 26) & 0x3F;
    struct thread *t = current_thread();
    if (ec == 0x25 && lazily_resolvable(f->esr) && t && !t->is_idle && t->proc->aspace &&
        aspace_fault(t->proc->aspace, f->far, f->esr & (1 << 6), false) == OK)
        return true;
    f->elr = (uintptr_t)usercopy_fault;
    return true;
}
