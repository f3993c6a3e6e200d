#include "util/mask.h"

#include <stdio.h>
#include <string.h>

void mask_card(const char *card, char out[MASK_CARD_MAX])
{
    size_t n = card ? strlen(card) : 0;

    if (n <= 6)
        snprintf(out, MASK_CARD_MAX, "***");
    else
        snprintf(out, MASK_CARD_MAX, "%.3s***%.3s", card, card + n - 3);
}
