#include "t.h"
#include "core/pin_rules.h"

static const char initial[2][PIN_MAX + 1] = { "123456", "888888" };

static pin_rule check(const char *pin, const char *old)
{
    return pin_rules_check(pin, 6, initial, 2, old);
}

T_TEST(accepts_an_ordinary_pin)
{
    T_EQ_INT(check("582039", "123456"), PIN_RULE_OK);
    T_EQ_INT(check("135790", NULL), PIN_RULE_OK);
    T_EQ_INT(check("124578", NULL), PIN_RULE_OK); /* not a run: steps of 1 and 2 */
}

T_TEST(refuses_wrong_length_or_non_digits)
{
    T_EQ_INT(check("58203", NULL), PIN_RULE_WRONG_LENGTH);
    T_EQ_INT(check("5820391", NULL), PIN_RULE_WRONG_LENGTH);
    T_EQ_INT(check("", NULL), PIN_RULE_WRONG_LENGTH);
    T_EQ_INT(check("58a039", NULL), PIN_RULE_WRONG_LENGTH);
    T_EQ_INT(check("58 039", NULL), PIN_RULE_WRONG_LENGTH);
}

T_TEST(refuses_every_initial_pin)
{
    T_EQ_INT(check("123456", "582039"), PIN_RULE_IS_INITIAL);
    T_EQ_INT(check("888888", "582039"), PIN_RULE_IS_INITIAL);
    /* initial wins over same-as-old: the more useful reason */
    T_EQ_INT(check("123456", "123456"), PIN_RULE_IS_INITIAL);
}

T_TEST(refuses_the_old_pin)
{
    T_EQ_INT(check("582039", "582039"), PIN_RULE_SAME_AS_OLD);
}

T_TEST(refuses_repeats_and_runs)
{
    T_EQ_INT(check("000000", NULL), PIN_RULE_TOO_SIMPLE);
    T_EQ_INT(check("777777", NULL), PIN_RULE_TOO_SIMPLE);
    T_EQ_INT(check("654321", NULL), PIN_RULE_TOO_SIMPLE);
    T_EQ_INT(check("345678", NULL), PIN_RULE_TOO_SIMPLE);
    T_EQ_INT(check("456789", NULL), PIN_RULE_TOO_SIMPLE);
    T_EQ_INT(check("987654", NULL), PIN_RULE_TOO_SIMPLE);
    T_EQ_INT(check("012345", NULL), PIN_RULE_TOO_SIMPLE);
    T_EQ_INT(check("234567", "111111"), PIN_RULE_TOO_SIMPLE);
}

T_TEST(other_lengths)
{
    T_EQ_INT(pin_rules_check("2580", 4, initial, 2, NULL), PIN_RULE_OK);
    T_EQ_INT(pin_rules_check("1234", 4, initial, 2, NULL), PIN_RULE_TOO_SIMPLE);
    T_EQ_INT(pin_rules_check("123456", 4, initial, 2, NULL), PIN_RULE_WRONG_LENGTH);
    T_EQ_INT(pin_rules_check("12345678901234567", 16, initial, 2, NULL), PIN_RULE_WRONG_LENGTH);
}

T_MAIN(T_CASE(accepts_an_ordinary_pin), T_CASE(refuses_wrong_length_or_non_digits),
       T_CASE(refuses_every_initial_pin), T_CASE(refuses_the_old_pin),
       T_CASE(refuses_repeats_and_runs), T_CASE(other_lengths))
