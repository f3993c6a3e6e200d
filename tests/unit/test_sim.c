/* test_sim.c - the simulated card, byte for byte: its answers, counters,
 * blocking, locking, memory across remove/insert, faults, and delays. */
#include "card/sim.h"

#include "card/profile.h"
#include "t.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

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

/* Sends `cmd_hex` and checks the reply is exactly `want_hex`. */
static void xchg_at(sim_reader *r, const char *cmd_hex, const char *want_hex, int line)
{
    card_transport t = sim_reader_transport(r);
    uint8_t cmd[CARD_APDU_MAX], want[CARD_REPLY_MAX], got[CARD_REPLY_MAX];
    size_t cl = hex(cmd_hex, cmd), wl = hex(want_hex, want), gl = 0;
    ct_status st = t.transmit(t.ctx, cmd, cl, got, sizeof got, &gl);

    if (st != CT_OK || gl != wl || memcmp(got, want, wl) != 0) {
        fprintf(stderr, "  line %d: %s -> status %d, got ", line, cmd_hex, (int)st);
        for (size_t i = 0; i < gl && i < sizeof got; i++)
            fprintf(stderr, "%02X", got[i]);
        fprintf(stderr, ", want %s\n", want_hex);
        t_failed_checks++;
    }
}
#define XCHG(r, c, w) xchg_at((r), (c), (w), __LINE__)

static ct_status send_raw(sim_reader *r, const char *cmd_hex, uint8_t *got, size_t cap, size_t *gl)
{
    card_transport t = sim_reader_transport(r);
    uint8_t cmd[CARD_APDU_MAX];
    size_t cl = hex(cmd_hex, cmd);
    return t.transmit(t.ctx, cmd, cl, got, cap, gl);
}

#define AID "7378312E73682EC9E7BBE1B1A3D5CF"
#define SEL_AID "00A404000F" AID
#define SEL_EF05 "00A4020002EF05"
#define FCI "6F11840F" AID

static int presence_true, presence_false;
static void on_presence(void *ud, bool present)
{
    (void)ud;
    if (present)
        presence_true++;
    else
        presence_false++;
}

static sim_card_params card(const char *number, const char *pin, int tries, card_profile p)
{
    sim_card_params c;
    memset(&c, 0, sizeof c);
    snprintf(c.card_number, sizeof c.card_number, "%s", number);
    snprintf(c.pin, sizeof c.pin, "%s", pin);
    c.tries = tries;
    c.profile = p;
    return c;
}

static sim_reader *with_card(const sim_card_params *c)
{
    sim_reader *r = sim_reader_new(on_presence, NULL);
    T_CHECK(r != NULL);
    T_CHECK(sim_reader_insert(r, c));
    return r;
}

static int state_tries(sim_reader *r, const char *number)
{
    int tries = -99;
    T_CHECK(sim_reader_card_state(r, number, NULL, &tries, NULL));
    return tries;
}

T_TEST(ssse_answers)
{
    sim_card_params c = card("A12345678", "123456", 3, CARD_PROFILE_SSSE);
    sim_reader *r = with_card(&c);

    XCHG(r, SEL_AID, "6113");
    XCHG(r, "00C0000013", FCI "9000");
    XCHG(r, "00C0000013", "6985"); /* nothing pending any more */
    XCHG(r, SEL_AID "00", FCI "9000");
    XCHG(r, SEL_AID, "6113");
    XCHG(r, "00C0000020", "6C13");
    XCHG(r, "00C0000005", "6F11840F73 610E");
    XCHG(r, "00C0000000", "78312E73682EC9E7BBE1B1A3D5CF 9000");
    XCHG(r, SEL_EF05, "9000");
    XCHG(r, "00B2070400", "0709413132333435363738 9000");
    XCHG(r, "00B2060400", "060420991231 9000");
    XCHG(r, "00B2050400", "050420200101 9000");
    XCHG(r, "00B2030400", "0304332E3030 9000");
    XCHG(r, "00B2010400", "0110 33313031303044313536303030303035 9000");
    XCHG(r, "00B2080400", "6A83");
    XCHG(r, "00B2070405", "6C0B");
    XCHG(r, "00B207040B", "0709413132333435363738 9000");
    XCHG(r, "00B2070401", "6C0B");
    XCHG(r, "00B207040C00", "6700"); /* Lc 0c, no data: malformed */
    XCHG(r, "00B2070C00", "6A86");
    XCHG(r, "00B20704", "6700");
    XCHG(r, "00A4020002EF06", "6A82");
    XCHG(r, "00A4030002EF05", "6A86");
    XCHG(r, "00A4020003EF0501", "6700");
    XCHG(r, "00A404000F" "7378312E73682EC9E7BBE1B1A3D5CE", "6A82");
    sim_reader_free(r);
}

T_TEST(ssse_needs_application)
{
    sim_card_params c = card("A12345678", "123456", 3, CARD_PROFILE_SSSE);
    sim_reader *r = with_card(&c);

    XCHG(r, "00B2070400", "6986");
    XCHG(r, SEL_EF05, "6A82");
    XCHG(r, "0020000003123456", "6985");
    XCHG(r, "805E010007123456FF654321", "6985");
    T_EQ_INT(state_tries(r, "A12345678"), 3);
    sim_reader_free(r);
}

T_TEST(iso_answers)
{
    sim_card_params c = card("T0000042", "2468", 5, CARD_PROFILE_ISO7816);
    sim_reader *r = with_card(&c);

    XCHG(r, SEL_AID, "6A82");
    XCHG(r, "00B2070400", "6986");
    XCHG(r, SEL_EF05, "9000");
    XCHG(r, "00B2070400", "0708 5430303030303432 9000");
    XCHG(r, "0020008008 32343638FFFFFFFF", "9000");
    XCHG(r, "0020008008 32343637FFFFFFFF", "63C4");
    XCHG(r, "0020008108 32343638FFFFFFFF", "6A88");
    XCHG(r, "0020008004 32343638", "6700");
    XCHG(r, "0020008008 3234FF38FFFFFFFF", "6A80");
    XCHG(r, "0020008008 323436FFFFFFFFFF", "6A80"); /* 3 digits */
    XCHG(r, "805E010005 2468FF1357", "6D00");     /* no ssse change on this card */
    XCHG(r, "0024008010 32343638FFFFFFFF 31333537FFFFFFFF", "9000");
    XCHG(r, "0020008008 31333537FFFFFFFF", "9000");
    XCHG(r, "0024008008 32343638FFFFFFFF", "6700");
    T_EQ_INT(state_tries(r, "T0000042"), 5);
    sim_reader_free(r);
}

T_TEST(iso_bcd_padding_and_ref)
{
    sim_card_params c = card("T0000043", "12345", 3, CARD_PROFILE_ISO7816);
    sim_reader *r;
    card_transport t;
    card_cfg cfg;
    card_result res;

    c.iso_pin_ref = 0x81;
    c.iso_padding = ISO_PAD_BCD;
    r = with_card(&c);
    XCHG(r, "0020008108 12345FFFFFFFFFFF", "9000");
    XCHG(r, "0020008108 1234F5FFFFFFFFFF", "6A80");
    XCHG(r, "0020008008 12345FFFFFFFFFFF", "6A88");

    t = sim_reader_transport(r);
    card_cfg_default(&cfg);
    cfg.iso_pin_ref = 0x81;
    cfg.iso_padding = ISO_PAD_BCD;
    card_change(&t, &cfg, CARD_PROFILE_AUTO, "12345", "1234567890123456", &res);
    T_EQ_INT(res.res, CARD_RES_OK);
    T_EQ_INT(res.profile, CARD_PROFILE_ISO7816);
    card_verify(&t, &cfg, CARD_PROFILE_ISO7816, "1234567890123456", &res);
    T_EQ_INT(res.res, CARD_RES_OK);
    sim_reader_free(r);
}

T_TEST(counters_and_blocking)
{
    sim_card_params c = card("A12345678", "123456", 3, CARD_PROFILE_SSSE);
    sim_reader *r = with_card(&c);
    bool blocked = true;
    int tries = -1;

    XCHG(r, SEL_AID, "6113");
    XCHG(r, "0020000003 111111", "63C2");
    XCHG(r, "0020000003 123456", "9000"); /* resets to the maximum */
    T_EQ_INT(state_tries(r, "A12345678"), 3);
    XCHG(r, "0020000003 111111", "63C2");
    XCHG(r, "0020000002 1234", "63C1");
    T_CHECK(sim_reader_card_state(r, "A12345678", NULL, &tries, &blocked));
    T_EQ_INT(tries, 1);
    T_CHECK(!blocked);
    XCHG(r, "0020000003 12345F", "63C0");
    T_CHECK(sim_reader_card_state(r, "A12345678", NULL, &tries, &blocked));
    T_EQ_INT(tries, 0);
    T_CHECK(blocked);
    XCHG(r, "0020000003 123456", "6983");
    XCHG(r, "805E010007 123456FF654321", "6983");
    T_EQ_INT(state_tries(r, "A12345678"), 0);
    sim_reader_free(r);
}

T_TEST(empty_verify_costs_a_try)
{
    sim_card_params c = card("A12345678", "123456", 3, CARD_PROFILE_SSSE);
    sim_reader *r = with_card(&c);

    XCHG(r, SEL_AID, "6113");
    XCHG(r, "00200000", "63C2");
    XCHG(r, "0020000000", "63C1");
    sim_reader_free(r);
}

T_TEST(ssse_change)
{
    sim_card_params c = card("A12345678", "123456", 3, CARD_PROFILE_SSSE);
    sim_reader *r = with_card(&c);
    char pin[17];

    XCHG(r, SEL_AID, "6113");
    XCHG(r, "805E010007 111111FF654321", "63C2");
    T_CHECK(sim_reader_card_state(r, "A12345678", pin, NULL, NULL));
    T_EQ_STR(pin, "123456");
    XCHG(r, "805E010006 123456FF6543", "9000");
    T_CHECK(sim_reader_card_state(r, "A12345678", pin, NULL, NULL));
    T_EQ_STR(pin, "6543");
    T_EQ_INT(state_tries(r, "A12345678"), 3);
    XCHG(r, "0020000002 6543", "9000");
    XCHG(r, "0020000003 123456", "63C2");
    /* Malformed: no separator, bad digits, short new PIN, Lc mismatch, P1. */
    XCHG(r, "805E010006 65431234 5678", "6A80");
    XCHG(r, "805E010005 6543FF123F", "6A80");
    XCHG(r, "805E010005 6543FFA234", "6A80");
    XCHG(r, "805E010008 6543FF1234", "6700");
    XCHG(r, "805E000005 6543FF1234", "6A86");
    XCHG(r, "005E010005 6543FF1234", "6E00");
    XCHG(r, "80200000026543", "6E00");
    XCHG(r, "00CA010000", "6D00");
    XCHG(r, "0020", "6700");
    XCHG(r, "0020000009 123456789012345678", "6700");
    XCHG(r, "0020000002 12A4", "6A80");
    XCHG(r, "0020000002 1F34", "6A80");
    T_EQ_INT(state_tries(r, "A12345678"), 2);
    T_CHECK(sim_reader_card_state(r, "A12345678", pin, NULL, NULL));
    T_EQ_STR(pin, "6543");
    sim_reader_free(r);
}

T_TEST(locked_card)
{
    sim_card_params c = card("A12345678", "123456", 3, CARD_PROFILE_SSSE);
    sim_reader *r;

    c.locked = true;
    r = with_card(&c);
    XCHG(r, SEL_AID, "6113");
    XCHG(r, "00C0000013", FCI "9000");
    XCHG(r, SEL_EF05, "9000");
    XCHG(r, "00B2070400", "9303");
    XCHG(r, "0020000003 123456", "9303");
    XCHG(r, "805E010007 123456FF654321", "9303");
    XCHG(r, "00CA010000", "9303");
    T_EQ_INT(state_tries(r, "A12345678"), 3);
    sim_reader_free(r);
}

T_TEST(presence_and_persistence)
{
    sim_card_params c = card("A12345678", "123456", 3, CARD_PROFILE_SSSE);
    sim_card_params other = card("B87654321", "000000", 6, CARD_PROFILE_ISO7816);
    sim_reader *r = sim_reader_new(on_presence, NULL);
    card_transport t = sim_reader_transport(r);
    uint8_t buf[8];
    size_t bl = 99;
    char pin[17];
    bool blocked = true;

    presence_true = presence_false = 0;
    T_EQ_INT(t.transmit(t.ctx, (const uint8_t *)"\x00\xA4\x02\x00", 4, buf, sizeof buf, &bl), CT_REMOVED);
    T_CHECK(!sim_reader_remove(r));
    T_CHECK(sim_reader_insert(r, &c));
    T_CHECK(!sim_reader_insert(r, &other)); /* one card at a time */
    T_CHECK(sim_reader_present(r));
    XCHG(r, SEL_AID, "6113");
    XCHG(r, "0020000003 111111", "63C2");
    T_CHECK(sim_reader_remove(r));
    T_CHECK(!sim_reader_present(r));
    T_EQ_INT(presence_true, 1);
    T_EQ_INT(presence_false, 1);

    /* Known number: PIN/tries kept, the given ones ignored; session reset. */
    c = card("A12345678", "999999", 9, CARD_PROFILE_SSSE);
    T_CHECK(sim_reader_insert(r, &c));
    XCHG(r, "0020000003 999999", "6985"); /* application not selected again yet */
    XCHG(r, SEL_AID, "6113");
    XCHG(r, "0020000003 999999", "63C1");
    T_CHECK(sim_reader_card_state(r, "A12345678", pin, NULL, &blocked));
    T_EQ_STR(pin, "123456");
    T_CHECK(!blocked);
    XCHG(r, "0020000003 123456", "9000");
    T_EQ_INT(state_tries(r, "A12345678"), 3); /* max stays the first one */
    T_CHECK(sim_reader_remove(r));

    T_CHECK(sim_reader_insert(r, &other));
    T_CHECK(sim_reader_card_state(r, "B87654321", pin, NULL, NULL));
    T_EQ_STR(pin, "000000");
    T_EQ_INT(state_tries(r, "B87654321"), 6);
    T_CHECK(!sim_reader_card_state(r, "C0", NULL, NULL, NULL));
    T_CHECK(sim_reader_remove(r));
    T_EQ_INT(presence_true, 3);
    T_EQ_INT(presence_false, 3);

    /* A card inserted blocked. */
    c = card("Z1", "1234", 3, CARD_PROFILE_SSSE);
    c.blocked = true;
    T_CHECK(sim_reader_insert(r, &c));
    XCHG(r, SEL_AID, "6113");
    XCHG(r, "0020000002 1234", "6983");
    T_EQ_INT(state_tries(r, "Z1"), 0);
    sim_reader_free(r);
}

T_TEST(invalid_params)
{
    sim_reader *r = sim_reader_new(NULL, NULL);
    sim_card_params c;

    c = card("A12345678", "123456", 3, CARD_PROFILE_AUTO);
    T_CHECK(!sim_reader_insert(r, &c));
    c = card("", "123456", 3, CARD_PROFILE_SSSE);
    T_CHECK(!sim_reader_insert(r, &c));
    c = card("A1234-678", "123456", 3, CARD_PROFILE_SSSE);
    T_CHECK(!sim_reader_insert(r, &c));
    c = card("A12345678", "123", 3, CARD_PROFILE_SSSE);
    T_CHECK(!sim_reader_insert(r, &c));
    c = card("A12345678", "12345a", 3, CARD_PROFILE_SSSE);
    T_CHECK(!sim_reader_insert(r, &c));
    c = card("A12345678", "123456", 0, CARD_PROFILE_SSSE);
    T_CHECK(!sim_reader_insert(r, &c));
    c = card("A12345678", "123456", 16, CARD_PROFILE_SSSE);
    T_CHECK(!sim_reader_insert(r, &c));
    c = card("A12345678", "123456", 3, CARD_PROFILE_SSSE);
    memcpy(c.expiry, "20991331", 9);
    T_CHECK(!sim_reader_insert(r, &c));
    memcpy(c.expiry, "2099123", 8);
    T_CHECK(!sim_reader_insert(r, &c));
    /* Unterminated number. */
    c = card("A12345678", "123456", 3, CARD_PROFILE_SSSE);
    memset(c.card_number, 'A', sizeof c.card_number);
    T_CHECK(!sim_reader_insert(r, &c));
    T_CHECK(!sim_reader_insert(r, NULL));
    T_CHECK(!sim_reader_present(r));
    c = card("A12345678", "123456", 15, CARD_PROFILE_SSSE);
    memcpy(c.expiry, "20991231", 9);
    T_CHECK(sim_reader_insert(r, &c));
    sim_reader_free(r);
    sim_reader_free(NULL);
}

T_TEST(read_through_profiles)
{
    sim_card_params c = card("A12345678", "123456", 3, CARD_PROFILE_SSSE);
    sim_reader *r = with_card(&c);
    card_transport t = sim_reader_transport(r);
    card_result res;

    card_read(&t, NULL, "20250101", &res);
    T_EQ_INT(res.res, CARD_RES_OK);
    T_EQ_INT(res.profile, CARD_PROFILE_SSSE);
    T_EQ_STR(res.card_number, "A12345678");
    T_EQ_STR(res.expiry, "20991231");
    T_CHECK(sim_reader_remove(r));

    c = card("T77", "1234", 3, CARD_PROFILE_ISO7816);
    memcpy(c.expiry, "20241231", 9);
    T_CHECK(sim_reader_insert(r, &c));
    card_read(&t, NULL, "20250101", &res);
    T_EQ_INT(res.res, CARD_RES_EXPIRED);
    T_EQ_INT(res.profile, CARD_PROFILE_ISO7816);
    T_EQ_STR(res.card_number, "T77");
    T_EQ_STR(res.expiry, "20241231");
    sim_reader_free(r);
}

T_TEST(fault_pull)
{
    sim_card_params c = card("A12345678", "123456", 3, CARD_PROFILE_SSSE);
    sim_reader *r;
    card_transport t;
    card_result res;
    char pin[17];

    presence_true = presence_false = 0;
    c.fault = SIM_FAULT_PULL;
    c.fault_on = CARD_OP_VERIFY;
    r = with_card(&c);
    t = sim_reader_transport(r);
    card_read(&t, NULL, "20250101", &res);
    T_EQ_INT(res.res, CARD_RES_OK); /* the fault waits for its op */
    card_verify(&t, NULL, CARD_PROFILE_SSSE, "111111", &res);
    T_EQ_INT(res.res, CARD_RES_REMOVED);
    T_CHECK(!sim_reader_present(r));
    T_EQ_INT(presence_false, 1);
    T_EQ_INT(state_tries(r, "A12345678"), 2); /* the card took the attempt */
    card_verify(&t, NULL, CARD_PROFILE_SSSE, "123456", &res);
    T_EQ_INT(res.res, CARD_RES_REMOVED);
    T_CHECK(!sim_reader_remove(r));

    /* Pull on CHANGE: the change is on the card, the answer is lost. */
    c.fault_on = CARD_OP_CHANGE;
    T_CHECK(sim_reader_insert(r, &c));
    card_change(&t, NULL, CARD_PROFILE_SSSE, "123456", "135790", &res);
    T_EQ_INT(res.res, CARD_RES_REMOVED);
    T_CHECK(sim_reader_card_state(r, "A12345678", pin, NULL, NULL));
    T_EQ_STR(pin, "135790");
    T_EQ_INT(state_tries(r, "A12345678"), 3);

    /* Pull on READ. */
    c.fault_on = CARD_OP_READ;
    T_CHECK(sim_reader_insert(r, &c));
    card_read(&t, NULL, "20250101", &res);
    T_EQ_INT(res.res, CARD_RES_REMOVED);
    T_EQ_INT(presence_false, 3);
    sim_reader_free(r);
}

T_TEST(fault_garbage)
{
    sim_card_params c = card("A12345678", "123456", 15, CARD_PROFILE_SSSE);
    sim_reader *r = sim_reader_new(NULL, NULL);
    card_transport t = sim_reader_transport(r);
    card_result res;

    c.fault = SIM_FAULT_GARBAGE;
    /* The junk is random: try it many times, every form must be garbage. */
    for (int i = 0; i < 100; i++) {
        c.fault_on = (card_op)(i % 3);
        T_CHECK(sim_reader_insert(r, &c));
        if (c.fault_on == CARD_OP_READ) {
            card_read(&t, NULL, "20250101", &res);
        } else if (c.fault_on == CARD_OP_VERIFY) {
            card_verify(&t, NULL, CARD_PROFILE_SSSE, "123456", &res);
        } else {
            card_change(&t, NULL, CARD_PROFILE_SSSE, "123456", "123456", &res);
        }
        T_EQ_INT(res.res, CARD_RES_GARBAGE);
        /* Once only: the next command of that op is answered. */
        card_verify(&t, NULL, CARD_PROFILE_SSSE, "123456", &res);
        T_EQ_INT(res.res, CARD_RES_OK);
        T_CHECK(sim_reader_remove(r));
    }
    sim_reader_free(r);
}

T_TEST(fault_truncated)
{
    sim_card_params c = card("A12345678", "123456", 3, CARD_PROFILE_SSSE);
    sim_reader *r;
    card_transport t;
    card_result res;
    uint8_t got[CARD_REPLY_MAX];
    size_t gl = 0;

    c.fault = SIM_FAULT_TRUNCATED;
    c.fault_on = CARD_OP_READ;
    r = with_card(&c);
    XCHG(r, SEL_AID, "6113");
    XCHG(r, SEL_EF05, "9000");
    XCHG(r, "00B2070400", "0709413132333435363738"); /* no SW */
    XCHG(r, "00B2070400", "0709413132333435363738 9000");
    T_CHECK(sim_reader_remove(r));

    T_CHECK(sim_reader_insert(r, &c));
    t = sim_reader_transport(r);
    card_read(&t, NULL, "20250101", &res);
    T_EQ_INT(res.res, CARD_RES_GARBAGE);
    T_CHECK(sim_reader_remove(r));

    c.fault_on = CARD_OP_VERIFY;
    T_CHECK(sim_reader_insert(r, &c));
    XCHG(r, SEL_AID, "6113");
    T_EQ_INT(send_raw(r, "0020000003 111111", got, sizeof got, &gl), CT_OK);
    T_EQ_INT(gl, 1);
    T_EQ_INT(got[0], 0x63);
    T_EQ_INT(state_tries(r, "A12345678"), 2); /* taken, answer cut */
    T_CHECK(sim_reader_remove(r));

    c.fault_on = CARD_OP_CHANGE;
    T_CHECK(sim_reader_insert(r, &c));
    card_change(&t, NULL, CARD_PROFILE_SSSE, "123456", "7890", &res);
    T_EQ_INT(res.res, CARD_RES_GARBAGE);
    T_EQ_INT(state_tries(r, "A12345678"), 3);
    sim_reader_free(r);
}

T_TEST(short_reply_buffer)
{
    sim_card_params c = card("A12345678", "123456", 3, CARD_PROFILE_ISO7816);
    sim_reader *r = with_card(&c);
    uint8_t got[4] = { 0xAA, 0xAA, 0xAA, 0xAA };
    size_t gl = 0;

    XCHG(r, SEL_EF05, "9000");
    T_EQ_INT(send_raw(r, "00B2070400", got, 1, &gl), CT_OK);
    T_EQ_INT(gl, 13);
    T_EQ_INT(got[0], 0x07);
    T_EQ_INT(got[1], 0xAA); /* nothing past the cap */
    sim_reader_free(r);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void *remove_later(void *arg)
{
    usleep(50 * 1000);
    sim_reader_remove(arg);
    return NULL;
}

T_TEST(delay)
{
    sim_card_params c = card("A12345678", "123456", 3, CARD_PROFILE_ISO7816);
    sim_reader *r;
    pthread_t th;
    uint8_t got[CARD_REPLY_MAX];
    size_t gl = 0;
    double t0, dt;

    c.delay_ms = 40;
    c.delay_on = CARD_OP_VERIFY;
    r = with_card(&c);
    t0 = now_ms();
    XCHG(r, SEL_EF05, "9000"); /* not a verify: no delay */
    T_CHECK(now_ms() - t0 < 30);
    t0 = now_ms();
    XCHG(r, "0020008008 313131313131FFFF", "63C2");
    dt = now_ms() - t0;
    T_CHECK(dt >= 39);
    T_CHECK(dt < 1000);
    T_CHECK(sim_reader_remove(r));

    /* A remove during a long delay ends the command at once, untaken. */
    c.delay_ms = 5000;
    T_CHECK(sim_reader_insert(r, &c));
    T_EQ_INT(pthread_create(&th, NULL, remove_later, r), 0);
    t0 = now_ms();
    T_EQ_INT(send_raw(r, "0020008008 313131313131FFFF", got, sizeof got, &gl), CT_REMOVED);
    dt = now_ms() - t0;
    pthread_join(th, NULL);
    T_CHECK(dt >= 40);
    T_CHECK(dt < 1000);
    T_EQ_INT(state_tries(r, "A12345678"), 2);
    sim_reader_free(r);
}

/* ---- the bureau-made reset ---------------------------------------------- */

#define CHAL "1122334455667788"
#define GET_CHAL "0084000008"
/* sim_reset_command("A12345678", CHAL), worked out with Python's hashlib
 * and hmac (bureau-api.md section 3). */
#define RESET_A "842C000010 A33B28557A3FCD009CE56375B8F65074"
#define RESET_T42 "842C000010 914D7CF6F3586CF03065FF9D6568185C"

static const uint8_t chal_bytes[CARD_CHALLENGE_LEN] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };

static void card_state_is(sim_reader *r, const char *number, const char *pin, int tries,
                          bool blocked, int line)
{
    char got_pin[17] = "";
    int got_tries = -99;
    bool got_blocked = !blocked;

    if (!sim_reader_card_state(r, number, got_pin, &got_tries, &got_blocked) ||
        strcmp(got_pin, pin) != 0 || got_tries != tries || got_blocked != blocked) {
        fprintf(stderr, "  line %d: state %s/%d/%d, want %s/%d/%d\n", line, got_pin, got_tries,
                (int)got_blocked, pin, tries, (int)blocked);
        t_failed_checks++;
    }
}
#define STATE_IS(r, n, p, t, b) card_state_is((r), (n), (p), (t), (b), __LINE__)

T_TEST(reset_command_known_answer)
{
    uint8_t got[SIM_RESET_APDU_LEN], want[SIM_RESET_APDU_LEN];

    T_EQ_INT(hex(RESET_A, want), SIM_RESET_APDU_LEN);
    sim_reset_command("A12345678", chal_bytes, got);
    T_EQ_MEM(got, want, SIM_RESET_APDU_LEN);
    hex(RESET_T42, want);
    sim_reset_command("T0000042", chal_bytes, got);
    T_EQ_MEM(got, want, SIM_RESET_APDU_LEN);
}

T_TEST(challenge_answers)
{
    sim_card_params c = card("A12345678", "654321", 3, CARD_PROFILE_SSSE);
    sim_reader *r = with_card(&c);
    uint8_t a[CARD_REPLY_MAX], b[CARD_REPLY_MAX];
    size_t al = 0, bl = 0;

    XCHG(r, GET_CHAL, "6985"); /* ssse: the application first */
    XCHG(r, SEL_AID, "6113");
    T_EQ_INT(send_raw(r, GET_CHAL, a, sizeof a, &al), CT_OK);
    T_EQ_INT(send_raw(r, "0084000000", b, sizeof b, &bl), CT_OK); /* Le 00: 8 too */
    T_EQ_INT(al, 10);
    T_EQ_INT(bl, 10);
    T_EQ_INT(a[8] << 8 | a[9], 0x9000);
    T_EQ_INT(b[8] << 8 | b[9], 0x9000);
    T_CHECK(memcmp(a, b, 8) != 0); /* random: equal once in 2^64 */
    XCHG(r, "0084000010", "6C08");
    XCHG(r, "0084010008", "6A86");
    XCHG(r, "0084000001 00 08", "6700");
    XCHG(r, "00840000", "6700");
    XCHG(r, "8084000008", "6E00");
    sim_reader_fix_challenge(r, chal_bytes);
    XCHG(r, GET_CHAL, CHAL "9000");
    XCHG(r, GET_CHAL, CHAL "9000");
    sim_reader_fix_challenge(r, NULL);
    T_EQ_INT(send_raw(r, GET_CHAL, a, sizeof a, &al), CT_OK);
    T_CHECK(memcmp(a, chal_bytes, 8) != 0);
    T_CHECK(sim_reader_remove(r));

    /* iso7816: no application to select. */
    c = card("T0000042", "2468", 5, CARD_PROFILE_ISO7816);
    T_CHECK(sim_reader_insert(r, &c));
    sim_reader_fix_challenge(r, chal_bytes);
    XCHG(r, GET_CHAL, CHAL "9000");
    sim_reader_free(r);
}

T_TEST(reset_for_the_last_challenge)
{
    sim_card_params c = card("A12345678", "654321", 3, CARD_PROFILE_SSSE);
    sim_reader *r = with_card(&c);

    sim_reader_fix_challenge(r, chal_bytes);
    XCHG(r, SEL_AID, "6113");
    XCHG(r, "0020000003 111111", "63C2");
    XCHG(r, "0020000003 111111", "63C1");
    XCHG(r, "0020000003 111111", "63C0");
    STATE_IS(r, "A12345678", "654321", 0, true);
    XCHG(r, GET_CHAL, CHAL "9000");
    XCHG(r, RESET_A, "9000");
    STATE_IS(r, "A12345678", SIM_INITIAL_PIN, 3, false);
    /* Used once: the same command again finds no challenge. */
    XCHG(r, RESET_A, "6988");
    XCHG(r, "0020000003 123456", "9000");
    sim_reader_free(r);

    /* iso7816, its own card number in the MAC. */
    c = card("T0000042", "2468", 5, CARD_PROFILE_ISO7816);
    r = with_card(&c);
    sim_reader_fix_challenge(r, chal_bytes);
    XCHG(r, GET_CHAL, CHAL "9000");
    XCHG(r, RESET_A, "6988"); /* another card's command */
    STATE_IS(r, "T0000042", "2468", 5, false);
    XCHG(r, GET_CHAL, CHAL "9000");
    XCHG(r, RESET_T42 "00", "9000"); /* with an Le: still the command */
    STATE_IS(r, "T0000042", SIM_INITIAL_PIN, 5, false);
    sim_reader_free(r);
}

T_TEST(reset_challenge_voided)
{
    /* Each row: what comes between GET CHALLENGE and the right reset. */
    static const struct { const char *between, *answer; } voiders[] = {
        { SEL_AID, "6113" },
        { "00C0000013", "6985" },            /* even GET RESPONSE */
        { "0020000003 111111", "63C2" },     /* a wrong PIN (costs a try) */
        { "842C000010 00000000000000000000000000000000", "6988" }, /* a failed reset */
        { "842C00000F 000000000000000000000000000000", "6700" },
        { "002C000010 A33B28557A3FCD009CE56375B8F65074", "6E00" },
        { "00", "6700" },                    /* not even an APDU */
        { "00CA010000", "6D00" },
        { GET_CHAL, CHAL "9000" },           /* a new one: the old command is stale */
    };
    sim_card_params c = card("A12345678", "654321", 3, CARD_PROFILE_SSSE);
    sim_reader *r = with_card(&c);
    static const uint8_t other[CARD_CHALLENGE_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };

    XCHG(r, SEL_AID, "6113");
    XCHG(r, RESET_A, "6988"); /* never a challenge */
    for (size_t i = 0; i < sizeof voiders / sizeof voiders[0]; i++) {
        bool again = strcmp(voiders[i].between, GET_CHAL) == 0;

        sim_reader_fix_challenge(r, chal_bytes);
        XCHG(r, SEL_AID, "6113");
        XCHG(r, GET_CHAL, CHAL "9000");
        if (again)
            sim_reader_fix_challenge(r, other);
        xchg_at(r, voiders[i].between, again ? "0102030405060708 9000" : voiders[i].answer,
                __LINE__ * 1000 + (int)i);
        XCHG(r, RESET_A, "6988");
    }
    /* Not across a removal either. */
    sim_reader_fix_challenge(r, chal_bytes);
    XCHG(r, SEL_AID, "6113");
    XCHG(r, GET_CHAL, CHAL "9000");
    T_CHECK(sim_reader_remove(r));
    T_CHECK(sim_reader_insert(r, &c));
    XCHG(r, RESET_A, "6988");
    STATE_IS(r, "A12345678", "654321", 2, false); /* only the wrong PIN above counted */
    /* Wrong P1/P2 and CLA. */
    XCHG(r, SEL_AID, "6113");
    XCHG(r, GET_CHAL, CHAL "9000");
    XCHG(r, "842C010010 A33B28557A3FCD009CE56375B8F65074", "6A86");
    STATE_IS(r, "A12345678", "654321", 2, false);
    sim_reader_free(r);
}

T_TEST(reset_locked_card)
{
    sim_card_params c = card("A12345678", "654321", 3, CARD_PROFILE_SSSE);
    sim_reader *r;

    c.locked = true;
    r = with_card(&c);
    sim_reader_fix_challenge(r, chal_bytes);
    XCHG(r, SEL_AID, "6113");
    XCHG(r, GET_CHAL, "9303");
    XCHG(r, RESET_A, "9303");
    STATE_IS(r, "A12345678", "654321", 3, false);
    sim_reader_free(r);
}

/* card_challenge, then the command made for its answer, through the
 * profiles, with a random challenge. */
static void reset_through_profiles(card_profile p, const char *number)
{
    sim_card_params c = card(number, "97531", 4, p);
    sim_reader *r;
    card_transport t;
    card_result res;
    uint8_t cmd[SIM_RESET_APDU_LEN];

    c.blocked = true;
    r = with_card(&c);
    t = sim_reader_transport(r);
    card_challenge(&t, NULL, CARD_PROFILE_AUTO, &res);
    T_EQ_INT(res.res, CARD_RES_OK);
    T_EQ_INT(res.profile, p);
    sim_reset_command(number, res.challenge, cmd);
    card_reset_pin(&t, NULL, res.profile, cmd, sizeof cmd, &res);
    T_EQ_INT(res.res, CARD_RES_OK);
    T_CHECK(res.sent);
    STATE_IS(r, number, SIM_INITIAL_PIN, 4, false);
    card_verify(&t, NULL, p, SIM_INITIAL_PIN, &res);
    T_EQ_INT(res.res, CARD_RES_OK);
    /* The same command once more: refused, nothing changed. */
    card_change(&t, NULL, p, SIM_INITIAL_PIN, "802463", &res);
    T_EQ_INT(res.res, CARD_RES_OK);
    card_reset_pin(&t, NULL, p, cmd, sizeof cmd, &res);
    T_EQ_INT(res.res, CARD_RES_REFUSED);
    T_EQ_INT(res.sw, 0x6988);
    STATE_IS(r, number, "802463", 4, false);
    sim_reader_free(r);
}

T_TEST(reset_through_both_profiles)
{
    reset_through_profiles(CARD_PROFILE_SSSE, "A12345678");
    reset_through_profiles(CARD_PROFILE_ISO7816, "T0000042");
}

T_TEST(reset_faults)
{
    sim_card_params c = card("A12345678", "654321", 3, CARD_PROFILE_SSSE);
    sim_reader *r = sim_reader_new(NULL, NULL);
    card_transport t = sim_reader_transport(r);
    card_result res;
    uint8_t cmd[SIM_RESET_APDU_LEN];

    sim_reader_fix_challenge(r, chal_bytes);
    sim_reset_command("A12345678", chal_bytes, cmd);

    /* Garbage on the reset: the card did it; the answer is lost. */
    c.fault = SIM_FAULT_GARBAGE;
    c.fault_on = CARD_OP_RESET;
    T_CHECK(sim_reader_insert(r, &c));
    card_challenge(&t, NULL, CARD_PROFILE_SSSE, &res);
    T_EQ_INT(res.res, CARD_RES_OK); /* the fault waits for its op */
    card_reset_pin(&t, NULL, CARD_PROFILE_SSSE, cmd, sizeof cmd, &res);
    T_EQ_INT(res.res, CARD_RES_GARBAGE);
    T_CHECK(res.sent);
    STATE_IS(r, "A12345678", SIM_INITIAL_PIN, 3, false);
    T_CHECK(sim_reader_remove(r));

    /* Pulled right after the reset. */
    card_change(&t, NULL, CARD_PROFILE_SSSE, SIM_INITIAL_PIN, "654321", &res);
    T_EQ_INT(res.res, CARD_RES_REMOVED);
    c.fault = SIM_FAULT_PULL;
    T_CHECK(sim_reader_insert(r, &c));
    card_change(&t, NULL, CARD_PROFILE_SSSE, SIM_INITIAL_PIN, "654321", &res);
    T_EQ_INT(res.res, CARD_RES_OK);
    card_challenge(&t, NULL, CARD_PROFILE_SSSE, &res);
    card_reset_pin(&t, NULL, CARD_PROFILE_SSSE, cmd, sizeof cmd, &res);
    T_EQ_INT(res.res, CARD_RES_REMOVED);
    T_CHECK(!sim_reader_present(r));
    STATE_IS(r, "A12345678", SIM_INITIAL_PIN, 3, false);

    /* Truncated and pulled on the challenge. */
    c.fault = SIM_FAULT_TRUNCATED;
    c.fault_on = CARD_OP_CHALLENGE;
    T_CHECK(sim_reader_insert(r, &c));
    card_challenge(&t, NULL, CARD_PROFILE_SSSE, &res);
    T_EQ_INT(res.res, CARD_RES_GARBAGE);
    card_challenge(&t, NULL, CARD_PROFILE_SSSE, &res);
    T_EQ_INT(res.res, CARD_RES_OK); /* once only */
    T_CHECK(sim_reader_remove(r));
    c.fault = SIM_FAULT_PULL;
    T_CHECK(sim_reader_insert(r, &c));
    card_challenge(&t, NULL, CARD_PROFILE_SSSE, &res);
    T_EQ_INT(res.res, CARD_RES_REMOVED);
    T_CHECK(res.sent);

    /* A delay on the reset, cut short by a removal: not carried out. */
    c.fault = SIM_FAULT_NONE;
    c.delay_ms = 5000;
    c.delay_on = CARD_OP_RESET;
    T_CHECK(sim_reader_insert(r, &c));
    card_change(&t, NULL, CARD_PROFILE_SSSE, SIM_INITIAL_PIN, "654321", &res);
    T_EQ_INT(res.res, CARD_RES_OK);
    card_challenge(&t, NULL, CARD_PROFILE_SSSE, &res);
    T_EQ_INT(res.res, CARD_RES_OK);
    {
        pthread_t th;
        double t0 = now_ms();

        T_EQ_INT(pthread_create(&th, NULL, remove_later, r), 0);
        card_reset_pin(&t, NULL, CARD_PROFILE_SSSE, cmd, sizeof cmd, &res);
        pthread_join(th, NULL);
        T_CHECK(now_ms() - t0 < 1000);
    }
    T_EQ_INT(res.res, CARD_RES_REMOVED);
    STATE_IS(r, "A12345678", "654321", 3, false);
    sim_reader_free(r);
}

T_MAIN(T_CASE(ssse_answers), T_CASE(ssse_needs_application), T_CASE(iso_answers),
       T_CASE(iso_bcd_padding_and_ref), T_CASE(counters_and_blocking), T_CASE(empty_verify_costs_a_try),
       T_CASE(ssse_change), T_CASE(locked_card), T_CASE(presence_and_persistence),
       T_CASE(invalid_params), T_CASE(read_through_profiles), T_CASE(fault_pull),
       T_CASE(fault_garbage), T_CASE(fault_truncated), T_CASE(short_reply_buffer), T_CASE(delay),
       T_CASE(reset_command_known_answer), T_CASE(challenge_answers), T_CASE(reset_for_the_last_challenge),
       T_CASE(reset_challenge_voided), T_CASE(reset_locked_card), T_CASE(reset_through_both_profiles),
       T_CASE(reset_faults))
