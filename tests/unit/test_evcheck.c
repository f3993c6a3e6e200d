/* test_evcheck.c - kiosk-sync's check of a body before it leaves
 * (bureau-api.md section 2): a table of good and bad bodies, and every kind
 * of record the kiosk itself writes (src/outbox) passing it. */
#include "t.h"

#include "outbox/outbox.h"
#include "syncd/evcheck.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TID "GZ-YX-0042"
#define ID "0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a10"
/* The contract's example; each row below changes one thing in it. */
#define M_ID "\"event_id\":\"" ID "\""
#define M_TID "\"terminal_id\":\"" TID "\""
#define M_SEQ "\"seq\":1834"
#define M_CARD "\"card_number\":\"A12345678\""
#define M_KIND "\"kind\":\"pin_changed\""
#define M_AT "\"occurred_at\":\"2026-11-27T08:30:12Z\""
#define M_RID "\"reset_id\":\"r-7f3a\""
#define RID63 "r1234567890123456789012345678901234567890123456789012345678901a"
#define BODY(a, b, c, d, e, f) "{" a "," b "," c "," d "," e "," f "}"
#define GOOD BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, M_AT)

static bool check(const char *body, uint64_t seq, char *why, size_t whylen)
{
    char id[EVCHECK_ID_LEN] = "";
    return evcheck_body(body, strlen(body), TID, seq, id, why, whylen);
}

T_TEST(table_of_bodies)
{
    static const struct { const char *body; const char *why; } rows[] = {
        /* good: NULL */
        { GOOD, NULL },
        { BODY(M_AT, M_KIND, M_CARD, M_SEQ, M_TID, M_ID), NULL },          /* any order */
        { "\n{ \"event_id\" : \"" ID "\",\t\"terminal_id\":\"" TID "\",\r\n\"seq\": 1834,"
          M_CARD "," M_KIND "," M_AT " }\n", NULL },                         /* whitespace */
        { BODY("\"event_id\":\"0B9A4F52-8E8E-4D55-AF0B-3C2F6D1F7A10\"", M_TID, M_SEQ, M_CARD, M_KIND, M_AT), NULL },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_blocked\"", M_AT), NULL },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_change_unknown\"", M_AT), NULL },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_reset\"", M_AT "," M_RID), NULL },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_reset\"," M_RID, M_AT), NULL },   /* any place */
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_change_unknown\"", M_AT "," M_RID), NULL },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_reset\"", M_AT ",\"reset_id\":\"a\""), NULL },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_reset\"", M_AT ",\"reset_id\":\"" RID63 "\""), NULL },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_reset\"", M_AT ",\"reset_id\":\"A.b_9-z\""), NULL },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin\\u005fchanged\"", M_AT), NULL },
        { BODY(M_ID, M_TID, M_SEQ, "\"card_number\":\"012345678\"", M_KIND, M_AT), NULL },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, "\"occurred_at\":\"2028-02-29T23:59:59Z\""), NULL },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, "\"occurred_at\":\"2000-02-29T00:00:00Z\""), NULL },

        /* members: extra, missing, twice */
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, M_AT "," "\"pin\":\"582039\""), "unexpected member \"pin\"" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, M_AT "," "\"new_pin\":582039"), "unexpected member \"new_pin\"" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, M_AT "," "\"582039\":1"), "a member that is not in" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, M_AT "," "\"reset_id\":\"r-1\""), "unexpected member \"reset_id\"" },

        /* reset_id (section 3): required on pin_reset, allowed on
           pin_change_unknown, refused on the other kinds; its form */
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_reset\"", M_AT), "member reset_id is missing" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_blocked\"", M_AT "," M_RID), "unexpected member \"reset_id\"" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_reset\"", M_AT "," M_RID "," M_RID), "member reset_id appears twice" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_change_unknown\"", M_AT "," M_RID "," M_RID), "member reset_id appears twice" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_reset\"", M_AT ",\"reset_id\":\"\""), "reset_id is not 1 to 63" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_reset\"", M_AT ",\"reset_id\":\"" RID63 "x\""), "reset_id is not" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_reset\"", M_AT ",\"reset_id\":\"r 7f3a\""), "reset_id is not" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_reset\"", M_AT ",\"reset_id\":\"r/7f3a\""), "reset_id is not" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_reset\"", M_AT ",\"reset_id\":\"r-7f3a\\r\\nX: 1\""), "reset_id is not" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_reset\"", M_AT ",\"reset_id\":7"), "reset_id is not" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_reset\"", M_AT ",\"reset_id\":null"), "reset_id is not" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_reset\"", M_AT ",\"reset_id\":[\"r-1\"]"), "reset_id is not" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_reset\"", M_AT ",\"Reset_id\":\"r-1\""), "unexpected member \"Reset_id\"" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, M_AT "," "\"p\\u0069n\":\"1\""), "unexpected member \"pin\"" },
        { "{" M_ID "," M_TID "," M_SEQ "," M_CARD "," M_KIND "}", "member occurred_at is missing" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, "\"kind\":\"pin_blocked\"," M_AT), "member kind appears twice" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, "\"kind\":\"pin_changed\"," M_AT), "member kind appears twice" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, "\"occurred_at\":{\"t\":\"x\"}"), "occurred_at" },

        /* event_id */
        { BODY("\"event_id\":\"not-a-uuid\"", M_TID, M_SEQ, M_CARD, M_KIND, M_AT), "event_id is not a UUID" },
        { BODY("\"event_id\":\"0b9a4f52-8e8e-1d55-9f0b-3c2f6d1f7a10\"", M_TID, M_SEQ, M_CARD, M_KIND, M_AT), "event_id" },
        { BODY("\"event_id\":\"0b9a4f52-8e8e-4d55-cf0b-3c2f6d1f7a10\"", M_TID, M_SEQ, M_CARD, M_KIND, M_AT), "event_id" },
        { BODY("\"event_id\":\"0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a1g\"", M_TID, M_SEQ, M_CARD, M_KIND, M_AT), "event_id" },
        { BODY("\"event_id\":\"0b9a4f528e8e4d559f0b3c2f6d1f7a10\"", M_TID, M_SEQ, M_CARD, M_KIND, M_AT), "event_id" },
        { BODY("\"event_id\":\"{0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a10}\"", M_TID, M_SEQ, M_CARD, M_KIND, M_AT), "event_id" },
        { BODY("\"event_id\":\"0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a10\\r\\nX: 1\"", M_TID, M_SEQ, M_CARD, M_KIND, M_AT), "event_id" },
        { BODY("\"event_id\":7", M_TID, M_SEQ, M_CARD, M_KIND, M_AT), "event_id" },

        /* terminal_id */
        { BODY(M_ID, "\"terminal_id\":\"GZ-YX-0043\"", M_SEQ, M_CARD, M_KIND, M_AT), "terminal_id is not this terminal's id" },
        { BODY(M_ID, "\"terminal_id\":\"gz-yx-0042\"", M_SEQ, M_CARD, M_KIND, M_AT), "terminal_id" },
        { BODY(M_ID, "\"terminal_id\":\"" TID " \"", M_SEQ, M_CARD, M_KIND, M_AT), "terminal_id" },
        { BODY(M_ID, "\"terminal_id\":null", M_SEQ, M_CARD, M_KIND, M_AT), "terminal_id" },

        /* seq: a plain positive integer, the file's */
        { BODY(M_ID, M_TID, "\"seq\":1835", M_CARD, M_KIND, M_AT), "seq differs from the seq in the file's name" },
        { BODY(M_ID, M_TID, "\"seq\":\"1834\"", M_CARD, M_KIND, M_AT), "seq is not an integer" },
        { BODY(M_ID, M_TID, "\"seq\":1834.5", M_CARD, M_KIND, M_AT), "seq is not an integer" },
        { BODY(M_ID, M_TID, "\"seq\":1834.0", M_CARD, M_KIND, M_AT), "seq is not written as a plain integer" },
        { BODY(M_ID, M_TID, "\"seq\":1.834e3", M_CARD, M_KIND, M_AT), "seq is not written as a plain integer" },
        { BODY(M_ID, M_TID, "\"seq\":01834", M_CARD, M_KIND, M_AT), "seq is not written as a plain integer" },
        { BODY(M_ID, M_TID, "\"seq\":-1834", M_CARD, M_KIND, M_AT), "seq is not an integer" },
        { BODY(M_ID, M_TID, "\"seq\":0", M_CARD, M_KIND, M_AT), "seq is not an integer" },
        { BODY(M_ID, M_TID, "\"seq\":1000000000000", M_CARD, M_KIND, M_AT), "seq is not an integer" },
        { BODY(M_ID, M_TID, "\"seq\":true", M_CARD, M_KIND, M_AT), "seq is not an integer" },

        /* card_number */
        { BODY(M_ID, M_TID, M_SEQ, "\"card_number\":\"A1234567\"", M_KIND, M_AT), "card_number is not 9" },
        { BODY(M_ID, M_TID, M_SEQ, "\"card_number\":\"a12345678\"", M_KIND, M_AT), "card_number" },
        { BODY(M_ID, M_TID, M_SEQ, "\"card_number\":\"A1234567/\"", M_KIND, M_AT), "card_number" },
        { BODY(M_ID, M_TID, M_SEQ, "\"card_number\":123456789", M_KIND, M_AT), "card_number" },

        /* kind */
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"pin_guessed\"", M_AT), "kind is not pin_changed" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"PIN_CHANGED\"", M_AT), "kind" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":\"\"", M_AT), "kind" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, "\"kind\":[\"pin_changed\"]", M_AT), "kind" },

        /* occurred_at */
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, "\"occurred_at\":\"2026-11-27T16:30:12+08:00\""), "occurred_at is not a UTC time" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, "\"occurred_at\":\"2026-11-27T08:30:12.5Z\""), "occurred_at" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, "\"occurred_at\":\"2026-11-27 08:30:12Z\""), "occurred_at" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, "\"occurred_at\":\"2026-11-27t08:30:12z\""), "occurred_at" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, "\"occurred_at\":\"2026-02-29T08:30:12Z\""), "occurred_at" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, "\"occurred_at\":\"1900-02-29T08:30:12Z\""), "occurred_at" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, "\"occurred_at\":\"2026-13-01T08:30:12Z\""), "occurred_at" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, "\"occurred_at\":\"2026-04-31T08:30:12Z\""), "occurred_at" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, "\"occurred_at\":\"2026-11-27T24:00:00Z\""), "occurred_at" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, "\"occurred_at\":\"2026-11-27T23:59:60Z\""), "occurred_at" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, "\"occurred_at\":\"0000-01-01T00:00:00Z\""), "occurred_at" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, "\"occurred_at\":1764232212"), "occurred_at" },

        /* not one plain JSON object */
        { "", "empty" },
        { "[" GOOD "]", "not one JSON object" },
        { GOOD GOOD, "not one JSON object" },
        { GOOD "x", "not one JSON object" },
        { "{\"event_id\": \"truncated", "not one JSON object" },
        { "\xef\xbb\xbf" GOOD, "printable ASCII" },
        { BODY(M_ID, M_TID, M_SEQ, M_CARD, M_KIND, "\"occurred_at\":\"2026-11-27T08:30:12Z\\u0000\""), "\\u0000" },
        { BODY(M_ID, M_TID, M_SEQ, "\"card_number\":\"A1234567\xe5\xbc\xa0\"", M_KIND, M_AT), "printable ASCII" },
        { "{\x0b" M_ID "," M_TID "," M_SEQ "," M_CARD "," M_KIND "," M_AT "}", "printable ASCII" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char why[EVCHECK_WHY_MAX] = "";
        bool ok = check(rows[i].body, 1834, why, sizeof why);
        bool want = rows[i].why == NULL;
        if (ok != want || (!ok && !strstr(why, rows[i].why)))
            fprintf(stderr, "  row %zu: %s -> %s \"%s\"\n", i, rows[i].body, ok ? "passed" : "refused", why);
        T_EQ_INT(ok, want);
        if (!ok && rows[i].why)
            T_CHECK(strstr(why, rows[i].why) != NULL);
        /* A reason names what is wrong, never a value from the body. */
        T_CHECK(strstr(why, "582039") == NULL && strstr(why, "A12345678") == NULL);
    }
}

T_TEST(event_id_copied_and_limits)
{
    char id[EVCHECK_ID_LEN] = "", why[EVCHECK_WHY_MAX] = "";
    T_CHECK(evcheck_body(GOOD, strlen(GOOD), TID, 1834, id, why, sizeof why));
    T_EQ_STR(id, ID);
    /* Only the first len bytes count. */
    T_CHECK(evcheck_body(GOOD "garbage", strlen(GOOD), TID, 1834, id, why, sizeof why));
    T_CHECK(!evcheck_body(GOOD, strlen(GOOD) - 1, TID, 1834, id, why, sizeof why));
    /* A NUL byte inside. */
    static const char nul[] = "{\"event_id\":\"" ID "\"\0}";
    T_CHECK(!evcheck_body(nul, sizeof nul - 1, TID, 1834, id, why, sizeof why));
    /* Over the limit, however valid it would be. */
    static char big[EVCHECK_BODY_MAX + 2];
    memset(big, ' ', sizeof big - 1);
    memcpy(big, GOOD, strlen(GOOD));
    T_CHECK(!evcheck_body(big, sizeof big - 1, TID, 1834, id, why, sizeof why));
    T_CHECK(strstr(why, "larger than") != NULL);
    T_CHECK(evcheck_body(big, EVCHECK_BODY_MAX, TID, 1834, id, why, sizeof why));
    /* A tiny reason buffer is cut, not overrun; a NULL one is fine. */
    char tiny[8];
    T_CHECK(!evcheck_body(GOOD, strlen(GOOD), "GZ-OTHER", 1834, id, tiny, sizeof tiny));
    T_EQ_INT(strlen(tiny), 7);
    T_CHECK(!evcheck_body(GOOD, strlen(GOOD), TID, 1, id, NULL, 0));
}

/* Every body the kiosk writes passes: records of each kind and resolved
 * intents, through the outbox module itself. */
T_TEST(the_kiosks_own_records_pass)
{
    char dir[] = "/tmp/test_evcheck.XXXXXX", err[256], path[600], body[EVCHECK_BODY_MAX];
    static const outbox_resolution res[] = { OUTBOX_RESOLVE_CHANGED, OUTBOX_RESOLVE_UNKNOWN };
    T_CHECK(mkdtemp(dir) != NULL);
    outbox *o = outbox_open(dir, TID, err, sizeof err);
    T_CHECK(o != NULL);
    if (!o)
        return;
    T_CHECK(outbox_record(o, "A12345678", OUTBOX_PIN_CHANGED, 1764232212));
    T_CHECK(outbox_record(o, "B00000001", OUTBOX_PIN_BLOCKED, 0));
    T_CHECK(outbox_record(o, "Z99999999", OUTBOX_PIN_CHANGE_UNKNOWN, 253402300799)); /* 9999-12-31T23:59:59Z */
    for (size_t i = 0; i < 2; i++) {
        T_CHECK(outbox_intent_begin(o, "C11223344", 951782400)); /* 2000-02-29 */
        T_CHECK(outbox_intent_resolve(o, res[i], 1767225599));    /* 2025-12-31T23:59:59Z */
    }
    outbox_close(o);
    DIR *d = opendir(dir);
    struct dirent *e;
    int checked = 0;
    while (d && (e = readdir(d)) != NULL) {
        unsigned long long seq;
        char tail;
        if (sscanf(e->d_name, "evt-%12llu.jso%c", &seq, &tail) != 2)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int fd = open(path, O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, body, sizeof body) : -1;
        if (fd >= 0)
            close(fd);
        char id[EVCHECK_ID_LEN], why[EVCHECK_WHY_MAX] = "";
        bool ok = n > 0 && evcheck_body(body, (size_t)n, TID, seq, id, why, sizeof why);
        if (!ok)
            fprintf(stderr, "  %s refused: %s\n", e->d_name, why);
        T_CHECK(ok);
        checked++;
    }
    if (d)
        closedir(d);
    T_EQ_INT(checked, 5);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    T_EQ_INT(system(path), 0);
}

T_MAIN(T_CASE(table_of_bodies), T_CASE(event_id_copied_and_limits), T_CASE(the_kiosks_own_records_pass))
