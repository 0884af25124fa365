/*
 * Status codes returned by kernel functions and, unchanged, by syscalls in
 * x0: the values are the ABI's (libcap/include/mica/abi.h). 0 is success;
 * every error is a small negative number so that a function can return
 * either a count or an error in one signed value.
 */
#ifndef MICA_STATUS_H
#define MICA_STATUS_H

#include <mica/abi.h>

#define OK MICA_OK
#define ERR_NO_MEMORY MICA_ERR_NO_MEMORY
#define ERR_INVALID_ARGS MICA_ERR_INVALID_ARGS
#define ERR_OUT_OF_RANGE MICA_ERR_OUT_OF_RANGE
#define ERR_BAD_STATE MICA_ERR_BAD_STATE
#define ERR_NOT_FOUND MICA_ERR_NOT_FOUND
#define ERR_NOT_SUPPORTED MICA_ERR_NOT_SUPPORTED
#define ERR_TIMED_OUT MICA_ERR_TIMED_OUT
#define ERR_BAD_HANDLE MICA_ERR_BAD_HANDLE
#define ERR_ACCESS_DENIED MICA_ERR_ACCESS_DENIED
#define ERR_WRONG_TYPE MICA_ERR_WRONG_TYPE
#define ERR_FAULT MICA_ERR_FAULT
#define ERR_PEER_CLOSED MICA_ERR_PEER_CLOSED
#define ERR_LIMIT MICA_ERR_LIMIT

const char *status_name(int status);

#endif
