#include "util/wipealloc.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "util/secure.h"

void wipe_free(void *p)
{
    if (p) {
        secure_wipe(p, malloc_usable_size(p));
        free(p);
    }
}

void *wipe_realloc(void *p, size_t n)
{
    void *q;
    size_t old;

    if (p == NULL)
        return malloc(n);
    if (n == 0) {
        wipe_free(p);
        return NULL;
    }
    q = malloc(n);
    if (q == NULL)
        return NULL;
    old = malloc_usable_size(p);
    memcpy(q, p, old < n ? old : n);
    wipe_free(p);
    return q;
}
