/* Masking IRQs on the local CPU (DAIF.I). Used by spin_lock_irqsave(). */
#ifndef ARCH_IRQFLAGS_H
#define ARCH_IRQFLAGS_H

#include <stdint.h>

typedef uint64_t irqflags_t;

static inline irqflags_t arch_irq_save(void)
{
    irqflags_t flags;
    __asm__ volatile("mrs %0, daif\n msr daifset, #2" : "=r"(flags)::"memory");
    return flags;
}

static inline void arch_irq_restore(irqflags_t flags)
{
    __asm__ volatile("msr daif, %0" ::"r"(flags) : "memory");
}

static inline void arch_irq_enable(void)
{
    __asm__ volatile("msr daifclr, #2" ::: "memory");
}
static inline void arch_irq_disable(void)
{
    __asm__ volatile("msr daifset, #2" ::: "memory");
}

#endif
