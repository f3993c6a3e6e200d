/* pin_rules.h - what a new PIN must be, before the card ever sees it.
 *
 * The card only checks the format; weak PINs are the terminal's to refuse,
 * and each refusal has its own reason so the screen can say exactly why.
 */
#ifndef CORE_PIN_RULES_H
#define CORE_PIN_RULES_H

#include <stddef.h>

#define PIN_MAX 16 /* digits; buffers are PIN_MAX + 1 */

typedef enum {
    PIN_RULE_OK,
    PIN_RULE_WRONG_LENGTH, /* not exactly the configured number of digits */
    PIN_RULE_IS_INITIAL,   /* one of the province's initial PINs */
    PIN_RULE_SAME_AS_OLD,
    PIN_RULE_TOO_SIMPLE,   /* one digit repeated, or a run up or down by one */
} pin_rule;

/* `initial` holds `n_initial` NUL-terminated PINs; `old` may be NULL.
 * Reads only; keeps no copy of anything. */
pin_rule pin_rules_check(const char *pin, size_t length,
                         const char (*initial)[PIN_MAX + 1], int n_initial,
                         const char *old);

#endif
