/* evname.c - see evname.h. */
#include "util/evname.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define PREFIX "evt-"
#define SUFFIX ".json"
#define SEQ_DIGITS 12

/* Reads "evt-" and the 12 digits; the rest of the name in *rest. */
static bool parse_head(const char *name, uint64_t *seq, const char **rest)
{
    size_t pl = strlen(PREFIX);
    uint64_t v = 0;
    bool ok = strncmp(name, PREFIX, pl) == 0;
    for (size_t i = 0; ok && i < SEQ_DIGITS; i++) {
        char c = name[pl + i];
        ok = c >= '0' && c <= '9';
        v = v * 10u + (uint64_t)(c - '0'); /* 12 digits cannot overflow 64 bits */
    }
    if (ok) {
        *seq = v;
        *rest = name + pl + SEQ_DIGITS;
    }
    return ok;
}

bool evname_parse(const char *name, uint64_t *seq)
{
    uint64_t v;
    const char *rest;
    bool ok = parse_head(name, &v, &rest) && strcmp(rest, SUFFIX) == 0;
    if (ok && seq)
        *seq = v;
    return ok;
}

bool evname_parse_dead(const char *name, uint64_t *seq, unsigned *copy)
{
    uint64_t v;
    unsigned n = 0;
    const char *rest;
    bool ok = parse_head(name, &v, &rest);
    if (ok && rest[0] == '.' && rest[1] >= '1' && rest[1] <= '9') {
        /* ".<n>" before the suffix: one spelling per number, so two names
         * never stand for the same copy. */
        for (rest++; n <= EVNAME_COPY_MAX && *rest >= '0' && *rest <= '9'; rest++)
            n = n * 10u + (unsigned)(*rest - '0');
        ok = n >= 1 && n <= EVNAME_COPY_MAX;
    }
    ok = ok && strcmp(rest, SUFFIX) == 0;
    if (ok && seq)
        *seq = v;
    if (ok && copy)
        *copy = n;
    return ok;
}

void evname_dead(char out[EVNAME_DEAD_LEN], uint64_t seq, unsigned copy)
{
    if (copy == 0)
        snprintf(out, EVNAME_DEAD_LEN, PREFIX "%012" PRIu64 SUFFIX, seq);
    else
        snprintf(out, EVNAME_DEAD_LEN, PREFIX "%012" PRIu64 ".%u" SUFFIX, seq,
                 copy > EVNAME_COPY_MAX ? EVNAME_COPY_MAX : copy);
}
