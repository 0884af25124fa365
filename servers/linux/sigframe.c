/*
 * Linux's arm64 signal frame and the alternate signal stack.
 *
 * The frame (struct rt_sigframe) is a siginfo (128 bytes) and a ucontext:
 * uc_stack (the thread's sigaltstack as it was), the signal mask to
 * restore, and the sigcontext: the general registers, sp, pc, pstate and
 * in __reserved a list of records, here an fpsimd_context (FPSR, FPCR and
 * v0-v31, read with thread_read_fp) then a zero terminator. rt_sigreturn
 * reads the frame back from sp: registers, mask, FP/SIMD registers (what
 * the handler left in the record), and uc_stack as a sigaltstack call.
 *
 * sigaltstack is per thread (p->threads[]): a handler with SA_ONSTACK
 * gets its frame at the top of the alternate stack unless the thread
 * already runs on it; changing it while on it is EPERM; SS_AUTODISARM
 * drops it while a handler runs on it (until sigreturn restores it).
 */
#include "linux.h"
#include <string.h>

#define SIGSEGV 11
#define SA_ONSTACK 0x08000000UL
#define SA_RESTORER 0x04000000UL
#define SS_ONSTACK 1u
#define SS_DISABLE 2u
#define SS_AUTODISARM (1u << 31)
#define MINSIGSTKSZ 5120 /* arm64's, what the Linux kernel checks */

/* struct rt_sigframe of arm64: siginfo (128), then ucontext. */
#define FRAME_SIZE 4688
#define UC 128 /* the ucontext */
#define UC_STACK (UC + 16)
#define UC_SIGMASK (UC + 40)
#define MC (UC + 176) /* its sigcontext: fault_address, regs, sp, pc, pstate */
#define MC_REGS (MC + 8)
#define MC_SP (MC + 256)
#define MC_PC (MC + 264)
#define MC_PSTATE (MC + 272)
#define MC_RESERVED (MC + 288) /* records: fpsimd_context, then a terminator */
#define RESERVED_SIZE 4096
#define FPSIMD_MAGIC 0x46508001u
#define FPSIMD_SIZE 528 /* header, fpsr, fpcr, 32 x 16 bytes */
#define ESR_MAGIC 0x45535201u
#define ESR_SIZE 16

static uint8_t frame[FRAME_SIZE];

/* Is sp on thread t's alternate stack? (Never while SS_AUTODISARM.) */
static bool on_altstack(const struct lproc *p, unsigned t, uint64_t sp)
{
    if (p->threads[t].ss_flags & SS_AUTODISARM)
        return false;
    return sp > p->threads[t].ss_sp && sp - p->threads[t].ss_sp <= p->threads[t].ss_size;
}

static unsigned altstack_state(const struct lproc *p, unsigned t, uint64_t sp)
{
    return !p->threads[t].ss_size ? SS_DISABLE : on_altstack(p, t, sp) ? SS_ONSTACK : 0;
}

/* Linux's stack_t: ss_sp, ss_flags (int, padded), ss_size. */
static void get_stack_t(const uint8_t *b, uint64_t *sp, uint32_t *flags, uint64_t *size)
{
    memcpy(sp, b, 8);
    memcpy(flags, b + 8, 4);
    memcpy(size, b + 16, 8);
}

static void put_stack_t(uint8_t *b, uint64_t sp, uint32_t flags, uint64_t size)
{
    memset(b, 0, 24);
    memcpy(b, &sp, 8);
    memcpy(b + 8, &flags, 4);
    memcpy(b + 16, &size, 8);
}

/* Set thread t's alternate stack from a stack_t, the thread at sp. */
static int set_altstack(struct lproc *p, unsigned t, uint64_t sp, const uint8_t *ss)
{
    uint64_t base, size;
    uint32_t flags;
    get_stack_t(ss, &base, &flags, &size);
    uint32_t mode = flags & ~SS_AUTODISARM;
    if (on_altstack(p, t, sp))
        return -LX_EPERM;
    if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
        return -LX_EINVAL;
    if (mode == SS_DISABLE) {
        base = size = 0;
    } else if (size < MINSIGSTKSZ) {
        return -LX_ENOMEM;
    } else if (base >= MICA_USER_END || size > MICA_USER_END - base) {
        return -LX_EINVAL; /* a stack that is not in user memory */
    }
    p->threads[t].ss_sp = base;
    p->threads[t].ss_size = size;
    p->threads[t].ss_flags = flags; /* as given, as Linux keeps them (uc_stack shows them) */
    return 0;
}

int64_t lx_sigaltstack(struct lproc *p, uintptr_t ss_va, uintptr_t old_va)
{
    struct mica_thread_state st;
    uint8_t ss[24], old[24];
    unsigned t = p->cur;
    if (mica_thread_read_state(p->thread, &st) != MICA_OK)
        return -LX_EIO;
    put_stack_t(old, p->threads[t].ss_sp,
                altstack_state(p, t, st.sp) | (p->threads[t].ss_flags & SS_AUTODISARM),
                p->threads[t].ss_size);
    if (ss_va) {
        if (lx_read(p, ss_va, ss, sizeof(ss)))
            return -LX_EFAULT;
        int err = set_altstack(p, t, st.sp, ss);
        if (err)
            return err;
    }
    return old_va ? lx_write(p, old_va, old, sizeof(old)) : 0;
}

/* Enter act's handler for sig on thread t, whose registers are *st (x0
 * already the interrupted call's result): the frame goes below sp, or on
 * the alternate stack, and *st is changed to start the handler. The
 * caller writes *st to the thread. 0, or -LX_EFAULT if there is no room. */
int lx_frame_push(struct lproc *p, unsigned t, struct mica_thread_state *st, int sig,
                  const struct sigaction_k *act, uint64_t old_mask)
{
    struct mica_fp_state fp;
    if (mica_thread_read_fp(p->threads[t].handle, &fp) != MICA_OK)
        return -LX_EFAULT;
    memset(frame, 0, sizeof(frame));
    int32_t info[4] = {sig, 0, 0 /* SI_USER */, 0};
    memcpy(frame, info, sizeof(info));
    put_stack_t(frame + UC_STACK, p->threads[t].ss_sp,
                p->threads[t].ss_flags | (p->threads[t].ss_size ? 0 : SS_DISABLE),
                p->threads[t].ss_size);
    memcpy(frame + UC_SIGMASK, &old_mask, 8);
    memcpy(frame + MC_REGS, st->x, sizeof(st->x));
    memcpy(frame + MC_SP, &st->sp, 8);
    memcpy(frame + MC_PC, &st->pc, 8);
    memcpy(frame + MC_PSTATE, &st->pstate, 8);
    uint32_t head[4] = {FPSIMD_MAGIC, FPSIMD_SIZE, (uint32_t)fp.fpsr, (uint32_t)fp.fpcr};
    memcpy(frame + MC_RESERVED, head, sizeof(head));
    memcpy(frame + MC_RESERVED + 16, fp.v, sizeof(fp.v)); /* the terminator: zeros after */
    uint64_t sp = st->sp;
    if ((act->flags & SA_ONSTACK) && altstack_state(p, t, sp) == 0) {
        sp = p->threads[t].ss_sp + p->threads[t].ss_size;
        if (p->threads[t].ss_flags & SS_AUTODISARM) { /* until sigreturn restores it */
            p->threads[t].ss_sp = p->threads[t].ss_size = 0;
            p->threads[t].ss_flags = SS_DISABLE;
        }
    }
    sp = (sp - FRAME_SIZE) & ~15UL;
    if (lx_write(p, sp, frame, sizeof(frame)) != 0)
        return -LX_EFAULT;
    st->x[0] = (uint64_t)sig;
    st->x[1] = sp;
    st->x[2] = sp + UC;
    /* musl passes its own restorer; glibc relies on the kernel's (Linux's
     * vDSO trampoline): ours is mapped at LX_SIGRETURN_VA (loader.c). */
    st->x[30] = act->flags & SA_RESTORER ? act->restorer : LX_SIGRETURN_VA;
    st->sp = sp;
    st->pc = act->handler;
    return 0;
}

/* The FP/SIMD record of the frame's __reserved, checked as Linux does:
 * records of known kinds and sizes up to a terminator, one fpsimd_context
 * required. */
static bool find_fpsimd(struct mica_fp_state *fp)
{
    bool found = false;
    for (size_t off = 0; off + 8 <= RESERVED_SIZE;) {
        uint32_t head[4];
        memcpy(head, frame + MC_RESERVED + off, 8);
        if (head[0] == 0)
            return head[1] == 0 && found;
        if (head[1] < 8 || head[1] % 16 || head[1] > RESERVED_SIZE - off)
            return false;
        if (head[0] == FPSIMD_MAGIC && head[1] == FPSIMD_SIZE && !found) {
            memcpy(head, frame + MC_RESERVED + off, 16);
            memcpy(fp->v, frame + MC_RESERVED + off + 16, sizeof(fp->v));
            fp->fpsr = head[2];
            fp->fpcr = head[3];
            found = true;
        } else if (head[0] != ESR_MAGIC || head[1] != ESR_SIZE) {
            return false;
        }
        off += head[1];
    }
    return false;
}

/* rt_sigreturn's work: the frame at st->sp back into *st, *mask and the
 * thread's FP/SIMD registers and sigaltstack. -LX_EFAULT if it is not a
 * valid frame (the caller ends the program with SIGSEGV). */
int lx_frame_pop(struct lproc *p, unsigned t, struct mica_thread_state *st, uint64_t *mask)
{
    struct mica_fp_state fp;
    uint64_t sp_now = st->sp;
    if (lx_read(p, st->sp, frame, sizeof(frame)) != 0 || !find_fpsimd(&fp))
        return -LX_EFAULT;
    memcpy(st->x, frame + MC_REGS, sizeof(st->x));
    memcpy(&st->sp, frame + MC_SP, 8);
    memcpy(&st->pc, frame + MC_PC, 8);
    memcpy(&st->pstate, frame + MC_PSTATE, 8);
    memcpy(mask, frame + UC_SIGMASK, 8);
    st->pstate &= 0xF0000000UL; /* only the condition flags come back */
    if (st->pc >= MICA_USER_END || st->sp >= MICA_USER_END ||
        mica_thread_write_fp(p->threads[t].handle, &fp) != MICA_OK)
        return -LX_EFAULT;
    set_altstack(p, t, sp_now, frame + UC_STACK); /* refused while on it, as Linux */
    return 0;
}
