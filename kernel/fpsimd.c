/*
 * Lazy FP/SIMD context switching. EL0 access to FP/SIMD traps (CPACR_EL1
 * FPEN = 01) unless the running thread owns this CPU's registers. On the
 * trap, the previous owner's registers are saved into its thread, ours are
 * loaded (zero the first time), and we become the owner. A thread that
 * never touches FP costs nothing; one that does pays one trap per time it
 * gets the CPU back after someone else used the registers.
 *
 * Called with the kernel lock held: fpsimd_trap from el0.c, fpsimd_switch
 * from the scheduler, fpsimd_release when a thread exits.
 */
#include <mica/cpu.h>
#include <mica/thread.h>
#include <string.h>

void fpsimd_save(uint64_t *area);
void fpsimd_load(const uint64_t *area);

/* Boot: EL0 traps until a thread owns the registers. */
void fpsimd_init_cpu(void)
{
    this_cpu()->fpen = 0;
    fpsimd_set_fpen(this_cpu(), FPEN_TRAP_EL0);
}

void fpsimd_trap(struct thread *t)
{
    struct cpu *c = this_cpu();
    if (c->fp_owner != t) {
        if (c->fp_owner)
            fpsimd_save(c->fp_owner->fp_regs);
        if (!t->fp_used) {
            memset(t->fp_regs, 0, sizeof(t->fp_regs));
            t->fp_used = true;
        }
        fpsimd_load(t->fp_regs);
        c->fp_owner = t;
    }
    fpsimd_set_fpen(this_cpu(), FPEN_NO_TRAP);
}

void fpsimd_release(struct thread *t)
{
    for (unsigned c = 0; c < MAX_CPUS; c++)
        if (cpus[c].fp_owner == t)
            cpus[c].fp_owner = NULL;
}

/* thread_read_fp: t is stopped (not running anywhere). Its newest values
 * are in this CPU's registers if it still owns them, else in fp_regs; a
 * thread that never used FP reads as zeros. Only CPU 0 runs threads, so
 * no other CPU can hold them. */
void fpsimd_get(struct thread *t, uint64_t area[66])
{
    if (!t->fp_used) {
        memset(area, 0, sizeof(t->fp_regs));
        return;
    }
    if (this_cpu()->fp_owner == t)
        fpsimd_save(t->fp_regs);
    memcpy(area, t->fp_regs, sizeof(t->fp_regs));
}

/* thread_write_fp: new values in fp_regs; t no longer owns any CPU's
 * registers, so its next FP instruction traps and loads them. */
void fpsimd_set(struct thread *t, const uint64_t area[66])
{
    memcpy(t->fp_regs, area, sizeof(t->fp_regs));
    t->fp_used = true;
    fpsimd_release(t);
}
