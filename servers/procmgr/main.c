/*
 * procmgr: starts the services of the boot manifest and keeps them
 * running (docs/boot-manifest.md).
 *
 * Each service has an endpoint that procmgr creates once and keeps; every
 * instance of the server gets its receive side, so clients' handles stay
 * valid across restarts: a client that called a crashed server gets
 * MICA_ERR_PEER_CLOSED, and its next call reaches the new instance.
 * procmgr keeps two handles to it: the receive side (recv_ep), which it
 * duplicates for each instance, and a send-only one (ep) it mints clients'
 * handles from.
 *
 * A watcher thread per instance waits for the process and reports its end
 * to procmgr's own endpoint with an internal message (a badge no client
 * holds). On an end procmgr applies the service's restart policy and its
 * group's strategy (one_for_one, one_for_all, rest_for_one), and gives the
 * group up if it restarts more than `intensity` allows. Giving a service
 * up closes its receive side: with its last instance gone nobody can
 * receive on the endpoint any more, so the kernel answers every caller,
 * waiting or future, with MICA_ERR_PEER_CLOSED instead of letting it wait
 * for ever (kernel/endpoint.c).
 *
 * Every service gets a procmgr handle of its own badge (bootinfo->procmgr).
 * A service granted devices (devmgr) gets the root resource and the device
 * tree, and may add driver services (PM_ADD_DRIVER): procmgr keeps the
 * driver's device handles and gives each instance duplicates, so a
 * restarted driver gets its device again. A driver given up lets its
 * device go (its IRQ line is free again once the handles are closed), and
 * its failure goes up to the service that added it: that one is restarted
 * as if it had failed (counted against its own intensity), and equips the
 * driver anew, on a new endpoint — clients find it again with PM_LOOKUP.
 *
 * Killing a service (PM_KILL) is the operator's: only init's own handle
 * (badge 0), which init gives the program it runs on the console, may.
 *
 * Memory: each service runs with a limit of procmgr's own less a reserve
 * (service_limit), so that no one service (the Linux personality, which
 * hosts programs) can take all the memory the others need; a service that
 * kills a client's program for want of memory reports it (PM_OOM) and we
 * log it.
 */
#include <mica/malloc.h>
#include <mica/manifest.h>
#include <mica/proto/procmgr.h>
#include <string.h>

#include "procmgr.h"

#define PM_INTERNAL_EXITED 100
/* A server receives on its endpoint and may mint handles to it (to give
 * its own threads or children, like the Linux personality's programs). */
#define SERVER_END_RIGHTS                                                                          \
    (MICA_RIGHT_READ | MICA_RIGHT_WRITE | MICA_RIGHT_DUPLICATE | MICA_RIGHT_TRANSFER)
#define INTERNAL_BADGE 0xFFFFFFFFFFFF0001UL
#define HISTORY 16

struct service {
    const struct manifest_service *m;
    mica_handle_t ep;      /* the service endpoint, send side: clients' handles come from it */
    mica_handle_t recv_ep; /* its receive side, kept across restarts; 0 once given up */
    mica_handle_t process; /* the running instance, 0 if none */
    uint64_t generation;   /* bumps on every start and stop: stale exits are ignored */
    uint64_t state;
    uint64_t restarts;
    mica_handle_t pm_client; /* this service's procmgr handle (its own badge) */
    uint64_t badge;
    /* Drivers (PM_ADD_DRIVER): their device handles and command line. */
    mica_handle_t handles[MICA_MSG_MAX_HANDLES];
    unsigned n_handles;
    char cmdline[PM_CMDLINE_MAX + 1];
    bool driver;    /* added by PM_ADD_DRIVER */
    unsigned owner; /* a driver's: the service that added it */
};

struct watch {
    unsigned index; /* with SPAWNED_FLAG: an entry of spawned[] */
    uint64_t generation;
    mica_handle_t process; /* a WAIT duplicate, closed by the watcher */
};

static struct manifest manifest;
static struct service services[MANIFEST_MAX_SERVICES];
const void *bootfs;
size_t bootfs_size;
mica_handle_t bootfs_vmo;           /* read-only: every service may read the bootfs */
static mica_handle_t internal_ep;   /* WRITE, badged INTERNAL_BADGE: only watchers have it */
static mica_handle_t own_ep;        /* our endpoint, to mint client handles from */
static mica_handle_t root_resource; /* for services granted devices (0: none) */
mica_handle_t spawned_client;       /* the procmgr handle programs started by PM_SPAWN get */
static uint64_t next_client_badge = 1;
/* Restart times per group leader (the first service of a group). */
static uint64_t history[MANIFEST_MAX_SERVICES][HISTORY];
static unsigned n_history[MANIFEST_MAX_SERVICES];

static void watcher(void *arg)
{
    struct watch *w = arg;
    int64_t code = 0;
    uint32_t reason = 0;
    mica_process_wait(w->process, MICA_DEADLINE_INFINITE, &code, &reason);
    mica_handle_close(w->process);
    struct mica_msg m = {.info = mica_msg_info(PM_INTERNAL_EXITED, 4, 0, 0),
                         .w = {w->index, w->generation, reason, (uint64_t)code}};
    mica_call(internal_ep, &m);
    free(w);
}

static bool same_group(unsigned a, unsigned b)
{
    const char *ga = services[a].m->group, *gb = services[b].m->group;
    return a == b || (ga[0] && strcmp(ga, gb) == 0);
}

static unsigned leader(unsigned i)
{
    for (unsigned j = 0; j < i; j++)
        if (same_group(j, i))
            return j;
    return i;
}

void watch(unsigned index, uint64_t generation, mica_handle_t proc)
{
    mica_handle_t waiter, thread;
    struct watch *w = malloc(sizeof(*w));
    if (w && mica_handle_dup(proc, MICA_RIGHT_WAIT, &waiter) == MICA_OK) {
        *w = (struct watch){index, generation, waiter};
        if (mica_thread_spawn(watcher, w, 128, &thread) == MICA_OK)
            mica_handle_close(thread);
    }
}

#define CLIENT_RIGHTS (MICA_RIGHT_WRITE | MICA_RIGHT_DUPLICATE | MICA_RIGHT_TRANSFER)

/* A new endpoint for service s: at setup, and when a driver given up is
 * equipped again (clients of the old one get MICA_ERR_PEER_CLOSED). */
static int open_endpoint(struct service *s)
{
    mica_handle_t recv, send;
    int err = mica_endpoint_create(&recv);
    if (err)
        return err;
    if ((err = mica_handle_dup(recv, CLIENT_RIGHTS, &send)) != MICA_OK) {
        mica_handle_close(recv);
        return err;
    }
    if (s->ep)
        mica_handle_close(s->ep);
    s->ep = send;
    s->recv_ep = recv;
    return MICA_OK;
}

/* Give service i its endpoint and its procmgr handle. */
static int setup(unsigned i)
{
    struct service *s = &services[i];
    s->m = &manifest.services[i];
    s->badge = next_client_badge++;
    int err = open_endpoint(s);
    if (!err)
        err = mica_handle_mint(own_ep, CLIENT_RIGHTS, s->badge, &s->pm_client);
    return err;
}

/* What each service may hold: our limit less 1/8 of it (at least 32 MiB)
 * that no single service can take from the others. 0: ours (unknown). */
static uint64_t service_limit(void)
{
    uint64_t limit;
    if (mica_process_memory(mica_bootinfo->self_process, NULL, &limit, NULL) != MICA_OK)
        return 0;
    uint64_t reserve = limit / 8 > 8192 ? limit / 8 : 8192;
    return limit > 2 * reserve ? limit - reserve : limit / 2;
}

static int start(unsigned i)
{
    struct service *s = &services[i];
    const void *elf;
    size_t size;
    mica_handle_t server_end = 0, proc;
    int err = mica_cpio_find(bootfs, bootfs_size, s->m->program, &elf, &size);
    if (!err && !s->recv_ep)
        err = MICA_ERR_BAD_STATE; /* given up: only PM_ADD_DRIVER equips it anew */
    if (!err)
        err = mica_handle_dup(s->recv_ep, SERVER_END_RIGHTS, &server_end);
    struct mica_spawn_args args = {.name = s->m->name,
                                   .cmdline = s->cmdline,
                                   .bootfs = bootfs_vmo,
                                   .startup = server_end,
                                   .procmgr = s->pm_client,
                                   .boot_flags = MICA_BOOT_SERVICE,
                                   .n_handles = s->n_handles,
                                   .page_limit = service_limit()};
    memcpy(args.handles, s->handles, sizeof(s->handles));
    if (s->m->devices) {
        args.resource = root_resource;
        args.dtb = mica_bootinfo->dtb_vmo;
        args.dtb_size = mica_bootinfo->dtb_size;
    }
    if (!err)
        err = mica_spawn_ex(elf, size, &args, &proc);
    if (err) {
        mica_printf("procmgr: cannot start %s (%s): %s\n", s->m->name, s->m->program,
                    mica_status_name(err));
        s->state = PM_STATE_FAILED;
        return err;
    }
    s->process = proc;
    s->generation++;
    s->state = PM_STATE_RUNNING;
    watch(i, s->generation, proc);
    return MICA_OK;
}

/* Stop an instance on purpose: its watcher's report becomes stale. */
static void stop(unsigned i)
{
    struct service *s = &services[i];
    if (!s->process)
        return;
    mica_process_kill(s->process);
    mica_handle_close(s->process);
    s->process = 0;
    s->generation++;
}

/* Record a restart of i's group; false when the group restarts too often. */
static bool within_intensity(unsigned i)
{
    unsigned g = leader(i);
    const struct manifest_service *m = services[g].m;
    uint64_t now = mica_clock_ns(), window = (uint64_t)m->period_s * 1000000000UL;
    unsigned kept = 0;
    for (unsigned k = 0; k < n_history[g]; k++)
        if (now - history[g][k] < window)
            history[g][kept++] = history[g][k];
    n_history[g] = kept;
    if (kept >= m->max_restarts)
        return false;
    if (kept < HISTORY)
        history[g][n_history[g]++] = now;
    return true;
}

static void restart(unsigned i);

/* Called by on_exited (and escalate) when i's group passed its intensity:
 * stop the group for good. Each service's receive side is closed, so its
 * callers get MICA_ERR_PEER_CLOSED at once; a driver's device handles are
 * closed, so the device can be claimed again; and the failure of a driver
 * goes up to the service that added it (escalate). */
static void give_up(unsigned i)
{
    bool escalate_to[MANIFEST_MAX_SERVICES] = {false};
    mica_printf("procmgr: %s restarts too often: giving up on its group\n", services[i].m->name);
    for (unsigned j = 0; j < manifest.n_services; j++) {
        struct service *s = &services[j];
        if (!same_group(i, j))
            continue;
        stop(j);
        s->state = PM_STATE_FAILED;
        if (s->recv_ep)
            mica_handle_close(s->recv_ep);
        s->recv_ep = 0;
        for (unsigned h = 0; h < s->n_handles; h++)
            mica_handle_close(s->handles[h]);
        s->n_handles = 0;
        if (s->driver)
            escalate_to[s->owner] = true;
    }
    for (unsigned j = 0; j < manifest.n_services; j++) {
        if (!escalate_to[j] || services[j].state != PM_STATE_RUNNING)
            continue; /* a failed devmgr cannot equip anything any more */
        mica_printf("procmgr: restarting %s, which added the driver given up\n",
                    services[j].m->name);
        stop(j);
        if (within_intensity(j))
            restart(j);
        else
            give_up(j);
    }
}

static void restart(unsigned i)
{
    enum strategy strategy = services[leader(i)].m->strategy;
    for (unsigned j = 0; j < manifest.n_services; j++) {
        bool affected =
            j == i ||
            (same_group(i, j) && (strategy == ONE_FOR_ALL || (strategy == REST_FOR_ONE && j > i)));
        if (!affected)
            continue;
        stop(j);
        if (start(j) == MICA_OK)
            services[j].restarts++;
    }
}

static int64_t on_exited(const struct mica_msg *req)
{
    if (req->w[0] & SPAWNED_FLAG) {
        spawned_exited((unsigned)(req->w[0] & ~SPAWNED_FLAG), req->w[1],
                       req->w[2] != MICA_EXIT_NORMAL || req->w[3] != 0);
        return MICA_OK;
    }
    unsigned i = (unsigned)req->w[0];
    if (i >= manifest.n_services || req->w[1] != services[i].generation)
        return MICA_OK; /* an instance we stopped ourselves */
    struct service *s = &services[i];
    mica_handle_close(s->process);
    s->process = 0;
    bool abnormal = req->w[2] != MICA_EXIT_NORMAL || req->w[3] != 0;
    if (req->w[2] == MICA_EXIT_FAULT)
        mica_printf("procmgr: %s ended by a fault (ESR 0x%lx)\n", s->m->name, req->w[3]);
    else if (req->w[2] == MICA_EXIT_KILLED)
        mica_printf("procmgr: %s was killed\n", s->m->name);
    else
        mica_printf("procmgr: %s exited with %ld\n", s->m->name, (int64_t)req->w[3]);
    if (s->m->restart == RESTART_TEMPORARY || (s->m->restart == RESTART_TRANSIENT && !abnormal)) {
        s->state = PM_STATE_STOPPED;
        return MICA_OK;
    }
    if (!within_intensity(i))
        give_up(i);
    else
        restart(i);
    return MICA_OK;
}

static int find(const struct mica_msg *req)
{
    char name[MICA_NAME_MAX + 1];
    mica_name_unpack(req->w, name);
    for (unsigned i = 0; i < manifest.n_services; i++)
        if (strcmp(services[i].m->name, name) == 0)
            return (int)i;
    return -1;
}

static int64_t handle_PM_LOOKUP(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx;
    int i = find(req);
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    if (i < 0)
        return MICA_ERR_NOT_FOUND;
    if (!buf)
        return MICA_ERR_NO_MEMORY;
    /* Each client gets its own badge, so servers can tell clients apart. */
    int err =
        mica_handle_mint(services[i].ep, CLIENT_RIGHTS, next_client_badge++, &buf->handles[0]);
    if (err)
        return err;
    reply->info = mica_msg_info(0, 0, 1, 0);
    return MICA_OK;
}

static int64_t handle_PM_STATUS(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx;
    int i = find(req);
    if (i < 0)
        return MICA_ERR_NOT_FOUND;
    reply->w[1] = services[i].state;
    reply->w[2] = services[i].restarts;
    reply->w[3] = services[i].generation;
    return MICA_OK;
}

static int64_t handle_PM_KILL(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx, (void)reply;
    if (req->badge != 0)
        return MICA_ERR_ACCESS_DENIED; /* a service's or a spawned program's handle */
    int i = find(req);
    if (i < 0)
        return MICA_ERR_NOT_FOUND;
    if (!services[i].process)
        return MICA_ERR_BAD_STATE;
    return mica_process_kill(services[i].process); /* supervision applies */
}

static int64_t handle_PM_COUNT(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx, (void)req;
    reply->w[1] = manifest.n_services + spawned_count();
    return MICA_OK;
}

static int64_t handle_PM_LIST(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx;
    uint64_t index = req->w[0];
    const char *name = NULL;
    uint64_t state = 0;
    if (index < manifest.n_services) {
        name = services[index].m->name;
        state = services[index].state;
    } else {
        spawned_entry(index - manifest.n_services, &name, &state);
    }
    if (!name)
        return MICA_ERR_NOT_FOUND;
    mica_name_pack(name, &reply->w[1]);
    reply->w[5] = state;
    return MICA_OK;
}

/* PM_ADD_DRIVER, from a service granted devices (devmgr): a new supervised
 * service, or new devices for one it added before (devmgr restarted). */
static int64_t handle_PM_ADD_DRIVER(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx, (void)reply;
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    unsigned n_handles = MICA_MSG_HANDLES(req->info);
    bool allowed = false;
    unsigned owner = 0;
    for (unsigned i = 0; i < manifest.n_services; i++) {
        if (services[i].m->devices && services[i].badge == req->badge) {
            allowed = true;
            owner = i;
        }
    }
    char name[MICA_NAME_MAX + 1], program[MICA_NAME_MAX + 1];
    uint64_t words[24];
    for (unsigned i = 0; i < 24; i++)
        words[i] = mica_msg_word(req, i);
    mica_name_unpack(words, name);
    mica_name_unpack(&words[4], program);
    int err = MICA_OK;
    if (!allowed)
        err = MICA_ERR_ACCESS_DENIED;
    else if (!name[0] || !program[0] || n_handles > MICA_MSG_MAX_HANDLES)
        err = MICA_ERR_INVALID_ARGS;
    int index = err ? -1 : find(req);
    if (!err && index >= 0 && !services[index].driver)
        err = MICA_ERR_BAD_STATE; /* a manifest service is not re-equipped */
    if (!err && index < 0 && manifest.n_services == MANIFEST_MAX_SERVICES)
        err = MICA_ERR_LIMIT;
    if (err) {
        for (unsigned h = 0; h < n_handles; h++)
            mica_handle_close(buf->handles[h]);
        return err;
    }
    if (index < 0) {
        index = (int)manifest.n_services;
        struct manifest_service *m = &manifest.services[index];
        memset(m, 0, sizeof(*m));
        memcpy(m->name, name, sizeof(name));
        memcpy(m->program, program, sizeof(program));
        m->restart = RESTART_PERMANENT;
        m->max_restarts = 5;
        m->period_s = 10;
        if ((err = setup((unsigned)index)) != MICA_OK)
            return err;
        services[index].driver = true;
        manifest.n_services++;
    }
    struct service *s = &services[index];
    s->owner = owner;
    if (!s->recv_ep) { /* given up before: a fresh start on a new endpoint */
        if ((err = open_endpoint(s)) != MICA_OK) {
            for (unsigned h = 0; h < n_handles; h++)
                mica_handle_close(buf->handles[h]);
            return err;
        }
        n_history[index] = 0;
    }
    stop((unsigned)index);
    for (unsigned h = 0; h < s->n_handles; h++)
        mica_handle_close(s->handles[h]);
    s->n_handles = n_handles;
    for (unsigned h = 0; h < n_handles; h++)
        s->handles[h] = buf->handles[h];
    mica_string_unpack(&words[8], PM_CMDLINE_WORDS, s->cmdline);
    mica_printf("procmgr: driver %s (%s %s) added with %u handle(s)\n", name, program, s->cmdline,
                n_handles);
    return start((unsigned)index);
}

static int64_t handle_PM_OOM(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx, (void)reply;
    char name[MICA_NAME_MAX + 1];
    const char *by = "a program";
    mica_name_unpack(req->w, name);
    for (unsigned i = 0; i < manifest.n_services; i++)
        if (services[i].badge == req->badge)
            by = services[i].m->name;
    mica_printf("procmgr: out of memory: %s killed %s (pid %lu, %lu KiB)\n", by, name, req->w[4],
                req->w[5] * 4);
    return MICA_OK;
}

static int64_t handle_exited(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx, (void)reply;
    if (req->badge != INTERNAL_BADGE)
        return MICA_ERR_ACCESS_DENIED; /* only our watchers report exits */
    return on_exited(req);
}

static const struct mica_server_op ops[] = {
#define PM_SERVER_OP(name, label, req, rep)                                                        \
    {label, req, handle_##name, rep,                                                               \
     label == PM_SPAWN || label == PM_ADD_DRIVER ? MICA_MSG_MAX_HANDLES : 0},
    PROCMGR_OPS(PM_SERVER_OP)
#undef PM_SERVER_OP
        {PM_INTERNAL_EXITED, 4, handle_exited, 0, 0},
};

int main(const struct mica_bootinfo *bi)
{
    mica_handle_t ep = bi->startup_handle;
    uintptr_t base;
    size_t mapped = (bi->bootfs_size + MICA_PAGE_SIZE - 1) & ~(MICA_PAGE_SIZE - 1);
    const void *text;
    size_t text_len;
    unsigned line;
    const char *why;
    if (!ep ||
        mica_aspace_map(bi->self_aspace, bi->bootfs_vmo, 0, mapped, 0, MICA_MAP_READ, &base)) {
        mica_printf("procmgr: no endpoint or no bootfs\n");
        return 1;
    }
    bootfs = (const void *)base;
    bootfs_size = bi->bootfs_size;
    bootfs_vmo = bi->bootfs_vmo;
    if (mica_cpio_find(bootfs, bootfs_size, "boot/manifest", &text, &text_len) != MICA_OK)
        text_len = 0;
    if (text_len && manifest_parse(text, text_len, &manifest, &line, &why) != MICA_OK) {
        mica_printf("procmgr: boot/manifest line %u: %s\n", line, why);
        return 1;
    }
    if (mica_handle_mint(ep, MICA_RIGHT_WRITE, INTERNAL_BADGE, &internal_ep) != MICA_OK ||
        !mica_ipc_buffer_here()) /* requests may carry handles: it must exist first */
        return 1;
    own_ep = ep;
    root_resource = bi->root_resource;
    if (mica_handle_mint(ep, MICA_RIGHT_WRITE | MICA_RIGHT_DUPLICATE | MICA_RIGHT_TRANSFER,
                         next_client_badge++, &spawned_client) != MICA_OK)
        return 1;
    for (unsigned i = 0; i < manifest.n_services; i++) {
        if (setup(i) != MICA_OK)
            return 1;
        start(i);
    }
    mica_printf("procmgr: %u service(s) started\n", manifest.n_services);
    int err = mica_serve(ep, ops, sizeof(ops) / sizeof(ops[0]), NULL, NULL);
    mica_printf("procmgr: stopped serving: %s\n", mica_status_name(err));
    return 1;
}
