/* Client side of the procmgr protocol (mica/proto/procmgr.h). */
#include <mica/proto/procmgr.h>

int pm_lookup(mica_handle_t procmgr, const char *name, mica_handle_t *ep)
{
    struct mica_msg m = {0};
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    if (!buf)
        return MICA_ERR_NO_MEMORY;
    int err = mica_name_pack(name, m.w);
    if (err)
        return err;
    m.info = mica_msg_info(PM_LOOKUP, 4, 0, 0);
    if ((err = mica_call(procmgr, &m)) != MICA_OK)
        return err;
    if ((int64_t)m.w[0] != MICA_OK)
        return (int)(int64_t)m.w[0];
    if (MICA_MSG_HANDLES(m.info) != 1)
        return MICA_ERR_BAD_STATE;
    *ep = buf->handles[0];
    return MICA_OK;
}

int pm_status(mica_handle_t procmgr, const char *name, uint64_t *state, uint64_t *restarts)
{
    uint64_t w[4], out[3];
    int err = mica_name_pack(name, w);
    if (!err)
        err = mica_request(procmgr, PM_STATUS, w, 4, out, 3);
    if (!err) {
        *state = out[0];
        *restarts = out[1];
    }
    return err;
}

int pm_kill(mica_handle_t procmgr, const char *name)
{
    uint64_t w[4];
    int err = mica_name_pack(name, w);
    return err ? err : mica_request(procmgr, PM_KILL, w, 4, NULL, 0);
}
