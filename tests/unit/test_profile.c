/* test_profile.c - the bytes the profiles send and what they make of the
 * answers, against a scripted fake transport that records every command. */
#include "card/profile.h"

#include "t.h"

#include <stdint.h>

#define FAKE_MAX 40

typedef struct {
    ct_status st;
    uint8_t reply[400];
    size_t len;
} fake_step;

typedef struct {
    fake_step steps[FAKE_MAX];
    size_t nsteps, next;
    uint8_t sent[FAKE_MAX][CARD_APDU_MAX];
    size_t sent_len[FAKE_MAX];
    size_t nsent;
    int overrun; /* commands sent past the end of the script */
} fake;

static size_t hex(const char *s, uint8_t *out)
{
    size_t n = 0;
    int hi = -1;

    for (; *s; s++) {
        int v;
        if (*s >= '0' && *s <= '9')
            v = *s - '0';
        else if (*s >= 'A' && *s <= 'F')
            v = *s - 'A' + 10;
        else if (*s >= 'a' && *s <= 'f')
            v = *s - 'a' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return n;
}

static ct_status fake_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                               size_t resp_cap, size_t *resp_len)
{
    fake *f = ctx;
    fake_step *s;

    if (f->nsent < FAKE_MAX) {
        memcpy(f->sent[f->nsent], cmd, cmd_len);
        f->sent_len[f->nsent] = cmd_len;
        f->nsent++;
    }
    if (f->next >= f->nsteps) {
        f->overrun++;
        return CT_ERROR;
    }
    s = &f->steps[f->next++];
    memcpy(resp, s->reply, s->len < resp_cap ? s->len : resp_cap);
    *resp_len = s->len;
    return s->st;
}

static void fake_reset(fake *f)
{
    memset(f, 0, sizeof *f);
}

/* Queues one reply (hex) or a transport status. */
static void on(fake *f, const char *reply_hex)
{
    fake_step *s = &f->steps[f->nsteps++];
    s->st = CT_OK;
    s->len = hex(reply_hex, s->reply);
}

static void on_status(fake *f, ct_status st)
{
    fake_step *s = &f->steps[f->nsteps++];
    s->st = st;
    s->len = 0;
}

static card_transport tr(fake *f)
{
    card_transport t = { fake_transmit, f };
    return t;
}

#define SENT(f, i, want_hex) do { uint8_t w_[CARD_APDU_MAX]; size_t wl_ = hex(want_hex, w_); \
    T_CHECK((i) < (f)->nsent); \
    if ((i) < (f)->nsent) { T_EQ_INT((f)->sent_len[i], wl_); \
        if ((f)->sent_len[i] == wl_) T_EQ_MEM((f)->sent[i], w_, wl_); } } while (0)

#define SEL_AID "00A404000F7378312E73682EC9E7BBE1B1A3D5CF"
#define SEL_EF05 "00A4020002EF05"
#define RD07 "00B2070400"
#define RD06 "00B2060400"
#define NUM_REC "0709413132333435363738 9000" /* "A12345678" */
#define EXP_BCD "060420991231 9000"

static card_cfg cfg_of(card_profile p)
{
    card_cfg c;
    card_cfg_default(&c);
    c.profile = p;
    return c;
}

/* ---- read --------------------------------------------------------------- */

T_TEST(read_ssse_ok)
{
    fake f;
    card_transport t = tr(&f);
    card_result r;
    card_cfg c = cfg_of(CARD_PROFILE_SSSE);

    fake_reset(&f);
    on(&f, "9000");
    on(&f, "9000");
    on(&f, NUM_REC);
    on(&f, EXP_BCD);
    card_read(&t, &c, "20250101", &r);
    T_EQ_INT(r.op, CARD_OP_READ);
    T_EQ_INT(r.res, CARD_RES_OK);
    T_EQ_STR(r.card_number, "A12345678");
    T_EQ_STR(r.expiry, "20991231");
    T_EQ_INT(r.profile, CARD_PROFILE_SSSE);
    T_EQ_INT(r.sw, 0x9000);
    T_EQ_INT(r.tries, -1);
    T_EQ_INT(r.gen, 0);
    T_EQ_INT(f.nsent, 4);
    SENT(&f, 0, SEL_AID);
    SENT(&f, 1, SEL_EF05);
    SENT(&f, 2, RD07);
    SENT(&f, 3, RD06);
    T_EQ_INT(f.overrun, 0);
}

T_TEST(read_expiry_ascii_and_expired)
{
    fake f;
    card_transport t = tr(&f);
    card_result r;

    fake_reset(&f);
    on(&f, "9000");
    on(&f, "9000");
    on(&f, NUM_REC);
    on(&f, "0608 3230323431323331 9000"); /* "20241231" */
    card_read(&t, NULL, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_EXPIRED);
    T_EQ_STR(r.card_number, "A12345678");
    T_EQ_STR(r.expiry, "20241231");

    /* The last valid day is not expired. */
    fake_reset(&f);
    on(&f, "9000");
    on(&f, "9000");
    on(&f, NUM_REC);
    on(&f, "0604 20241231 9000");
    card_read(&t, NULL, "20241231", &r);
    T_EQ_INT(r.res, CARD_RES_OK);
    T_EQ_STR(r.expiry, "20241231");

    /* No valid today: no expiry judgement. */
    fake_reset(&f);
    on(&f, "9000");
    on(&f, "9000");
    on(&f, NUM_REC);
    on(&f, "0604 20000101 9000");
    card_read(&t, NULL, NULL, &r);
    T_EQ_INT(r.res, CARD_RES_OK);
    fake_reset(&f);
    on(&f, "9000");
    on(&f, "9000");
    on(&f, NUM_REC);
    on(&f, "0604 20000101 9000");
    card_read(&t, NULL, "2025-1-1", &r);
    T_EQ_INT(r.res, CARD_RES_OK);
}

T_TEST(read_auto_falls_back_to_iso)
{
    fake f;
    card_transport t = tr(&f);
    card_result r;

    fake_reset(&f);
    on(&f, "6A82");
    on(&f, "9000");
    on(&f, NUM_REC);
    on(&f, EXP_BCD);
    card_read(&t, NULL, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_OK);
    T_EQ_INT(r.profile, CARD_PROFILE_ISO7816);
    T_EQ_STR(r.card_number, "A12345678");
    T_EQ_INT(f.nsent, 4);
    SENT(&f, 0, SEL_AID);
    SENT(&f, 1, SEL_EF05);
    SENT(&f, 2, RD07);
    SENT(&f, 3, RD06);
}

T_TEST(read_iso_forced_skips_aid)
{
    fake f;
    card_transport t = tr(&f);
    card_result r;
    card_cfg c = cfg_of(CARD_PROFILE_ISO7816);

    fake_reset(&f);
    on(&f, "9000");
    on(&f, NUM_REC);
    on(&f, EXP_BCD);
    card_read(&t, &c, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_OK);
    T_EQ_INT(r.profile, CARD_PROFILE_ISO7816);
    T_EQ_INT(f.nsent, 3);
    SENT(&f, 0, SEL_EF05);
    SENT(&f, 1, RD07);
    SENT(&f, 2, RD06);
}

T_TEST(read_ssse_forced_not_found)
{
    fake f;
    card_transport t = tr(&f);
    card_result r;
    card_cfg c = cfg_of(CARD_PROFILE_SSSE);

    fake_reset(&f);
    on(&f, "6A82");
    card_read(&t, &c, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_UNREADABLE);
    T_EQ_INT(r.sw, 0x6A82);
    T_EQ_STR(r.card_number, "");
    T_EQ_INT(f.nsent, 1);

    /* No EF05 on a generic card. */
    fake_reset(&f);
    on(&f, "6A82");
    on(&f, "6A82");
    card_read(&t, NULL, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_UNREADABLE);
    T_EQ_INT(r.profile, CARD_PROFILE_ISO7816);
    T_EQ_INT(f.nsent, 2);
}

T_TEST(read_get_response)
{
    fake f;
    card_transport t = tr(&f);
    card_result r;

    fake_reset(&f);
    on(&f, "6113");
    on(&f, "6F11840F7378312E73682EC9E7BBE1B1A3D5CF 9000");
    on(&f, "9000");
    /* Record split in two parts: 5 bytes + 61 06, then the last 6 bytes. */
    on(&f, "0709413132 6106");
    on(&f, "333435363738 9000");
    on(&f, EXP_BCD);
    card_read(&t, NULL, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_OK);
    T_EQ_INT(r.profile, CARD_PROFILE_SSSE);
    T_EQ_STR(r.card_number, "A12345678");
    T_EQ_INT(f.nsent, 6);
    SENT(&f, 1, "00C0000013");
    SENT(&f, 2, SEL_EF05);
    SENT(&f, 3, RD07);
    SENT(&f, 4, "00C0000006");
    SENT(&f, 5, RD06);
}

T_TEST(read_wrong_le_resend_once)
{
    fake f;
    card_transport t = tr(&f);
    card_result r;

    fake_reset(&f);
    on(&f, "9000");
    on(&f, "9000");
    on(&f, "6C0B");
    on(&f, NUM_REC);
    on(&f, EXP_BCD);
    card_read(&t, NULL, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_OK);
    T_EQ_STR(r.card_number, "A12345678");
    SENT(&f, 2, RD07);
    SENT(&f, 3, "00B207040B");
    SENT(&f, 4, RD06);

    /* A second 6Cxx is the answer, not a reason to loop. */
    fake_reset(&f);
    on(&f, "9000");
    on(&f, "9000");
    on(&f, "6C0B");
    on(&f, "6C0C");
    card_read(&t, NULL, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_UNREADABLE);
    T_EQ_INT(r.sw, 0x6C0C);
    T_EQ_INT(f.nsent, 4);
    T_EQ_INT(f.overrun, 0);

    /* 6Cxx on a case-3 command (SELECT EF05): Le is appended. */
    fake_reset(&f);
    on(&f, "9000");
    on(&f, "6C00");
    on(&f, "9000");
    on(&f, NUM_REC);
    on(&f, EXP_BCD);
    card_read(&t, NULL, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_OK);
    SENT(&f, 2, "00A4020002EF0500");
}

T_TEST(read_endless_more_data)
{
    fake f;
    card_transport t = tr(&f);
    card_result r;
    card_cfg c = cfg_of(CARD_PROFILE_ISO7816);

    fake_reset(&f);
    for (int i = 0; i < 30; i++)
        on(&f, "6101");
    card_read(&t, &c, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_GARBAGE);
    T_EQ_INT(f.nsent, 17); /* the command and 16 GET RESPONSE */
    T_EQ_INT(f.overrun, 0);
}

T_TEST(read_garbage_replies)
{
    static const char *const junk[] = { "", "90", "1234", "6000", "A000", "0709413132 3738" };
    fake f;
    card_transport t = tr(&f);
    card_result r;
    card_cfg c = cfg_of(CARD_PROFILE_ISO7816);

    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        fake_reset(&f);
        on(&f, "9000");
        on(&f, junk[i]);
        card_read(&t, &c, "20250101", &r);
        T_EQ_INT(r.res, CARD_RES_GARBAGE);
        T_EQ_STR(r.card_number, "");
        T_EQ_INT(f.nsent, 2);
    }

    /* A reply longer than the buffer is garbage, not a crash. */
    fake_reset(&f);
    on(&f, "9000");
    f.steps[f.nsteps].st = CT_OK;
    memset(f.steps[f.nsteps].reply, 0x41, 300);
    f.steps[f.nsteps].len = 300;
    f.nsteps++;
    card_read(&t, &c, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_GARBAGE);
}

T_TEST(read_bad_framing)
{
    static const char *const bad[] = {
        "0705413132 9000",           /* len says 5, 3 follow */
        "0609413132333435363738 9000", /* record number 06 for 07 */
        "07 9000",                   /* no len */
        "9000",                      /* nothing */
    };
    fake f;
    card_transport t = tr(&f);
    card_result r;
    card_cfg c = cfg_of(CARD_PROFILE_ISO7816);

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fake_reset(&f);
        on(&f, "9000");
        on(&f, bad[i]);
        card_read(&t, &c, "20250101", &r);
        T_EQ_INT(r.res, CARD_RES_GARBAGE);
    }
    /* Bad framing in the expiry record too. */
    fake_reset(&f);
    on(&f, "9000");
    on(&f, NUM_REC);
    on(&f, "0605 20991231 9000");
    card_read(&t, &c, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_GARBAGE);
}

T_TEST(read_unusable_content)
{
    static const char *const bad_num[] = {
        "0709 41313233343536372D 9000", /* '-' */
        "0700 9000",                    /* empty */
        "0714 4141414141414141414141414141414141414141 9000", /* 20 chars */
        "0703 410041 9000",             /* NUL inside */
    };
    static const char *const bad_exp[] = {
        "0604 20991331 9000", /* month 13 */
        "0604 2099123A 9000", /* not BCD */
        "0603 209912 9000",   /* 3 bytes */
        "0608 3230393931323030 9000", /* day 00 */
    };
    fake f;
    card_transport t = tr(&f);
    card_result r;
    card_cfg c = cfg_of(CARD_PROFILE_ISO7816);

    for (size_t i = 0; i < sizeof bad_num / sizeof bad_num[0]; i++) {
        fake_reset(&f);
        on(&f, "9000");
        on(&f, bad_num[i]);
        card_read(&t, &c, "20250101", &r);
        T_EQ_INT(r.res, CARD_RES_UNREADABLE);
        T_EQ_STR(r.card_number, "");
        T_EQ_INT(f.nsent, 2);
    }
    for (size_t i = 0; i < sizeof bad_exp / sizeof bad_exp[0]; i++) {
        fake_reset(&f);
        on(&f, "9000");
        on(&f, NUM_REC);
        on(&f, bad_exp[i]);
        card_read(&t, &c, "20250101", &r);
        T_EQ_INT(r.res, CARD_RES_UNREADABLE);
        T_EQ_STR(r.expiry, "");
    }
    /* The longest number that fits is taken. */
    fake_reset(&f);
    on(&f, "9000");
    on(&f, "0713 41414141414141414141414141414141414141 9000");
    on(&f, EXP_BCD);
    card_read(&t, &c, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_OK);
    T_EQ_STR(r.card_number, "AAAAAAAAAAAAAAAAAAA");
}

T_TEST(read_no_expiry_record)
{
    fake f;
    card_transport t = tr(&f);
    card_result r;
    card_cfg c = cfg_of(CARD_PROFILE_ISO7816);

    fake_reset(&f);
    on(&f, "9000");
    on(&f, NUM_REC);
    on(&f, "6A83");
    card_read(&t, &c, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_OK);
    T_EQ_STR(r.expiry, "");
    T_EQ_STR(r.card_number, "A12345678");
}

T_TEST(read_transport_and_locked)
{
    fake f;
    card_transport t = tr(&f);
    card_result r;

    fake_reset(&f);
    on_status(&f, CT_REMOVED);
    card_read(&t, NULL, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_REMOVED);
    T_EQ_INT(r.sw, 0);

    fake_reset(&f);
    on_status(&f, CT_ERROR);
    card_read(&t, NULL, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_IO);

    fake_reset(&f);
    on(&f, "9000");
    on(&f, "9000");
    on_status(&f, CT_REMOVED);
    card_read(&t, NULL, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_REMOVED);
    T_EQ_INT(r.profile, CARD_PROFILE_SSSE);

    fake_reset(&f);
    on(&f, "9000");
    on(&f, "9000");
    on(&f, NUM_REC);
    on_status(&f, CT_ERROR);
    card_read(&t, NULL, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_IO);

    fake_reset(&f);
    on(&f, "9000");
    on(&f, "9000");
    on(&f, "9303");
    card_read(&t, NULL, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_LOCKED);
    T_EQ_INT(r.sw, 0x9303);

    /* An SSSE application that answers its SELECT with 9303 is locked, not
     * a reason to try the generic profile. */
    fake_reset(&f);
    on(&f, "9303");
    card_read(&t, NULL, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_LOCKED);
    T_EQ_INT(r.profile, CARD_PROFILE_SSSE);
    T_EQ_INT(f.nsent, 1);

    /* GET RESPONSE lost to a removal. */
    fake_reset(&f);
    on(&f, "6113");
    on_status(&f, CT_REMOVED);
    card_read(&t, NULL, "20250101", &r);
    T_EQ_INT(r.res, CARD_RES_REMOVED);
}

/* ---- verify ------------------------------------------------------------- */

static void verify_with(fake *f, card_profile cp, const card_cfg *c, const char *pin, card_result *r)
{
    card_transport t = tr(f);
    card_verify(&t, c, cp, pin, r);
}

T_TEST(verify_ssse_bytes)
{
    static const struct { const char *pin, *apdu; } cases[] = {
        { "1234", "0020000002 1234" },
        { "12345", "0020000003 12345F" },
        { "123456", "0020000003 123456" },
        { "0000000000000000", "0020000008 0000000000000000" },
    };
    fake f;
    card_result r;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_reset(&f);
        on(&f, "9000");
        on(&f, "9000");
        verify_with(&f, CARD_PROFILE_SSSE, NULL, cases[i].pin, &r);
        T_EQ_INT(r.op, CARD_OP_VERIFY);
        T_EQ_INT(r.res, CARD_RES_OK);
        T_EQ_INT(r.profile, CARD_PROFILE_SSSE);
        T_EQ_INT(f.nsent, 2);
        SENT(&f, 0, SEL_AID);
        SENT(&f, 1, cases[i].apdu);
    }
}

T_TEST(verify_iso_bytes)
{
    static const struct { const char *pin, *apdu; } ascii[] = {
        { "1234", "0020008008 31323334FFFFFFFF" },
        { "12345", "0020008008 3132333435FFFFFF" },
        { "123456", "0020008008 313233343536FFFF" },
        { "12345678", "0020008008 3132333435363738" },
    };
    static const struct { const char *pin, *apdu; } bcd[] = {
        { "1234", "0020008108 1234FFFFFFFFFFFF" },
        { "12345", "0020008108 12345FFFFFFFFFFF" },
        { "123456", "0020008108 123456FFFFFFFFFF" },
        { "1234567890123456", "0020008108 1234567890123456" },
    };
    fake f;
    card_result r;
    card_cfg c = cfg_of(CARD_PROFILE_ISO7816);

    for (size_t i = 0; i < sizeof ascii / sizeof ascii[0]; i++) {
        fake_reset(&f);
        on(&f, "9000");
        verify_with(&f, CARD_PROFILE_ISO7816, &c, ascii[i].pin, &r);
        T_EQ_INT(r.res, CARD_RES_OK);
        T_EQ_INT(f.nsent, 1);
        SENT(&f, 0, ascii[i].apdu);
    }
    c.iso_pin_ref = 0x81;
    c.iso_padding = ISO_PAD_BCD;
    for (size_t i = 0; i < sizeof bcd / sizeof bcd[0]; i++) {
        fake_reset(&f);
        on(&f, "9000");
        verify_with(&f, CARD_PROFILE_ISO7816, &c, bcd[i].pin, &r);
        T_EQ_INT(r.res, CARD_RES_OK);
        T_EQ_INT(f.nsent, 1);
        SENT(&f, 0, bcd[i].apdu);
    }
    /* ASCII padding cannot carry 9 digits: refused, nothing sent. */
    c.iso_padding = ISO_PAD_ASCII_FF;
    fake_reset(&f);
    on(&f, "9000");
    verify_with(&f, CARD_PROFILE_ISO7816, &c, "123456789", &r);
    T_EQ_INT(r.res, CARD_RES_REFUSED);
    T_EQ_INT(f.nsent, 0);
}

T_TEST(verify_bad_pins_send_nothing)
{
    static const char *const bad[] = { "", "123", "12a4", "1234 ", "+1234", "12345678901234567", "１２３４" };
    fake f;
    card_result r;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fake_reset(&f);
        on(&f, "9000");
        on(&f, "9000");
        verify_with(&f, CARD_PROFILE_SSSE, NULL, bad[i], &r);
        T_EQ_INT(r.res, CARD_RES_REFUSED);
        T_EQ_INT(f.nsent, 0);
    }
    fake_reset(&f);
    verify_with(&f, CARD_PROFILE_SSSE, NULL, NULL, &r);
    T_EQ_INT(r.res, CARD_RES_REFUSED);
    T_EQ_INT(f.nsent, 0);
}

T_TEST(verify_sw_mapping)
{
    static const struct { const char *sw; card_res res; int tries; } map[] = {
        { "9000", CARD_RES_OK, -1 },
        { "63C5", CARD_RES_WRONG_PIN, 5 },
        { "63C2", CARD_RES_WRONG_PIN, 2 },
        { "63C1", CARD_RES_WRONG_PIN, 1 },
        { "63C0", CARD_RES_BLOCKED, 0 },
        { "6300", CARD_RES_WRONG_PIN, -1 },
        { "6983", CARD_RES_BLOCKED, -1 },
        { "6984", CARD_RES_BLOCKED, -1 },
        { "9303", CARD_RES_LOCKED, -1 },
        { "6985", CARD_RES_REFUSED, -1 },
        { "6988", CARD_RES_REFUSED, -1 },
        { "6A82", CARD_RES_UNREADABLE, -1 },
        { "6A88", CARD_RES_UNREADABLE, -1 },
        { "6D00", CARD_RES_REFUSED, -1 },
        { "6700", CARD_RES_REFUSED, -1 },
        { "6C08", CARD_RES_REFUSED, -1 }, /* and not resent */
        { "1234", CARD_RES_GARBAGE, -1 },
        { "63", CARD_RES_GARBAGE, -1 },
        { "", CARD_RES_GARBAGE, -1 },
    };
    fake f;
    card_result r;
    card_cfg c = cfg_of(CARD_PROFILE_ISO7816);

    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        fake_reset(&f);
        on(&f, map[i].sw);
        on(&f, "9000"); /* a resend would eat this */
        verify_with(&f, CARD_PROFILE_ISO7816, &c, "123456", &r);
        if (r.res != map[i].res)
            fprintf(stderr, "  sw \"%s\": want %s got %s\n", map[i].sw,
                    card_res_name(map[i].res), card_res_name(r.res));
        T_EQ_INT(r.res, map[i].res);
        T_EQ_INT(r.tries, map[i].tries);
        T_EQ_INT(f.nsent, 1);
    }
}

T_TEST(verify_transport)
{
    fake f;
    card_result r;
    card_cfg c = cfg_of(CARD_PROFILE_ISO7816);

    fake_reset(&f);
    on_status(&f, CT_REMOVED);
    verify_with(&f, CARD_PROFILE_ISO7816, &c, "123456", &r);
    T_EQ_INT(r.res, CARD_RES_REMOVED);
    T_EQ_INT(f.nsent, 1);

    fake_reset(&f);
    on_status(&f, CT_ERROR);
    verify_with(&f, CARD_PROFILE_ISO7816, &c, "123456", &r);
    T_EQ_INT(r.res, CARD_RES_IO);
    T_EQ_INT(f.nsent, 1);

    /* Removed at the SELECT: the PIN never left. */
    fake_reset(&f);
    on_status(&f, CT_REMOVED);
    verify_with(&f, CARD_PROFILE_SSSE, NULL, "123456", &r);
    T_EQ_INT(r.res, CARD_RES_REMOVED);
    T_EQ_INT(f.nsent, 1);
    SENT(&f, 0, SEL_AID);

    /* ssse application gone: unreadable, no VERIFY sent. */
    fake_reset(&f);
    on(&f, "6A82");
    verify_with(&f, CARD_PROFILE_SSSE, NULL, "123456", &r);
    T_EQ_INT(r.res, CARD_RES_UNREADABLE);
    T_EQ_INT(f.nsent, 1);

    /* ssse: 6Cxx to VERIFY is refused, never resent. */
    fake_reset(&f);
    on(&f, "9000");
    on(&f, "6C03");
    on(&f, "9000");
    verify_with(&f, CARD_PROFILE_SSSE, NULL, "123456", &r);
    T_EQ_INT(r.res, CARD_RES_REFUSED);
    T_EQ_INT(r.sw, 0x6C03);
    T_EQ_INT(f.nsent, 2);
}

T_TEST(verify_auto_detects)
{
    fake f;
    card_result r;

    fake_reset(&f);
    on(&f, "6A82");
    on(&f, "63C2");
    verify_with(&f, CARD_PROFILE_AUTO, NULL, "1234", &r);
    T_EQ_INT(r.res, CARD_RES_WRONG_PIN);
    T_EQ_INT(r.tries, 2);
    T_EQ_INT(r.profile, CARD_PROFILE_ISO7816);
    SENT(&f, 0, SEL_AID);
    SENT(&f, 1, "0020008008 31323334FFFFFFFF");

    fake_reset(&f);
    on(&f, "6113");
    on(&f, "6F11840F7378312E73682EC9E7BBE1B1A3D5CF 9000");
    on(&f, "9000");
    verify_with(&f, CARD_PROFILE_AUTO, NULL, "1234", &r);
    T_EQ_INT(r.res, CARD_RES_OK);
    T_EQ_INT(r.profile, CARD_PROFILE_SSSE);
    SENT(&f, 2, "0020000002 1234");
}

/* ---- change ------------------------------------------------------------- */

T_TEST(change_ssse_bytes)
{
    static const struct { const char *old, *new_pin, *apdu; } cases[] = {
        { "123456", "654321", "805E010007 123456 FF 654321" }, /* card-facts' example */
        { "1234", "5678", "805E010005 1234 FF 5678" },
        { "12345", "54321", "805E010007 12345F FF 54321F" },
        { "1234", "123456", "805E010006 1234 FF 123456" },
        { "1234567890123456", "6543210987654321",
          "805E010011 1234567890123456 FF 6543210987654321" }, /* Lc 17, binary */
    };
    fake f;
    card_transport t = tr(&f);
    card_result r;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_reset(&f);
        on(&f, "9000");
        on(&f, "9000");
        card_change(&t, NULL, CARD_PROFILE_SSSE, cases[i].old, cases[i].new_pin, &r);
        T_EQ_INT(r.op, CARD_OP_CHANGE);
        T_EQ_INT(r.res, CARD_RES_OK);
        T_EQ_INT(f.nsent, 2);
        SENT(&f, 0, SEL_AID);
        SENT(&f, 1, cases[i].apdu);
    }
}

T_TEST(change_iso_bytes)
{
    static const struct { const char *old, *new_pin, *apdu; } cases[] = {
        { "1234", "5678", "0024008010 31323334FFFFFFFF 35363738FFFFFFFF" },
        { "12345", "54321", "0024008010 3132333435FFFFFF 3534333231FFFFFF" },
        { "123456", "654321", "0024008010 313233343536FFFF 363534333231FFFF" },
    };
    fake f;
    card_transport t = tr(&f);
    card_result r;
    card_cfg c = cfg_of(CARD_PROFILE_ISO7816);

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_reset(&f);
        on(&f, "9000");
        card_change(&t, &c, CARD_PROFILE_ISO7816, cases[i].old, cases[i].new_pin, &r);
        T_EQ_INT(r.res, CARD_RES_OK);
        T_EQ_INT(f.nsent, 1);
        SENT(&f, 0, cases[i].apdu);
    }
    c.iso_padding = ISO_PAD_BCD;
    c.iso_pin_ref = 0x01;
    fake_reset(&f);
    on(&f, "9000");
    card_change(&t, &c, CARD_PROFILE_ISO7816, "12345", "654321", &r);
    T_EQ_INT(r.res, CARD_RES_OK);
    SENT(&f, 0, "0024000110 12345FFFFFFFFFFF 654321FFFFFFFFFF");
}

T_TEST(change_results)
{
    static const struct { const char *sw; card_res res; int tries; } map[] = {
        { "9000", CARD_RES_OK, -1 },
        { "63C1", CARD_RES_WRONG_PIN, 1 },
        { "63C0", CARD_RES_BLOCKED, 0 },
        { "6300", CARD_RES_WRONG_PIN, -1 },
        { "6983", CARD_RES_BLOCKED, -1 },
        { "9303", CARD_RES_LOCKED, -1 },
        { "6A80", CARD_RES_REFUSED, -1 },
        { "6C10", CARD_RES_REFUSED, -1 },
        { "90", CARD_RES_GARBAGE, -1 },
        /* the card's memory changed, or may have: the outcome is unknown */
        { "6581", CARD_RES_GARBAGE, -1 },
        { "6381", CARD_RES_GARBAGE, -1 },
        { "6400", CARD_RES_REFUSED, -1 },
    };
    fake f;
    card_transport t = tr(&f);
    card_result r;

    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        fake_reset(&f);
        memset(&r, 0, sizeof r);
        on(&f, "9000");
        on(&f, map[i].sw);
        on(&f, "9000");
        card_change(&t, NULL, CARD_PROFILE_SSSE, "123456", "654321", &r);
        T_EQ_INT(r.res, map[i].res);
        T_EQ_INT(r.tries, map[i].tries);
        T_EQ_INT(f.nsent, 2);
        T_CHECK(r.sent);
    }
    /* a select answered with a PIN status word is not a PIN result */
    fake_reset(&f);
    memset(&r, 0, sizeof r);
    on(&f, "63C0");
    card_change(&t, NULL, CARD_PROFILE_SSSE, "123456", "654321", &r);
    T_CHECK(r.res != CARD_RES_BLOCKED && r.res != CARD_RES_WRONG_PIN);
    T_EQ_INT(r.tries, -1);
    T_CHECK(!r.sent);
    T_EQ_INT(f.nsent, 1);
    fake_reset(&f);
    on(&f, "63C2");
    card_verify(&t, NULL, CARD_PROFILE_SSSE, "123456", &r);
    T_CHECK(r.res != CARD_RES_WRONG_PIN);
    T_EQ_INT(r.tries, -1);
    /* auto: a 63 C2 to the SSSE select falls back to iso7816 with no count */
    fake_reset(&f);
    on(&f, "63C2");
    on(&f, "9000");
    card_verify(&t, NULL, CARD_PROFILE_AUTO, "123456", &r);
    T_EQ_INT(r.res, CARD_RES_OK);
    T_EQ_INT(r.tries, -1);
    T_EQ_INT(r.profile, CARD_PROFILE_ISO7816);
    /* the select before the change fails: the change never went out */
    fake_reset(&f);
    memset(&r, 0, sizeof r);
    on_status(&f, CT_REMOVED);
    card_change(&t, NULL, CARD_PROFILE_SSSE, "123456", "654321", &r);
    T_EQ_INT(r.res, CARD_RES_REMOVED);
    T_CHECK(!r.sent);
    T_EQ_INT(f.nsent, 1);
    fake_reset(&f);
    on(&f, "9000");
    on_status(&f, CT_REMOVED);
    card_change(&t, NULL, CARD_PROFILE_SSSE, "123456", "654321", &r);
    T_EQ_INT(r.res, CARD_RES_REMOVED);
    T_EQ_INT(f.nsent, 2);

    fake_reset(&f);
    on(&f, "9000");
    on_status(&f, CT_ERROR);
    card_change(&t, NULL, CARD_PROFILE_SSSE, "123456", "654321", &r);
    T_EQ_INT(r.res, CARD_RES_IO);

    /* Either PIN malformed: nothing at all is sent. */
    fake_reset(&f);
    card_change(&t, NULL, CARD_PROFILE_SSSE, "123456", "654", &r);
    T_EQ_INT(r.res, CARD_RES_REFUSED);
    T_EQ_INT(f.nsent, 0);
    card_change(&t, NULL, CARD_PROFILE_SSSE, "12x456", "654321", &r);
    T_EQ_INT(r.res, CARD_RES_REFUSED);
    card_change(&t, NULL, CARD_PROFILE_SSSE, "123456", NULL, &r);
    T_EQ_INT(r.res, CARD_RES_REFUSED);
    T_EQ_INT(f.nsent, 0);
}

T_TEST(pin_valid)
{
    T_CHECK(card_pin_valid("1234"));
    T_CHECK(card_pin_valid("1234567890123456"));
    T_CHECK(!card_pin_valid("123"));
    T_CHECK(!card_pin_valid("12345678901234567"));
    T_CHECK(!card_pin_valid("12 4"));
    T_CHECK(!card_pin_valid(NULL));
}

T_TEST(exchange_bad_command)
{
    fake f;
    card_transport t = tr(&f);
    uint8_t data[8];
    size_t dl = 99;
    uint16_t sw = 1;
    const uint8_t short_cmd[] = { 0x00, 0xA4, 0x00 };
    const uint8_t bad_lc[] = { 0x00, 0xA4, 0x02, 0x00, 0x05, 0xEF };

    fake_reset(&f);
    T_EQ_INT(card_exchange(&t, short_cmd, sizeof short_cmd, 0, data, sizeof data, &dl, &sw), CX_BADCMD);
    T_EQ_INT(card_exchange(&t, bad_lc, sizeof bad_lc, 0, data, sizeof data, &dl, &sw), CX_BADCMD);
    T_EQ_INT(card_exchange(NULL, bad_lc, 5, 0, data, sizeof data, &dl, &sw), CX_BADCMD);
    T_EQ_INT(f.nsent, 0);
    T_EQ_INT(dl, 0);
    T_EQ_INT(sw, 0);

    /* Data beyond the caller's buffer: garbage. */
    fake_reset(&f);
    on(&f, "0102030405060708090A 9000");
    T_EQ_INT(card_exchange(&t, (const uint8_t *)"\x00\xB2\x07\x04\x00", 5, 0, data, sizeof data, &dl, &sw),
             CX_GARBAGE);
}

/* ---- the bureau-made reset ---------------------------------------------- */

#define GET_CHAL "0084000008"
#define RESET_CMD "842C000010 00112233445566778899AABBCCDDEEFF"

static const uint8_t chal8[CARD_CHALLENGE_LEN] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
static const uint8_t zero8[CARD_CHALLENGE_LEN];

T_TEST(challenge_both_profiles)
{
    fake f;
    card_transport t = tr(&f);
    card_result r;
    card_cfg iso = cfg_of(CARD_PROFILE_ISO7816);

    /* ssse: the application first, then GET CHALLENGE. */
    fake_reset(&f);
    on(&f, "9000");
    on(&f, "1122334455667788 9000");
    card_challenge(&t, NULL, CARD_PROFILE_SSSE, &r);
    T_EQ_INT(r.op, CARD_OP_CHALLENGE);
    T_EQ_INT(r.res, CARD_RES_OK);
    T_EQ_INT(r.profile, CARD_PROFILE_SSSE);
    T_EQ_INT(r.sw, 0x9000);
    T_EQ_INT(r.tries, -1);
    T_CHECK(r.sent);
    T_EQ_MEM(r.challenge, chal8, 8);
    T_EQ_INT(f.nsent, 2);
    SENT(&f, 0, SEL_AID);
    SENT(&f, 1, GET_CHAL);

    /* iso7816: GET CHALLENGE alone. */
    fake_reset(&f);
    on(&f, "1122334455667788 9000");
    card_challenge(&t, &iso, CARD_PROFILE_AUTO, &r);
    T_EQ_INT(r.res, CARD_RES_OK);
    T_EQ_INT(r.profile, CARD_PROFILE_ISO7816);
    T_EQ_MEM(r.challenge, chal8, 8);
    T_EQ_INT(f.nsent, 1);
    SENT(&f, 0, GET_CHAL);

    /* auto: no SSSE application, so iso7816. */
    fake_reset(&f);
    on(&f, "6A82");
    on(&f, "1122334455667788 9000");
    card_challenge(&t, NULL, CARD_PROFILE_AUTO, &r);
    T_EQ_INT(r.res, CARD_RES_OK);
    T_EQ_INT(r.profile, CARD_PROFILE_ISO7816);
    SENT(&f, 1, GET_CHAL);

    /* T=0: the challenge comes through GET RESPONSE. */
    fake_reset(&f);
    on(&f, "6108");
    on(&f, "1122334455667788 9000");
    card_challenge(&t, &iso, CARD_PROFILE_ISO7816, &r);
    T_EQ_INT(r.res, CARD_RES_OK);
    T_EQ_MEM(r.challenge, chal8, 8);
    SENT(&f, 1, "00C0000008");
}

T_TEST(challenge_wrong_answers)
{
    static const struct { const char *reply; card_res res; uint16_t sw; } cases[] = {
        { "11223344556677 9000", CARD_RES_GARBAGE, 0x9000 },      /* 7 bytes */
        { "112233445566778899 9000", CARD_RES_GARBAGE, 0x9000 },  /* 9 bytes */
        { "9000", CARD_RES_GARBAGE, 0x9000 },                     /* none */
        { "6D00", CARD_RES_REFUSED, 0x6D00 },
        { "6A86", CARD_RES_REFUSED, 0x6A86 },
        { "6985", CARD_RES_REFUSED, 0x6985 },
        { "6700", CARD_RES_REFUSED, 0x6700 },
        { "63C2", CARD_RES_REFUSED, 0x63C2 },  /* no PIN was sent: no wrong PIN */
        { "6983", CARD_RES_REFUSED, 0x6983 },
        { "6C10", CARD_RES_REFUSED, 0x6C10 },  /* and not resent */
        { "9303", CARD_RES_LOCKED, 0x9303 },
        { "1122334455667788", CARD_RES_GARBAGE, 0 },  /* no SW (bytes 7-8 are no SW) */
        { "88", CARD_RES_GARBAGE, 0 },
        { "", CARD_RES_GARBAGE, 0 },
    };
    fake f;
    card_transport t = tr(&f);
    card_result r;
    card_cfg iso = cfg_of(CARD_PROFILE_ISO7816);

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_reset(&f);
        on(&f, cases[i].reply);
        on(&f, "1122334455667788 9000"); /* a resend would eat this */
        card_challenge(&t, &iso, CARD_PROFILE_ISO7816, &r);
        if (r.res != cases[i].res)
            fprintf(stderr, "  reply \"%s\": want %s got %s\n", cases[i].reply,
                    card_res_name(cases[i].res), card_res_name(r.res));
        T_EQ_INT(r.res, cases[i].res);
        T_EQ_INT(r.sw, cases[i].sw);
        T_EQ_INT(r.tries, -1);
        T_EQ_MEM(r.challenge, zero8, 8);
        T_EQ_INT(f.nsent, 1);
    }
    /* A reply longer than any buffer: garbage. */
    fake_reset(&f);
    f.steps[0].st = CT_OK;
    memset(f.steps[0].reply, 0x90, 300);
    f.steps[0].len = 300;
    f.nsteps = 1;
    card_challenge(&t, &iso, CARD_PROFILE_ISO7816, &r);
    T_EQ_INT(r.res, CARD_RES_GARBAGE);
}

T_TEST(challenge_transport)
{
    fake f;
    card_transport t = tr(&f);
    card_result r;

    /* Removed at the SELECT: GET CHALLENGE never went out. */
    fake_reset(&f);
    on_status(&f, CT_REMOVED);
    card_challenge(&t, NULL, CARD_PROFILE_SSSE, &r);
    T_EQ_INT(r.res, CARD_RES_REMOVED);
    T_CHECK(!r.sent);
    T_EQ_INT(f.nsent, 1);

    /* The application is gone: unreadable, as for a read. */
    fake_reset(&f);
    on(&f, "6A82");
    card_challenge(&t, NULL, CARD_PROFILE_SSSE, &r);
    T_EQ_INT(r.res, CARD_RES_UNREADABLE);
    T_CHECK(!r.sent);
    T_EQ_INT(f.nsent, 1);

    fake_reset(&f);
    on(&f, "9000");
    on_status(&f, CT_REMOVED);
    card_challenge(&t, NULL, CARD_PROFILE_SSSE, &r);
    T_EQ_INT(r.res, CARD_RES_REMOVED);
    T_CHECK(r.sent);
    T_EQ_MEM(r.challenge, zero8, 8);

    fake_reset(&f);
    on(&f, "9000");
    on_status(&f, CT_ERROR);
    card_challenge(&t, NULL, CARD_PROFILE_SSSE, &r);
    T_EQ_INT(r.res, CARD_RES_IO);

    /* Removed during the GET RESPONSE of a T=0 challenge. */
    fake_reset(&f);
    on(&f, "9000");
    on(&f, "6108");
    on_status(&f, CT_REMOVED);
    card_challenge(&t, NULL, CARD_PROFILE_SSSE, &r);
    T_EQ_INT(r.res, CARD_RES_REMOVED);
    T_EQ_MEM(r.challenge, zero8, 8);
}

static void reset_with(fake *f, card_profile used, const char *apdu_hex, card_result *r)
{
    card_transport t = tr(f);
    uint8_t apdu[CARD_APDU_MAX + 8];
    size_t n = hex(apdu_hex, apdu);

    card_reset_pin(&t, NULL, used, apdu, n, r);
}

T_TEST(reset_sends_once_and_nothing_else)
{
    fake f;
    card_result r;

    fake_reset(&f);
    on(&f, "9000");
    on(&f, "9000");
    reset_with(&f, CARD_PROFILE_SSSE, RESET_CMD, &r);
    T_EQ_INT(r.op, CARD_OP_RESET);
    T_EQ_INT(r.res, CARD_RES_OK);
    T_EQ_INT(r.profile, CARD_PROFILE_SSSE);
    T_EQ_INT(r.sw, 0x9000);
    T_EQ_INT(r.tries, -1);
    T_CHECK(r.sent);
    T_EQ_INT(f.nsent, 1); /* no SELECT: it would void the challenge */
    SENT(&f, 0, RESET_CMD);

    /* iso7816, and a command of another shape (case 4, case 1): as given. */
    fake_reset(&f);
    on(&f, "9000");
    reset_with(&f, CARD_PROFILE_ISO7816, "002C008108 3132333435363738 00", &r);
    T_EQ_INT(r.res, CARD_RES_OK);
    T_EQ_INT(r.profile, CARD_PROFILE_ISO7816);
    SENT(&f, 0, "002C008108 3132333435363738 00");
    fake_reset(&f);
    on(&f, "9000");
    reset_with(&f, CARD_PROFILE_AUTO, "002C0081", &r);
    T_EQ_INT(r.res, CARD_RES_OK);
    T_EQ_INT(r.profile, CARD_PROFILE_AUTO); /* not detected: nothing may go first */
    T_EQ_INT(f.nsent, 1);
}

T_TEST(reset_outcomes)
{
    static const struct { const char *sw; card_res res; } map[] = {
        { "9000", CARD_RES_OK },
        { "9303", CARD_RES_LOCKED },
        { "6988", CARD_RES_REFUSED },
        { "6982", CARD_RES_REFUSED },
        { "6A88", CARD_RES_REFUSED },
        { "6A82", CARD_RES_REFUSED },
        { "6983", CARD_RES_REFUSED },
        { "6984", CARD_RES_REFUSED },
        { "6985", CARD_RES_REFUSED },
        { "6700", CARD_RES_REFUSED },
        { "6D00", CARD_RES_REFUSED },
        { "6C10", CARD_RES_REFUSED }, /* never resent */
        { "6281", CARD_RES_REFUSED }, /* a warning, memory unchanged */
        { "6400", CARD_RES_REFUSED },
        { "6E00", CARD_RES_REFUSED },
        /* Memory changed, or no diagnosis: the PIN may be reset, so unknown. */
        { "63C2", CARD_RES_GARBAGE },
        { "6300", CARD_RES_GARBAGE },
        { "6581", CARD_RES_GARBAGE },
        { "6600", CARD_RES_GARBAGE },
        { "6F00", CARD_RES_GARBAGE },
        { "9001", CARD_RES_GARBAGE },
        { "6102", CARD_RES_OK },      /* carried out; its data not fetched */
        { "90", CARD_RES_GARBAGE },
        { "1234", CARD_RES_GARBAGE },
        { "6000", CARD_RES_GARBAGE },
        { "", CARD_RES_GARBAGE },
    };
    fake f;
    card_result r;

    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        fake_reset(&f);
        on(&f, map[i].sw);
        on(&f, "9000"); /* a resend would eat this */
        reset_with(&f, CARD_PROFILE_SSSE, RESET_CMD, &r);
        if (r.res != map[i].res)
            fprintf(stderr, "  sw \"%s\": want %s got %s\n", map[i].sw,
                    card_res_name(map[i].res), card_res_name(r.res));
        T_EQ_INT(r.res, map[i].res);
        T_EQ_INT(r.tries, -1);
        T_CHECK(r.sent);
        T_EQ_INT(f.nsent, 1);
    }

    fake_reset(&f);
    on_status(&f, CT_REMOVED);
    reset_with(&f, CARD_PROFILE_SSSE, RESET_CMD, &r);
    T_EQ_INT(r.res, CARD_RES_REMOVED);
    T_CHECK(r.sent);
    T_EQ_INT(f.nsent, 1);

    fake_reset(&f);
    on_status(&f, CT_ERROR);
    reset_with(&f, CARD_PROFILE_SSSE, RESET_CMD, &r);
    T_EQ_INT(r.res, CARD_RES_IO);
    T_CHECK(r.sent);

    /* 61xx: the command was carried out; nothing is sent after it (a GET
     * RESPONSE answered 6A86 would read as the reset refused). */
    fake_reset(&f);
    on(&f, "6102");
    on(&f, "6A86");
    reset_with(&f, CARD_PROFILE_SSSE, RESET_CMD, &r);
    T_EQ_INT(r.res, CARD_RES_OK);
    T_EQ_INT(f.nsent, 1);
}

T_TEST(reset_refuses_malformed_without_sending)
{
    static const char *const bad[] = {
        "",                                   /* nothing */
        "842C00",                             /* 3 bytes */
        "842C000010 0011",                    /* Lc 16, 2 bytes follow */
        "842C000010 00112233445566778899AABBCCDDEEFF 00 00", /* 2 bytes too many */
        "842C000000 00",                      /* Lc 0 with data: extended */
        "842C000002 001122",                  /* case 4 needs exactly one Le byte: ok */
    };
    fake f;
    card_result r;
    card_transport t = tr(&f);
    uint8_t big[CARD_APDU_MAX + 1];

    /* The last row is well-formed (case 4): it must go out. */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bool ok = i == sizeof bad / sizeof bad[0] - 1;

        fake_reset(&f);
        on(&f, "9000");
        reset_with(&f, CARD_PROFILE_SSSE, bad[i], &r);
        T_EQ_INT(r.res, ok ? CARD_RES_OK : CARD_RES_REFUSED);
        T_EQ_INT(r.sent, ok);
        T_EQ_INT(f.nsent, ok ? 1 : 0);
        T_EQ_INT(r.sw, ok ? 0x9000 : 0);
    }
    fake_reset(&f);
    card_reset_pin(&t, NULL, CARD_PROFILE_SSSE, NULL, 21, &r);
    T_EQ_INT(r.res, CARD_RES_REFUSED);
    T_CHECK(!r.sent);
    /* Longer than CARD_APDU_MAX, even with a consistent-looking head. */
    memset(big, 0x01, sizeof big);
    big[4] = 0xFF;
    card_reset_pin(&t, NULL, CARD_PROFILE_SSSE, big, sizeof big, &r);
    T_EQ_INT(r.res, CARD_RES_REFUSED);
    T_CHECK(!r.sent);
    T_EQ_INT(f.nsent, 0);
    /* The longest there is goes out: 5 + 255 + Le. */
    big[4] = 0xFF;
    fake_reset(&f);
    on(&f, "6988");
    card_reset_pin(&t, NULL, CARD_PROFILE_SSSE, big, CARD_APDU_MAX, &r);
    T_EQ_INT(r.res, CARD_RES_REFUSED);
    T_CHECK(r.sent);
    T_EQ_INT(f.nsent, 1);
    T_EQ_INT(f.sent_len[0], CARD_APDU_MAX);
}

T_TEST(op_names)
{
    static const char *const names[] = { "read", "verify", "change", "challenge", "reset" };
    card_op op = CARD_OP__LAST;

    T_EQ_INT(CARD_OP_CHALLENGE, 3);
    T_EQ_INT(CARD_OP_RESET, 4);
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        T_EQ_STR(card_op_name((card_op)i), names[i]);
        T_CHECK(card_op_from_name(names[i], &op));
        T_EQ_INT(op, i);
    }
    T_EQ_STR(card_op_name(CARD_OP__LAST), "?");
    op = CARD_OP_READ;
    T_CHECK(!card_op_from_name("Reset", &op));
    T_CHECK(!card_op_from_name("", &op));
    T_CHECK(!card_op_from_name(NULL, &op));
    T_EQ_INT(op, CARD_OP_READ);
}

T_MAIN(T_CASE(read_ssse_ok), T_CASE(read_expiry_ascii_and_expired), T_CASE(read_auto_falls_back_to_iso),
       T_CASE(read_iso_forced_skips_aid), T_CASE(read_ssse_forced_not_found), T_CASE(read_get_response),
       T_CASE(read_wrong_le_resend_once), T_CASE(read_endless_more_data), T_CASE(read_garbage_replies),
       T_CASE(read_bad_framing), T_CASE(read_unusable_content), T_CASE(read_no_expiry_record),
       T_CASE(read_transport_and_locked), T_CASE(verify_ssse_bytes), T_CASE(verify_iso_bytes),
       T_CASE(verify_bad_pins_send_nothing), T_CASE(verify_sw_mapping), T_CASE(verify_transport),
       T_CASE(verify_auto_detects), T_CASE(change_ssse_bytes), T_CASE(change_iso_bytes),
       T_CASE(change_results), T_CASE(pin_valid), T_CASE(exchange_bad_command),
       T_CASE(challenge_both_profiles), T_CASE(challenge_wrong_answers), T_CASE(challenge_transport),
       T_CASE(reset_sends_once_and_nothing_else), T_CASE(reset_outcomes),
       T_CASE(reset_refuses_malformed_without_sending), T_CASE(op_names))
