#include "core/pin_rules.h"

#include <stdbool.h>
#include <string.h>

static bool pin_all_digits(const char *pin, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (pin[i] < '0' || pin[i] > '9')
            return false;
    return true;
}

/* Every neighbour differs from the one before it by the same `step`. */
static bool pin_is_progression(const char *pin, size_t n, int step)
{
    for (size_t i = 1; i < n; i++)
        if (pin[i] - pin[i - 1] != step)
            return false;
    return true;
}

pin_rule pin_rules_check(const char *pin, size_t length,
                         const char (*initial)[PIN_MAX + 1], int n_initial,
                         const char *old)
{
    size_t n = strnlen(pin, PIN_MAX + 1);

    if (n != length || !pin_all_digits(pin, n))
        return PIN_RULE_WRONG_LENGTH;
    /* Initial first: "still the factory PIN" is the more useful thing to
     * hear even when it is also the old PIN. */
    for (int i = 0; i < n_initial; i++)
        if (strcmp(pin, initial[i]) == 0)
            return PIN_RULE_IS_INITIAL;
    if (old != NULL && strcmp(pin, old) == 0)
        return PIN_RULE_SAME_AS_OLD;
    if (pin_is_progression(pin, n, 0) || pin_is_progression(pin, n, 1) ||
        pin_is_progression(pin, n, -1))
        return PIN_RULE_TOO_SIMPLE;
    return PIN_RULE_OK;
}
