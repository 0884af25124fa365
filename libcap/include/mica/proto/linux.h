/*
 * Protocol of the Linux personality server (servers/linux, docs/linux.md).
 * LX_SPAWN runs a static Linux program: the command line (64 words,
 * "PROGRAM ARG..."; a PROGRAM without '/' is linux/bin/PROGRAM in the
 * bootfs) is split into argv at newlines if it has any, else at spaces. The reply carries the process
 * (MANAGE|WAIT): process_wait gives MICA_EXIT_NORMAL with the exit status,
 * or MICA_EXIT_KILLED with the number of the signal that ended it.
 */
#ifndef MICA_PROTO_LINUX_H
#define MICA_PROTO_LINUX_H

#include <mica/proto/procmgr.h>

#define LX_CMDLINE_WORDS 64 /* a command line of up to 511 bytes */
#define LX_CMDLINE_MAX (8 * LX_CMDLINE_WORDS - 1)
#define LINUX_OPS(X) X(LX_SPAWN, 1, LX_CMDLINE_WORDS, 0) /* (command line) -> process handle */

enum {
#define LX_LABEL(name, label, req, rep) name = label,
    LINUX_OPS(LX_LABEL)
#undef LX_LABEL
};

/* Start a Linux program; *process gets its handle. Returns a MICA status
 * (NOT_FOUND: no such program, INVALID_ARGS: not a static AArch64 ELF). */
int lx_spawn(mica_handle_t linux_server, const char *cmdline, mica_handle_t *process);
/* The same with exact arguments (they may hold spaces): joined with '\n',
 * at most LX_CMDLINE_MAX bytes in all. */
int lx_spawn_argv(mica_handle_t linux_server, int argc, char *const *argv, mica_handle_t *process);

#endif
