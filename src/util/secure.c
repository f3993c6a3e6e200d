#include "util/secure.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

void secure_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        explicit_bzero(p, n);
}

bool secure_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t got = 0;

    while (got < n) {
        ssize_t r = getrandom(p + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        got += (size_t)r;
    }
    return true;
}

bool secure_random_below(uint32_t bound, uint32_t *out)
{
    /* Reject the top slice of the range that would favour small values. */
    uint32_t limit = UINT32_MAX - (UINT32_MAX % bound);
    uint32_t v;

    do {
        if (!secure_random(&v, sizeof v))
            return false;
    } while (v >= limit);
    *out = v % bound;
    return true;
}

bool secure_uuid4(char out[SECURE_UUID_LEN])
{
    unsigned char b[16];

    if (!secure_random(b, sizeof b))
        return false;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, SECURE_UUID_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
             b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return true;
}
