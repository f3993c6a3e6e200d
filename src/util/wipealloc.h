/* wipealloc.h - a free and a realloc that zero a block before giving it
 * back, for libraries that copy secrets into memory of their own.
 *
 * kiosk-sync hands the texted code of a PIN reset to libcurl, which copies
 * a small POST body into its request buffer (and, over TLS, its upload
 * buffer) and frees both with free(); cJSON does the same with the strings
 * it decodes. Installed as their allocators (curl_global_init_mem,
 * cJSON_InitHooks), these make every such copy zero when freed. glibc's
 * malloc_usable_size gives the whole block.
 */
#ifndef UTIL_WIPEALLOC_H
#define UTIL_WIPEALLOC_H

#include <stddef.h>

void wipe_free(void *p);
/* realloc that never leaves the old block behind unwiped: a new block,
 * the copy, the old one wiped and freed. NULL (old kept) when out of memory. */
void *wipe_realloc(void *p, size_t n);

#endif
