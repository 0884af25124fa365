/*
 * The programs' memory budget and the OOM killer.
 *
 * Every page a Linux program uses is charged to the program's own Mica
 * process: memory.c makes each VMO of its map (lx_vmo_create) and each
 * fork snapshot (lx_vmo_snapshot) with the program as the payer. Every
 * program is created under one pool process of ours (lx_pool, never
 * started), whose limit is what all programs together may hold: our own
 * limit (procmgr sets it below its own, so the other services keep a
 * reserve) less a reserve for this server's own memory. So no program,
 * nor all of them together, can take the memory of this server or of
 * another service; the kernel refuses the charge first (docs/linux.md,
 * "Memory").
 *
 * A program starts with the pool's limit; setrlimit(RLIMIT_AS or
 * RLIMIT_DATA) lowers it — committed memory, as a cgroup's memory.max,
 * not Linux's address-space size — and fork passes it on. mmap and brk
 * that the room left could not back answer ENOMEM (heuristic overcommit,
 * as Linux's default). A page fault the kernel could not serve at an
 * address the program may touch means the memory ran out: a program over
 * its own limit is killed (SIGKILL, as Linux's OOM killer does); if the
 * pool ran out, the largest program is killed, which may be another one,
 * and the faulting program retries once that one is gone. Every kill is
 * logged and reported to procmgr (PM_OOM).
 */
#include "linux.h"
#include <mica/proto/procmgr.h>

#define PAGE MICA_PAGE_SIZE
#define RLIMIT_DATA 2
#define RLIMIT_AS 9
#define RLIM_INFINITY (~0UL)
#define SIGKILL 9
#define SLACK 4 /* pages a fault may need besides the page itself (tables) */

mica_handle_t lx_pool;
static mica_handle_t procmgr;
static mica_handle_t victim; /* WAIT: the last program killed for the pool, until gone */
static uint64_t pool_limit;

int lx_budget_init(mica_handle_t pm)
{
    uint64_t limit;
    mica_handle_t as;
    procmgr = pm;
    int err = mica_process_memory(mica_bootinfo->self_process, NULL, &limit, NULL);
    if (!err)
        err = mica_process_create_under("linux-programs", 0, 0, &lx_pool, &as);
    if (err)
        return err;
    mica_handle_close(as);
    /* Ours: 1/16 of our limit, at least 16 MiB (our tables, pipes, our
     * handle table; programs pay for their threads' kernel stacks). */
    uint64_t reserve = limit / 16 > 4096 ? limit / 16 : 4096;
    pool_limit = limit > 2 * reserve ? limit - reserve : limit / 2;
    if ((err = mica_process_set_limit(lx_pool, pool_limit)) != MICA_OK)
        return err;
    mica_printf("linux: programs may hold %lu MiB together (%lu MiB kept for the server)\n",
                pool_limit >> 8, (limit - pool_limit) >> 8);
    return MICA_OK;
}

uint64_t lx_room(struct lproc *p)
{
    uint64_t room;
    return mica_process_memory(p->process, NULL, NULL, &room) == MICA_OK ? room : 0;
}

void lx_budget_inherit(struct lproc *child, struct lproc *parent)
{
    uint64_t limit;
    if (mica_process_memory(parent->process, NULL, &limit, NULL) == MICA_OK)
        mica_process_set_limit(child->process, limit); /* never above the pool's */
}

int lx_budget_rlimit(struct lproc *p, unsigned resource, const uint64_t *want, uint64_t lim[2])
{
    uint64_t limit;
    if (resource != RLIMIT_AS && resource != RLIMIT_DATA)
        return -LX_EINVAL;
    if (want) {
        uint64_t pages =
            want[0] == RLIM_INFINITY || want[0] / PAGE > pool_limit ? pool_limit : want[0] / PAGE;
        int err = mica_process_set_limit(p->process, pages);
        uint64_t held;
        if (err == MICA_ERR_BAD_STATE &&
            mica_process_memory(p->process, &held, NULL, NULL) == MICA_OK)
            err = mica_process_set_limit(p->process, held); /* below its use: no more from now */
        if (err)
            return -LX_EPERM;
    }
    if (mica_process_memory(p->process, NULL, &limit, NULL) != MICA_OK)
        return -LX_ESRCH;
    lim[0] = lim[1] = limit >= pool_limit ? RLIM_INFINITY : limit * PAGE;
    return 0;
}

static void oom_kill(struct lproc *v, uint64_t pages, const char *why)
{
    mica_printf("linux: out of memory: killed %s (pid %d, %lu KiB): %s\n", v->name, v->pid,
                pages * (PAGE / 1024), why);
    if (procmgr)
        pm_oom(procmgr, v->name, (uint64_t)v->pid, pages);
    lx_end(v, SIGKILL, MICA_KILL_WITH_CODE);
}

/* The living program holding the most memory, and how much. */
static struct lproc *largest(uint64_t *most)
{
    struct lproc *big = NULL;
    *most = 0;
    for (unsigned i = 0; i < lx_nprocs; i++) {
        uint64_t pages;
        struct lproc *q = lx_proc(i);
        if (q->used && !q->zombie &&
            mica_process_memory(q->process, &pages, NULL, NULL) == MICA_OK && pages >= *most) {
            big = q;
            *most = pages;
        }
    }
    return big;
}

bool lx_oom(struct lproc *p, uintptr_t addr, bool write, bool *resume)
{
    uint64_t pages, limit, room, most;
    *resume = false;
    if (!lx_mapped(p, addr, write) ||
        mica_process_memory(p->process, &pages, &limit, &room) != MICA_OK || room > SLACK)
        return false; /* a real segmentation fault */
    if (limit - pages <= SLACK) {
        oom_kill(p, pages, "its memory limit is used up");
        return true;
    }
    /* The pool ran out. A program we killed for it may still be going:
     * let p retry meanwhile rather than kill another. */
    if (victim && mica_process_wait(victim, MICA_DEADLINE_NONE, NULL, NULL) == MICA_ERR_TIMED_OUT) {
        *resume = true;
        return true;
    }
    if (victim)
        mica_handle_close(victim);
    victim = 0;
    struct lproc *big = largest(&most);
    if (!big || big == p) {
        oom_kill(p, pages, "the programs' memory is used up, and it holds the most");
        return true;
    }
    mica_handle_dup(big->process, MICA_RIGHT_WAIT, &victim);
    oom_kill(big, most, "the programs' memory is used up, and it holds the most");
    *resume = true;
    return true;
}
