#include "card/card.h"

#include "util/log.h"
#include "util/secure.h"

#include <string.h>

/* One command draws at most: itself, one 6Cxx resend, and this many
 * GET RESPONSE rounds. A card that keeps answering 61xx past that is broken. */
#define CX_MAX_GET_RESPONSE 16

static const char *const res_names[CARD_RES__LAST] = {
    [CARD_RES_OK] = "ok",
    [CARD_RES_WRONG_PIN] = "wrong-pin",
    [CARD_RES_BLOCKED] = "blocked",
    [CARD_RES_LOCKED] = "locked",
    [CARD_RES_REMOVED] = "removed",
    [CARD_RES_UNREADABLE] = "unreadable",
    [CARD_RES_EXPIRED] = "expired",
    [CARD_RES_REFUSED] = "refused",
    [CARD_RES_GARBAGE] = "garbage",
    [CARD_RES_IO] = "io",
};

const char *card_res_name(card_res r)
{
    if ((unsigned)r >= CARD_RES__LAST)
        return "?";
    return res_names[r];
}

const char *card_profile_name(card_profile p)
{
    switch (p) {
    case CARD_PROFILE_AUTO: return "auto";
    case CARD_PROFILE_SSSE: return "ssse";
    case CARD_PROFILE_ISO7816: return "iso7816";
    }
    return "?";
}

static const char *const op_names[CARD_OP__LAST] = {
    [CARD_OP_READ] = "read",
    [CARD_OP_VERIFY] = "verify",
    [CARD_OP_CHANGE] = "change",
    [CARD_OP_CHALLENGE] = "challenge",
    [CARD_OP_RESET] = "reset",
};

const char *card_op_name(card_op op)
{
    if ((unsigned)op >= CARD_OP__LAST)
        return "?";
    return op_names[op];
}

bool card_op_from_name(const char *name, card_op *op)
{
    if (name == NULL)
        return false;
    for (unsigned i = 0; i < CARD_OP__LAST; i++) {
        if (strcmp(name, op_names[i]) == 0) {
            *op = (card_op)i;
            return true;
        }
    }
    return false;
}

void card_cfg_default(card_cfg *cfg)
{
    cfg->profile = CARD_PROFILE_AUTO;
    cfg->iso_pin_ref = 0x80;
    cfg->iso_padding = ISO_PAD_ASCII_FF;
}

/* Where a short APDU keeps (or would keep) its Le byte: the command length
 * without Le, or 0 when the command is not a well-formed short APDU. */
static size_t apdu_body_len(const uint8_t *cmd, size_t len)
{
    size_t lc;

    if (len < 4 || len > CARD_APDU_MAX)
        return 0;
    if (len == 4 || len == 5)
        return 4; /* case 1, or case 2 (P3 is Le) */
    lc = cmd[4];
    if (lc == 0)
        return 0; /* extended length: not supported */
    if (len == 5 + lc)
        return len;     /* case 3: no Le yet */
    if (len == 6 + lc)
        return len - 1; /* case 4 */
    return 0;
}

bool card_apdu_well_formed(const uint8_t *cmd, size_t len)
{
    return cmd != NULL && apdu_body_len(cmd, len) != 0;
}

static bool sw1_valid(uint8_t sw1)
{
    /* ISO 7816-3: SW1 is 6x (not 60, a procedure byte) or 9x. */
    return ((sw1 & 0xF0) == 0x60 && sw1 != 0x60) || (sw1 & 0xF0) == 0x90;
}

cx_status card_exchange(const card_transport *t, const uint8_t *cmd, size_t cmd_len,
                        unsigned flags, uint8_t *data, size_t data_cap,
                        size_t *data_len, uint16_t *sw)
{
    uint8_t next[CARD_APDU_MAX];  /* resend or GET RESPONSE; may hold a PIN */
    uint8_t reply[CARD_REPLY_MAX];
    const uint8_t *cur = cmd;
    size_t cur_len = cmd_len;
    size_t got = 0;
    bool resent = false;
    int rounds = 0;
    cx_status st = CX_GARBAGE;

    *sw = 0;
    if (data_len)
        *data_len = 0;
    if (t == NULL || t->transmit == NULL || cmd == NULL || apdu_body_len(cmd, cmd_len) == 0) {
        log_err("card", "refusing to send a malformed APDU (%zu bytes)", cmd_len);
        st = CX_BADCMD;
        goto out;
    }

    for (;;) {
        size_t rlen = 0, dlen;
        ct_status ct = t->transmit(t->ctx, cur, cur_len, reply, sizeof reply, &rlen);

        if (ct == CT_REMOVED) {
            st = CX_REMOVED;
            goto out;
        }
        if (ct != CT_OK) {
            st = CX_IO;
            goto out;
        }
        if (rlen < 2 || rlen > sizeof reply || !sw1_valid(reply[rlen - 2])) {
            log_warn("card", "malformed reply (%zu bytes)", rlen);
            st = CX_GARBAGE;
            goto out;
        }
        dlen = rlen - 2;
        *sw = (uint16_t)(reply[dlen] << 8 | reply[dlen + 1]);

        if (reply[dlen] == 0x6C && !resent && !(flags & CARD_X_NO_RESEND)) {
            /* Same command, Le as the card asks; data of a 6Cxx is ignored. */
            size_t body = apdu_body_len(cur, cur_len);

            if (cur != next)
                memcpy(next, cur, body);
            next[body] = reply[dlen + 1];
            cur = next;
            cur_len = body + 1;
            resent = true;
            continue;
        }
        if (dlen > data_cap - got) {
            log_warn("card", "reply longer than expected (%zu bytes)", got + dlen);
            st = CX_GARBAGE;
            goto out;
        }
        if (dlen > 0) {
            memcpy(data + got, reply, dlen);
            got += dlen;
        }
        if (reply[dlen] != 0x61 || (flags & CARD_X_NO_FETCH))
            break;
        if (++rounds > CX_MAX_GET_RESPONSE) {
            log_warn("card", "endless 61xx chain");
            st = CX_GARBAGE;
            goto out;
        }
        next[0] = 0x00;
        next[1] = 0xC0;
        next[2] = 0x00;
        next[3] = 0x00;
        next[4] = reply[dlen + 1];
        cur = next;
        cur_len = 5;
    }
    if (data_len)
        *data_len = got;
    st = CX_OK;
out:
    secure_wipe(next, sizeof next);
    secure_wipe(reply, sizeof reply);
    return st;
}
