/* sw.h - ISO 7816 status words, classified by one table.
 *
 * The card layer never compares raw status words in if-chains: it asks
 * sw_lookup() for a kind and decides on the kind. 63Cx is recognised before
 * the table because its low nibble is data (tries left), not part of the code.
 * The returned text is static English for logs; it never needs freeing.
 */
#ifndef CARD_SW_H
#define CARD_SW_H

#include <stdint.h>

typedef enum {
    SW_K_OK,                 /* 9000 */
    SW_K_MORE_DATA,          /* 61xx: GET RESPONSE with Le = xx */
    SW_K_WRONG_LE,           /* 6Cxx: resend with Le = xx */
    SW_K_WRONG_PIN,          /* 63Cx: x tries left */
    SW_K_WRONG_PIN_NO_COUNT, /* 6300 */
    SW_K_BLOCKED,            /* 6983, 6984 */
    SW_K_CONDITIONS,         /* 6985 */
    SW_K_SM_WRONG,           /* 6988 */
    SW_K_NOT_FOUND,          /* 6A82, 6A88 */
    SW_K_LOCKED,             /* 9303 */
    SW_K_OTHER,              /* anything else: a definite error */
    SW_K__LAST
} sw_kind;

typedef struct {
    sw_kind kind;
    int tries;        /* 63Cx: x; else -1 */
    const char *text; /* English, for logs; static storage */
} sw_info;

sw_info sw_lookup(uint16_t sw);

/* Short name of a kind ("wrong-pin"...), for logs and test messages. */
const char *sw_kind_name(sw_kind k);

#endif
