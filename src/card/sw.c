#include "card/sw.h"

#include <stddef.h>

/* One row per status word (or family, via mask), in the spirit of OpenSC's
 * iso7816_errors[]. Rows with kind SW_K_OTHER are there only for a better
 * log text; any word not listed is SW_K_OTHER too. */
static const struct {
    uint16_t sw;
    uint16_t mask;
    sw_kind kind;
    const char *text;
} sw_table[] = {
    { 0x9000, 0xFFFF, SW_K_OK,                 "Success" },
    { 0x6100, 0xFF00, SW_K_MORE_DATA,          "More data available" },
    { 0x6C00, 0xFF00, SW_K_WRONG_LE,           "Wrong length Le" },
    { 0x6300, 0xFFFF, SW_K_WRONG_PIN_NO_COUNT, "Verification failed, no counter given" },
    { 0x6983, 0xFFFF, SW_K_BLOCKED,            "Authentication method blocked" },
    { 0x6984, 0xFFFF, SW_K_BLOCKED,            "Reference data invalid" },
    { 0x6985, 0xFFFF, SW_K_CONDITIONS,         "Conditions of use not satisfied" },
    { 0x6988, 0xFFFF, SW_K_SM_WRONG,           "Secure messaging data object incorrect" },
    { 0x6A82, 0xFFFF, SW_K_NOT_FOUND,          "File or application not found" },
    { 0x6A88, 0xFFFF, SW_K_NOT_FOUND,          "Referenced data not found" },
    { 0x9303, 0xFFFF, SW_K_LOCKED,             "Application permanently locked" },
    { 0x6281, 0xFFFF, SW_K_OTHER,              "Returned data may be corrupted" },
    { 0x6581, 0xFFFF, SW_K_OTHER,              "Memory failure" },
    { 0x6700, 0xFFFF, SW_K_OTHER,              "Wrong length" },
    { 0x6982, 0xFFFF, SW_K_OTHER,              "Security status not satisfied" },
    { 0x6986, 0xFFFF, SW_K_OTHER,              "Command not allowed (no current EF)" },
    { 0x6A80, 0xFFFF, SW_K_OTHER,              "Incorrect parameters in the data field" },
    { 0x6A81, 0xFFFF, SW_K_OTHER,              "Function not supported" },
    { 0x6A83, 0xFFFF, SW_K_OTHER,              "Record not found" },
    { 0x6A86, 0xFFFF, SW_K_OTHER,              "Incorrect parameters P1-P2" },
    { 0x6B00, 0xFFFF, SW_K_OTHER,              "Wrong parameters P1-P2" },
    { 0x6D00, 0xFFFF, SW_K_OTHER,              "Instruction not supported" },
    { 0x6E00, 0xFFFF, SW_K_OTHER,              "Class not supported" },
    { 0x6F00, 0xFFFF, SW_K_OTHER,              "No precise diagnosis" },
};

static const char *const kind_names[SW_K__LAST] = {
    [SW_K_OK] = "ok",
    [SW_K_MORE_DATA] = "more-data",
    [SW_K_WRONG_LE] = "wrong-le",
    [SW_K_WRONG_PIN] = "wrong-pin",
    [SW_K_WRONG_PIN_NO_COUNT] = "wrong-pin-no-count",
    [SW_K_BLOCKED] = "blocked",
    [SW_K_CONDITIONS] = "conditions",
    [SW_K_SM_WRONG] = "sm-wrong",
    [SW_K_NOT_FOUND] = "not-found",
    [SW_K_LOCKED] = "locked",
    [SW_K_OTHER] = "other",
};

sw_info sw_lookup(uint16_t sw)
{
    sw_info info = { SW_K_OTHER, -1, "Unknown status word" };

    /* The low nibble of 63Cx is a counter, so no table row could match it. */
    if ((sw & 0xFFF0) == 0x63C0) {
        info.kind = SW_K_WRONG_PIN;
        info.tries = sw & 0x000F;
        info.text = "Verification failed, counter given";
        return info;
    }
    for (size_t i = 0; i < sizeof sw_table / sizeof sw_table[0]; i++) {
        if ((sw & sw_table[i].mask) == sw_table[i].sw) {
            info.kind = sw_table[i].kind;
            info.text = sw_table[i].text;
            break;
        }
    }
    return info;
}

const char *sw_kind_name(sw_kind k)
{
    if ((unsigned)k >= SW_K__LAST)
        return "?";
    return kind_names[k];
}
