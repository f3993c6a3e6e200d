#include "util/mask.h"

#include <stdio.h>
#include <string.h>

void mask_card(const char *card, char out[MASK_CARD_MAX])
{
    size_t n = card ? strlen(card) : 0;

    /* Never more than half of the number in view: three each side from nine
     * characters up (A12***678), two each side for seven or eight. */
    if (n <= 6)
        snprintf(out, MASK_CARD_MAX, "***");
    else if (n <= 8)
        snprintf(out, MASK_CARD_MAX, "%.2s***%.2s", card, card + n - 2);
    else
        snprintf(out, MASK_CARD_MAX, "%.3s***%.3s", card, card + n - 3);
}
