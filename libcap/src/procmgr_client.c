/* Client side of the procmgr protocol (mica/proto/procmgr.h), and of the
 * Linux personality's LX_SPAWN (mica/proto/linux.h), built the same way. */
#include <mica/proto/linux.h>
#include <mica/proto/procmgr.h>
#include <string.h>

/* Call `label` with a packed name and 0-1 handles; the reply must carry
 * exactly one handle, which lands in *out. PM_LOOKUP and PM_SPAWN. */
static int call_for_handle(mica_handle_t procmgr, uint32_t label, const char *name,
                           mica_handle_t give, mica_handle_t *out)
{
    struct mica_msg m = {0};
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    if (!buf)
        return MICA_ERR_NO_MEMORY;
    int err = mica_name_pack(name, m.w);
    if (err)
        return err;
    buf->handles[0] = give;
    m.info = mica_msg_info(label, 4, give ? 1 : 0, 0);
    if ((err = mica_call(procmgr, &m)) != MICA_OK)
        return err;
    if ((int64_t)m.w[0] != MICA_OK)
        return (int)(int64_t)m.w[0];
    if (MICA_MSG_HANDLES(m.info) != 1)
        return MICA_ERR_BAD_STATE;
    *out = buf->handles[0];
    return MICA_OK;
}

int pm_lookup(mica_handle_t procmgr, const char *name, mica_handle_t *ep)
{
    return call_for_handle(procmgr, PM_LOOKUP, name, 0, ep);
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

int pm_oom(mica_handle_t procmgr, const char *name, uint64_t pid, uint64_t pages)
{
    uint64_t w[6];
    if (mica_name_pack(name, w) != MICA_OK)
        mica_name_pack("?", w);
    w[4] = pid;
    w[5] = pages;
    return mica_request(procmgr, PM_OOM, w, 6, NULL, 0);
}

int pm_spawn(mica_handle_t procmgr, const char *program, mica_handle_t startup,
             mica_handle_t *process)
{
    return call_for_handle(procmgr, PM_SPAWN, program, startup, process);
}

int pm_list(mica_handle_t procmgr, unsigned index, char name[MICA_NAME_MAX + 1], uint64_t *state)
{
    uint64_t arg = index, out[5];
    int err = mica_request(procmgr, PM_LIST, &arg, 1, out, 5);
    if (!err) {
        mica_name_unpack(out, name);
        *state = out[4];
    }
    return err;
}

int pm_spawn_args(mica_handle_t procmgr, const char *program, const char *cmdline,
                  mica_handle_t startup, mica_handle_t *process)
{
    return pm_spawn_handles(procmgr, program, cmdline, &startup, startup ? 1 : 0, process);
}

/* Call `label` with n_words words (registers, then the IPC buffer) and n
 * handles moved from handles[]; the reply is left in *m. */
static int call_long(mica_handle_t procmgr, uint32_t label, const uint64_t *words, unsigned n_words,
                     const mica_handle_t *handles, unsigned n, struct mica_msg *m)
{
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    if (!buf)
        return MICA_ERR_NO_MEMORY;
    if (n > MICA_MSG_MAX_HANDLES || n_words > MICA_MSG_MAX_WORDS)
        return MICA_ERR_INVALID_ARGS;
    memset(m, 0, sizeof(*m));
    for (unsigned i = 0; i < n_words; i++) {
        if (i < MICA_MSG_REG_WORDS)
            m->w[i] = words[i];
        else
            buf->words[i - MICA_MSG_REG_WORDS] = words[i];
    }
    for (unsigned i = 0; i < n; i++)
        buf->handles[i] = handles[i];
    m->info = mica_msg_info(label, n_words, n, 0);
    int err = mica_call(procmgr, m);
    return err ? err : (int)(int64_t)m->w[0];
}

int pm_spawn_handles(mica_handle_t procmgr, const char *program, const char *cmdline,
                     const mica_handle_t *handles, unsigned n, mica_handle_t *process)
{
    struct mica_msg m;
    uint64_t words[4 + PM_CMDLINE_WORDS];
    int err = mica_name_pack(program, words);
    if (!err)
        err = mica_string_pack(cmdline, &words[4], PM_CMDLINE_WORDS);
    if (!err)
        err = call_long(procmgr, PM_SPAWN, words, 4 + PM_CMDLINE_WORDS, handles, n, &m);
    if (err)
        return err;
    if (MICA_MSG_HANDLES(m.info) != 1)
        return MICA_ERR_BAD_STATE;
    *process = mica_ipc_buffer_here()->handles[0];
    return MICA_OK;
}

int pm_lookup_wait(mica_handle_t procmgr, const char *name, uint64_t timeout_ns, mica_handle_t *ep)
{
    uint64_t deadline = mica_clock_ns() + timeout_ns;
    for (;;) {
        int err = pm_lookup(procmgr, name, ep);
        if (err != MICA_ERR_NOT_FOUND || mica_clock_ns() >= deadline)
            return err;
        mica_sleep_until(mica_clock_ns() + 20000000UL); /* only while the system starts */
    }
}

int pm_add_driver(mica_handle_t procmgr, const char *name, const char *program, const char *cmdline,
                  const mica_handle_t *handles, unsigned n)
{
    struct mica_msg m;
    uint64_t words[8 + PM_CMDLINE_WORDS];
    int err = mica_name_pack(name, words);
    if (!err)
        err = mica_name_pack(program, &words[4]);
    if (!err)
        err = mica_string_pack(cmdline, &words[8], PM_CMDLINE_WORDS);
    return err ? err
               : call_long(procmgr, PM_ADD_DRIVER, words, 8 + PM_CMDLINE_WORDS, handles, n, &m);
}

int lx_spawn(mica_handle_t linux_server, const char *cmdline, mica_handle_t *process)
{
    struct mica_msg m;
    uint64_t words[LX_CMDLINE_WORDS];
    int err = mica_string_pack(cmdline, words, LX_CMDLINE_WORDS);
    if (!err)
        err = call_long(linux_server, LX_SPAWN, words, LX_CMDLINE_WORDS, NULL, 0, &m);
    if (err)
        return err;
    if (MICA_MSG_HANDLES(m.info) != 1)
        return MICA_ERR_BAD_STATE;
    *process = mica_ipc_buffer_here()->handles[0];
    return MICA_OK;
}

int lx_spawn_argv(mica_handle_t linux_server, int argc, char *const *argv, mica_handle_t *process)
{
    char cmdline[LX_CMDLINE_MAX + 1];
    size_t n = 0;
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(argv[i]);
        if (n + len + 1 > sizeof(cmdline))
            return MICA_ERR_INVALID_ARGS;
        memcpy(cmdline + n, argv[i], len);
        n += len;
        cmdline[n++] = '\n';
    }
    if (n == 0)
        return MICA_ERR_INVALID_ARGS;
    cmdline[n - 1] = '\0';
    if (argc == 1) /* no newline to mark the separator: keep the one word whole */
        return strchr(cmdline, ' ') ? MICA_ERR_INVALID_ARGS
                                    : lx_spawn(linux_server, cmdline, process);
    return lx_spawn(linux_server, cmdline, process);
}
