/*
 * Interrupt handling. The kernel owns the interrupt controller; the board's
 * driver (platforms/<board>) implements struct intc_ops and irq.c does the
 * dispatch. IRQ numbers are the controller's own: GIC interrupt IDs, or on
 * the BCM2836 the local source bit (0..31), 32 + BCM2835 GPU IRQ, 96 + ARM
 * basic IRQ.
 */
#ifndef MICA_IRQ_H
#define MICA_IRQ_H

#include <mica/platform.h>

#define IRQ_MAX 256
#define IRQ_NONE 0xFFFFFFFFu

struct intc_ops {
    const char *name;
    int (*init)(const struct platform_info *plat); /* boot CPU, once */
    void (*init_cpu)(void);                        /* every CPU */
    int (*enable)(unsigned irq);
    int (*disable)(unsigned irq);
    unsigned (*ack)(void); /* pending IRQ, or IRQ_NONE */
    void (*eoi)(unsigned irq);
};

typedef void (*irq_handler_fn)(unsigned irq, void *arg);

/* The driver for the controller the platform describes (board glue). */
const struct intc_ops *board_intc_ops(enum intc_kind kind);

int irq_init(const struct platform_info *plat);
int irq_register(unsigned irq, irq_handler_fn fn, void *arg);
int irq_enable(unsigned irq);
int irq_disable(unsigned irq);
void irq_unregister(unsigned irq);
const char *irq_controller_name(void);
/* From the exception vector: handle every pending interrupt. */
void irq_handle(void);
/* Interrupts that arrived with no handler (counted, logged once each). */
uint64_t irq_spurious_count(void);

#endif
