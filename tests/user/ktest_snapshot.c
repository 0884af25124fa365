/*
 * ktest: copy-on-write snapshots (vmo_create_snapshot). After a snapshot
 * the original and the snapshot each keep the contents of that moment,
 * whichever way they are written: vmo_write, or a mapping, including one
 * that already had the page mapped writable. Snapshots of snapshots work;
 * closing one side gives the frozen pages back (collapse), so snapshot and
 * close in a loop neither deepens the chain nor leaks pages. A random
 * sequence checked against a model in our own memory covers the rest.
 */
#include "ktest.h"
#include <string.h>

#define PG 4096UL

static uint64_t peek(uintptr_t va)
{
    return *(volatile uint64_t *)va;
}

static void poke(uintptr_t va, uint64_t v)
{
    *(volatile uint64_t *)va = v;
}

static int vmo_word(mica_handle_t vmo, uint64_t offset, uint64_t *out)
{
    return mica_vmo_read(vmo, offset, out, 8);
}

static int map_rw(mica_handle_t vmo, size_t size, uintptr_t *va)
{
    return mica_aspace_map(kt_bootinfo()->self_aspace, vmo, 0, size, 0,
                           MICA_MAP_READ | MICA_MAP_WRITE, va);
}

static int test_isolation(void)
{
    mica_handle_t as = kt_bootinfo()->self_aspace, orig, snap, snap2, partial;
    uintptr_t vo, vs, vs2;
    uint64_t a = 0xA0A0, got;
    CHECK_OK(mica_vmo_create(4 * PG, &orig));
    CHECK_OK(map_rw(orig, 4 * PG, &vo));
    for (unsigned i = 0; i < 3; i++) /* pages 0-2 written and mapped writable, 3 untouched */
        poke(vo + i * PG, a + i);
    CHECK_OK(mica_vmo_create_snapshot(orig, 0, 4 * PG, &snap));
    /* The old writable mapping of the original must not reach the frozen
     * page: the write copies it. */
    poke(vo + PG, 0xB1);
    CHECK_OK(vmo_word(snap, PG, &got));
    CHECK(got == a + 1);
    CHECK(peek(vo + PG) == 0xB1);
    CHECK_OK(vmo_word(orig, PG, &got));
    CHECK(got == 0xB1);
    /* vmo_write to the original: the snapshot keeps the old page. */
    CHECK_OK(mica_vmo_write(orig, 0, &(uint64_t){0xC0}, 8));
    CHECK_OK(vmo_word(snap, 0, &got));
    CHECK(got == a);
    /* Writes to the snapshot, mapped and by vmo_write, stay its own. */
    CHECK_OK(map_rw(snap, 4 * PG, &vs));
    CHECK(peek(vs) == a && peek(vs + PG) == a + 1 && peek(vs + 2 * PG) == a + 2);
    poke(vs + 2 * PG, 0xD2);
    CHECK(peek(vo + 2 * PG) == a + 2);
    CHECK_OK(vmo_word(orig, 2 * PG, &got));
    CHECK(got == a + 2);
    CHECK_OK(mica_vmo_write(snap, 3 * PG, &(uint64_t){0xE3}, 8));
    CHECK(peek(vo + 3 * PG) == 0 && peek(vs + 3 * PG) == 0xE3);
    poke(vo + 3 * PG, 0xF3); /* the page neither had: each its own */
    CHECK(peek(vs + 3 * PG) == 0xE3);
    /* A snapshot of the snapshot, then writes on both sides. */
    CHECK_OK(mica_vmo_create_snapshot(snap, 0, 4 * PG, &snap2));
    CHECK_OK(map_rw(snap2, 4 * PG, &vs2));
    poke(vs + 2 * PG, 0x52);
    CHECK(peek(vs2 + 2 * PG) == 0xD2);
    poke(vs2, 0x99);
    CHECK(peek(vs) == a && peek(vo) == 0xC0);
    CHECK_OK(vmo_word(snap2, 3 * PG, &got));
    CHECK(got == 0xE3);
    /* A part of the original, at an offset. */
    CHECK_OK(mica_vmo_create_snapshot(orig, PG, 2 * PG, &partial));
    uint64_t size;
    CHECK_OK(mica_vmo_get_size(partial, &size));
    CHECK(size == 2 * PG);
    CHECK_OK(vmo_word(partial, 0, &got));
    CHECK(got == 0xB1);
    CHECK_OK(vmo_word(partial, PG, &got));
    CHECK(got == a + 2);
    CHECK_STATUS(vmo_word(partial, 2 * PG, &got), MICA_ERR_OUT_OF_RANGE);
    poke(vo + PG, 0xB2);
    CHECK_OK(vmo_word(partial, 0, &got));
    CHECK(got == 0xB1);
    /* The original goes first: the others keep what they saw. */
    CHECK_OK(mica_aspace_unmap(as, vo, 4 * PG));
    CHECK_OK(mica_handle_close(orig));
    CHECK_OK(vmo_word(partial, 0, &got));
    CHECK(got == 0xB1);
    CHECK(peek(vs) == a && peek(vs + PG) == a + 1 && peek(vs + 2 * PG) == 0x52);
    CHECK(peek(vs2) == 0x99 && peek(vs2 + PG) == a + 1 && peek(vs2 + 3 * PG) == 0xE3);
    CHECK_OK(mica_handle_close(partial));
    CHECK_OK(mica_aspace_unmap(as, vs, 4 * PG));
    CHECK_OK(mica_handle_close(snap));
    CHECK(peek(vs2 + 2 * PG) == 0xD2 && peek(vs2 + PG) == a + 1);
    CHECK_OK(mica_aspace_unmap(as, vs2, 4 * PG));
    CHECK_OK(mica_handle_close(snap2));
    return 0;
}

/* Snapshot, write both sides, close the snapshot: 60 times, with and
 * without a long-lived snapshot beside. The chain stays short (the depth
 * limit is 8) and the pages come back. */
static int test_repeat(void)
{
    mica_handle_t as = kt_bootinfo()->self_aspace, orig, keep, snap;
    struct mica_kernel_stats before, mid, after;
    uintptr_t vo;
    uint64_t got;
    CHECK_OK(mica_vmo_create(8 * PG, &orig));
    CHECK_OK(map_rw(orig, 8 * PG, &vo));
    for (unsigned i = 0; i < 8; i++)
        poke(vo + i * PG, i);
    CHECK_OK(kt_stats(&before));
    for (int round = 0; round < 2; round++) {
        if (round == 1)
            CHECK_OK(mica_vmo_create_snapshot(orig, 0, 8 * PG, &keep));
        for (unsigned n = 0; n < 60; n++) {
            unsigned i = n % 8;
            uint64_t old = peek(vo + i * PG);
            CHECK_OK(mica_vmo_create_snapshot(orig, 0, 8 * PG, &snap));
            poke(vo + i * PG, old + 1000);
            CHECK_OK(vmo_word(snap, i * PG, &got));
            CHECK(got == old);
            CHECK_OK(mica_vmo_write(snap, ((i + 3) % 8) * PG, &(uint64_t){7}, 8));
            if (n == 0) {
                CHECK_OK(mica_kernel_stats(&mid));
                CHECK(mid.free_pages < before.free_pages); /* the counter sees copies */
            }
            CHECK_OK(mica_handle_close(snap));
        }
        if (round == 1) {
            for (unsigned i = 0; i < 8; i++) {
                CHECK_OK(vmo_word(keep, i * PG, &got));
                CHECK(got == i + 60 / 8 * 1000 + (i < 60 % 8 ? 1000 : 0));
            }
            CHECK_OK(mica_handle_close(keep));
        }
    }
    for (unsigned i = 0; i < 8; i++)
        CHECK(peek(vo + i * PG) == i + 2 * (60 / 8 * 1000 + (i < 60 % 8 ? 1000 : 0)));
    CHECK_OK(kt_stats(&after));
    CHECK(kt_same_objects(&before, &after));
    CHECK((int64_t)(before.free_pages - after.free_pages) <= 8); /* a slab page or so */
    CHECK_OK(mica_aspace_unmap(as, vo, 8 * PG));
    CHECK_OK(mica_handle_close(orig));
    return 0;
}

static int test_bad_args(void)
{
    mica_handle_t as = kt_bootinfo()->self_aspace, vmo, h, chain[10];
    uint32_t rights;
    CHECK_OK(mica_vmo_create(2 * PG, &vmo));
    CHECK_OK(mica_vmo_write(vmo, 0, &(uint64_t){1}, 8));
    CHECK_STATUS(mica_vmo_create_snapshot(0x12345, 0, PG, &h), MICA_ERR_BAD_HANDLE);
    CHECK_STATUS(mica_vmo_create_snapshot(as, 0, PG, &h), MICA_ERR_WRONG_TYPE);
    CHECK_STATUS(mica_vmo_create_snapshot(vmo, 1, PG, &h), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_vmo_create_snapshot(vmo, 2 * PG, PG, &h), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_vmo_create_snapshot(vmo, 0, 0, &h), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_vmo_create_snapshot(vmo, PG, PG + 1, &h), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_vmo_create_snapshot(vmo, PG, ~0UL, &h), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_vmo_create_snapshot(vmo, ~0UL & ~(PG - 1), PG, &h), MICA_ERR_INVALID_ARGS);
    /* Rights: READ, WRITE and DUPLICATE are all needed. */
    const uint32_t need[] = {MICA_RIGHT_READ | MICA_RIGHT_WRITE,
                             MICA_RIGHT_READ | MICA_RIGHT_DUPLICATE | MICA_RIGHT_MAP,
                             MICA_RIGHT_WRITE | MICA_RIGHT_DUPLICATE};
    for (unsigned i = 0; i < 3; i++) {
        mica_handle_t weak;
        CHECK_OK(mica_handle_dup(vmo, need[i], &weak));
        CHECK_STATUS(mica_vmo_create_snapshot(weak, 0, PG, &h), MICA_ERR_ACCESS_DENIED);
        CHECK_OK(mica_handle_close(weak));
    }
    /* The new handle: full rights but EXEC only if the original had it. */
    mica_handle_t noexec;
    CHECK_OK(
        mica_handle_dup(vmo, MICA_RIGHT_READ | MICA_RIGHT_WRITE | MICA_RIGHT_DUPLICATE, &noexec));
    CHECK_OK(mica_vmo_create_snapshot(noexec, 0, PG, &h));
    CHECK_OK(mica_handle_info(h, NULL, &rights, NULL));
    CHECK(rights == (MICA_RIGHT_READ | MICA_RIGHT_WRITE | MICA_RIGHT_MAP | MICA_RIGHT_DUPLICATE |
                     MICA_RIGHT_TRANSFER));
    CHECK_OK(mica_handle_close(h));
    CHECK_OK(mica_handle_close(noexec));
    /* A VMO with a view child (vmo_create_child) cannot be snapshotted;
     * once the child is gone it can. */
    mica_handle_t child;
    CHECK_OK(mica_vmo_create_child(vmo, 0, PG, &child));
    CHECK_STATUS(mica_vmo_create_snapshot(vmo, 0, PG, &h), MICA_ERR_BAD_STATE);
    CHECK_OK(mica_handle_close(child));
    CHECK_OK(mica_vmo_create_snapshot(vmo, 0, PG, &h));
    CHECK_OK(mica_handle_close(h));
    /* A page the kernel holds (a thread's IPC buffer) pins its VMO, until
     * the buffer is changed or the thread dies. */
    uintptr_t va;
    mica_handle_t thread;
    CHECK_OK(map_rw(vmo, 2 * PG, &va));
    CHECK_OK(mica_thread_create(kt_bootinfo()->self_process, 100, &thread));
    CHECK_OK(mica_thread_set_ipc_buffer(thread, (void *)(va + PG)));
    CHECK_STATUS(mica_vmo_create_snapshot(vmo, 0, PG, &h), MICA_ERR_BAD_STATE);
    CHECK_OK(mica_thread_set_ipc_buffer(thread, NULL));
    CHECK_OK(mica_vmo_create_snapshot(vmo, 0, PG, &h));
    CHECK_OK(mica_handle_close(h));
    CHECK_OK(mica_thread_set_ipc_buffer(thread, (void *)va));
    CHECK_STATUS(mica_vmo_create_snapshot(vmo, 0, PG, &h), MICA_ERR_BAD_STATE);
    CHECK_OK(mica_thread_kill(thread));
    CHECK_OK(mica_handle_close(thread));
    CHECK_OK(mica_vmo_create_snapshot(vmo, 0, PG, &h));
    CHECK_OK(mica_handle_close(h));
    CHECK_OK(mica_aspace_unmap(as, va, 2 * PG));
    /* Physical and contiguous VMOs: not supported. */
    uint64_t pa;
    CHECK_OK(mica_vmo_create_contiguous(kt_bootinfo()->root_resource, PG, &h, &pa));
    CHECK_STATUS(mica_vmo_create_snapshot(h, 0, PG, &chain[0]), MICA_ERR_NOT_SUPPORTED);
    CHECK_OK(mica_handle_close(h));
    /* The depth limit: a chain of view children eight deep, then the
     * snapshot of its end (which would need a ninth level). */
    chain[0] = vmo;
    int i = 1;
    for (; i < 9; i++)
        CHECK_OK(mica_vmo_create_child(chain[i - 1], 0, 2 * PG, &chain[i]));
    CHECK_STATUS(mica_vmo_create_snapshot(chain[8], 0, PG, &h), MICA_ERR_LIMIT);
    CHECK_OK(mica_vmo_write(chain[7], 0, &(uint64_t){2}, 8)); /* not the chain's end: fine */
    CHECK_OK(mica_handle_close(chain[8]));
    CHECK_OK(mica_vmo_create_snapshot(chain[7], 0, PG, &h)); /* depth 7 -> 8 */
    CHECK_OK(mica_vmo_write(chain[7], 0, &(uint64_t){3}, 8));
    mica_handle_t deeper;
    CHECK_STATUS(mica_vmo_create_snapshot(chain[7], 0, PG, &deeper), MICA_ERR_LIMIT);
    CHECK_STATUS(mica_vmo_create_child(h, 0, PG, &deeper), MICA_ERR_LIMIT);
    uint64_t got;
    CHECK_OK(vmo_word(h, 0, &got));
    CHECK(got == 2);
    CHECK_OK(mica_handle_close(h));
    CHECK_OK(mica_vmo_create_snapshot(chain[7], 0, PG, &h)); /* collapsed back: room again */
    /* A side that has written all its pages leaves the hidden VMO (and
     * the chain above it). */
    CHECK_OK(mica_vmo_write(chain[7], 0, &(uint64_t){4}, 8));
    CHECK_STATUS(mica_vmo_create_snapshot(chain[7], 0, PG, &deeper), MICA_ERR_LIMIT);
    CHECK_OK(mica_vmo_write(chain[7], PG, &(uint64_t){5}, 8));
    CHECK_OK(mica_vmo_create_snapshot(chain[7], 0, PG, &deeper));
    CHECK_OK(vmo_word(h, 0, &got));
    CHECK(got == 3);
    CHECK_OK(vmo_word(deeper, 0, &got));
    CHECK(got == 4);
    CHECK_OK(mica_handle_close(deeper));
    CHECK_OK(mica_handle_close(h));
    for (i = 7; i >= 1; i--)
        CHECK_OK(mica_handle_close(chain[i]));
    CHECK_OK(mica_handle_close(vmo));
    return 0;
}

/* Random snapshots, writes (mapped and not), reads and closes over a few
 * VMOs, each checked against a copy of what it must hold. */
#define SLOTS 6
#define SPAN 4
static uint64_t model[SLOTS][SPAN];
static mica_handle_t slot_vmo[SLOTS];
static uintptr_t slot_va[SLOTS];

static int check_slot(unsigned s)
{
    for (unsigned p = 0; p < SPAN; p++) {
        uint64_t got;
        CHECK_OK(vmo_word(slot_vmo[s], p * PG, &got));
        CHECK(got == model[s][p]);
        CHECK(peek(slot_va[s] + p * PG) == model[s][p]);
    }
    return 0;
}

static int test_random(void)
{
    mica_handle_t as = kt_bootinfo()->self_aspace;
    struct mica_kernel_stats before, after;
    CHECK_OK(kt_stats(&before));
    memset(model, 0, sizeof(model));
    for (unsigned s = 0; s < SLOTS; s++) {
        CHECK_OK(mica_vmo_create(SPAN * PG, &slot_vmo[s]));
        CHECK_OK(map_rw(slot_vmo[s], SPAN * PG, &slot_va[s]));
    }
    for (unsigned n = 0; n < 3000; n++) {
        uint64_t r = kt_random();
        unsigned s = (unsigned)(r % SLOTS), p = (unsigned)(r >> 8) % SPAN;
        uint64_t value = r >> 16 | 1;
        switch ((r >> 4) % 6) {
        case 0: poke(slot_va[s] + p * PG, model[s][p] = value); break;
        case 1:
            CHECK_OK(mica_vmo_write(slot_vmo[s], p * PG, &value, 8));
            model[s][p] = value;
            break;
        case 2:
        case 3: { /* slot t becomes a snapshot of slot s */
            unsigned t = (unsigned)(r >> 12) % SLOTS;
            mica_handle_t h;
            if (t == s)
                break;
            int err = mica_vmo_create_snapshot(slot_vmo[s], 0, SPAN * PG, &h);
            if (err == MICA_ERR_LIMIT)
                break; /* a chain at the depth limit: allowed to refuse */
            CHECK_OK(err);
            CHECK_OK(mica_aspace_unmap(as, slot_va[t], SPAN * PG));
            CHECK_OK(mica_handle_close(slot_vmo[t]));
            slot_vmo[t] = h;
            CHECK_OK(map_rw(h, SPAN * PG, &slot_va[t]));
            memcpy(model[t], model[s], sizeof(model[s]));
            break;
        }
        default:
            if (check_slot(s))
                return -1;
        }
    }
    for (unsigned s = 0; s < SLOTS; s++) {
        if (check_slot(s))
            return -1;
        CHECK_OK(mica_aspace_unmap(as, slot_va[s], SPAN * PG));
        CHECK_OK(mica_handle_close(slot_vmo[s]));
    }
    CHECK_OK(kt_stats(&after));
    CHECK(kt_same_objects(&before, &after));
    CHECK((int64_t)(before.free_pages - after.free_pages) <= 8); /* slab caches keep a page each */
    return 0;
}

/* vmo_read of a page the original reads from its hidden parent, into its
 * own read-only mapping of that page and on into a page never touched:
 * the first fault copies the page for the original (the frozen one, now
 * read by nobody, is freed), the second allocates a page, which may be
 * that very one. The kernel must not go on copying from it (the
 * self-test kernel poisons freed frozen pages with 0xA5). Source and
 * destination are then the same page, so only the values are checked:
 * every byte must be one of the page's (1..100), none poison or zero. And
 * the same for vmo_copy from a view child of the original. */
static int test_copy_across_faults(void)
{
    mica_handle_t as = kt_bootinfo()->self_aspace, orig, snap, view, other;
    uintptr_t va;
    static uint8_t want[PG];
    for (unsigned round = 0; round < 2; round++) {
        CHECK_OK(mica_vmo_create(2 * PG, &orig));
        CHECK_OK(map_rw(orig, 2 * PG, &va));
        for (unsigned i = 0; i < PG; i++)
            want[i] = (uint8_t)(i % 100 + 1); /* never 0, never the poison */
        memcpy((void *)va, want, PG);
        CHECK_OK(mica_vmo_create_snapshot(orig, 0, 2 * PG, &snap));
        CHECK_OK(mica_vmo_write(snap, 0, &(uint64_t){1}, 8)); /* the snapshot's own page 0 */
        if (round == 0) {
            /* Into va + 16 .. va + PG + 8: page 0 read-only now, page 1 untouched. */
            CHECK_OK(mica_vmo_read(orig, 0, (void *)(va + 16), PG - 8));
            for (unsigned i = 16; i < PG + 8; i++)
                CHECK(((uint8_t *)va)[i] >= 1 && ((uint8_t *)va)[i] <= 100);
        } else {
            /* vmo_copy from a view child of the original into the original:
             * the write to the original frees the frozen page the child
             * reads through it. */
            CHECK_OK(mica_vmo_create_child(orig, 0, PG, &view));
            CHECK_OK(mica_vmo_create(PG, &other));
            CHECK_OK(mica_vmo_write(other, 0, &(uint64_t){2}, 8)); /* takes a page */
            CHECK_OK(mica_vmo_copy(orig, 0, view, 0, PG));
            uint8_t got[64];
            CHECK_OK(mica_vmo_read(orig, PG - 64, got, 64));
            CHECK(memcmp(got, want + PG - 64, 64) == 0);
            CHECK_OK(mica_handle_close(view));
            CHECK_OK(mica_handle_close(other));
        }
        CHECK_OK(mica_aspace_unmap(as, va, 2 * PG));
        CHECK_OK(mica_handle_close(snap));
        CHECK_OK(mica_handle_close(orig));
    }
    return 0;
}

const struct ktest ktests_snapshot[] = {
    {"user_vmo_snapshot_isolation", test_isolation},
    {"user_vmo_snapshot_repeat", test_repeat},
    {"user_vmo_snapshot_bad_args", test_bad_args},
    {"user_vmo_snapshot_random", test_random},
    {"user_vmo_snapshot_copy_across_faults", test_copy_across_faults},
    {NULL, NULL},
};
