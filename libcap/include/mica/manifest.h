/*
 * The boot manifest (boot/manifest in the bootfs; docs/boot-manifest.md):
 * one entry per line, parsed here for both init (which reads `run`) and
 * procmgr (which starts and supervises the `service`s).
 *
 *   service NAME PROGRAM [restart=permanent|transient|temporary]
 *                        [group=GROUP] [strategy=one_for_one|one_for_all|rest_for_one]
 *                        [intensity=RESTARTS/SECONDS] [grant=devices]
 *   driver COMPATIBLE PROGRAM
 *   run PROGRAM [ARG...]
 *   # comment
 */
#ifndef MICA_MANIFEST_H
#define MICA_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MANIFEST_MAX_SERVICES 16
#define MANIFEST_MAX_DRIVERS 8
#define MANIFEST_MAX_RUN_ARGS 8

enum restart_policy { RESTART_PERMANENT, RESTART_TRANSIENT, RESTART_TEMPORARY };
enum strategy { ONE_FOR_ONE, ONE_FOR_ALL, REST_FOR_ONE };

struct manifest_service {
    char name[32];
    char program[64];
    enum restart_policy restart;
    char group[32]; /* empty: a group of its own */
    enum strategy strategy;
    unsigned max_restarts; /* within `period_s` seconds, else the group fails */
    unsigned period_s;
    bool devices; /* grant=devices: the root resource and the device tree */
};

/* devmgr starts PROGRAM for every device-tree node compatible with this. */
struct manifest_driver {
    char compatible[48];
    char program[64];
};

struct manifest {
    struct manifest_service services[MANIFEST_MAX_SERVICES];
    unsigned n_services;
    struct manifest_driver drivers[MANIFEST_MAX_DRIVERS];
    unsigned n_drivers;
    char run[64]; /* the first interactive/test program, or empty */
    /* Its arguments, each ended by '\n' (run PROGRAM ARG...). A program
     * under linux/ is a Linux program, run by the Linux personality. */
    char run_args[128];
    unsigned n_run_args;
};

/* Parse text (not NUL-terminated, `len` bytes). Returns 0, or a negative
 * MICA_ERR_* with the line number in *bad_line and a reason in *why. */
int manifest_parse(const char *text, size_t len, struct manifest *out, unsigned *bad_line,
                   const char **why);

#endif
