/*
 * procmgr's programs started on request (PM_SPAWN): not supervised, only
 * listed (PM_LIST, PM_COUNT) until they end, which a watcher reports like
 * a service's exit (main.c's on_exited calls spawned_exited). Each gets
 * the procmgr handle `spawned_client`, which may look services up but not
 * kill them.
 */
#include <mica/proto/procmgr.h>
#include <string.h>

#include "procmgr.h"

/* Programs started on request (PM_SPAWN): not supervised, only listed. */
#define MAX_SPAWNED 32
struct spawned {
    bool used;
    char name[MICA_NAME_MAX + 1];
    mica_handle_t process;
    uint64_t generation;
    uint64_t state;
};
static struct spawned spawned[MAX_SPAWNED];

/* The entry `index` of spawned[] ended (abnormally or not). */
void spawned_exited(unsigned index, uint64_t generation, bool abnormal)
{
    struct spawned *sp = &spawned[index % MAX_SPAWNED];
    if (sp->used && sp->generation == generation && sp->process) {
        mica_handle_close(sp->process);
        sp->process = 0;
        sp->state = abnormal ? PM_STATE_FAILED : PM_STATE_STOPPED;
    }
}

/* PM_LIST's index-th spawned program (past the services). */
void spawned_entry(uint64_t index, const char **name, uint64_t *state)
{
    for (unsigned k = 0; k < MAX_SPAWNED && !*name; k++)
        if (spawned[k].used && index-- == 0) {
            *name = spawned[k].name;
            *state = spawned[k].state;
        }
}

int64_t handle_PM_SPAWN(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx;
    static uint64_t generations;
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    unsigned n_handles = MICA_MSG_HANDLES(req->info);
    mica_handle_t startup = n_handles >= 1 ? buf->handles[0] : 0, extra[MICA_MSG_MAX_HANDLES];
    for (unsigned h = 1; h < n_handles; h++)
        extra[h - 1] = buf->handles[h];
    char path[MICA_NAME_MAX + 1], cmdline[PM_CMDLINE_MAX + 1] = "";
    mica_name_unpack(req->w, path);
    if (MICA_MSG_WORDS(req->info) >= 4 + PM_CMDLINE_WORDS) {
        uint64_t words[PM_CMDLINE_WORDS];
        for (unsigned i = 0; i < PM_CMDLINE_WORDS; i++)
            words[i] = mica_msg_word(req, 4 + i);
        mica_string_unpack(words, PM_CMDLINE_WORDS, cmdline);
    }
    const void *elf;
    size_t size;
    struct spawned *sp = NULL;
    for (unsigned k = 0; k < MAX_SPAWNED && !sp; k++)
        if (!spawned[k].used || !spawned[k].process)
            sp = &spawned[k];
    int err = sp ? mica_cpio_find(bootfs, bootfs_size, path, &elf, &size) : MICA_ERR_NO_MEMORY;
    const char *slash = strrchr(path, '/');
    mica_handle_t proc;
    struct mica_spawn_args args = {.name = slash ? slash + 1 : path,
                                   .cmdline = cmdline,
                                   .startup = startup,
                                   .bootfs = bootfs_vmo,
                                   .procmgr = spawned_client,
                                   .n_handles = n_handles ? n_handles - 1 : 0};
    memcpy(args.handles, extra, sizeof(extra[0]) * args.n_handles);
    if (!err) /* a bad ELF is refused here, with the reason logged */
        err = mica_spawn_ex(elf, size, &args, &proc);
    if (err && startup)             /* it was moved to us: do not leak it (if the child */
        mica_handle_close(startup); /* got it, the stale value is refused) */
    for (unsigned h = 0; h < args.n_handles; h++)
        mica_handle_close(extra[h]); /* the child has its duplicates */
    if (err)
        return err;
    if ((err = mica_handle_dup(proc, MICA_RIGHT_MANAGE | MICA_RIGHT_WAIT | MICA_RIGHT_TRANSFER,
                               &buf->handles[0])) != MICA_OK) {
        mica_process_kill(proc);
        mica_handle_close(proc);
        return err;
    }
    *sp = (struct spawned){true, "", proc, ++generations, PM_STATE_RUNNING};
    memcpy(sp->name, slash ? slash + 1 : path, strlen(slash ? slash + 1 : path) + 1);
    watch((unsigned)(sp - spawned) | SPAWNED_FLAG, sp->generation, proc);
    reply->info = mica_msg_info(0, 0, 1, 0);
    return MICA_OK;
}

unsigned spawned_count(void)
{
    unsigned n = 0;
    for (unsigned k = 0; k < MAX_SPAWNED; k++)
        n += spawned[k].used;
    return n;
}
