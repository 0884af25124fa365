# mica-gdb.py: gdb commands for looking inside a running (or hung) Mica.
#
# Load it into gdb-multiarch attached to QEMU (docs/debugging.md):
#   (gdb) source scripts/tools/mica-gdb.py
# Commands:
#   mica-threads            every thread the kernel has, from its slab cache:
#                           process, state, IPC wait, user pc and x8
#   mica-uread ROOT VA N    N bytes of user memory at VA, through the page
#                           tables whose level-0 table is at physical ROOT
#                           (a thread's proc->aspace->root)
#   mica-ubt ROOT FP        a user stack's frame-pointer chain from FP
# They read kernel data through the symbols of the kernel ELF gdb was given
# (build/<board>/kernel/mica.elf, or build/<board>/kernel/mica-test.elf for
# the test image), and
# physical memory through the kernel's linear map.
import gdb

PHYS_MAP_BASE = 0xFFFF000000000000  # kernel/include/mica/memlayout.h
IPC_OPS = ["none", "send", "call", "recv", "await-reply", "fault", "await-fault"]
FAST_OPS = ["", "fast-syscall", "fast-reply", "fast-recv"]


def read_phys64(pa):
    data = gdb.selected_inferior().read_memory(PHYS_MAP_BASE + pa, 8)
    return int.from_bytes(bytes(data), "little")


def translate(root, va):
    """Walk a 4 KiB-granule, 4-level table: the physical address, or None."""
    table = root
    for level, shift in enumerate((39, 30, 21, 12)):
        entry = read_phys64(table + ((va >> shift) & 511) * 8)
        if not entry & 1:
            return None
        out = entry & 0x0000FFFFFFFFF000
        if level < 3 and not entry & 2:  # a block
            size = 1 << shift
            return (out & ~(size - 1)) | (va & (size - 1))
        table = out
    return table | (va & 0xFFF)


def user_read(root, va, n):
    out = b""
    while n > 0:
        chunk = min(n, 0x1000 - (va & 0xFFF))
        pa = translate(root, va)
        if pa is None:
            out += b"\0" * chunk  # not mapped (yet): shown as zeros
        else:
            out += bytes(gdb.selected_inferior().read_memory(PHYS_MAP_BASE + pa, chunk))
        va += chunk
        n -= chunk
    return out


def slab_objects(cache, type_name):
    """Every allocated object of a kmem_cache (kernel/slab.c's layout)."""
    first = int(cache["first_offset"])
    stride = int(cache["stride"])
    per_slab = int(cache["objs_per_slab"])
    ptr = gdb.lookup_type(type_name).pointer()
    for list_name in ("partial", "full"):
        slab = cache[list_name]
        while int(slab) != 0:
            for i in range(per_slab):
                if (int(slab["allocated"][i // 64]) >> (i % 64)) & 1:
                    yield gdb.Value(int(slab) + first + i * stride).cast(ptr)
            slab = slab["next"]


def name_of(table, index):
    return table[index] if 0 <= index < len(table) else str(index)


class Threads(gdb.Command):
    """mica-threads: list every thread of every process."""

    def __init__(self):
        super().__init__("mica-threads", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        current = int(gdb.parse_and_eval("cpus[0].current"))
        for t in slab_objects(gdb.parse_and_eval("thread_cache"), "struct thread"):
            proc = t["proc"]
            name = proc["name"].string() if int(proc) else "-"
            frame = t["frame"]
            pc = int(frame["elr"]) if int(frame) else 0
            x8 = int(frame["x"][8]) if int(frame) else 0
            flags = [f for f in ("suspended", "killed") if int(t[f])]
            print("%s%#x %-12s %-9s %-11s %-12s pc %#x x8 %d %s" % (
                "*" if int(t) == current else " ", int(t), name,
                str(t["state"]).replace("THREAD_", "").lower(),
                name_of(IPC_OPS, int(t["ipc_op"])), name_of(FAST_OPS, int(t["fast_op"])),
                pc, x8, " ".join(flags)))


class UserRead(gdb.Command):
    """mica-uread ROOT VA N: user memory through a process's page tables."""

    def __init__(self):
        super().__init__("mica-uread", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        root, va, n = (int(gdb.parse_and_eval(a)) for a in gdb.string_to_argv(arg))
        data = user_read(root, va, n)
        for i in range(0, len(data), 8):
            print("%#x: %016x" % (va + i, int.from_bytes(data[i:i + 8], "little")))


class UserBacktrace(gdb.Command):
    """mica-ubt ROOT FP: follow a user stack's frame records from FP."""

    def __init__(self):
        super().__init__("mica-ubt", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        root, fp = (int(gdb.parse_and_eval(a)) for a in gdb.string_to_argv(arg))
        for _ in range(64):
            if fp == 0:
                break
            record = user_read(root, fp, 16)
            lr = int.from_bytes(record[8:], "little")
            print("fp %#x  return to %#x" % (fp, lr))
            fp = int.from_bytes(record[:8], "little")


Threads()
UserRead()
UserBacktrace()
