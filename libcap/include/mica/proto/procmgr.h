/*
 * Protocol of procmgr, the process manager (servers/procmgr). One table
 * defines every operation; see mica/server.h for the conventions (label =
 * operation, reply w0 = status). Names are up to 31 bytes, packed into
 * four words (mica_name_pack). Handles come back through the caller's IPC
 * buffer (mica_ipc_buffer_here()).
 *
 * procmgr starts the services of the boot manifest and supervises them
 * (restart policies, strategies, restart intensity: docs/boot-manifest.md).
 * A service's endpoint outlives restarts of its server, so clients keep
 * their handles and simply retry while it is down.
 */
#ifndef MICA_PROTO_PROCMGR_H
#define MICA_PROTO_PROCMGR_H

#include <mica/server.h>

/*     name           label  request words  reply words */
#define PROCMGR_OPS(X)                                                                             \
    X(PM_LOOKUP, 1, 4, 0)      /* (name) -> a handle to the service's endpoint (buffer) */         \
    X(PM_STATUS, 2, 4, 3)      /* (name) -> state, restarts, pid-like generation */                \
    X(PM_KILL, 3, 4, 0)        /* (name): kill the server (supervision applies); init's     \
                                  handle (badge 0) only, else ERR_ACCESS_DENIED */           \
    X(PM_COUNT, 4, 0, 1)       /* () -> number of entries (services, then spawned) */              \
    X(PM_SPAWN, 5, 4, 0)       /* (program[, cmdline: words 4-19]; 0-4 handles: the startup        \
                                  handle, then bootinfo->handles[]) -> a process handle */         \
    X(PM_LIST, 6, 1, 5)        /* (index) -> name (4 words), state */                              \
    X(PM_ADD_DRIVER, 7, 24, 0) /* (name, program, cmdline (16 words); up to 4 device handles):     \
                                  a supervised driver service; only services granted devices */    \
    X(PM_OOM, 8, 6, 0)         /* (program name, pid, pages): a service killed a client's program  \
                                  for want of memory (logged) */

enum {
#define PM_LABEL(name, label, req, rep) name = label,
    PROCMGR_OPS(PM_LABEL)
#undef PM_LABEL
};

/* PM_STATUS states */
#define PM_STATE_RUNNING 1
#define PM_STATE_STOPPED 2 /* exited and not restarted (transient/temporary) */
#define PM_STATE_FAILED 3  /* restart intensity exceeded: given up */

#define MICA_NAME_MAX 31
/* Pack a NUL-terminated name into 4 words; 0 if it does not fit. */
static inline int mica_name_pack(const char *name, uint64_t w[4])
{
    for (int i = 0; i < 4; i++)
        w[i] = 0;
    for (int i = 0; name[i]; i++) {
        if (i >= MICA_NAME_MAX)
            return MICA_ERR_INVALID_ARGS;
        w[i / 8] |= (uint64_t)(uint8_t)name[i] << (8 * (i % 8));
    }
    return name[0] ? MICA_OK : MICA_ERR_INVALID_ARGS;
}

/* Longer strings (command lines): up to 8 * n_words - 1 bytes in n_words. */
#define PM_CMDLINE_MAX 127
#define PM_CMDLINE_WORDS 16
static inline int mica_string_pack(const char *s, uint64_t *w, unsigned n_words)
{
    for (unsigned i = 0; i < n_words; i++)
        w[i] = 0;
    for (unsigned i = 0; s[i]; i++) {
        if (i + 1 >= 8 * n_words)
            return MICA_ERR_INVALID_ARGS;
        w[i / 8] |= (uint64_t)(uint8_t)s[i] << (8 * (i % 8));
    }
    return MICA_OK;
}

/* out has room for 8 * n_words bytes; always NUL-terminated. */
static inline void mica_string_unpack(const uint64_t *w, unsigned n_words, char *out)
{
    for (unsigned i = 0; i < 8 * n_words; i++)
        out[i] = (char)(w[i / 8] >> (8 * (i % 8)));
    out[8 * n_words - 1] = '\0';
}

static inline void mica_name_unpack(const uint64_t w[4], char out[MICA_NAME_MAX + 1])
{
    for (int i = 0; i < MICA_NAME_MAX; i++)
        out[i] = (char)(w[i / 8] >> (8 * (i % 8)));
    out[MICA_NAME_MAX] = '\0';
}

/* Start a program of the bootfs (not supervised; wait on the handle);
 * `startup` (0: none) moves into the child as its startup handle. */
int pm_spawn(mica_handle_t procmgr, const char *program, mica_handle_t startup,
             mica_handle_t *process);
/* The same with a command line for the child (bootinfo->cmdline; words 4-19
 * of the request, optional). */
int pm_spawn_args(mica_handle_t procmgr, const char *program, const char *cmdline,
                  mica_handle_t startup, mica_handle_t *process);
/* The explicit handle list: handles[0] (0: none) becomes the child's
 * startup handle, handles[1..n) its bootinfo->handles[0..n-1). All move. */
int pm_spawn_handles(mica_handle_t procmgr, const char *program, const char *cmdline,
                     const mica_handle_t *handles, unsigned n, mica_handle_t *process);
/* pm_lookup, retrying for up to timeout_ns while the service does not exist
 * yet (drivers appear once devmgr has read the device tree). */
int pm_lookup_wait(mica_handle_t procmgr, const char *name, uint64_t timeout_ns, mica_handle_t *ep);
/* devmgr: add (or re-equip) the supervised driver `name` running `program`
 * with `cmdline` and duplicates of handles[0..n) (moved to procmgr). */
int pm_add_driver(mica_handle_t procmgr, const char *name, const char *program, const char *cmdline,
                  const mica_handle_t *handles, unsigned n);
/* Entry `index` (services first): its name and state. */
int pm_list(mica_handle_t procmgr, unsigned index, char name[MICA_NAME_MAX + 1], uint64_t *state);
/* Look a service up; its endpoint handle (WRITE) lands in *ep. */
int pm_lookup(mica_handle_t procmgr, const char *name, mica_handle_t *ep);
int pm_status(mica_handle_t procmgr, const char *name, uint64_t *state, uint64_t *restarts);
int pm_kill(mica_handle_t procmgr, const char *name);
/* A service reports that it killed program `name` (its pid, the pages it
 * held) because memory ran out: procmgr logs it (the OOM record). */
int pm_oom(mica_handle_t procmgr, const char *name, uint64_t pid, uint64_t pages);

#endif
