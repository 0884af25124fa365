/* Idling (kernel/idle.c). */
#ifndef MICA_IDLE_H
#define MICA_IDLE_H
#include <mica/types.h>

/* Sleep in WFI until the next interrupt has been handled. */
void idle_wait(void);
NORETURN void idle_loop(void);

#endif
