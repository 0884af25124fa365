/*
 * Status codes returned by kernel functions (and, later, by syscalls in x0).
 * 0 is success; every error is a small negative number so that a function
 * can return either a count or an error in one signed value.
 */
#ifndef MICA_STATUS_H
#define MICA_STATUS_H

#define OK 0
#define ERR_NO_MEMORY (-1)     /* out of memory, or over a limit */
#define ERR_INVALID_ARGS (-2)  /* an argument is malformed */
#define ERR_OUT_OF_RANGE (-3)  /* an address or index is outside the object */
#define ERR_BAD_STATE (-4)     /* the object is not in a state that allows this */
#define ERR_NOT_FOUND (-5)     /* no such thing */
#define ERR_NOT_SUPPORTED (-6) /* valid request this kernel/board cannot do */
#define ERR_TIMED_OUT (-7)     /* a deadline passed */
#define ERR_BAD_HANDLE (-8)    /* no such handle, or a stale one */
#define ERR_ACCESS_DENIED (-9) /* the handle lacks a required right */

const char *status_name(int status);

#endif
