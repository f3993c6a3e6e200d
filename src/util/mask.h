/* mask.h - card numbers as they may appear in logs and on screen.
 *
 * "A12345678" becomes "A12***678": the first three and last three characters
 * stay, the rest become one "***"; seven or eight characters keep two each
 * side, so never more than half shows. Numbers of six characters or fewer
 * are masked whole ("***"), so a short number never leaks through.
 */
#ifndef UTIL_MASK_H
#define UTIL_MASK_H

#include <stddef.h>

#define MASK_CARD_MAX 16 /* enough for any masked number, with its NUL */

/* Writes the masked form of `card` (NUL-terminated, may be NULL) into `out`. */
void mask_card(const char *card, char out[MASK_CARD_MAX]);

#endif
