#include "card/profile.h"

#include "card/sw.h"
#include "util/log.h"
#include "util/mask.h"
#include "util/secure.h"

#include <string.h>

#define REC_CARD_NUMBER 0x07
#define REC_EXPIRY 0x06
#define ISO_PIN_BLOCK 8

static const uint8_t apdu_select_ssse[] = {
    0x00, 0xA4, 0x04, 0x00, 0x0F,
    0x73, 0x78, 0x31, 0x2E, 0x73, 0x68, 0x2E, 0xC9, 0xE7, 0xBB, 0xE1, 0xB1, 0xA3, 0xD5, 0xCF,
};
static const uint8_t apdu_select_ef05[] = { 0x00, 0xA4, 0x02, 0x00, 0x02, 0xEF, 0x05 };
static const uint8_t apdu_get_challenge[] = { 0x00, 0x84, 0x00, 0x00, CARD_CHALLENGE_LEN };

/* What a final status word means, per kind: reading a card, or a PIN command.
 * 63C0 is special-cased (blocked) in map_sw(). */
static const struct {
    card_res read;
    card_res pin;
} kind_res[SW_K__LAST] = {
    [SW_K_OK]                 = { CARD_RES_OK,         CARD_RES_OK },
    [SW_K_MORE_DATA]          = { CARD_RES_UNREADABLE, CARD_RES_REFUSED },
    [SW_K_WRONG_LE]           = { CARD_RES_UNREADABLE, CARD_RES_REFUSED },
    [SW_K_WRONG_PIN]          = { CARD_RES_UNREADABLE, CARD_RES_WRONG_PIN },
    [SW_K_WRONG_PIN_NO_COUNT] = { CARD_RES_UNREADABLE, CARD_RES_WRONG_PIN },
    [SW_K_BLOCKED]            = { CARD_RES_UNREADABLE, CARD_RES_BLOCKED },
    [SW_K_CONDITIONS]         = { CARD_RES_UNREADABLE, CARD_RES_REFUSED },
    [SW_K_SM_WRONG]           = { CARD_RES_UNREADABLE, CARD_RES_REFUSED },
    [SW_K_NOT_FOUND]          = { CARD_RES_UNREADABLE, CARD_RES_UNREADABLE },
    [SW_K_LOCKED]             = { CARD_RES_LOCKED,     CARD_RES_LOCKED },
    [SW_K_OTHER]              = { CARD_RES_UNREADABLE, CARD_RES_REFUSED },
};

static const card_res cx_res[] = {
    [CX_OK] = CARD_RES_OK,
    [CX_REMOVED] = CARD_RES_REMOVED,
    [CX_IO] = CARD_RES_IO,
    [CX_GARBAGE] = CARD_RES_GARBAGE,
    [CX_BADCMD] = CARD_RES_REFUSED,
};

typedef enum {
    STEP_OK,   /* 9000 */
    STEP_SW,   /* a definite, well-formed status word other than 9000 */
    STEP_FAIL, /* removed, transport error, garbage: no definite answer */
} step_st;

static void map_sw(card_result *out, uint16_t sw)
{
    sw_info si = sw_lookup(sw);

    out->sw = sw;
    out->tries = -1;
    out->res = out->op == CARD_OP_READ ? kind_res[si.kind].read : kind_res[si.kind].pin;
    if (out->res == CARD_RES_WRONG_PIN)
        out->tries = si.tries;
    /* 63 C0: the counter ran out with this very command (tries 0); 69 83:
     * the card was blocked already (tries -1). Only the first is this
     * terminal's doing, which decides whether the bureau hears of it. */
    if (out->res == CARD_RES_WRONG_PIN && si.tries == 0)
        out->res = CARD_RES_BLOCKED;
    /* ISO 7816-4: 65xx (and 63xx warnings other than a PIN count) say the
     * card's memory changed or may have. After a change command that is not
     * "nothing changed": the outcome is unknown. */
    if (out->op == CARD_OP_CHANGE && ((sw & 0xFF00) == 0x6500 ||
                                      ((sw & 0xFF00) == 0x6300 && sw != 0x6300 && (sw & 0xFFF0) != 0x63C0)))
        out->res = CARD_RES_GARBAGE;
    if (si.kind != SW_K_OK)
        log_info("card", "%s: card answered %04X (%s)", card_op_name(out->op), sw, si.text);
}

/* Sends one command. On anything but 9000, out->res and out->sw say why. */
static step_st step(const card_transport *t, const uint8_t *cmd, size_t len, unsigned flags,
                    uint8_t *data, size_t cap, size_t *dlen, card_result *out)
{
    uint16_t sw = 0;
    cx_status st = card_exchange(t, cmd, len, flags, data, cap, dlen, &sw);

    out->sw = sw;
    if (st != CX_OK) {
        out->res = cx_res[st];
        if (st == CX_BADCMD)
            return STEP_SW;
        log_warn("card", "%s: no definite answer (%s)", card_op_name(out->op), card_res_name(out->res));
        return STEP_FAIL;
    }
    if (sw == 0x9000) {
        out->res = CARD_RES_OK;
        return STEP_OK;
    }
    map_sw(out, sw);
    return STEP_SW;
}

/* Picks the profile to talk to: the wanted one, or for AUTO the answer of the
 * SSSE SELECT. When the result is SSSE, the application is selected. */
static step_st pick_profile(const card_transport *t, card_profile want, card_result *out)
{
    uint8_t fci[CARD_REPLY_MAX];
    size_t flen = 0;
    step_st st;

    if (want == CARD_PROFILE_ISO7816) {
        out->profile = CARD_PROFILE_ISO7816;
        return STEP_OK;
    }
    st = step(t, apdu_select_ssse, sizeof apdu_select_ssse, 0, fci, sizeof fci, &flen, out);
    if (st == STEP_SW) {
        /* An answer to SELECT says nothing about a PIN, whatever operation
         * it serves: read it as a select (a 63 C0 here must never become
         * "blocked", nor a 63 C2 "wrong PIN" when no PIN was sent). */
        out->res = kind_res[sw_lookup(out->sw).kind].read;
        out->tries = -1;
    }
    if (st == STEP_OK || (st == STEP_SW && out->res == CARD_RES_LOCKED)) {
        /* 9303 to the SELECT: the application is there, and locked. */
        out->profile = CARD_PROFILE_SSSE;
    } else if (st == STEP_SW && want == CARD_PROFILE_AUTO) {
        out->profile = CARD_PROFILE_ISO7816;
        out->res = CARD_RES_OK;
        st = STEP_OK;
    } else {
        out->profile = want;
    }
    return st;
}

static void result_init(card_result *out, card_op op)
{
    memset(out, 0, sizeof *out);
    out->op = op;
    out->res = CARD_RES_IO;
    out->tries = -1;
    out->profile = CARD_PROFILE_AUTO;
}

static const card_cfg *cfg_or_default(const card_cfg *cfg, card_cfg *tmp)
{
    if (cfg)
        return cfg;
    card_cfg_default(tmp);
    return tmp;
}

/* ---- read --------------------------------------------------------------- */

/* Reads record `rec` of the current EF into val (its value part, without the
 * `rr len` framing). */
static step_st read_record(const card_transport *t, uint8_t rec, uint8_t *val, size_t cap,
                           size_t *vlen, card_result *out)
{
    const uint8_t cmd[] = { 0x00, 0xB2, rec, 0x04, 0x00 };
    uint8_t data[CARD_REPLY_MAX];
    size_t dlen = 0;
    step_st st = step(t, cmd, sizeof cmd, 0, data, sizeof data, &dlen, out);

    if (st != STEP_OK)
        return st;
    if (dlen < 2 || data[0] != rec || data[1] != dlen - 2) {
        log_warn("card", "record %02X badly framed (%zu bytes)", rec, dlen);
        out->res = CARD_RES_GARBAGE;
        return STEP_FAIL;
    }
    if (dlen - 2 > cap) {
        log_warn("card", "record %02X too long (%zu bytes)", rec, dlen - 2);
        out->res = CARD_RES_UNREADABLE;
        return STEP_SW;
    }
    memcpy(val, data + 2, dlen - 2);
    *vlen = dlen - 2;
    return STEP_OK;
}

static bool is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* YYYYMMDD as 8 ASCII digits or 4 BCD bytes; false when it is not a date. */
static bool decode_date(const uint8_t *v, size_t n, char out[CARD_EXPIRY_MAX])
{
    int month, day;

    if (n == 8) {
        memcpy(out, v, 8);
    } else if (n == 4) {
        for (size_t i = 0; i < 4; i++) {
            out[2 * i] = (char)('0' + (v[i] >> 4));
            out[2 * i + 1] = (char)('0' + (v[i] & 0x0F));
        }
    } else {
        return false;
    }
    out[8] = '\0';
    if (!all_digits(out, 8))
        goto bad;
    month = (out[4] - '0') * 10 + (out[5] - '0');
    day = (out[6] - '0') * 10 + (out[7] - '0');
    if (month < 1 || month > 12 || day < 1 || day > 31)
        goto bad;
    return true;
bad:
    out[0] = '\0';
    return false;
}

void card_read(const card_transport *t, const card_cfg *cfg_in, const char *today,
               card_result *out)
{
    card_cfg tmp;
    const card_cfg *cfg = cfg_or_default(cfg_in, &tmp);
    uint8_t val[CARD_REPLY_MAX];
    uint8_t fci[CARD_REPLY_MAX];
    size_t vlen = 0, flen = 0;
    char masked[MASK_CARD_MAX];

    result_init(out, CARD_OP_READ);
    if (pick_profile(t, cfg->profile, out) != STEP_OK)
        goto out;
    if (step(t, apdu_select_ef05, sizeof apdu_select_ef05, 0, fci, sizeof fci, &flen, out) != STEP_OK)
        goto out;

    if (read_record(t, REC_CARD_NUMBER, val, CARD_NUMBER_MAX - 1, &vlen, out) != STEP_OK)
        goto out;
    for (size_t i = 0; i < vlen; i++) {
        if (!is_alnum(val[i])) {
            log_warn("card", "card number holds a non-alphanumeric byte");
            out->res = CARD_RES_UNREADABLE;
            goto out;
        }
    }
    if (vlen == 0) {
        log_warn("card", "card number record is empty");
        out->res = CARD_RES_UNREADABLE;
        goto out;
    }
    memcpy(out->card_number, val, vlen);
    out->card_number[vlen] = '\0';

    switch (read_record(t, REC_EXPIRY, val, sizeof val, &vlen, out)) {
    case STEP_FAIL:
        goto out;
    case STEP_SW:
        if (out->res == CARD_RES_LOCKED)
            goto out;
        log_info("card", "card has no expiry record");
        out->expiry[0] = '\0';
        break;
    case STEP_OK:
        if (!decode_date(val, vlen, out->expiry)) {
            log_warn("card", "expiry record is not a date");
            out->res = CARD_RES_UNREADABLE;
            goto out;
        }
        break;
    }

    out->res = CARD_RES_OK;
    if (today && strlen(today) == 8 && all_digits(today, 8)) {
        if (out->expiry[0] && strcmp(out->expiry, today) < 0)
            out->res = CARD_RES_EXPIRED;
    } else {
        log_warn("card", "no valid date for today: expiry not checked");
    }
out:
    mask_card(out->card_number, masked);
    log_info("card", "read: %s, profile %s, card %s, sw %04X", card_res_name(out->res),
             card_profile_name(out->profile), out->card_number[0] ? masked : "-", out->sw);
    secure_wipe(val, sizeof val);
}

/* ---- PIN commands ------------------------------------------------------- */

bool card_pin_valid(const char *pin)
{
    size_t n = pin ? strnlen(pin, CARD_PIN_MAX + 1) : 0;

    return n >= CARD_PIN_MIN && n <= CARD_PIN_MAX && all_digits(pin, n);
}

/* BCD, two digits a byte, an odd count padded with F; returns bytes written. */
static size_t pin_bcd(const char *pin, uint8_t *dst)
{
    size_t n = strlen(pin), i;

    for (i = 0; i < n; i += 2) {
        uint8_t hi = (uint8_t)(pin[i] - '0');
        uint8_t lo = i + 1 < n ? (uint8_t)(pin[i + 1] - '0') : 0x0F;
        dst[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return (n + 1) / 2;
}

/* The iso7816 8-byte PIN block; false when the PIN does not fit. */
static bool pin_block(const char *pin, iso_pin_padding pad, uint8_t dst[ISO_PIN_BLOCK])
{
    size_t n = strlen(pin);

    memset(dst, 0xFF, ISO_PIN_BLOCK);
    if (pad == ISO_PAD_BCD) {
        pin_bcd(pin, dst); /* 16 digits fill 8 bytes exactly */
        return true;
    }
    if (n > ISO_PIN_BLOCK)
        return false;
    memcpy(dst, pin, n);
    return true;
}

/* Common frame of verify and change: checks, profile, send once, map. */
static void pin_op(const card_transport *t, const card_cfg *cfg_in, card_profile used,
                   const char *old_pin, const char *new_pin, card_result *out)
{
    card_cfg tmp;
    const card_cfg *cfg = cfg_or_default(cfg_in, &tmp);
    uint8_t cmd[CARD_APDU_MAX];
    uint8_t data[CARD_REPLY_MAX];
    size_t len = 0, dlen = 0;
    card_profile want = used != CARD_PROFILE_AUTO ? used : cfg->profile;
    bool change = out->op == CARD_OP_CHANGE;

    if (!card_pin_valid(old_pin) || (change && !card_pin_valid(new_pin))) {
        log_warn("card", "%s: PIN is not 4 to 16 digits; nothing sent", card_op_name(out->op));
        out->res = CARD_RES_REFUSED;
        goto out;
    }
    if (pick_profile(t, want, out) != STEP_OK)
        goto out;

    if (out->profile == CARD_PROFILE_SSSE) {
        if (!change) {
            memcpy(cmd, (const uint8_t[]){ 0x00, 0x20, 0x00, 0x00 }, 4);
            len = 5 + pin_bcd(old_pin, cmd + 5);
        } else {
            memcpy(cmd, (const uint8_t[]){ 0x80, 0x5E, 0x01, 0x00 }, 4);
            len = 5 + pin_bcd(old_pin, cmd + 5);
            cmd[len++] = 0xFF;
            len += pin_bcd(new_pin, cmd + len);
        }
    } else {
        cmd[0] = 0x00;
        cmd[1] = change ? 0x24 : 0x20;
        cmd[2] = 0x00;
        cmd[3] = cfg->iso_pin_ref;
        len = 5;
        if (!pin_block(old_pin, cfg->iso_padding, cmd + len) ||
            (change && !pin_block(new_pin, cfg->iso_padding, cmd + len + ISO_PIN_BLOCK))) {
            log_warn("card", "%s: PIN longer than 8 digits cannot be padded ASCII; nothing sent",
                     card_op_name(out->op));
            out->res = CARD_RES_REFUSED;
            goto out;
        }
        len += change ? 2 * ISO_PIN_BLOCK : ISO_PIN_BLOCK;
    }
    cmd[4] = (uint8_t)(len - 5);

    out->sent = true;
    step(t, cmd, len, CARD_X_NO_RESEND, data, sizeof data, &dlen, out);
out:
    log_info("card", "%s: %s, profile %s, sw %04X, tries %d", card_op_name(out->op),
             card_res_name(out->res), card_profile_name(out->profile), out->sw, out->tries);
    secure_wipe(cmd, sizeof cmd);
    secure_wipe(data, sizeof data);
}

void card_verify(const card_transport *t, const card_cfg *cfg, card_profile used,
                 const char *pin, card_result *out)
{
    result_init(out, CARD_OP_VERIFY);
    pin_op(t, cfg, used, pin, NULL, out);
}

void card_change(const card_transport *t, const card_cfg *cfg, card_profile used,
                 const char *old_pin, const char *new_pin, card_result *out)
{
    result_init(out, CARD_OP_CHANGE);
    pin_op(t, cfg, used, old_pin, new_pin, out);
}

/* ---- the bureau-made reset ---------------------------------------------- */

/* What a status word other than 9000 means to GET CHALLENGE and to the
 * bureau's reset command; the first matching row wins. 9303 is LOCKED, as
 * for every other operation: the citizen needs a counter, not a retry.
 * For the reset only the words ISO 7816-4 says leave the card's memory
 * unchanged are a definite refusal (62xx, 64xx, the checking errors
 * 67xx-6Exx: 69 88 for a wrong MAC); 61xx is the command carried out with
 * data to fetch (not fetched: CARD_X_NO_FETCH); anything else (63xx and
 * 65xx: memory changed, 6Fxx: no diagnosis, an unknown 9xxx) may have
 * reset the PIN: unknown, never refused, so its record is kept. */
static const struct {
    card_op op;
    uint16_t sw, mask;
    card_res res;
} bureau_sw[] = {
    { CARD_OP_CHALLENGE, 0x9303, 0xFFFF, CARD_RES_LOCKED },
    { CARD_OP_RESET,     0x9303, 0xFFFF, CARD_RES_LOCKED },
    { CARD_OP_RESET,     0x6100, 0xFF00, CARD_RES_OK },
    { CARD_OP_RESET,     0x6200, 0xFF00, CARD_RES_REFUSED },
    { CARD_OP_RESET,     0x6400, 0xFF00, CARD_RES_REFUSED },
    { CARD_OP_RESET,     0x6700, 0xFF00, CARD_RES_REFUSED },
    { CARD_OP_RESET,     0x6800, 0xFF00, CARD_RES_REFUSED },
    { CARD_OP_RESET,     0x6900, 0xFF00, CARD_RES_REFUSED },
    { CARD_OP_RESET,     0x6A00, 0xFF00, CARD_RES_REFUSED },
    { CARD_OP_RESET,     0x6B00, 0xFF00, CARD_RES_REFUSED },
    { CARD_OP_RESET,     0x6C00, 0xFF00, CARD_RES_REFUSED },
    { CARD_OP_RESET,     0x6D00, 0xFF00, CARD_RES_REFUSED },
    { CARD_OP_RESET,     0x6E00, 0xFF00, CARD_RES_REFUSED },
    { CARD_OP_RESET,     0x0000, 0x0000, CARD_RES_GARBAGE },
};

/* Replaces map_sw()'s PIN reading of a status word (a 63Cx here is no
 * wrong PIN: none was sent) by the table above; GET CHALLENGE's words no
 * row names are refusals (a challenge changes nothing). */
static void map_bureau_sw(card_result *out)
{
    out->tries = -1;
    out->res = CARD_RES_REFUSED;
    for (size_t i = 0; i < sizeof bureau_sw / sizeof bureau_sw[0]; i++) {
        if (bureau_sw[i].op == out->op && (out->sw & bureau_sw[i].mask) == bureau_sw[i].sw) {
            out->res = bureau_sw[i].res;
            break;
        }
    }
}

void card_challenge(const card_transport *t, const card_cfg *cfg_in, card_profile used,
                    card_result *out)
{
    card_cfg tmp;
    const card_cfg *cfg = cfg_or_default(cfg_in, &tmp);
    uint8_t data[CARD_REPLY_MAX];
    size_t dlen = 0;
    card_profile want = used != CARD_PROFILE_AUTO ? used : cfg->profile;

    result_init(out, CARD_OP_CHALLENGE);
    if (pick_profile(t, want, out) != STEP_OK)
        goto out;
    out->sent = true;
    /* Not resent on 6Cxx: a card that wants another Le does not give the
     * 8-byte challenge the bureau's MAC is made over. */
    switch (step(t, apdu_get_challenge, sizeof apdu_get_challenge, CARD_X_NO_RESEND, data,
                 sizeof data, &dlen, out)) {
    case STEP_FAIL:
        goto out;
    case STEP_SW:
        map_bureau_sw(out);
        goto out;
    case STEP_OK:
        break;
    }
    if (dlen != CARD_CHALLENGE_LEN) {
        log_warn("card", "challenge: %zu bytes instead of %d", dlen, CARD_CHALLENGE_LEN);
        out->res = CARD_RES_GARBAGE;
        goto out;
    }
    memcpy(out->challenge, data, CARD_CHALLENGE_LEN);
out:
    log_info("card", "challenge: %s, profile %s, sw %04X", card_res_name(out->res),
             card_profile_name(out->profile), out->sw);
    secure_wipe(data, sizeof data);
}

void card_reset_pin(const card_transport *t, const card_cfg *cfg_in, card_profile used,
                    const uint8_t *apdu, size_t len, card_result *out)
{
    card_cfg tmp;
    const card_cfg *cfg = cfg_or_default(cfg_in, &tmp);
    uint8_t data[CARD_REPLY_MAX];
    size_t dlen = 0;

    result_init(out, CARD_OP_RESET);
    /* No SELECT may go first (it would void the card's challenge), so the
     * profile is the one the caller says, not one found now. */
    out->profile = used != CARD_PROFILE_AUTO ? used : cfg->profile;
    if (!card_apdu_well_formed(apdu, len)) {
        log_warn("card", "reset: the bureau's command is no short APDU (%zu bytes); nothing sent",
                 len);
        out->res = CARD_RES_REFUSED;
        goto out;
    }
    /* Sent as given, once: a second send would meet a voided challenge and
     * turn a lost answer into a definite-looking refusal. */
    out->sent = true;
    if (step(t, apdu, len, CARD_X_NO_RESEND | CARD_X_NO_FETCH, data, sizeof data, &dlen, out) == STEP_SW)
        map_bureau_sw(out);
out:
    log_info("card", "reset: %s, profile %s, sw %04X", card_res_name(out->res),
             card_profile_name(out->profile), out->sw);
    secure_wipe(data, sizeof data);
}
