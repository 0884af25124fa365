/*
 * Spinlocks. Mica is SMP-shaped from the first line: every piece of shared
 * state names the lock that protects it, and code takes that lock even while
 * only one core runs. A ticket lock keeps waiters in FIFO order.
 *
 * spin_lock_irqsave() also masks interrupts on this CPU, for state that an
 * interrupt handler touches too. The host build (MICA_HOST, unit tests) has
 * no interrupts, so there it only takes the lock.
 */
#ifndef MICA_SPINLOCK_H
#define MICA_SPINLOCK_H

#include <mica/types.h>
#include <stdatomic.h>

struct spinlock {
    _Atomic uint32_t next;  /* next ticket to hand out */
    _Atomic uint32_t owner; /* ticket now holding the lock */
    const char *name;
};

#define SPINLOCK_INIT(n)                                                                           \
    {                                                                                              \
        0, 0, (n)                                                                                  \
    }

static inline void spin_init(struct spinlock *lock, const char *name)
{
    atomic_store_explicit(&lock->next, 0, memory_order_relaxed);
    atomic_store_explicit(&lock->owner, 0, memory_order_relaxed);
    lock->name = name;
}

static inline void spin_lock(struct spinlock *lock)
{
    uint32_t ticket = atomic_fetch_add_explicit(&lock->next, 1, memory_order_relaxed);
    while (atomic_load_explicit(&lock->owner, memory_order_acquire) != ticket) {
#ifndef MICA_HOST
        __asm__ volatile("yield");
#endif
    }
}

static inline void spin_unlock(struct spinlock *lock)
{
    uint32_t owner = atomic_load_explicit(&lock->owner, memory_order_relaxed);
    atomic_store_explicit(&lock->owner, owner + 1, memory_order_release);
}

static inline bool spin_is_locked(struct spinlock *lock)
{
    return atomic_load_explicit(&lock->owner, memory_order_relaxed) !=
           atomic_load_explicit(&lock->next, memory_order_relaxed);
}

#ifdef MICA_HOST
typedef unsigned long irqflags_t;
static inline irqflags_t spin_lock_irqsave(struct spinlock *lock)
{
    spin_lock(lock);
    return 0;
}
static inline void spin_unlock_irqrestore(struct spinlock *lock, irqflags_t flags)
{
    (void)flags;
    spin_unlock(lock);
}
#else
#include <arch/irqflags.h>
static inline irqflags_t spin_lock_irqsave(struct spinlock *lock)
{
    irqflags_t flags = arch_irq_save();
    spin_lock(lock);
    return flags;
}
static inline void spin_unlock_irqrestore(struct spinlock *lock, irqflags_t flags)
{
    spin_unlock(lock);
    arch_irq_restore(flags);
}
#endif

#endif
