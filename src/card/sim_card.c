/* sim_card.c - the simulated card's logic: APDU parsing, the command
 * handlers and their table, and the PIN encodings they decode.
 *
 * Bytes flow in from sim.c's transmit (sim_exec, under the reader's lock)
 * and a reply flows back; on the way the handlers update the card in the
 * reader (tries, blocked, PIN) and its session state (selection, the reply
 * GET RESPONSE hands out). Nothing here knows about presence or faults.
 */
#include "card/sim_int.h"

#include "service/sha256.h"
#include "util/secure.h"

#include <string.h>

#define SIM_ISSUE_DATE "20200101"
#define SIM_ID_CODE "310100D156000005" /* region 310100, then 10 more bytes */
#define SIM_PIN_BLOCK 8
#define SIM_RESET_KEY_PREFIX "ssse-test-reset-key:"
#define SIM_RESET_KEY_LEN 16
#define SIM_RESET_MAC_LEN 16

static const uint8_t ssse_aid[] = {
    0x73, 0x78, 0x31, 0x2E, 0x73, 0x68, 0x2E, 0xC9, 0xE7, 0xBB, 0xE1, 0xB1, 0xA3, 0xD5, 0xCF,
};

/* A parsed short command APDU. */
typedef struct {
    uint8_t cla, ins, p1, p2;
    const uint8_t *data;
    size_t lc;
    bool has_le;
    size_t le; /* 1..256 when has_le (Le 00 is 256) */
} sim_apdu;

typedef size_t (*sim_handler)(sim_reader *r, const sim_apdu *a, uint8_t *rsp);

/* ---- small helpers ------------------------------------------------------ */

/* BCD with at most one trailing F nibble (ssse), or F nibbles to the end
 * (iso BCD block when `pad_to_end`). Writes 4..16 digits; false otherwise. */
static bool bcd_decode(const uint8_t *b, size_t n, bool pad_to_end, char out[17])
{
    size_t k = 0;
    bool in_pad = false;

    for (size_t i = 0; i < 2 * n; i++) {
        uint8_t nib = (uint8_t)(i % 2 == 0 ? b[i / 2] >> 4 : b[i / 2] & 0x0F);

        if (in_pad) {
            if (nib != 0x0F)
                return false;
            continue;
        }
        if (nib == 0x0F) {
            /* ssse: only the very last nibble may pad (odd digit count). */
            if (!pad_to_end && i != 2 * n - 1)
                return false;
            in_pad = true;
            continue;
        }
        if (nib > 9 || k >= 16)
            return false;
        out[k++] = (char)('0' + nib);
    }
    out[k] = '\0';
    return k >= 4;
}

/* An iso7816 8-byte PIN block in the card's padding. */
static bool block_decode(const uint8_t *b, iso_pin_padding pad, char out[17])
{
    size_t k = 0;

    if (pad == ISO_PAD_BCD)
        return bcd_decode(b, SIM_PIN_BLOCK, true, out);
    while (k < SIM_PIN_BLOCK && b[k] >= '0' && b[k] <= '9') {
        out[k] = (char)b[k];
        k++;
    }
    out[k] = '\0';
    for (size_t i = k; i < SIM_PIN_BLOCK; i++)
        if (b[i] != 0xFF)
            return false;
    return k >= 4;
}

/* The PIN check shared by VERIFY and CHANGE; true when `pin` is right. */
static uint16_t check_pin(sim_card *c, const char *pin, bool *ok)
{
    *ok = false;
    if (c->blocked)
        return 0x6983;
    if (pin != NULL && strcmp(pin, c->pin) == 0) {
        c->tries = c->max_tries;
        *ok = true;
        return 0x9000;
    }
    if (c->tries > 0)
        c->tries--;
    if (c->tries == 0)
        c->blocked = true;
    return (uint16_t)(0x63C0 | c->tries);
}

/* ---- command handlers --------------------------------------------------- */

static size_t h_select(sim_reader *r, const sim_apdu *a, uint8_t *rsp)
{
    if (a->p1 == 0x04 && a->p2 == 0x00) {
        size_t n = 0;

        if (r->profile != CARD_PROFILE_SSSE || a->lc != sizeof ssse_aid ||
            memcmp(a->data, ssse_aid, sizeof ssse_aid) != 0)
            return put_sw(rsp, 0, 0x6A82);
        r->app_selected = true;
        r->ef_selected = false;
        /* FCI: 6F len 84 len AID */
        r->pending[n++] = 0x6F;
        r->pending[n++] = (uint8_t)(2 + sizeof ssse_aid);
        r->pending[n++] = 0x84;
        r->pending[n++] = (uint8_t)sizeof ssse_aid;
        memcpy(r->pending + n, ssse_aid, sizeof ssse_aid);
        n += sizeof ssse_aid;
        if (a->has_le) {
            memcpy(rsp, r->pending, n);
            return put_sw(rsp, n, 0x9000);
        }
        r->pending_len = n;
        return put_sw(rsp, 0, (uint16_t)(0x6100 | n));
    }
    if (a->p1 == 0x02 && a->p2 == 0x00) {
        if (a->lc != 2)
            return put_sw(rsp, 0, 0x6700);
        if (a->data[0] != 0xEF || a->data[1] != 0x05)
            return put_sw(rsp, 0, 0x6A82);
        /* On an ssse card EF05 lives in the application. */
        if (r->profile == CARD_PROFILE_SSSE && !r->app_selected)
            return put_sw(rsp, 0, 0x6A82);
        r->ef_selected = true;
        return put_sw(rsp, 0, 0x9000);
    }
    return put_sw(rsp, 0, 0x6A86);
}

static size_t h_get_response(sim_reader *r, const sim_apdu *a, uint8_t *rsp)
{
    size_t want, give;

    if (a->p1 != 0 || a->p2 != 0)
        return put_sw(rsp, 0, 0x6A86);
    if (a->lc != 0 || !a->has_le)
        return put_sw(rsp, 0, 0x6700);
    if (r->pending_len == 0)
        return put_sw(rsp, 0, 0x6985);
    want = a->le;
    if (want > r->pending_len) {
        uint16_t sw = (uint16_t)(0x6C00 | (r->pending_len & 0xFF));
        /* Le 00 means "up to 256": give all. */
        if (a->le != 256)
            return put_sw(rsp, 0, sw);
        want = r->pending_len;
    }
    give = want;
    memcpy(rsp, r->pending, give);
    memmove(r->pending, r->pending + give, r->pending_len - give);
    r->pending_len -= give;
    if (r->pending_len > 0)
        return put_sw(rsp, give, (uint16_t)(0x6100 | (r->pending_len & 0xFF)));
    return put_sw(rsp, give, 0x9000);
}

static size_t h_read_record(sim_reader *r, const sim_apdu *a, uint8_t *rsp)
{
    uint8_t val[32];
    size_t n = 0;
    const char *date = NULL;

    if (a->p2 != 0x04)
        return put_sw(rsp, 0, 0x6A86);
    if (a->lc != 0 || !a->has_le)
        return put_sw(rsp, 0, 0x6700);
    if (!r->ef_selected)
        return put_sw(rsp, 0, 0x6986);
    switch (a->p1) {
    case 0x07:
        n = strlen(r->cur->number);
        memcpy(val, r->cur->number, n);
        break;
    case 0x06:
        date = r->expiry;
        break;
    case 0x05:
        date = SIM_ISSUE_DATE;
        break;
    case 0x03:
        n = 4;
        memcpy(val, "3.00", n);
        break;
    case 0x01:
        n = strlen(SIM_ID_CODE);
        memcpy(val, SIM_ID_CODE, n);
        break;
    default:
        return put_sw(rsp, 0, 0x6A83);
    }
    if (date) {
        for (n = 0; n < 4; n++)
            val[n] = (uint8_t)((date[2 * n] - '0') << 4 | (date[2 * n + 1] - '0'));
    }
    if (a->le != 256 && a->le != n + 2)
        return put_sw(rsp, 0, (uint16_t)(0x6C00 | (n + 2)));
    rsp[0] = a->p1;
    rsp[1] = (uint8_t)n;
    memcpy(rsp + 2, val, n);
    return put_sw(rsp, n + 2, 0x9000);
}

static size_t h_verify(sim_reader *r, const sim_apdu *a, uint8_t *rsp)
{
    char pin[17] = "";
    bool ok;
    uint16_t sw;

    if (a->p1 != 0x00)
        return put_sw(rsp, 0, 0x6A86);
    if (r->profile == CARD_PROFILE_SSSE) {
        if (a->p2 != 0x00)
            return put_sw(rsp, 0, 0x6A88);
        if (!r->app_selected)
            return put_sw(rsp, 0, 0x6985);
    } else if (a->p2 != r->iso_ref) {
        return put_sw(rsp, 0, 0x6A88);
    }
    if (a->lc == 0) {
        /* The hostile behaviour of some cards: an empty VERIFY costs a try. */
        sw = check_pin(r->cur, NULL, &ok);
        return put_sw(rsp, 0, sw);
    }
    if (r->profile == CARD_PROFILE_SSSE) {
        if (a->lc < 2 || a->lc > 8)
            return put_sw(rsp, 0, 0x6700);
        if (!bcd_decode(a->data, a->lc, false, pin))
            sw = 0x6A80;
        else
            sw = check_pin(r->cur, pin, &ok);
    } else {
        if (a->lc != SIM_PIN_BLOCK)
            return put_sw(rsp, 0, 0x6700);
        if (!block_decode(a->data, r->iso_pad, pin))
            sw = 0x6A80;
        else
            sw = check_pin(r->cur, pin, &ok);
    }
    secure_wipe(pin, sizeof pin);
    return put_sw(rsp, 0, sw);
}

/* Checks `old`, then stores `new_pin`. */
static uint16_t change_pin(sim_card *c, const char *old, const char *new_pin)
{
    bool ok;
    uint16_t sw = check_pin(c, old, &ok);

    if (ok) {
        secure_wipe(c->pin, sizeof c->pin);
        memcpy(c->pin, new_pin, strlen(new_pin) + 1);
    }
    return sw;
}

static size_t h_change_ssse(sim_reader *r, const sim_apdu *a, uint8_t *rsp)
{
    char old[17] = "", new_pin[17] = "";
    const uint8_t *sep;
    size_t olen;
    uint16_t sw;

    if (a->p1 != 0x01 || a->p2 != 0x00)
        return put_sw(rsp, 0, 0x6A86);
    if (!r->app_selected)
        return put_sw(rsp, 0, 0x6985);
    if (a->lc < 5 || a->lc > 17)
        return put_sw(rsp, 0, 0x6700);
    /* A BCD PIN never holds a whole FF byte, so the first FF separates. */
    sep = memchr(a->data, 0xFF, a->lc);
    if (sep == NULL) {
        sw = 0x6A80;
        goto out;
    }
    olen = (size_t)(sep - a->data);
    if (olen > 8 || a->lc - olen - 1 > 8 ||
        !bcd_decode(a->data, olen, false, old) ||
        !bcd_decode(sep + 1, a->lc - olen - 1, false, new_pin)) {
        sw = 0x6A80;
        goto out;
    }
    sw = change_pin(r->cur, old, new_pin);
out:
    secure_wipe(old, sizeof old);
    secure_wipe(new_pin, sizeof new_pin);
    return put_sw(rsp, 0, sw);
}

static size_t h_change_iso(sim_reader *r, const sim_apdu *a, uint8_t *rsp)
{
    char old[17] = "", new_pin[17] = "";
    uint16_t sw;

    if (a->p1 != 0x00)
        return put_sw(rsp, 0, 0x6A86);
    if (a->p2 != r->iso_ref)
        return put_sw(rsp, 0, 0x6A88);
    if (a->lc != 2 * SIM_PIN_BLOCK)
        return put_sw(rsp, 0, 0x6700);
    if (!block_decode(a->data, r->iso_pad, old) ||
        !block_decode(a->data + SIM_PIN_BLOCK, r->iso_pad, new_pin))
        sw = 0x6A80;
    else
        sw = change_pin(r->cur, old, new_pin);
    secure_wipe(old, sizeof old);
    secure_wipe(new_pin, sizeof new_pin);
    return put_sw(rsp, 0, sw);
}

/* ---- the bureau-made reset ---------------------------------------------- */

void sim_reset_command(const char *card_number, const uint8_t challenge[CARD_CHALLENGE_LEN],
                       uint8_t out_apdu[SIM_RESET_APDU_LEN])
{
    static const uint8_t head[5] = { 0x84, 0x2C, 0x00, 0x00, SIM_RESET_MAC_LEN };
    size_t n = strlen(card_number);
    uint8_t digest[SHA256_DIGEST_LEN];
    uint8_t key[SIM_RESET_KEY_LEN];
    sha256_ctx sc;
    hmac_sha256_ctx hc;

    sha256_init(&sc);
    sha256_update(&sc, SIM_RESET_KEY_PREFIX, strlen(SIM_RESET_KEY_PREFIX));
    sha256_update(&sc, card_number, n);
    sha256_final(&sc, digest);
    memcpy(key, digest, sizeof key);
    hmac_sha256_init(&hc, key, sizeof key);
    hmac_sha256_update(&hc, challenge, CARD_CHALLENGE_LEN);
    hmac_sha256_update(&hc, card_number, n);
    hmac_sha256_final(&hc, digest);
    memcpy(out_apdu, head, sizeof head);
    memcpy(out_apdu + sizeof head, digest, SIM_RESET_MAC_LEN);
    secure_wipe(digest, sizeof digest);
    secure_wipe(key, sizeof key);
}

static size_t h_get_challenge(sim_reader *r, const sim_apdu *a, uint8_t *rsp)
{
    if (a->p1 != 0x00 || a->p2 != 0x00)
        return put_sw(rsp, 0, 0x6A86);
    if (a->lc != 0 || !a->has_le)
        return put_sw(rsp, 0, 0x6700);
    if (r->profile == CARD_PROFILE_SSSE && !r->app_selected)
        return put_sw(rsp, 0, 0x6985);
    if (a->le != 256 && a->le != CARD_CHALLENGE_LEN)
        return put_sw(rsp, 0, 0x6C00 | CARD_CHALLENGE_LEN);
    if (r->chal_fixed)
        memcpy(r->chal, r->chal_fixed_val, CARD_CHALLENGE_LEN);
    else if (!secure_random(r->chal, CARD_CHALLENGE_LEN))
        return put_sw(rsp, 0, 0x6F00);
    r->chal_live = true;
    memcpy(rsp, r->chal, CARD_CHALLENGE_LEN);
    return put_sw(rsp, CARD_CHALLENGE_LEN, 0x9000);
}

/* Compares in time independent of where the first difference is, as a
 * card would (a test card, but the habit costs nothing). */
static bool same_mac(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;

    for (size_t i = 0; i < n; i++)
        d |= (uint8_t)(a[i] ^ b[i]);
    return d == 0;
}

static size_t h_reset(sim_reader *r, const sim_apdu *a, uint8_t *rsp)
{
    uint8_t want[SIM_RESET_APDU_LEN];
    sim_card *c = r->cur;
    bool ok;

    if (a->p1 != 0x00 || a->p2 != 0x00)
        return put_sw(rsp, 0, 0x6A86);
    if (a->lc != SIM_RESET_MAC_LEN)
        return put_sw(rsp, 0, 0x6700);
    if (!r->chal_prev)
        return put_sw(rsp, 0, 0x6988);
    sim_reset_command(c->number, r->chal, want);
    ok = same_mac(a->data, want + 5, SIM_RESET_MAC_LEN);
    secure_wipe(want, sizeof want);
    if (!ok)
        return put_sw(rsp, 0, 0x6988);
    secure_wipe(c->pin, sizeof c->pin);
    memcpy(c->pin, SIM_INITIAL_PIN, sizeof SIM_INITIAL_PIN);
    c->tries = c->max_tries;
    c->blocked = false;
    return put_sw(rsp, 0, 0x9000);
}

/* profile AUTO: both kinds of card know the command. */
static const struct {
    uint8_t cla, ins;
    card_profile profile;
    sim_handler fn;
} sim_cmds[] = {
    { 0x00, 0xA4, CARD_PROFILE_AUTO,    h_select },
    { 0x00, 0xC0, CARD_PROFILE_AUTO,    h_get_response },
    { 0x00, 0xB2, CARD_PROFILE_AUTO,    h_read_record },
    { 0x00, 0x20, CARD_PROFILE_AUTO,    h_verify },
    { 0x80, 0x5E, CARD_PROFILE_SSSE,    h_change_ssse },
    { 0x00, 0x24, CARD_PROFILE_ISO7816, h_change_iso },
    { 0x00, 0x84, CARD_PROFILE_AUTO,    h_get_challenge },
    { 0x84, 0x2C, CARD_PROFILE_AUTO,    h_reset },
};

static bool parse_apdu(const uint8_t *cmd, size_t len, sim_apdu *a)
{
    memset(a, 0, sizeof *a);
    if (len < 4 || len > CARD_APDU_MAX)
        return false;
    a->cla = cmd[0];
    a->ins = cmd[1];
    a->p1 = cmd[2];
    a->p2 = cmd[3];
    if (len == 4)
        return true;
    if (len == 5) {
        a->has_le = true;
        a->le = cmd[4] ? cmd[4] : 256;
        return true;
    }
    a->lc = cmd[4];
    a->data = cmd + 5;
    if (a->lc == 0)
        return false;
    if (len == 5 + a->lc)
        return true;
    if (len == 6 + a->lc) {
        a->has_le = true;
        a->le = cmd[len - 1] ? cmd[len - 1] : 256;
        return true;
    }
    return false;
}

size_t sim_exec(sim_reader *r, const uint8_t *cmd, size_t len, uint8_t *rsp)
{
    sim_apdu a;
    bool ins_known = false;

    /* Any command at all uses up the challenge: only the very next one may
     * be the reset made for it. */
    r->chal_prev = r->chal_live;
    r->chal_live = false;
    if (!parse_apdu(cmd, len, &a)) {
        r->pending_len = 0;
        return put_sw(rsp, 0, 0x6700);
    }
    if (a.ins != 0xC0)
        r->pending_len = 0; /* GET RESPONSE must follow at once */
    if (r->locked && a.ins != 0xA4 && a.ins != 0xC0)
        return put_sw(rsp, 0, 0x9303);
    for (size_t i = 0; i < sizeof sim_cmds / sizeof sim_cmds[0]; i++) {
        if (sim_cmds[i].ins != a.ins)
            continue;
        if (sim_cmds[i].profile != CARD_PROFILE_AUTO && sim_cmds[i].profile != r->profile)
            continue;
        ins_known = true;
        if (sim_cmds[i].cla == a.cla)
            return sim_cmds[i].fn(r, &a, rsp);
    }
    return put_sw(rsp, 0, ins_known ? 0x6E00 : 0x6D00);
}
