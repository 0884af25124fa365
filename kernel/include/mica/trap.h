/* Exception handling entry points and fault decoding (arch/aarch64/trap.c). */
#ifndef MICA_TRAP_H
#define MICA_TRAP_H

#include <mica/cpu.h>

/* vectors.S: every exception from EL0 but svc (el0.c), and every one
 * taken at EL1 (trap.c). el0_svc is in mica/ipc.h. */
struct trap_frame *el0_trap(unsigned kind, struct trap_frame *f);
void trap_dispatch(unsigned kind, struct trap_frame *frame);

const char *exception_class_name(unsigned ec);
/* "translation fault, level 3" etc. for a data/instruction abort's ISS. */
void fault_status_describe(uint32_t iss, char *buf, size_t len);
/* Print the full decoded dump of frame (registers, backtrace). */
void trap_dump(const char *why, const struct trap_frame *frame);

/* Probe memory with the fault recovery armed: 0 if the access worked,
 * -1 if it faulted (the fault is recorded in this_cpu()->recovery). */
int fault_probe_read(uintptr_t addr, uint64_t *value);
int fault_probe_write(uintptr_t addr, uint64_t value);
int fault_probe_exec(uintptr_t addr);

/* Print a frame-pointer backtrace starting at fp (symbolised). */
void backtrace_print(uint64_t pc, uint64_t fp);

#endif
