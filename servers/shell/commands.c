/*
 * The shell's commands: one function each, found by name in `commands`.
 * They talk to procmgr (ps, run, kill), the fs server (ls, cat) and the
 * kernel (mem, uptime, poweroff, reboot).
 */
#include "shell.h"
#include <mica/proto/fs.h>
#include <mica/proto/linux.h>
#include <mica/proto/procmgr.h>
#include <mica/proto/uart.h>
#include <string.h>

static const char *const state_names[] = {"?", "running", "stopped", "failed"};

static int cmd_help(struct shell *sh, int argc, char **argv);

static int cmd_echo(struct shell *sh, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        sh_printf(sh, "%s%s", argv[i], i + 1 < argc ? " " : "");
    sh_printf(sh, "\n");
    return 0;
}

static int cmd_ps(struct shell *sh, int argc, char **argv)
{
    (void)argc, (void)argv;
    char name[MICA_NAME_MAX + 1];
    uint64_t state;
    sh_printf(sh, "  #  %-20s %s\n", "NAME", "STATE");
    for (unsigned i = 0; pm_list(sh->procmgr, i, name, &state) == MICA_OK; i++)
        sh_printf(sh, "%3u  %-20s %s\n", i, name, state_names[state < 4 ? state : 0]);
    return 0;
}

/* An fs call failed with err: after MICA_ERR_PEER_CLOSED (the server died,
 * or procmgr gave it up) the next command looks fs up again. */
static void fs_failed(struct shell *sh, int err)
{
    if (err == MICA_ERR_PEER_CLOSED && sh->fs) {
        mica_handle_close(sh->fs);
        sh->fs = 0;
    }
}

static int fs_handle(struct shell *sh)
{
    if (!sh->fs && pm_lookup(sh->procmgr, "fs", &sh->fs) != MICA_OK) {
        sh_printf(sh, "no fs server\n");
        return -1;
    }
    return 0;
}

static int cmd_ls(struct shell *sh, int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/";
    uint64_t fd;
    if (fs_handle(sh))
        return 1;
    int err = fs_open(sh->fs, path, 0, &fd);
    if (err) {
        sh_printf(sh, "ls: %s: %s\n", path, mica_status_name(err));
        fs_failed(sh, err);
        return 1;
    }
    char name[FS_NAME_MAX + 1];
    uint64_t type;
    for (unsigned i = 0; fs_readdir(sh->fs, fd, i, name, &type) == MICA_OK; i++) {
        char full[FS_PATH_MAX + 1];
        struct fs_stat st = {0};
        snprintf(full, sizeof(full), "%s/%s", strcmp(path, "/") ? path : "", name);
        fs_stat(sh->fs, full, &st);
        if (type == FS_TYPE_DIR)
            sh_printf(sh, "%10s  %s/\n", "-", name);
        else
            sh_printf(sh, "%10lu  %s\n", (unsigned long)st.size, name);
    }
    fs_close(sh->fs, fd);
    return 0;
}

static int cmd_cat(struct shell *sh, int argc, char **argv)
{
    if (argc < 2) {
        sh_printf(sh, "usage: cat FILE...\n");
        return 1;
    }
    if (fs_handle(sh))
        return 1;
    for (int i = 1; i < argc; i++) {
        uint64_t fd;
        int err = fs_open(sh->fs, argv[i], 0, &fd);
        if (err) {
            sh_printf(sh, "cat: %s: %s\n", argv[i], mica_status_name(err));
            fs_failed(sh, err);
            continue;
        }
        char buf[FS_IO_MAX];
        size_t got;
        while ((err = fs_read(sh->fs, fd, buf, sizeof(buf), &got)) == MICA_OK && got)
            uart_write(sh->console, buf, got);
        if (err)
            sh_printf(sh, "cat: %s: %s\n", argv[i], mica_status_name(err));
        fs_close(sh->fs, fd);
    }
    return 0;
}

struct waiter {
    mica_handle_t process, events;
};

static void wait_child(void *arg)
{
    struct waiter *w = arg;
    mica_process_wait(w->process, MICA_DEADLINE_INFINITE, NULL, NULL);
    mica_notify_signal(w->events, EXITED_BIT);
}

static void join(char *out, size_t size, const char *first, int argc, char **argv)
{
    snprintf(out, size, "%s", first);
    for (int i = 0; i < argc; i++)
        snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? " " : "", argv[i]);
}

static int wait_program(struct shell *sh, const char *program, mica_handle_t process);

/* Start a Linux program through the personality server. */
static int start_linux(struct shell *sh, const char *program, int argc, char **argv,
                       mica_handle_t *process)
{
    char *all[SHELL_MAX_ARGS + 1];
    if (!sh->linux_server && pm_lookup(sh->procmgr, "linux", &sh->linux_server) != MICA_OK)
        return MICA_ERR_NOT_FOUND;
    all[0] = (char *)program;
    for (int i = 0; i < argc && i < SHELL_MAX_ARGS; i++)
        all[i + 1] = argv[i];
    return lx_spawn_argv(sh->linux_server, argc + 1, all, process);
}

/* Run a program of the bootfs and wait for it; ^C kills it. A native
 * program (bin/NAME) first, else a Linux one (linux/bin/NAME). */
static int run_program(struct shell *sh, const char *program, int argc, char **argv)
{
    char path[MICA_NAME_MAX + 1], cmdline[PM_CMDLINE_MAX + 1];
    mica_handle_t process;
    snprintf(path, sizeof(path), "%s%s", strchr(program, '/') ? "" : "bin/", program);
    join(cmdline, sizeof(cmdline), "", argc, argv);
    int err = pm_spawn_args(sh->procmgr, path, cmdline, 0, &process);
    if (err == MICA_ERR_NOT_FOUND && !strchr(program, '/'))
        err = start_linux(sh, program, argc, argv, &process);
    if (err) {
        sh_printf(sh, "run: %s: %s\n", path, mica_status_name(err));
        return 1;
    }
    return wait_program(sh, program, process);
}

static int wait_program(struct shell *sh, const char *program, mica_handle_t process)
{
    mica_handle_t thread;
    uint64_t bits;
    mica_notify_wait(sh->events, MICA_DEADLINE_NONE, &bits); /* forget stale events */
    struct waiter w = {process, sh->events};
    if (mica_thread_spawn(wait_child, &w, 128, &thread) != MICA_OK) {
        mica_process_kill(process);
        mica_handle_close(process);
        return 1;
    }
    bits = 0;
    while (!(bits & EXITED_BIT)) {
        uint64_t got = 0;
        mica_notify_wait(sh->events, MICA_DEADLINE_INFINITE, &got);
        if (got & INTERRUPT_BIT)
            mica_process_kill(process);
        bits |= got;
    }
    int64_t code = 0;
    uint32_t reason = 0;
    mica_process_wait(process, MICA_DEADLINE_NONE, &code, &reason);
    mica_handle_close(process);
    mica_handle_close(thread);
    /* Let the program's last log lines reach the console before our prompt. */
    mica_sleep_until(mica_clock_ns() + 20000000UL);
    if (reason == MICA_EXIT_KILLED && code > 0)
        sh_printf(sh, "[%s killed by signal %ld]\n", program, (long)code);
    else if (reason == MICA_EXIT_KILLED)
        sh_printf(sh, "[%s killed]\n", program);
    else if (reason == MICA_EXIT_FAULT)
        sh_printf(sh, "[%s faulted: ESR 0x%lx]\n", program, (unsigned long)code);
    else if (code)
        sh_printf(sh, "[%s exited with %ld]\n", program, (long)code);
    return code != 0;
}

static int cmd_run(struct shell *sh, int argc, char **argv)
{
    if (argc < 2) {
        sh_printf(sh, "usage: run PROGRAM [ARGS...]\n");
        return 1;
    }
    return run_program(sh, argv[1], argc - 2, argv + 2);
}

static int cmd_linux(struct shell *sh, int argc, char **argv)
{
    mica_handle_t process;
    if (argc < 2) {
        sh_printf(sh, "usage: linux PROGRAM [ARGS...]\n");
        return 1;
    }
    int err = start_linux(sh, argv[1], argc - 2, argv + 2, &process);
    if (err) {
        sh_printf(sh, "linux: %s: %s\n", argv[1], mica_status_name(err));
        return 1;
    }
    return wait_program(sh, argv[1], process);
}

static int cmd_bench(struct shell *sh, int argc, char **argv)
{
    return run_program(sh, "bench", argc - 1, argv + 1);
}

static int cmd_kill(struct shell *sh, int argc, char **argv)
{
    if (argc != 2) {
        sh_printf(sh, "usage: kill SERVICE (a program run here stops with ^C)\n");
        return 1;
    }
    int err = pm_kill(sh->procmgr, argv[1]);
    if (err)
        sh_printf(sh, "kill: %s: %s\n", argv[1], mica_status_name(err));
    return err != MICA_OK;
}

static int cmd_mem(struct shell *sh, int argc, char **argv)
{
    (void)argc, (void)argv;
    static const char *const kinds[MICA_OBJ_TYPE_COUNT] = {
        "",          "processes",     "threads", "vmos",      "aspaces",
        "endpoints", "notifications", "irqs",    "resources", "replies"};
    struct mica_kernel_stats st;
    int err = mica_kernel_stats(&st);
    if (err) {
        sh_printf(sh, "mem: %s\n", mica_status_name(err));
        return 1;
    }
    sh_printf(sh, "free memory: %lu KiB (%lu pages)\nkernel objects:", st.free_pages * 4,
              st.free_pages);
    for (unsigned i = 1; i < MICA_OBJ_TYPE_COUNT; i++)
        sh_printf(sh, " %s %lu", kinds[i], st.objects[i]);
    sh_printf(sh, "\nhandles: %lu\n", st.handles);
    return 0;
}

static int cmd_uptime(struct shell *sh, int argc, char **argv)
{
    (void)argc, (void)argv;
    uint64_t ns = mica_clock_ns();
    sh_printf(sh, "up %lu.%03lu s\n", ns / 1000000000UL, ns / 1000000UL % 1000);
    return 0;
}

/* The kernel log from its oldest line still held: boot messages, and the
 * services' lines that stay off the console while the shell has it. */
static int cmd_dmesg(struct shell *sh, int argc, char **argv)
{
    (void)argc, (void)argv;
    char buf[MICA_LOG_READ_MAX];
    uint64_t pos = 0, first;
    size_t got;
    int err;
    while ((err = mica_log_read(pos, buf, sizeof(buf), &got, &first)) == MICA_OK && got) {
        if (uart_write(sh->console, buf, got) != MICA_OK)
            return 1;
        pos = first + got;
    }
    if (err)
        sh_printf(sh, "dmesg: %s\n", mica_status_name(err));
    return err ? 1 : 0;
}

static int cmd_poweroff(struct shell *sh, int argc, char **argv)
{
    (void)argc;
    bool reboot = strcmp(argv[0], "reboot") == 0;
    if (!sh->root) {
        sh_printf(sh, "%s: not allowed (no root resource)\n", argv[0]);
        return 1;
    }
    sh_printf(sh, "%s\n", reboot ? "rebooting" : "powering off");
    mica_sleep_until(mica_clock_ns() + 50000000UL); /* let the driver send that */
    int err = reboot ? mica_system_reset(sh->root) : mica_system_exit(sh->root, 0);
    sh_printf(sh, "%s: %s\n", argv[0], mica_status_name(err));
    return 1;
}

static const struct command {
    const char *name;
    int (*fn)(struct shell *sh, int argc, char **argv);
    const char *help;
} commands[] = {
    {"help", cmd_help, "this list"},
    {"echo", cmd_echo, "echo WORDS: print them"},
    {"ps", cmd_ps, "services and programs procmgr knows"},
    {"ls", cmd_ls, "ls [DIR]: list a directory of the fs"},
    {"cat", cmd_cat, "cat FILE...: print files"},
    {"run", cmd_run, "run PROGRAM [ARGS]: run bin/PROGRAM (or a Linux one) and wait; ^C stops it"},
    {"linux", cmd_linux, "linux PROGRAM [ARGS]: run linux/bin/PROGRAM, a static Linux program"},
    {"kill", cmd_kill, "kill SERVICE: kill a service (procmgr restarts it)"},
    {"mem", cmd_mem, "free memory and kernel objects"},
    {"uptime", cmd_uptime, "time since boot"},
    {"dmesg", cmd_dmesg, "the kernel log, services' lines included"},
    {"bench", cmd_bench, "run the IPC benchmarks (bin/bench)"},
    {"poweroff", cmd_poweroff, "end the machine"},
    {"reboot", cmd_poweroff, "restart the machine"},
};

static int cmd_help(struct shell *sh, int argc, char **argv)
{
    (void)argc, (void)argv;
    for (unsigned i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        sh_printf(sh, "  %-9s %s\n", commands[i].name, commands[i].help);
    return 0;
}

bool shell_command(struct shell *sh, int argc, char **argv)
{
    for (unsigned i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(commands[i].name, argv[0]) == 0) {
            commands[i].fn(sh, argc, argv);
            return true;
        }
    }
    return false;
}
