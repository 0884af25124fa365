/*
 * testdrv: see testdrv.h. It maps its register VMO, keeps its IRQ object
 * unbound (the tests only check it has one), and answers reads of 32-bit
 * registers; TD_CRASH makes it fault, so procmgr must restart it with the
 * same device handles.
 */
#include "testdrv.h"
#include <stdlib.h>
#include <string.h>

static volatile uint8_t *regs;
static uint64_t vmo_size, offset;

static int64_t td_read32(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx;
    uint64_t off = req->w[0];
    if (off % 4 || off >= vmo_size - offset)
        return MICA_ERR_OUT_OF_RANGE;
    reply->w[1] = *(volatile uint32_t *)(regs + offset + off);
    return MICA_OK;
}

static int64_t td_info(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx, (void)req;
    uint32_t type = 0;
    if (mica_bootinfo->n_handles >= 2)
        mica_handle_info(mica_bootinfo->handles[1], &type, NULL, NULL);
    reply->w[1] = vmo_size;
    reply->w[2] = offset;
    reply->w[3] = type;
    return MICA_OK;
}

static int64_t td_crash(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx, (void)req, (void)reply;
    mica_printf("testdrv: crashing on purpose\n");
    *(volatile uint64_t *)8 = 1; /* unmapped: a fault ends us */
    return MICA_ERR_BAD_STATE;
}

static const struct mica_server_op ops[] = {
    {TD_READ32, 1, td_read32, 1, 0},
    {TD_INFO, 0, td_info, 3, 0},
    {TD_CRASH, 0, td_crash, 0, 0},
};

int main(const struct mica_bootinfo *bi)
{
    const char *p = strstr(bi->cmdline, "offset=");
    uintptr_t va;
    offset = p ? strtoul(p + 7, NULL, 10) : 0;
    if (!bi->startup_handle || bi->n_handles < 1 || mica_vmo_get_size(bi->handles[0], &vmo_size) ||
        offset >= vmo_size ||
        mica_aspace_map(bi->self_aspace, bi->handles[0], 0, vmo_size, 0, MICA_MAP_READ, &va)) {
        mica_printf("testdrv: no register VMO (%s)\n", bi->cmdline);
        return 1;
    }
    regs = (volatile uint8_t *)va;
    mica_printf("testdrv: up (%s)\n", bi->cmdline);
    mica_serve(bi->startup_handle, ops, sizeof(ops) / sizeof(ops[0]), NULL, NULL);
    return 1;
}
