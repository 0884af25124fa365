/*
 * Linux personality, kernel side: in a process created with
 * MICA_PROCESS_LINUX every svc is a Linux system call sent whole to the
 * thread's fault endpoint, and the handler's MICA_SYSCALL_RETURN becomes
 * x0. The processes here run a few hand-assembled instructions, so the
 * test sees exactly the kernel's part.
 */
#include <mica/proto/linux.h>
#include <string.h>

#include "ktest.h"

#define CODE_VA 0x400000UL
#define DATA_VA 0x500000UL
#define INSN_GETPID 0xD2801588u /* movz x8, #172 */
#define INSN_EXIT 0xD2800BA8u   /* movz x8, #93 */
#define INSN_SVC 0xD4000001u    /* svc #0 */
#define INSN_STORE 0xF9000020u  /* str x0, [x1] */
#define INSN_UDF 0x00000000u    /* udf #0 */

/* A Linux-personality process running `code`, x0 = 7 and x1 = DATA_VA at
 * entry; its fault endpoint is ep (0: none). *data: its data page. */
static int start_linux(const uint32_t *code, size_t n, mica_handle_t ep, mica_handle_t *proc,
                       mica_handle_t *data)
{
    mica_handle_t as, text = 0, thread = 0;
    int err = mica_process_create_flags("linux-raw", MICA_PROCESS_LINUX, proc, &as);
    if (err)
        return err;
    err = mica_vmo_create(4096, &text);
    if (!err)
        err = mica_vmo_write(text, 0, code, n * 4);
    if (!err)
        err = mica_aspace_map(as, text, 0, 4096, CODE_VA,
                              MICA_MAP_READ | MICA_MAP_EXEC | MICA_MAP_FIXED, NULL);
    if (!err)
        err = mica_vmo_create(4096, data);
    if (!err)
        err = mica_aspace_map(as, *data, 0, 4096, DATA_VA,
                              MICA_MAP_READ | MICA_MAP_WRITE | MICA_MAP_FIXED, NULL);
    if (!err)
        err = mica_thread_create(*proc, 128, &thread);
    if (!err && ep)
        err = mica_thread_set_fault_endpoint(thread, ep);
    if (!err)
        err = mica_thread_start(thread, CODE_VA, DATA_VA + 4096, 7, DATA_VA);
    if (text)
        mica_handle_close(text);
    if (thread)
        mica_handle_close(thread);
    mica_handle_close(as);
    return err;
}

static int test_syscall_redirect(void)
{
    static const uint32_t code[] = {INSN_GETPID, INSN_SVC, INSN_EXIT, INSN_SVC, INSN_UDF};
    mica_handle_t ep, minted, proc, data, x, y;
    struct mica_msg m;
    int64_t exit_code;
    uint32_t reason;
    CHECK_STATUS(mica_process_create_flags("bad", 2, &x, &y), MICA_ERR_INVALID_ARGS);
    CHECK_OK(mica_endpoint_create(&ep));
    CHECK_OK(mica_handle_mint(ep, MICA_RIGHT_WRITE, 0x11C5, &minted));
    CHECK_OK(start_linux(code, 5, minted, &proc, &data));
    /* getpid: number and arguments in the message, the badge ours. */
    CHECK_OK(mica_recv(ep, mica_msg_info(0, 0, 0, 2000000), &m));
    CHECK(MICA_MSG_LABEL(m.info) == MICA_SYSCALL_LABEL && MICA_MSG_WORDS(m.info) == 6);
    CHECK(m.badge == 0x11C5 && m.w[0] == 172 && m.w[1] == 7 && m.w[2] == DATA_VA);
    m.info = mica_msg_info(MICA_SYSCALL_RETURN, 1, 0, 0);
    m.w[0] = 4242;
    /* exit(x0): the result arrived in x0. */
    CHECK_OK(mica_reply_recv(ep, &m));
    CHECK(MICA_MSG_LABEL(m.info) == MICA_SYSCALL_LABEL && m.w[0] == 93 && m.w[1] == 4242);
    CHECK_OK(mica_process_kill(proc)); /* what a server does for exit_group */
    CHECK_OK(kt_wait(proc, 2000, &exit_code, &reason));
    CHECK(reason == MICA_EXIT_KILLED);
    CHECK_OK(mica_handle_close(proc));
    CHECK_OK(mica_handle_close(data));
    CHECK_OK(mica_handle_close(minted));
    CHECK_OK(mica_handle_close(ep));
    return 0;
}

static int test_syscall_without_server(void)
{
    static const uint32_t code[] = {INSN_GETPID, INSN_SVC, INSN_STORE, INSN_UDF};
    mica_handle_t proc, data;
    int64_t exit_code, stored = 0;
    uint32_t reason;
    /* No fault endpoint: -ENOSYS, never a Mica syscall (172 is not one). */
    CHECK_OK(start_linux(code, 4, 0, &proc, &data));
    CHECK_OK(kt_wait(proc, 2000, &exit_code, &reason));
    CHECK(reason == MICA_EXIT_FAULT);
    CHECK_OK(mica_vmo_read(data, 0, &stored, 8));
    CHECK(stored == -38);
    CHECK_OK(mica_handle_close(proc));
    CHECK_OK(mica_handle_close(data));
    return 0;
}

/* Run a Linux program through the personality server; its exit status
 * (or -signal) in *status. */
static int run_linux(const char *cmdline, int64_t *status)
{
    static mica_handle_t server;
    mica_handle_t proc;
    int64_t code;
    uint32_t reason;
    int err = server ? MICA_OK : pm_lookup(kt_bootinfo()->startup_handle, "linux", &server);
    if (!err)
        err = lx_spawn(server, cmdline, &proc);
    if (err)
        return err;
    err = kt_wait(proc, 60000, &code, &reason);
    mica_handle_close(proc);
    *status = reason == MICA_EXIT_NORMAL ? code : reason == MICA_EXIT_KILLED ? -code : -1000;
    return err;
}

/* A program's memory as it sees it, exec refusals before the point of no
 * return, vfork and fork's FP registers (tests/linux/isolation.c). */
static int test_linux_isolation(void)
{
    int64_t status;
    CHECK_OK(run_linux("lx-isolation", &status));
    CHECK(status == 0);
    return 0;
}

/* Limits as Linux's: descriptors, sleeps, threads, fs budgets per
 * process, rlimits (tests/linux/limits.c). */
static int test_linux_limits(void)
{
    int64_t status;
    CHECK_OK(run_linux("lx-limits", &status));
    CHECK(status == 0);
    return 0;
}

/* Unmodified static musl programs (tests/linux): each checks one group of
 * syscalls with real assertions and exits 0 only if all held. */
static int test_linux_programs(void)
{
    int64_t status;
    CHECK_OK(run_linux("hello-linux one two --exit 7", &status));
    CHECK(status == 7);
    CHECK_OK(run_linux("/linux/bin/hello-linux", &status));
    CHECK(status == 0);
    CHECK_OK(run_linux("hello-pie static-pie --exit 5", &status)); /* ET_DYN, relocates itself */
    CHECK(status == 5);
    CHECK_OK(run_linux("lx-basic", &status));
    CHECK(status == 0);
    CHECK_OK(run_linux("lx-files", &status));
    CHECK(status == 0);
    CHECK_OK(run_linux("lx-files", &status)); /* again: it left nothing behind */
    CHECK(status == 0);
    CHECK_OK(run_linux("lx-process", &status));
    CHECK(status == 0);
    CHECK_OK(run_linux("lx-threads", &status));
    CHECK(status == 0);
    CHECK_OK(run_linux("lx-signals", &status));
    CHECK(status == 0);
    CHECK_OK(run_linux("lx-fuzz", &status)); /* the personality survives random calls */
    CHECK(status == 0);
    CHECK_OK(run_linux("lx-confine", &status)); /* native numbers reach only the personality */
    CHECK(status == 0);
    /* What cannot run is refused cleanly. */
    mica_handle_t server, x;
    CHECK_OK(pm_lookup(kt_bootinfo()->startup_handle, "linux", &server));
    CHECK_STATUS(lx_spawn(server, "no-such-program", &x), MICA_ERR_NOT_FOUND);
    CHECK_STATUS(lx_spawn(server, "/boot/manifest", &x), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(lx_spawn(server, "", &x), MICA_ERR_INVALID_ARGS);
    CHECK_OK(mica_handle_close(server));
    return 0;
}

/* Programs that allocate until memory runs out get ENOMEM or die alone
 * (lx-oom): neither the fs server nor the Linux personality restarts, the
 * file the program wrote to /tmp first is intact, and busybox sh still
 * runs. "pool" runs exhaust every program's memory together, twice: all
 * of it must come back. */
static int test_linux_oom(void)
{
    mica_handle_t pm = kt_bootinfo()->startup_handle, server, proc;
    uint64_t state, fs_restarts, lx_restarts, restarts;
    int64_t status, code;
    uint32_t reason;
    CHECK_OK(pm_status(pm, "fs", &state, &fs_restarts));
    CHECK_OK(pm_status(pm, "linux", &state, &lx_restarts));
    CHECK_OK(run_linux("lx-oom", &status));
    CHECK(status == 0);
    for (int i = 0; i < 2; i++) {
        CHECK_OK(run_linux("lx-oom pool", &status));
        CHECK(status == 0);
    }
    CHECK_OK(pm_status(pm, "fs", &state, &restarts));
    CHECK(state == PM_STATE_RUNNING && restarts == fs_restarts);
    CHECK_OK(pm_status(pm, "linux", &state, &restarts));
    CHECK(state == PM_STATE_RUNNING && restarts == lx_restarts);
    char *argv[] = {"busybox", "sh", "-c",
                    ("test \"$(cat /tmp/oom-keep)\" = 'written before the memory ran out' && "
                     "rm /tmp/oom-keep")};
    CHECK_OK(pm_lookup(pm, "linux", &server));
    CHECK_OK(lx_spawn_argv(server, 4, argv, &proc));
    CHECK_OK(kt_wait(proc, 30000, &code, &reason));
    CHECK(reason == MICA_EXIT_NORMAL && code == 0);
    CHECK_OK(mica_handle_close(proc));
    CHECK_OK(mica_handle_close(server));
    return 0;
}

/* Debian's busybox (glibc, static) through busybox sh: each script's exit
 * status says whether its checks held. Command substitution of a pipeline
 * needs fork, pipes, execve (of /proc/self/exe) and wait4 all working. */
static int test_busybox(void)
{
    static const struct {
        const char *script;
        int64_t status;
    } cases[] = {
        {"test \"$(echo hi | cat)\" = hi", 0},
        {"test \"$(printf 'b\\na\\nc\\n' | sort | head -n 1)\" = a", 0},
        {"n=0; for i in 1 2 3 4 5; do n=$((n+i)); done; test $n = 15", 0},
        {"mkdir /bb && echo abc > /bb/f && test \"$(cat /bb/f)\" = abc && mv /bb/f /bb/g && "
         "test -f /bb/g && ! test -e /bb/f && rm /bb/g && rmdir /bb && ! test -d /bb",
         0},
        {"ls -l / | grep -q linux", 0},
        {"sleep 1", 0},
        {"exit 3", 3},
        {"false", 1},
        {"sleep 10 & kill $!; wait $!; test $? -gt 128", 0},
        {"kill -9 $$", -9},
        {"trap 'exit 7' USR1; kill -USR1 $$; sleep 5; exit 1", 7},
        /* programs and scripts written at run time, started by path */
        {"printf '#!/linux/bin/busybox sh\\nn=0; for i in 1 2 3; do n=$((n+i)); done; exit $n\\n'"
         " > /s.sh && /s.sh; s=$?; rm /s.sh; exit $s",
         6},
        {"cp /linux/bin/hello-linux /h && /h --exit 4; s=$?; rm /h; exit $s", 4},
    };
    mica_handle_t server, proc;
    CHECK_OK(pm_lookup(kt_bootinfo()->startup_handle, "linux", &server));
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *argv[] = {"busybox", "sh", "-c", (char *)cases[i].script};
        int64_t code;
        uint32_t reason;
        CHECK_OK(lx_spawn_argv(server, 4, argv, &proc));
        CHECK_OK(kt_wait(proc, 30000, &code, &reason));
        int64_t status = reason == MICA_EXIT_NORMAL ? code : -code;
        if (status != cases[i].status)
            mica_printf("    sh -c '%s': status %ld, want %ld\n", cases[i].script, status,
                        cases[i].status);
        CHECK(status == cases[i].status);
        CHECK_OK(mica_handle_close(proc));
    }
    CHECK_OK(mica_handle_close(server));
    return 0;
}

const struct ktest ktests_linux[] = {
    {"user_linux_programs", test_linux_programs},
    {"user_linux_isolation", test_linux_isolation},
    {"user_linux_limits", test_linux_limits},
    {"user_linux_busybox", test_busybox},
    {"user_linux_oom", test_linux_oom},
    {"user_linux_syscall_redirect", test_syscall_redirect},
    {"user_linux_syscall_no_server", test_syscall_without_server},
    {NULL, NULL},
};
