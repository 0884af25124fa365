/* Names for status codes, for logs and test output. */
#include <mica/status.h>

const char *status_name(int status)
{
    switch (status) {
    case OK: return "OK";
    case ERR_NO_MEMORY: return "ERR_NO_MEMORY";
    case ERR_INVALID_ARGS: return "ERR_INVALID_ARGS";
    case ERR_OUT_OF_RANGE: return "ERR_OUT_OF_RANGE";
    case ERR_BAD_STATE: return "ERR_BAD_STATE";
    case ERR_NOT_FOUND: return "ERR_NOT_FOUND";
    case ERR_NOT_SUPPORTED: return "ERR_NOT_SUPPORTED";
    case ERR_TIMED_OUT: return "ERR_TIMED_OUT";
    case ERR_BAD_HANDLE: return "ERR_BAD_HANDLE";
    case ERR_ACCESS_DENIED: return "ERR_ACCESS_DENIED";
    case ERR_WRONG_TYPE: return "ERR_WRONG_TYPE";
    case ERR_FAULT: return "ERR_FAULT";
    case ERR_PEER_CLOSED: return "ERR_PEER_CLOSED";
    case ERR_LIMIT: return "ERR_LIMIT";
    default: return "ERR_UNKNOWN";
    }
}
