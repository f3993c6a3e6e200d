/* card.h - types shared by the whole card layer, the transport, and the
 * one place where APDUs are exchanged (apdu.c).
 *
 * Everything above a transport talks APDUs only: the same profile code runs on
 * PC/SC and on the in-process simulated card (sim.h). Transport-level
 * housekeeping (61xx GET RESPONSE chains, 6Cxx "wrong Le") is done here, below
 * the profiles, so a profile sees one answer per command.
 */
#ifndef CARD_CARD_H
#define CARD_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- transport ---------------------------------------------------------- */

typedef enum { CT_OK, CT_REMOVED, CT_ERROR } ct_status;

/* transmit() sends one command APDU and fills `resp` with the card's reply
 * (data + SW1 SW2). It must never write more than resp_cap bytes; it stores
 * the reply's full length in *resp_len, so a value above resp_cap tells the
 * caller the reply was cut (the card layer treats that as garbage).
 * CT_REMOVED: the card is gone; CT_ERROR: the reader or service failed.
 * transmit() may be called from a worker thread; `ctx` belongs to the
 * transport's owner. */
typedef struct card_transport {
    ct_status (*transmit)(void *ctx, const uint8_t *cmd, size_t cmd_len,
                          uint8_t *resp, size_t resp_cap, size_t *resp_len);
    void *ctx;
} card_transport;

/* ---- shared card-layer types -------------------------------------------- */

typedef enum { CARD_PROFILE_AUTO, CARD_PROFILE_SSSE, CARD_PROFILE_ISO7816 } card_profile;
typedef enum { ISO_PAD_ASCII_FF, ISO_PAD_BCD } iso_pin_padding;

typedef struct {
    card_profile profile;
    uint8_t iso_pin_ref;         /* P2 of iso7816 VERIFY/CHANGE; default 0x80; used as given */
    iso_pin_padding iso_padding; /* default ISO_PAD_ASCII_FF */
} card_cfg;

/* Fills `cfg` with the defaults: AUTO, reference 0x80, ASCII digits padded FF. */
void card_cfg_default(card_cfg *cfg);

/* CHALLENGE and RESET serve the bureau-made PIN reset (bureau-api.md
 * section 3): an 8-byte challenge from the card, then the bureau's command. */
typedef enum {
    CARD_OP_READ,
    CARD_OP_VERIFY,
    CARD_OP_CHANGE,
    CARD_OP_CHALLENGE,
    CARD_OP_RESET,
    CARD_OP__LAST
} card_op;

typedef enum {
    CARD_RES_OK,
    CARD_RES_WRONG_PIN,  /* tries in .tries, -1 when 6300 */
    CARD_RES_BLOCKED,    /* 6983/6984 or 63C0 */
    CARD_RES_LOCKED,     /* 9303 */
    CARD_RES_REMOVED,    /* the transport said removed */
    CARD_RES_UNREADABLE, /* not a usable card: 6A82 etc., no card number */
    CARD_RES_EXPIRED,    /* EF05 record 06 before today */
    CARD_RES_REFUSED,    /* a definite SW error (or bad input): nothing changed */
    CARD_RES_GARBAGE,    /* reply malformed or truncated: outcome unknown */
    CARD_RES_IO,         /* transport error */
    CARD_RES__LAST
} card_res;

#define CARD_NUMBER_MAX 20 /* with the NUL */
#define CARD_EXPIRY_MAX 9  /* YYYYMMDD and the NUL */
#define CARD_CHALLENGE_LEN 8 /* GET CHALLENGE 00 84 00 00 08 */

typedef struct {
    card_op op;
    card_res res;
    uint16_t sw;          /* the last status word seen; 0 when none arrived */
    int tries;            /* WRONG_PIN: tries left (-1: not given); BLOCKED: 0 when 63C0
                             (ran out now), -1 for 6983/6984 (blocked before); else -1 */
    unsigned gen;         /* set by the worker: the session the job belonged to */
    char card_number[CARD_NUMBER_MAX]; /* READ: "" unless read */
    char expiry[CARD_EXPIRY_MAX];      /* READ: YYYYMMDD, "" when the card has none */
    card_profile profile; /* the profile used (never AUTO once a card answered) */
    bool sent;            /* VERIFY/CHANGE/RESET: the command itself went to the card
                             (false: it failed before, so nothing can have changed);
                             CHALLENGE: GET CHALLENGE went out */
    uint8_t challenge[CARD_CHALLENGE_LEN]; /* CHALLENGE with CARD_RES_OK: the card's
                             challenge; all zero otherwise */
} card_result;

const char *card_res_name(card_res r);
const char *card_profile_name(card_profile p);
const char *card_op_name(card_op op);

/* The inverse of card_op_name ("read", "verify", "change", "challenge",
 * "reset"), for whoever maps words to operations (the control socket's
 * fault_on/delay_on). False, *op untouched, for any other word or NULL. */
bool card_op_from_name(const char *name, card_op *op);

/* ---- exchange ----------------------------------------------------------- */

typedef enum {
    CX_OK,      /* a reply with a well-formed SW arrived (the SW may be an error) */
    CX_REMOVED, /* transport: card removed */
    CX_IO,      /* transport: error */
    CX_GARBAGE, /* reply < 2 bytes, longer than the buffer, SW1 not 6x/9x, or
                   more data than data_cap: outcome unknown */
    CX_BADCMD   /* the command itself is malformed; nothing was sent */
} cx_status;

#define CARD_APDU_MAX 261 /* CLA INS P1 P2 Lc + 255 data + Le (short APDUs only) */
#define CARD_REPLY_MAX 258 /* 256 data + SW1 SW2 */

/* Do not resend the command on 6Cxx: VERIFY and CHANGE are never sent twice;
 * the 6Cxx comes back as the SW instead. */
#define CARD_X_NO_RESEND 0x1u
/* Do not fetch on 61xx: the 61xx itself comes back as the SW. For the
 * bureau's reset, a 61xx already says the command was carried out; what a
 * GET RESPONSE after it answers is about the GET RESPONSE. */
#define CARD_X_NO_FETCH 0x2u

/* True when `cmd` is a short APDU this layer will send: 4..CARD_APDU_MAX
 * bytes, case 1 (CLA INS P1 P2), case 2 (+ Le), case 3 (+ Lc, Lc bytes)
 * or case 4 (+ Lc, Lc bytes, Le), with Lc not 0 (no extended lengths). */
bool card_apdu_well_formed(const uint8_t *cmd, size_t len);

/* Sends `cmd` (short APDU, 4..CARD_APDU_MAX bytes) through `t`.
 * 61xx: fetches the rest with GET RESPONSE 00 C0 00 00 xx, appending the data;
 * 6Cxx: resends the command once with Le = xx (unless CARD_X_NO_RESEND).
 * Both loops are bounded. On CX_OK, `data` holds *data_len bytes of reply data
 * (all parts, SW stripped) and *sw the final status word; on other results
 * *sw is the last well-formed SW seen or 0. The caller owns all buffers; any
 * internal copy of `cmd` is wiped before returning. */
cx_status card_exchange(const card_transport *t, const uint8_t *cmd, size_t cmd_len,
                        unsigned flags, uint8_t *data, size_t data_cap,
                        size_t *data_len, uint16_t *sw);

#endif
