/*
 * CPU identification and per-CPU setup. cpu_init_boot() runs first thing
 * in kernel_main() on the boot CPU and points TPIDR_EL1 at its struct cpu,
 * after which this_cpu() works. Secondary CPUs will do the same when SMP
 * bring-up exists.
 */
#include <mica/cpu.h>
#include <mica/printk.h>

struct cpu cpus[MAX_CPUS];

void cpu_init_boot(void)
{
    struct cpu *c = &cpus[0];
    uint64_t mpidr;
    __asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
    c->self = c;
    c->id = 0;
    c->mpidr = mpidr & 0xFF00FFFFFFUL;
    __asm__ volatile("msr tpidr_el1, %0" ::"r"(c));
}

static const char *arm_part_name(unsigned part)
{
    switch (part) {
    case 0xD03: return "Cortex-A53";
    case 0xD04: return "Cortex-A35";
    case 0xD05: return "Cortex-A55";
    case 0xD07: return "Cortex-A57";
    case 0xD08: return "Cortex-A72";
    case 0xD09: return "Cortex-A73";
    case 0xD0A: return "Cortex-A75";
    case 0xD0B: return "Cortex-A76";
    case 0xD0C: return "Neoverse-N1";
    case 0xD0D: return "Cortex-A77";
    case 0xD40: return "Neoverse-V1";
    case 0xD41: return "Cortex-A78";
    case 0xD44: return "Cortex-X1";
    case 0xD46: return "Cortex-A510";
    case 0xD47: return "Cortex-A710";
    case 0xD49: return "Neoverse-N2";
    default: return NULL;
    }
}

void cpu_describe(uint64_t midr, char *buf, size_t len)
{
    unsigned implementer = (midr >> 24) & 0xFF;
    unsigned variant = (midr >> 20) & 0xF;
    unsigned part = (midr >> 4) & 0xFFF;
    unsigned revision = midr & 0xF;
    const char *name = implementer == 0x41 ? arm_part_name(part) : NULL;
    if (name)
        snprintf(buf, len, "ARM %s r%up%u (MIDR %08lx)", name, variant, revision, midr);
    else
        snprintf(buf, len, "implementer 0x%02x part 0x%03x r%up%u (MIDR %08lx)", implementer, part,
                 variant, revision, midr);
}
