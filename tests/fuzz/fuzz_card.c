/* fuzz_card.c - libFuzzer target: arbitrary card replies to the card layer
 * (card_read, card_verify, card_change, card_challenge, card_reset_pin,
 * card_exchange) and arbitrary status words to sw_lookup().
 *
 * The card layer talks to a card only through card_transport, so a fake
 * transport that answers each transmit() with the next chunk of the fuzz
 * input reaches every path a real (or hostile) card could. Invariants come
 * from the contracts in card.h, profile.h and sw.h; a violation prints which
 * one and traps, so libFuzzer keeps the input as a crash.
 *
 * Input layout (all of it optional past the header; a short input just
 * means the "card" stops answering, which the transport reports as CT_ERROR):
 *
 *   byte 0  bits 0-1 operation: 0 read, 1 verify, 2 change, 3 one of the
 *           others, by byte 1's low nibble % 3: 0 raw exchange,
 *           1 challenge, 2 the bureau's reset command
 *           bits 2-3 cfg.profile (value % 3: auto, ssse, iso7816)
 *           bit  4   cfg.iso_padding (0 ASCII+FF, 1 BCD)
 *           bits 5-6 `used` profile for verify/change (value % 3)
 *           bit  7   pass cfg = NULL (the defaults)
 *   byte 1  low nibble: old PIN, high nibble: new PIN (index into pins[]);
 *           operation 3: the low nibble picks the operation instead
 *   byte 2  cfg.iso_pin_ref
 *   byte 3  today (index % N into todays[])
 *   byte 4-5 a status word for sw_lookup()
 *   then, for the raw exchange only:
 *           flags byte (bit 0: CARD_X_NO_RESEND), data_cap byte (255 means
 *           CARD_REPLY_MAX), command length byte (255: 255 + next byte),
 *           the command bytes
 *   then, for the reset only: command length byte (255: 255 + next byte),
 *           the bureau's command bytes (well-formed or not)
 *   then one chunk per transmit(): a control byte c
 *           c <= 0xFC  reply of c bytes follows
 *           c == 0xFD  reply of 253 + next byte bytes follows (up to 508:
 *                      longer than resp_cap, so the "cut" path is reached)
 *           c == 0xFE  CT_ERROR
 *           c == 0xFF  CT_REMOVED
 *           A reply cut short by the end of the input is as long as what is
 *           left. Replies longer than resp_cap are stored up to resp_cap and
 *           reported with their full length, as card.h asks of a transport.
 *
 * Nothing here allocates per input except the exchange's exact-size command
 * and data buffers (exact so that ASan sees any read or write past them).
 * Logging is off (it would dominate the run time) unless FUZZ_CARD_LOG=1.
 */
#include "card/card.h"
#include "card/profile.h"
#include "card/sw.h"
#include "util/log.h"
#include "util/mask.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "fuzz_card: invariant violated at %s:%d: %s\n", __FILE__,  \
                    __LINE__, #cond);                                                  \
            fake_dump();                                                               \
            __builtin_trap();                                                          \
        }                                                                              \
    } while (0)

/* One command draws at most itself, one 6Cxx resend and 16 GET RESPONSE
 * rounds (apdu.c); a read is four commands, the most any operation sends. */
#define PER_CMD_MAX 18
#define TRANSMIT_MAX (4 * PER_CMD_MAX)
#define HDR_LEN 6

/* 4..16 digits, plus a few the layer must refuse without sending anything. */
static const char *const pins[16] = {
    "123456", "654321", "1234", "12345", "1234567", "12345678", "123456789",
    "1234567890", "12345678901234", "1234567890123456", "000000", "999999999999999",
    "123", "12345678901234567", "12a456", "",
};

static const char *const todays[] = {
    NULL, "20240615", "20991231", "19000101", "2024061", "2024O615", "00000000",
};

typedef struct {
    uint8_t cmd[CARD_APDU_MAX];
    size_t cmd_len;
    ct_status ct;
    uint8_t reply[CARD_REPLY_MAX]; /* as much as fitted in resp_cap */
    size_t reply_len;              /* as reported, may exceed reply_cap */
    size_t reply_cap;
} fake_tx;

typedef struct {
    const uint8_t *p; /* the rest of the input: the card's answers */
    size_t n;
    fake_tx tx[TRANSMIT_MAX];
    size_t ntx;
    bool dead; /* a CT_REMOVED or CT_ERROR went out */
} fake;

/* Static: libFuzzer runs one input at a time, and a crash report can then
 * show what the card layer sent. */
static fake g_fake;

static void fake_dump(void)
{
    for (size_t i = 0; i < g_fake.ntx; i++) {
        const fake_tx *x = &g_fake.tx[i];

        fprintf(stderr, "  tx %zu:", i);
        for (size_t j = 0; j < x->cmd_len; j++)
            fprintf(stderr, " %02X", x->cmd[j]);
        if (x->ct != CT_OK) {
            fprintf(stderr, "  -> %s\n", x->ct == CT_REMOVED ? "REMOVED" : "ERROR");
            continue;
        }
        fprintf(stderr, "  -> (%zu)", x->reply_len);
        for (size_t j = 0; j < x->reply_len && j < x->reply_cap; j++)
            fprintf(stderr, " %02X", x->reply[j]);
        fprintf(stderr, "\n");
    }
}

static bool take_byte(fake *f, uint8_t *b)
{
    if (f->n == 0)
        return false;
    *b = *f->p++;
    f->n--;
    return true;
}

static ct_status fake_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                               size_t resp_cap, size_t *resp_len)
{
    fake *f = ctx;
    fake_tx *x;
    uint8_t c, ext;
    size_t len, fit;

    CHECK(f == &g_fake);
    CHECK(cmd != NULL && resp != NULL && resp_len != NULL);
    CHECK(cmd_len >= 4 && cmd_len <= CARD_APDU_MAX);
    /* After "removed" or "error" the operation must stop, not carry on. */
    CHECK(!f->dead);
    CHECK(f->ntx < TRANSMIT_MAX);

    x = &f->tx[f->ntx++];
    memset(x, 0, sizeof *x);
    memcpy(x->cmd, cmd, cmd_len); /* ASan: cmd really holds cmd_len bytes */
    x->cmd_len = cmd_len;
    x->reply_cap = resp_cap < sizeof x->reply ? resp_cap : sizeof x->reply;
    memset(resp, 0xA5, resp_cap); /* ASan: resp really holds resp_cap bytes */

    if (!take_byte(f, &c) || c == 0xFE) {
        x->ct = CT_ERROR;
        f->dead = true;
        return CT_ERROR;
    }
    if (c == 0xFF) {
        x->ct = CT_REMOVED;
        f->dead = true;
        return CT_REMOVED;
    }
    len = c;
    if (c == 0xFD)
        len = 253 + (take_byte(f, &ext) ? ext : 0);
    if (len > f->n)
        len = f->n;
    fit = len < resp_cap ? len : resp_cap;
    memcpy(resp, f->p, fit);
    memcpy(x->reply, f->p, fit < sizeof x->reply ? fit : sizeof x->reply);
    f->p += len;
    f->n -= len;
    *resp_len = len;
    x->ct = CT_OK;
    x->reply_len = len;
    return CT_OK;
}

/* ---- helpers for the oracles --------------------------------------------- */

static bool sw1_ok(uint8_t sw1)
{
    return ((sw1 & 0xF0) == 0x60 && sw1 != 0x60) || (sw1 & 0xF0) == 0x90;
}

/* A reply the exchange accepts as carrying a status word. */
static bool tx_well_formed(const fake_tx *x)
{
    return x->ct == CT_OK && x->reply_len >= 2 && x->reply_len <= x->reply_cap &&
           x->reply_len <= CARD_REPLY_MAX && sw1_ok(x->reply[x->reply_len - 2]);
}

static uint16_t tx_sw(const fake_tx *x)
{
    return (uint16_t)(x->reply[x->reply_len - 2] << 8 | x->reply[x->reply_len - 1]);
}

static bool is_pin_ins(uint8_t ins)
{
    return ins == 0x20 || ins == 0x24 || ins == 0x5E;
}

static bool is_get_response(const fake_tx *x)
{
    return x->cmd_len == 5 && x->cmd[0] == 0x00 && x->cmd[1] == 0xC0 && x->cmd[2] == 0x00 &&
           x->cmd[3] == 0x00;
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool pin_ok(const char *pin)
{
    size_t n = strlen(pin);

    return n >= CARD_PIN_MIN && n <= CARD_PIN_MAX && digits(pin, n);
}

static size_t enc_bcd(const char *pin, uint8_t *dst)
{
    size_t n = strlen(pin);

    for (size_t i = 0; i < n; i += 2) {
        uint8_t lo = i + 1 < n ? (uint8_t)(pin[i + 1] - '0') : 0x0F;
        dst[i / 2] = (uint8_t)((pin[i] - '0') << 4 | lo);
    }
    return (n + 1) / 2;
}

/* The 8-byte iso7816 block, written independently of profile.c. */
static bool enc_block(const char *pin, iso_pin_padding pad, uint8_t dst[8])
{
    size_t n = strlen(pin);

    memset(dst, 0xFF, 8);
    if (pad == ISO_PAD_BCD) {
        enc_bcd(pin, dst);
        return true;
    }
    if (n > 8)
        return false;
    memcpy(dst, pin, n);
    return true;
}

/* The one PIN command profile.h documents for this profile and PINs;
 * 0 when the PINs cannot be sent (ASCII padding of a PIN over 8 digits). */
static size_t expected_pin_cmd(card_profile prof, const card_cfg *cfg, bool change,
                               const char *old_pin, const char *new_pin,
                               uint8_t out[CARD_APDU_MAX])
{
    size_t len = 5;

    if (prof == CARD_PROFILE_SSSE) {
        out[0] = change ? 0x80 : 0x00;
        out[1] = change ? 0x5E : 0x20;
        out[2] = change ? 0x01 : 0x00;
        out[3] = 0x00;
        len += enc_bcd(old_pin, out + len);
        if (change) {
            out[len++] = 0xFF;
            len += enc_bcd(new_pin, out + len);
        }
    } else {
        out[0] = 0x00;
        out[1] = change ? 0x24 : 0x20;
        out[2] = 0x00;
        out[3] = cfg->iso_pin_ref;
        if (!enc_block(old_pin, cfg->iso_padding, out + len))
            return 0;
        len += 8;
        if (change) {
            if (!enc_block(new_pin, cfg->iso_padding, out + len))
                return 0;
            len += 8;
        }
    }
    out[4] = (uint8_t)(len - 5);
    return len;
}

/* x is p sent again with Le = the SW2 of p's 6Cxx reply. */
static bool is_resend_of(const fake_tx *p, const fake_tx *x)
{
    size_t body = p->cmd_len <= 5 ? 4 : 5u + p->cmd[4];

    return tx_well_formed(p) && p->reply[p->reply_len - 2] == 0x6C &&
           x->cmd_len == body + 1 && memcmp(x->cmd, p->cmd, body) == 0 &&
           x->cmd[body] == p->reply[p->reply_len - 1];
}

/* The commands the profile itself issued, in order: what the transport saw
 * minus the exchange's own GET RESPONSEs and 6Cxx resends. (After a second
 * 6Cxx the exchange gives up, so the next command may be a profile's.) */
static size_t top_level(const fake *f, const fake_tx *top[TRANSMIT_MAX])
{
    size_t n = 0;

    for (size_t i = 0; i < f->ntx; i++) {
        const fake_tx *p = i > 0 ? &f->tx[i - 1] : NULL;

        if (p && (is_get_response(&f->tx[i]) || is_resend_of(p, &f->tx[i])))
            continue;
        top[n++] = &f->tx[i];
    }
    return n;
}

static bool tx_is(const fake_tx *x, const uint8_t *cmd, size_t len)
{
    return x->cmd_len == len && memcmp(x->cmd, cmd, len) == 0;
}

static const uint8_t cmd_select_ssse[] = {
    0x00, 0xA4, 0x04, 0x00, 0x0F,
    0x73, 0x78, 0x31, 0x2E, 0x73, 0x68, 0x2E, 0xC9, 0xE7, 0xBB, 0xE1, 0xB1, 0xA3, 0xD5, 0xCF,
};
static const uint8_t cmd_select_ef05[] = { 0x00, 0xA4, 0x02, 0x00, 0x02, 0xEF, 0x05 };
static const uint8_t cmd_read_07[] = { 0x00, 0xB2, 0x07, 0x04, 0x00 };
static const uint8_t cmd_read_06[] = { 0x00, 0xB2, 0x06, 0x04, 0x00 };

/* ---- checks shared by every operation ----------------------------------- */

static void check_common(const card_result *r, card_op op)
{
    const fake *f = &g_fake;
    const fake_tx *last = f->ntx ? &f->tx[f->ntx - 1] : NULL;
    size_t pin_cmds = 0;
    char masked[MASK_CARD_MAX];
    size_t n;

    CHECK(r->op == op);
    CHECK((unsigned)r->res < CARD_RES__LAST);
    CHECK(strcmp(card_res_name(r->res), "?") != 0);
    CHECK((unsigned)r->profile <= CARD_PROFILE_ISO7816);
    CHECK(r->gen == 0);
    CHECK(r->tries >= -1 && r->tries <= 15);

    /* card.h: tries only means something for WRONG_PIN and BLOCKED. */
    if (r->res == CARD_RES_WRONG_PIN)
        CHECK(r->tries == -1 || (r->tries >= 1 && r->tries <= 15));
    else if (r->res == CARD_RES_BLOCKED)
        CHECK(r->tries == 0 || r->tries == -1);
    else
        CHECK(r->tries == -1);

    n = strnlen(r->card_number, CARD_NUMBER_MAX);
    CHECK(n < CARD_NUMBER_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = r->card_number[i];
        CHECK((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'));
    }
    n = strnlen(r->expiry, CARD_EXPIRY_MAX);
    CHECK(n == 0 || n == 8);
    if (n == 8) {
        int month = (r->expiry[4] - '0') * 10 + (r->expiry[5] - '0');
        int day = (r->expiry[6] - '0') * 10 + (r->expiry[7] - '0');
        CHECK(digits(r->expiry, 8));
        CHECK(month >= 1 && month <= 12 && day >= 1 && day <= 31);
    }

    /* The masked form is what reaches the logs: never the middle digits. */
    mask_card(r->card_number, masked);
    CHECK(strnlen(masked, MASK_CARD_MAX) < MASK_CARD_MAX);
    n = strlen(r->card_number);
    if (n <= 6) {
        CHECK(strcmp(masked, "***") == 0);
    } else {
        /* never more than half in view: 2 each side up to 8, then 3 */
        size_t k = n <= 8 ? 2 : 3;
        CHECK(strlen(masked) == 2 * k + 3 && memcmp(masked, r->card_number, k) == 0 &&
              memcmp(masked + k, "***", 3) == 0 &&
              memcmp(masked + k + 3, r->card_number + n - k, k) == 0);
    }

    /* The transport outcome shows in the result, and only then. */
    if (r->res == CARD_RES_REMOVED)
        CHECK(last && last->ct == CT_REMOVED);
    if (r->res == CARD_RES_IO)
        CHECK(last && last->ct == CT_ERROR);
    if (last && last->ct == CT_REMOVED)
        CHECK(r->res == CARD_RES_REMOVED);
    if (last && last->ct == CT_ERROR)
        CHECK(r->res == CARD_RES_IO);

    /* A definite card answer means a profile was settled on; the reset
     * reports the one it was given, since it may send nothing first. */
    if (op != CARD_OP_RESET && (r->res == CARD_RES_OK || r->res == CARD_RES_EXPIRED || r->res == CARD_RES_WRONG_PIN ||
        r->res == CARD_RES_BLOCKED || r->res == CARD_RES_LOCKED))
        CHECK(r->profile != CARD_PROFILE_AUTO);
    /* Only a challenge carries one, and only when it succeeded. */
    if (op != CARD_OP_CHALLENGE || r->res != CARD_RES_OK) {
        static const uint8_t zero[CARD_CHALLENGE_LEN];
        CHECK(memcmp(r->challenge, zero, sizeof zero) == 0);
    }

    for (size_t i = 0; i < f->ntx; i++) {
        const fake_tx *x = &f->tx[i];

        /* The reset's first command is the bureau's, opaque: any bytes. */
        bool opaque = op == CARD_OP_RESET && i == 0;

        if (is_pin_ins(x->cmd[1]))
            pin_cmds++;
        /* card-facts.md: never probe the counter with an empty VERIFY. */
        if (x->cmd[1] == 0x20 && !opaque)
            CHECK(x->cmd_len > 5 && x->cmd[4] != 0 && x->cmd_len >= 5u + x->cmd[4]);
        /* The profiles never send GET RESPONSE themselves: the exchange
         * does, after a 61xx (or resends one after a 6Cxx), with Le = SW2. */
        if (is_get_response(x) && !opaque) {
            const fake_tx *p = i > 0 ? &f->tx[i - 1] : NULL;
            CHECK(p != NULL && tx_well_formed(p));
            CHECK(p->reply[p->reply_len - 2] == 0x61 || p->reply[p->reply_len - 2] == 0x6C);
            CHECK(x->cmd[4] == p->reply[p->reply_len - 1]);
        }
    }
    /* card-facts.md: VERIFY and CHANGE are never sent twice. */
    CHECK(pin_cmds <= 1);
    if (op == CARD_OP_READ || op == CARD_OP_CHALLENGE)
        CHECK(pin_cmds == 0);
}

/* ---- operations ---------------------------------------------------------- */

static void run_read(const card_transport *t, const card_cfg *cfg, const card_cfg *eff,
                     const char *today)
{
    card_result r;

    memset(&r, 0x5A, sizeof r); /* the layer must fill every field */
    card_read(t, cfg, today, &r);
    check_common(&r, CARD_OP_READ);

    if (r.res == CARD_RES_OK || r.res == CARD_RES_EXPIRED) {
        CHECK(r.card_number[0] != '\0');
        CHECK(g_fake.ntx >= 3);
    }
    if (r.res == CARD_RES_EXPIRED) {
        CHECK(today && strlen(today) == 8 && digits(today, 8));
        CHECK(r.expiry[0] && strcmp(r.expiry, today) < 0);
    }
    if (r.res == CARD_RES_OK && today && strlen(today) == 8 && digits(today, 8) && r.expiry[0])
        CHECK(strcmp(r.expiry, today) >= 0);
    /* profile.h: [SELECT AID unless iso7816,] SELECT EF05, record 07,
     * record 06, each sent once (bar its own 61xx/6Cxx housekeeping). */
    {
        const fake_tx *top[TRANSMIT_MAX];
        const uint8_t *want[4];
        size_t want_len[4], nwant = 0, ntop = top_level(&g_fake, top);

        if (eff->profile != CARD_PROFILE_ISO7816) {
            want[nwant] = cmd_select_ssse;
            want_len[nwant++] = sizeof cmd_select_ssse;
        }
        want[nwant] = cmd_select_ef05;
        want_len[nwant++] = sizeof cmd_select_ef05;
        want[nwant] = cmd_read_07;
        want_len[nwant++] = sizeof cmd_read_07;
        want[nwant] = cmd_read_06;
        want_len[nwant++] = sizeof cmd_read_06;
        CHECK(ntop <= nwant);
        for (size_t i = 0; i < ntop; i++)
            CHECK(tx_is(top[i], want[i], want_len[i]));
        if (r.res == CARD_RES_OK || r.res == CARD_RES_EXPIRED)
            CHECK(ntop == nwant);
    }
    /* Reading never maps a status word to a PIN outcome. */
    CHECK(r.res != CARD_RES_WRONG_PIN && r.res != CARD_RES_BLOCKED);
}

static void run_pin(const card_transport *t, const card_cfg *cfg, const card_cfg *eff,
                    card_profile used, bool change, const char *old_pin, const char *new_pin)
{
    card_result r;
    uint8_t want[CARD_APDU_MAX];
    size_t want_len, pin_at = SIZE_MAX;
    card_op op = change ? CARD_OP_CHANGE : CARD_OP_VERIFY;

    memset(&r, 0x5A, sizeof r);
    if (change)
        card_change(t, cfg, used, old_pin, new_pin, &r);
    else
        card_verify(t, cfg, used, old_pin, &r);
    check_common(&r, op);

    CHECK(r.card_number[0] == '\0' && r.expiry[0] == '\0');

    if (!pin_ok(old_pin) || (change && !pin_ok(new_pin))) {
        CHECK(r.res == CARD_RES_REFUSED);
        CHECK(g_fake.ntx == 0);
        return;
    }
    /* `used` wins over the configuration when it names a profile. */
    if (used != CARD_PROFILE_AUTO)
        CHECK(r.profile == used);
    if (used == CARD_PROFILE_ISO7816 ||
        (used == CARD_PROFILE_AUTO && eff->profile == CARD_PROFILE_ISO7816))
        CHECK(r.profile == CARD_PROFILE_ISO7816);

    /* profile.h: [SELECT AID unless iso7816,] then the PIN command. */
    {
        const fake_tx *top[TRANSMIT_MAX];
        size_t ntop = top_level(&g_fake, top);
        card_profile want_prof = used != CARD_PROFILE_AUTO ? used : eff->profile;

        if (want_prof == CARD_PROFILE_ISO7816) {
            CHECK(ntop <= 1);
        } else {
            CHECK(ntop <= 2);
            if (ntop > 0)
                CHECK(tx_is(top[0], cmd_select_ssse, sizeof cmd_select_ssse));
        }
    }
    for (size_t i = 0; i < g_fake.ntx; i++)
        if (is_pin_ins(g_fake.tx[i].cmd[1]))
            pin_at = i;

    if (pin_at != SIZE_MAX) {
        const fake_tx *x = &g_fake.tx[pin_at];

        /* Exactly the documented bytes, and nothing after it but its own
         * GET RESPONSE chain (no resend of a PIN command on 6Cxx). */
        want_len = expected_pin_cmd(r.profile, eff, change, old_pin, new_pin, want);
        CHECK(want_len != 0);
        CHECK(x->cmd_len == want_len && memcmp(x->cmd, want, want_len) == 0);
        for (size_t i = pin_at + 1; i < g_fake.ntx; i++)
            CHECK(is_get_response(&g_fake.tx[i]));
    } else {
        /* No PIN went out: the card cannot have judged one. */
        CHECK(r.res != CARD_RES_OK);
        CHECK(r.res != CARD_RES_WRONG_PIN);
        CHECK(!(r.res == CARD_RES_BLOCKED && r.tries == 0));
    }
    if (r.res == CARD_RES_OK)
        CHECK(r.sw == 0x9000);
    if (r.res == CARD_RES_WRONG_PIN || r.res == CARD_RES_BLOCKED || r.res == CARD_RES_LOCKED)
        CHECK(r.sw != 0 && r.sw != 0x9000);
}

/* An APDU as card.h defines it: short, case 1..4, Lc not 0. */
static bool apdu_ok(const uint8_t *c, size_t n)
{
    if (n < 4 || n > CARD_APDU_MAX)
        return false;
    if (n <= 5)
        return true;
    return c[4] != 0 && (n == 5u + c[4] || n == 6u + c[4]);
}

static void run_exchange(const card_transport *t, fake *f)
{
    uint8_t flags_b = 0, cap_b = 0, len_b = 0, ext = 0;
    size_t cap, cmd_len, data_len = 12345, resends = 0, getresp = 0, exp_len = 0;
    unsigned flags;
    uint8_t *cmd = NULL, *data = NULL;
    uint8_t expect[CARD_REPLY_MAX * 2];
    uint16_t sw = 0x1234, want_sw = 0;
    cx_status st;

    (void)take_byte(f, &flags_b);
    (void)take_byte(f, &cap_b);
    (void)take_byte(f, &len_b);
    cmd_len = len_b;
    if (len_b == 255)
        cmd_len += take_byte(f, &ext) ? ext : 0;
    if (cmd_len > f->n)
        cmd_len = f->n;
    flags = (flags_b & 1) ? CARD_X_NO_RESEND : 0;
    cap = cap_b == 255 ? CARD_REPLY_MAX : cap_b;

    cmd = malloc(cmd_len ? cmd_len : 1);
    data = malloc(cap ? cap : 1);
    if (!cmd || !data)
        goto out;
    memcpy(cmd, f->p, cmd_len);
    f->p += cmd_len;
    f->n -= cmd_len;

    st = card_exchange(t, cmd, cmd_len, flags, data, cap, &data_len, &sw);
    CHECK((unsigned)st <= CX_BADCMD);

    if (!apdu_ok(cmd, cmd_len)) {
        CHECK(st == CX_BADCMD);
        CHECK(f->ntx == 0 && sw == 0 && data_len == 0);
        goto out;
    }
    CHECK(st != CX_BADCMD);
    CHECK(f->ntx >= 1 && f->ntx <= PER_CMD_MAX);
    CHECK(f->tx[0].cmd_len == cmd_len && memcmp(f->tx[0].cmd, cmd, cmd_len) == 0);

    for (size_t i = 1; i < f->ntx; i++) {
        const fake_tx *p = &f->tx[i - 1], *x = &f->tx[i];
        uint8_t sw1, sw2;

        CHECK(tx_well_formed(p));
        sw1 = p->reply[p->reply_len - 2];
        sw2 = p->reply[p->reply_len - 1];
        if (sw1 == 0x6C) {
            /* The resend: the previous command without its Le, Le = SW2. */
            CHECK(!(flags & CARD_X_NO_RESEND));
            CHECK(is_resend_of(p, x));
            resends++;
        } else {
            CHECK(sw1 == 0x61);
            CHECK(is_get_response(x) && x->cmd[4] == sw2);
            getresp++;
        }
    }
    CHECK(resends <= 1 && getresp <= 16);

    /* sw: the last well-formed status word seen, or 0. */
    for (size_t i = 0; i < f->ntx; i++)
        if (tx_well_formed(&f->tx[i]))
            want_sw = tx_sw(&f->tx[i]);
    CHECK(sw == want_sw);

    if (st == CX_OK) {
        const fake_tx *l = &f->tx[f->ntx - 1];

        CHECK(tx_well_formed(l) && tx_sw(l) == sw);
        CHECK((sw >> 8) != 0x61);
        CHECK(data_len <= cap);
        /* The data: every part but those a 6Cxx made the layer resend. */
        for (size_t i = 0; i < f->ntx; i++) {
            const fake_tx *x = &f->tx[i];
            size_t dl = x->reply_len - 2;

            if (x->reply[dl] == 0x6C && i + 1 < f->ntx)
                continue;
            CHECK(exp_len + dl <= sizeof expect);
            memcpy(expect + exp_len, x->reply, dl);
            exp_len += dl;
        }
        CHECK(data_len == exp_len && memcmp(data, expect, exp_len) == 0);
    } else {
        CHECK(data_len == 0);
        if (st == CX_GARBAGE)
            CHECK(f->tx[f->ntx - 1].ct == CT_OK);
        if (st == CX_REMOVED)
            CHECK(f->tx[f->ntx - 1].ct == CT_REMOVED);
        if (st == CX_IO)
            CHECK(f->tx[f->ntx - 1].ct == CT_ERROR);
    }
out:
    free(cmd);
    free(data);
}

static const uint8_t cmd_get_challenge[] = { 0x00, 0x84, 0x00, 0x00, CARD_CHALLENGE_LEN };

static void run_challenge(const card_transport *t, const card_cfg *cfg, const card_cfg *eff,
                          card_profile used)
{
    card_result r;
    const fake_tx *top[TRANSMIT_MAX];
    size_t ntop, at = SIZE_MAX;
    card_profile want_prof = used != CARD_PROFILE_AUTO ? used : eff->profile;

    memset(&r, 0x5A, sizeof r);
    card_challenge(t, cfg, used, &r);
    check_common(&r, CARD_OP_CHALLENGE);
    CHECK(r.card_number[0] == '\0' && r.expiry[0] == '\0');
    CHECK(r.tries == -1);
    if (used != CARD_PROFILE_AUTO)
        CHECK(r.profile == used);

    /* profile.h: [SELECT AID unless iso7816,] GET CHALLENGE, each once. */
    ntop = top_level(&g_fake, top);
    CHECK(ntop <= (want_prof == CARD_PROFILE_ISO7816 ? 1u : 2u));
    if (want_prof != CARD_PROFILE_ISO7816 && ntop > 0)
        CHECK(tx_is(top[0], cmd_select_ssse, sizeof cmd_select_ssse));
    for (size_t i = 0; i < g_fake.ntx; i++) {
        if (tx_is(&g_fake.tx[i], cmd_get_challenge, sizeof cmd_get_challenge)) {
            CHECK(at == SIZE_MAX); /* never resent (6Cxx) */
            at = i;
        }
    }
    CHECK(r.sent == (at != SIZE_MAX));
    if (at != SIZE_MAX) {
        /* After it: only its own GET RESPONSE chain. */
        for (size_t i = at + 1; i < g_fake.ntx; i++)
            CHECK(is_get_response(&g_fake.tx[i]));
    }
    if (r.res == CARD_RES_OK) {
        uint8_t got[CARD_REPLY_MAX * 2];
        size_t n = 0;

        CHECK(at != SIZE_MAX && r.sw == 0x9000);
        CHECK(r.profile != CARD_PROFILE_AUTO);
        /* The challenge is the data of the chain, and exactly 8 bytes. */
        for (size_t i = at; i < g_fake.ntx; i++) {
            const fake_tx *x = &g_fake.tx[i];
            CHECK(tx_well_formed(x));
            memcpy(got + n, x->reply, x->reply_len - 2);
            n += x->reply_len - 2;
        }
        CHECK(n == CARD_CHALLENGE_LEN);
        CHECK(memcmp(got, r.challenge, CARD_CHALLENGE_LEN) == 0);
    }
    if (r.res == CARD_RES_LOCKED)
        CHECK(r.sw == 0x9303);
    CHECK(r.res != CARD_RES_WRONG_PIN && r.res != CARD_RES_BLOCKED && r.res != CARD_RES_EXPIRED);
}

static void run_reset(const card_transport *t, const card_cfg *cfg, const card_cfg *eff,
                      card_profile used, fake *f)
{
    card_result r;
    uint8_t len_b = 0, ext = 0;
    size_t cmd_len;
    uint8_t *cmd;

    (void)take_byte(f, &len_b);
    cmd_len = len_b;
    if (len_b == 255)
        cmd_len += take_byte(f, &ext) ? ext : 0;
    if (cmd_len > f->n)
        cmd_len = f->n;
    cmd = malloc(cmd_len ? cmd_len : 1); /* exact: ASan sees any overread */
    if (cmd == NULL)
        return;
    memcpy(cmd, f->p, cmd_len);
    f->p += cmd_len;
    f->n -= cmd_len;

    memset(&r, 0x5A, sizeof r);
    card_reset_pin(t, cfg, used, cmd, cmd_len, &r);
    check_common(&r, CARD_OP_RESET);
    CHECK(r.card_number[0] == '\0' && r.expiry[0] == '\0');
    CHECK(r.tries == -1);
    CHECK(r.profile == (used != CARD_PROFILE_AUTO ? used : eff->profile));

    if (!apdu_ok(cmd, cmd_len)) {
        CHECK(r.res == CARD_RES_REFUSED && !r.sent && r.sw == 0);
        CHECK(g_fake.ntx == 0);
        goto out;
    }
    /* Sent as given, once, and nothing after it (not even a GET RESPONSE:
     * a 61xx already says it was carried out). */
    CHECK(r.sent);
    CHECK(g_fake.ntx == 1);
    CHECK(tx_is(&g_fake.tx[0], cmd, cmd_len));
    if (r.res == CARD_RES_OK)
        CHECK(r.sw == 0x9000 || (r.sw >> 8) == 0x61);
    if (r.res == CARD_RES_LOCKED)
        CHECK(r.sw == 0x9303);
    if (r.res == CARD_RES_REFUSED) {
        /* A definite answer: a well-formed reply whose word ISO 7816-4 says
         * leaves the card's memory unchanged (62xx, 64xx, 67xx..6Exx). */
        const fake_tx *l = &g_fake.tx[0];
        uint8_t sw1 = (uint8_t)(r.sw >> 8);
        CHECK(tx_well_formed(l) && tx_sw(l) == r.sw);
        CHECK(sw1 == 0x62 || sw1 == 0x64 || (sw1 >= 0x67 && sw1 <= 0x6E));
    }
    if (tx_well_formed(&g_fake.tx[0])) {
        uint8_t sw1 = (uint8_t)(tx_sw(&g_fake.tx[0]) >> 8);
        /* Memory changed or no diagnosis: never a refusal. */
        if (sw1 == 0x63 || sw1 == 0x65 || sw1 == 0x66 || sw1 == 0x6F)
            CHECK(r.res == CARD_RES_GARBAGE);
    }
    CHECK(r.res == CARD_RES_OK || r.res == CARD_RES_LOCKED || r.res == CARD_RES_REFUSED ||
          r.res == CARD_RES_GARBAGE || r.res == CARD_RES_REMOVED || r.res == CARD_RES_IO);
out:
    free(cmd);
}

static void check_sw_lookup(uint16_t sw)
{
    sw_info si = sw_lookup(sw);
    uint8_t sw1 = (uint8_t)(sw >> 8);

    CHECK((unsigned)si.kind < SW_K__LAST);
    CHECK(strcmp(sw_kind_name(si.kind), "?") != 0);
    CHECK(si.text != NULL && si.text[0] != '\0');
    CHECK(((sw & 0xFFF0) == 0x63C0) == (si.kind == SW_K_WRONG_PIN));
    CHECK(si.tries == (si.kind == SW_K_WRONG_PIN ? (int)(sw & 0x0F) : -1));
    CHECK((sw == 0x9000) == (si.kind == SW_K_OK));
    CHECK((sw1 == 0x61) == (si.kind == SW_K_MORE_DATA));
    CHECK((sw1 == 0x6C) == (si.kind == SW_K_WRONG_LE));
    CHECK((sw == 0x6300) == (si.kind == SW_K_WRONG_PIN_NO_COUNT));
    CHECK((sw == 0x9303) == (si.kind == SW_K_LOCKED));
    CHECK((sw == 0x6983 || sw == 0x6984) == (si.kind == SW_K_BLOCKED));
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *v = getenv("FUZZ_CARD_LOG");

    (void)argc;
    (void)argv;
    /* Below LOG_LVL_ERR: nothing passes. */
    if (!(v && strcmp(v, "1") == 0))
        log_set_level((enum log_level)(LOG_LVL_ERR - 1));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    card_transport t = { fake_transmit, &g_fake };
    card_cfg cfg;
    const card_cfg *cfgp = &cfg;
    card_profile used;
    const char *old_pin, *new_pin, *today;
    unsigned op;

    if (size < HDR_LEN)
        return 0;

    op = data[0] & 3u;
    card_cfg_default(&cfg);
    cfg.profile = (card_profile)((data[0] >> 2 & 3u) % 3);
    cfg.iso_padding = (data[0] >> 4 & 1u) ? ISO_PAD_BCD : ISO_PAD_ASCII_FF;
    cfg.iso_pin_ref = data[2];
    used = (card_profile)((data[0] >> 5 & 3u) % 3);
    if (data[0] & 0x80) {
        cfgp = NULL;
        card_cfg_default(&cfg); /* what the layer will use: kept for the oracles */
    }
    old_pin = pins[data[1] & 0x0F];
    new_pin = pins[data[1] >> 4];
    today = todays[data[3] % (sizeof todays / sizeof todays[0])];

    check_sw_lookup((uint16_t)(data[4] << 8 | data[5]));

    g_fake.p = data + HDR_LEN;
    g_fake.n = size - HDR_LEN;
    g_fake.ntx = 0;
    g_fake.dead = false;

    switch (op) {
    case 0:
        run_read(&t, cfgp, &cfg, today);
        break;
    case 1:
        run_pin(&t, cfgp, &cfg, used, false, old_pin, NULL);
        break;
    case 2:
        run_pin(&t, cfgp, &cfg, used, true, old_pin, new_pin);
        break;
    default:
        switch ((data[1] & 0x0Fu) % 3) {
        case 0:
            run_exchange(&t, &g_fake);
            break;
        case 1:
            run_challenge(&t, cfgp, &cfg, used);
            break;
        default:
            run_reset(&t, cfgp, &cfg, used, &g_fake);
            break;
        }
        break;
    }
    return 0;
}
