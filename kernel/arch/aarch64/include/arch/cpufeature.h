/*
 * CPU features the kernel asks about, from the ID registers (readable at
 * EL1 only; EL0 cannot read them on Mica, so userspace would learn a
 * feature from the kernel, e.g. through the boot-info page, if it ever
 * needs one).
 */
#ifndef ARCH_CPUFEATURE_H
#define ARCH_CPUFEATURE_H

#include <stdbool.h>
#include <stdint.h>

/* ID_AA64ISAR0_EL1.CRC32 (bits 19:16): the CRC32 instructions exist.
 * Optional in ARMv8.0; Cortex-A53 (the Pi 3B, QEMU's cortex-a53) has them. */
static inline bool arch_has_crc32(void)
{
    uint64_t isar0;
    __asm__("mrs %0, id_aa64isar0_el1" : "=r"(isar0));
    return ((isar0 >> 16) & 0xf) != 0;
}

#endif
