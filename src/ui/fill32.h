/* fill32.h - n 32-bit pixels of one value, for the runs of picruns.c and
 * textruns.c.
 *
 * Sixteen bytes a store: GCC does not vectorise a loop of unknown length
 * at -O2, and SDL_memset4 stores eight at a time (SDL's own blits copy
 * runs with memcpy; a fill a pixel at a time was 4x slower than them).
 */
#ifndef UI_FILL32_H
#define UI_FILL32_H

#include <stdint.h>
#include <string.h>

static inline void fill32(uint32_t *out, uint32_t v, int n)
{
    const uint32_t four[4] = { v, v, v, v };
    int k = 0;

    for (; k + 4 <= n; k += 4)
        memcpy(out + k, four, sizeof four);
    for (; k < n; k++)
        out[k] = v;
}

#endif
