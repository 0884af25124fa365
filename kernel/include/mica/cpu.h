/*
 * Per-CPU state. Everything "current" lives here, reached through
 * this_cpu() (TPIDR_EL1 points at the CPU's struct cpu), so the kernel is
 * SMP-shaped even while only the boot CPU runs. Fields are touched only by
 * their own CPU unless a comment says otherwise.
 */
#ifndef MICA_CPU_H
#define MICA_CPU_H

#include <mica/timer.h>
#include <mica/types.h>

#define MAX_CPUS 8

struct thread;
struct runqueue;

/* Saved by kernel/arch/aarch64/vectors.S on every exception. */
struct trap_frame {
    uint64_t x[31];
    uint64_t sp;
    uint64_t elr;
    uint64_t spsr;
    uint64_t esr;
    uint64_t far;
};

/*
 * An armed fault recovery turns the next synchronous exception taken from
 * EL1 into a recorded event plus a jump to resume_pc (used by self-tests
 * that fault on purpose, through the probes in arch/aarch64/probe.S).
 */
struct fault_recovery {
    bool armed;
    uint64_t resume_pc;
    uint64_t esr, far, elr; /* what the fault was */
    unsigned count;         /* faults recovered so far */
};

struct cpu {
    struct cpu *self;
    unsigned id;
    uint64_t mpidr;
    struct timer_queue timers;
    struct fault_recovery recovery;
    uint64_t irq_count;
    uint64_t idle_wfi_count; /* times the idle loop executed WFI */
    bool in_panic;           /* a second fault while panicking just halts */
    /* Scheduling (kernel/sched.c), under the big kernel lock. */
    struct thread *current;
    struct thread *idle;
    struct runqueue *rq; /* &runqueues[id] */
    struct thread *reap; /* exited thread whose stack the next thread frees */
    bool need_resched;
    struct timer slice; /* armed only while same-priority threads wait */
    /* Lazy FP/SIMD (kernel/fpsimd.c): whose registers are loaded, and the
     * CPACR_EL1.FPEN value in force. */
    struct thread *fp_owner;
    uint64_t fpen;
    struct aspace *active_aspace; /* in TTBR0 (kernel/aspace.c) */
    uint64_t ipc_fast;            /* handovers by the IPC fast path (kernel_stats) */
};

extern struct cpu cpus[MAX_CPUS];

static inline struct cpu *this_cpu(void)
{
    struct cpu *c;
    __asm__ volatile("mrs %0, tpidr_el1" : "=r"(c));
    return c;
}

void cpu_init_boot(void);
/* "Cortex-A53 r0p4" and friends, from MIDR_EL1. */
void cpu_describe(uint64_t midr, char *buf, size_t len);

/* Boot facts recorded by kernel_main(). */
extern unsigned boot_entry_el;
extern paddr_t boot_load_pa;

#endif
