/* Idling (kernel/idle.c). */
#ifndef MICA_IDLE_H
#define MICA_IDLE_H
#include <mica/types.h>

/* Sleep in WFI until the next interrupt has been handled. A caller waiting
 * for an interrupt handler's work masks interrupts (arch_irq_save) around
 * its whole check-and-wait loop, or an interrupt taken between its check
 * and the WFI leaves it asleep with nothing left to wake it. */
void idle_wait(void);
NORETURN void idle_loop(void);

#endif
