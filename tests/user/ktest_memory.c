/* ktest: VMOs and address spaces — sizes, bounds, bad pointers, rights of
 * mappings, fixed placement, unmap, protect. */
#include "ktest.h"
#include <string.h>

static int test_vmo_read_write(void)
{
    mica_handle_t vmo;
    static char out[3 * 4096], in[3 * 4096];
    CHECK_OK(mica_vmo_create(3 * 4096, &vmo));
    uint64_t size;
    CHECK_OK(mica_vmo_get_size(vmo, &size));
    CHECK(size == 3 * 4096);
    for (unsigned i = 0; i < sizeof(out); i++)
        out[i] = (char)(i * 7 + 3);
    CHECK_OK(mica_vmo_write(vmo, 100, out, sizeof(out) - 200)); /* spans three pages */
    CHECK_OK(mica_vmo_read(vmo, 100, in, sizeof(out) - 200));
    CHECK(memcmp(in, out, sizeof(out) - 200) == 0);
    CHECK_OK(mica_vmo_read(vmo, 0, in, 100)); /* untouched bytes read as zero */
    for (unsigned i = 0; i < 100; i++)
        CHECK(in[i] == 0);
    /* Bounds. */
    CHECK_STATUS(mica_vmo_read(vmo, 3 * 4096, in, 1), MICA_ERR_OUT_OF_RANGE);
    CHECK_STATUS(mica_vmo_read(vmo, 3 * 4096 - 1, in, 2), MICA_ERR_OUT_OF_RANGE);
    CHECK_STATUS(mica_vmo_read(vmo, ~0UL, in, 2), MICA_ERR_OUT_OF_RANGE);
    CHECK_OK(mica_vmo_read(vmo, 3 * 4096, in, 0));
    /* Bad buffers: unmapped, kernel, wrapping, read-only (the bootinfo). */
    CHECK_STATUS(mica_vmo_read(vmo, 0, NULL, 16), MICA_ERR_FAULT);
    CHECK_STATUS(mica_vmo_read(vmo, 0, (void *)0xFFFF000040080000UL, 16), MICA_ERR_FAULT);
    CHECK_STATUS(mica_vmo_write(vmo, 0, (void *)0xFFFFFFFF80000000UL, 16), MICA_ERR_FAULT);
    CHECK_STATUS(mica_vmo_read(vmo, 0, (void *)(~0UL - 8), 16), MICA_ERR_FAULT);
    CHECK_STATUS(mica_vmo_read(vmo, 0, (void *)MICA_BOOTINFO_VA, 16), MICA_ERR_FAULT);
    CHECK_OK(mica_vmo_write(vmo, 0, (const void *)MICA_BOOTINFO_VA, 16)); /* reading it is fine */
    CHECK_OK(mica_vmo_read(vmo, 1, in + 1, 5));                           /* unaligned is fine */
    /* Buffer and VMO offset misaligned to each other, across pages. */
    CHECK_OK(mica_vmo_write(vmo, 3, out + 1, 5001));
    memset(in, 0, sizeof(in));
    CHECK_OK(mica_vmo_read(vmo, 3, in + 6, 5001));
    CHECK(memcmp(in + 6, out + 1, 5001) == 0 && in[5] == 0 && in[5007] == 0);
    CHECK_OK(mica_handle_close(vmo));
    /* Sizes. */
    CHECK_STATUS(mica_vmo_create(0, &vmo), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_vmo_create(1UL << 40, &vmo), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_vmo_create(~0UL, &vmo), MICA_ERR_INVALID_ARGS);
    CHECK_OK(mica_vmo_create(1, &vmo)); /* rounded up to a page */
    CHECK_OK(mica_vmo_get_size(vmo, &size));
    CHECK(size == 4096);
    CHECK_OK(mica_handle_close(vmo));
    return 0;
}

static int test_map_and_touch(void)
{
    mica_handle_t as = kt_bootinfo()->self_aspace, vmo;
    uintptr_t va;
    CHECK_OK(mica_vmo_create(2 * 4096, &vmo));
    CHECK_OK(mica_aspace_map(as, vmo, 0, 2 * 4096, 0, MICA_MAP_READ | MICA_MAP_WRITE, &va));
    CHECK(va >= MICA_USER_BASE && va < MICA_USER_END && (va & 4095) == 0);
    volatile uint64_t *p = (volatile uint64_t *)va;
    p[0] = 0x1122334455667788UL; /* first touch: the kernel maps the page */
    p[600] = 42;                 /* second page */
    uint64_t got;
    CHECK_OK(mica_vmo_read(vmo, 0, &got, 8));
    CHECK(got == 0x1122334455667788UL);
    CHECK_OK(mica_vmo_read(vmo, 4800, &got, 8));
    CHECK(got == 42);
    /* The kernel can copy into it too (vmo_read into a mapped buffer). */
    CHECK_OK(mica_vmo_read(vmo, 0, (void *)(va + 8), 8));
    CHECK(p[1] == 0x1122334455667788UL);
    CHECK_OK(mica_aspace_unmap(as, va, 2 * 4096));
    CHECK_STATUS(mica_aspace_unmap(as, va, 2 * 4096), MICA_ERR_NOT_FOUND);
    CHECK_STATUS(mica_vmo_read(vmo, 0, (void *)va, 8), MICA_ERR_FAULT); /* gone */
    CHECK_OK(mica_handle_close(vmo));
    return 0;
}

static int test_map_rights_and_placement(void)
{
    mica_handle_t as = kt_bootinfo()->self_aspace, vmo, ro, nomap;
    uintptr_t va, va2;
    CHECK_OK(mica_vmo_create(4 * 4096, &vmo));
    CHECK_OK(mica_handle_dup(vmo, MICA_RIGHT_READ | MICA_RIGHT_MAP, &ro));
    CHECK_OK(mica_handle_dup(vmo, MICA_RIGHT_READ | MICA_RIGHT_WRITE, &nomap));
    CHECK_STATUS(mica_aspace_map(as, ro, 0, 4096, 0, MICA_MAP_READ | MICA_MAP_WRITE, &va),
                 MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_aspace_map(as, ro, 0, 4096, 0, MICA_MAP_READ | MICA_MAP_EXEC, &va),
                 MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_aspace_map(as, nomap, 0, 4096, 0, MICA_MAP_READ, &va),
                 MICA_ERR_ACCESS_DENIED);
    CHECK_OK(mica_aspace_map(as, ro, 0, 4096, 0, MICA_MAP_READ, &va));
    /* Bad ranges and flags. */
    CHECK_STATUS(mica_aspace_map(as, vmo, 0, 5 * 4096, 0, MICA_MAP_READ, &va2),
                 MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_aspace_map(as, vmo, 4096, 4 * 4096, 0, MICA_MAP_READ, &va2),
                 MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_aspace_map(as, vmo, 1, 4096, 0, MICA_MAP_READ, &va2), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_aspace_map(as, vmo, 0, 0, 0, MICA_MAP_READ, &va2), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_aspace_map(as, vmo, 0, 4096, 0, 1u << 12, &va2), MICA_ERR_INVALID_ARGS);
    uint32_t fixed = MICA_MAP_READ | MICA_MAP_FIXED;
    CHECK_STATUS(mica_aspace_map(as, vmo, 0, 4096, va + 1, fixed, &va2), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_aspace_map(as, vmo, 0, 4096, va, fixed, &va2), MICA_ERR_BAD_STATE);
    CHECK_STATUS(mica_aspace_map(as, vmo, 0, 4096, 0, fixed, &va2), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_aspace_map(as, vmo, 0, 4096, MICA_USER_END, fixed, &va2),
                 MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_aspace_map(as, vmo, 0, 2 * 4096, MICA_USER_END - 4096, fixed, &va2),
                 MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_aspace_map(vmo, vmo, 0, 4096, 0, MICA_MAP_READ, &va2), MICA_ERR_WRONG_TYPE);
    /* A fixed map next to the first, then unmap the middle of a 3-page map. */
    CHECK_OK(mica_aspace_map(as, vmo, 0, 3 * 4096, va + 16 * 4096, fixed | MICA_MAP_WRITE, &va2));
    CHECK(va2 == va + 16 * 4096);
    CHECK_OK(mica_aspace_unmap(as, va2 + 4096, 4096));
    *(volatile char *)va2 = 1;
    *(volatile char *)(va2 + 2 * 4096) = 3;
    char b;
    CHECK_OK(mica_vmo_read(vmo, 2 * 4096, &b, 1));
    CHECK(b == 3);
    CHECK_STATUS(mica_vmo_read(vmo, 0, (void *)(va2 + 4096), 1), MICA_ERR_FAULT);
    /* Protect narrows only. */
    CHECK_STATUS(mica_aspace_protect(as, va, 4096, MICA_MAP_READ | MICA_MAP_WRITE),
                 MICA_ERR_ACCESS_DENIED);
    CHECK_OK(mica_aspace_protect(as, va2, 4096, MICA_MAP_READ));
    CHECK_STATUS(mica_vmo_read(vmo, 0, (void *)va2, 1), MICA_ERR_FAULT); /* now read-only */
    CHECK_STATUS(mica_aspace_protect(as, va + 4096, 4096, MICA_MAP_READ), MICA_ERR_INVALID_ARGS);
    CHECK_OK(mica_aspace_unmap(as, va, 4096));
    CHECK_OK(mica_aspace_unmap(as, va2, 3 * 4096));
    CHECK_OK(mica_handle_close(ro));
    CHECK_OK(mica_handle_close(nomap));
    CHECK_OK(mica_handle_close(vmo));
    return 0;
}

/* vmo_copy: page-crossing copies between VMOs, untouched source pages
 * reading as zeros, rights, bounds and overlap. */
static int test_vmo_copy(void)
{
    mica_handle_t a, b, read_only, write_only;
    static char out[3 * 4096], in[3 * 4096];
    CHECK_OK(mica_vmo_create(3 * 4096, &a));
    CHECK_OK(mica_vmo_create(4 * 4096, &b));
    for (unsigned i = 0; i < sizeof(out); i++)
        out[i] = (char)(i * 13 + 1);
    CHECK_OK(mica_vmo_write(a, 0, out, sizeof(out)));
    CHECK_OK(mica_vmo_copy(b, 4096 + 10, a, 100, 2 * 4096 + 50)); /* unaligned on both sides */
    CHECK_OK(mica_vmo_read(b, 4096 + 10, in, 2 * 4096 + 50));
    CHECK(memcmp(in, out + 100, 2 * 4096 + 50) == 0);
    CHECK_OK(mica_vmo_read(b, 4096, in, 10)); /* nothing before the destination */
    for (unsigned i = 0; i < 10; i++)
        CHECK(in[i] == 0);
    mica_handle_t fresh; /* whole pages into pages nobody wrote (filled as allocated) */
    CHECK_OK(mica_vmo_create(3 * 4096, &fresh));
    CHECK_OK(mica_vmo_copy(fresh, 4096, a, 4096, 2 * 4096));
    CHECK_OK(mica_vmo_read(fresh, 0, in, sizeof(in)));
    for (unsigned i = 0; i < 4096; i++)
        CHECK(in[i] == 0);
    CHECK(memcmp(in + 4096, out + 4096, 2 * 4096) == 0);
    CHECK_OK(mica_handle_close(fresh));
    CHECK_OK(mica_vmo_copy(a, 0, b, 0, 4096)); /* an untouched page copies as zeros */
    CHECK_OK(mica_vmo_read(a, 0, in, 4096));
    for (unsigned i = 0; i < 4096; i++)
        CHECK(in[i] == 0);
    CHECK_OK(mica_vmo_copy(a, 8192, a, 0, 4096)); /* within one VMO, apart */
    CHECK_STATUS(mica_vmo_copy(a, 100, a, 0, 4096), MICA_ERR_INVALID_ARGS); /* overlapping */
    CHECK_STATUS(mica_vmo_copy(a, 0, b, 4 * 4096 - 1, 2), MICA_ERR_OUT_OF_RANGE);
    CHECK_STATUS(mica_vmo_copy(a, 3 * 4096 - 1, b, 0, 2), MICA_ERR_OUT_OF_RANGE);
    CHECK_STATUS(mica_vmo_copy(a, ~0UL, b, 0, 2), MICA_ERR_OUT_OF_RANGE);
    CHECK_OK(mica_vmo_copy(a, 3 * 4096, b, 0, 0));
    CHECK_OK(mica_handle_dup(a, MICA_RIGHT_READ, &read_only));
    CHECK_OK(mica_handle_dup(a, MICA_RIGHT_WRITE, &write_only));
    CHECK_STATUS(mica_vmo_copy(read_only, 0, b, 0, 16), MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_vmo_copy(b, 0, write_only, 0, 16), MICA_ERR_ACCESS_DENIED);
    CHECK_OK(mica_vmo_copy(b, 0, read_only, 0, 16));
    CHECK_STATUS(mica_vmo_copy(kt_bootinfo()->self_aspace, 0, b, 0, 16), MICA_ERR_WRONG_TYPE);
    CHECK_STATUS(mica_vmo_copy(b, 0, 0x12345, 0, 16), MICA_ERR_BAD_HANDLE);
    CHECK_OK(mica_handle_close(read_only));
    CHECK_OK(mica_handle_close(write_only));
    CHECK_OK(mica_handle_close(a));
    CHECK_OK(mica_handle_close(b));
    return 0;
}

const struct ktest ktests_memory[] = {
    {"user_vmo_read_write", test_vmo_read_write},
    {"user_map_and_touch", test_map_and_touch},
    {"user_map_rights_placement", test_map_rights_and_placement},
    {"user_vmo_copy", test_vmo_copy},
    {NULL, NULL},
};
