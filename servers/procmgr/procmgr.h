/*
 * procmgr's own pieces, shared between main.c (services: start, watch,
 * restart, give up; the protocol's dispatch) and spawned.c (programs
 * started on request).
 */
#ifndef PROCMGR_H
#define PROCMGR_H

#include <mica/cap.h>
#include <stdbool.h>

#define SPAWNED_FLAG 0x10000u /* in a watch index: an entry of spawned.c's table */

extern const void *bootfs;
extern size_t bootfs_size;
extern mica_handle_t bootfs_vmo;     /* read-only: every service may read the bootfs */
extern mica_handle_t spawned_client; /* the procmgr handle programs started by PM_SPAWN get */

/* A watcher thread reports proc's exit as (index, generation) (main.c). */
void watch(unsigned index, uint64_t generation, mica_handle_t proc);

/* spawned.c */
int64_t handle_PM_SPAWN(void *ctx, const struct mica_msg *req, struct mica_msg *reply);
unsigned spawned_count(void);
void spawned_exited(unsigned index, uint64_t generation, bool abnormal);
void spawned_entry(uint64_t index, const char **name, uint64_t *state);

#endif
