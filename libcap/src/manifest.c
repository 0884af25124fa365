/*
 * Boot manifest parser (see mica/manifest.h). Pure code, no allocation;
 * strict: an unknown keyword or option, a missing field, a name too long
 * or a duplicate service is an error naming the line, never a guess.
 */
#include <mica/abi.h>
#include <mica/manifest.h>
#include <string.h>

#define FAIL(msg)                                                                                  \
    do {                                                                                           \
        *why = (msg);                                                                              \
        return MICA_ERR_INVALID_ARGS;                                                              \
    } while (0)

/* Next whitespace-separated word of [*p, end) into buf; 0 if none. */
static size_t word(const char **p, const char *end, char *buf, size_t size)
{
    while (*p < end && (**p == ' ' || **p == '\t' || **p == '\r'))
        (*p)++;
    size_t n = 0;
    while (*p < end && **p != ' ' && **p != '\t' && **p != '\r') {
        if (n + 1 < size)
            buf[n] = **p;
        n++;
        (*p)++;
    }
    if (size)
        buf[n < size ? n : size - 1] = '\0';
    return n;
}

static int number(const char *s, unsigned *out)
{
    unsigned v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 100000)
            return -1;
        v = v * 10 + (unsigned)(*s - '0');
    }
    *out = v;
    return 0;
}

static int option(struct manifest_service *s, const char *opt, const char **why)
{
    if (strcmp(opt, "restart=permanent") == 0)
        s->restart = RESTART_PERMANENT;
    else if (strcmp(opt, "restart=transient") == 0)
        s->restart = RESTART_TRANSIENT;
    else if (strcmp(opt, "restart=temporary") == 0)
        s->restart = RESTART_TEMPORARY;
    else if (strcmp(opt, "strategy=one_for_one") == 0)
        s->strategy = ONE_FOR_ONE;
    else if (strcmp(opt, "strategy=one_for_all") == 0)
        s->strategy = ONE_FOR_ALL;
    else if (strcmp(opt, "strategy=rest_for_one") == 0)
        s->strategy = REST_FOR_ONE;
    else if (strcmp(opt, "grant=devices") == 0)
        s->devices = true;
    else if (strncmp(opt, "group=", 6) == 0) {
        if (strlen(opt + 6) == 0 || strlen(opt + 6) >= sizeof(s->group))
            FAIL("bad group name");
        memcpy(s->group, opt + 6, strlen(opt + 6) + 1);
    } else if (strncmp(opt, "intensity=", 10) == 0) {
        char tmp[16];
        const char *slash = strchr(opt + 10, '/');
        size_t n = slash ? (size_t)(slash - (opt + 10)) : 0;
        if (!slash || n == 0 || n >= sizeof(tmp))
            FAIL("intensity must be RESTARTS/SECONDS");
        memcpy(tmp, opt + 10, n);
        tmp[n] = '\0';
        if (number(tmp, &s->max_restarts) || number(slash + 1, &s->period_s) || s->period_s == 0)
            FAIL("intensity must be RESTARTS/SECONDS");
    } else {
        FAIL("unknown option");
    }
    return MICA_OK;
}

int manifest_parse(const char *text, size_t len, struct manifest *out, unsigned *bad_line,
                   const char **why)
{
    memset(out, 0, sizeof(*out));
    const char *p = text, *end = text + len;
    for (unsigned line = 1; p < end; line++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        *bad_line = line;
        char kw[16], buf[64];
        const char *q = p;
        p = eol < end ? eol + 1 : end;
        if (memchr(q, '\0', (size_t)(eol - q)))
            FAIL("NUL byte in the line");
        if (!word(&q, eol, kw, sizeof(kw)) || kw[0] == '#')
            continue;
        if (strcmp(kw, "run") == 0) {
            if (out->run[0])
                FAIL("more than one run line");
            size_t n = word(&q, eol, out->run, sizeof(out->run));
            if (n == 0 || n >= sizeof(out->run))
                FAIL("run needs a program path of 1..63 bytes");
            while ((n = word(&q, eol, buf, sizeof(buf))) != 0) { /* its arguments */
                size_t used = strlen(out->run_args);
                if (out->n_run_args == MANIFEST_MAX_RUN_ARGS || n >= sizeof(buf) ||
                    used + n + 1 >= sizeof(out->run_args))
                    FAIL("run: too many or too long arguments");
                memcpy(out->run_args + used, buf, n);
                out->run_args[used + n] = '\n';
                out->run_args[used + n + 1] = '\0';
                out->n_run_args++;
            }
            continue;
        }
        if (strcmp(kw, "driver") == 0) {
            if (out->n_drivers == MANIFEST_MAX_DRIVERS)
                FAIL("too many drivers");
            struct manifest_driver *d = &out->drivers[out->n_drivers];
            size_t n = word(&q, eol, d->compatible, sizeof(d->compatible));
            if (n == 0 || n >= sizeof(d->compatible))
                FAIL("driver needs a compatible string of 1..47 bytes");
            n = word(&q, eol, d->program, sizeof(d->program));
            if (n == 0 || n >= sizeof(d->program))
                FAIL("driver needs a program path of 1..63 bytes");
            if (word(&q, eol, buf, sizeof(buf)))
                FAIL("extra words after driver COMPATIBLE PROGRAM");
            out->n_drivers++;
            continue;
        }
        if (strcmp(kw, "service") != 0)
            FAIL("unknown keyword (service, driver, run or #)");
        if (out->n_services == MANIFEST_MAX_SERVICES)
            FAIL("too many services");
        struct manifest_service *s = &out->services[out->n_services];
        size_t n = word(&q, eol, s->name, sizeof(s->name));
        if (n == 0 || n >= sizeof(s->name))
            FAIL("service needs a name of 1..31 bytes");
        n = word(&q, eol, s->program, sizeof(s->program));
        if (n == 0 || n >= sizeof(s->program))
            FAIL("service needs a program path");
        s->max_restarts = 3;
        s->period_s = 5;
        while ((n = word(&q, eol, buf, sizeof(buf))) != 0) {
            if (n >= sizeof(buf))
                FAIL("option too long");
            if (option(s, buf, why))
                return MICA_ERR_INVALID_ARGS;
        }
        for (unsigned i = 0; i < out->n_services; i++)
            if (strcmp(out->services[i].name, s->name) == 0)
                FAIL("duplicate service name");
        out->n_services++;
    }
    *bad_line = 0;
    *why = NULL;
    return MICA_OK;
}
