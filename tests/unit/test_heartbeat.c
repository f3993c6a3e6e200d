/* test_heartbeat.c - the heartbeat's figures, body and schedule, and the
 * sync socket's request handling (sync_server's pure part). */
#include "t.h"

#include "syncd/heartbeat.h"
#include "syncd/sync_server.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void put(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    T_CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.dead'", dir, dir);
    T_EQ_INT(system(cmd), 0);
}

static const char ev[] = "{\"event_id\":\"0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a10\"}";

T_TEST(refresh_reads_the_outbox)
{
    char dir[] = "/tmp/test_heartbeat.XXXXXX", dead[600];
    hb_figures f = { 0 };
    T_CHECK(mkdtemp(dir) != NULL);
    /* A fresh terminal: nothing at all, not even a dead-letter folder. */
    hb_refresh(dir, 0, &f);
    T_EQ_INT(f.outbox_depth, 0);
    T_EQ_INT(f.dead_letters, 0);
    T_EQ_INT(f.last_event_seq, 0);
    T_CHECK(f.uptime_s > 0);

    put(dir, "evt-000000000006.json", ev);
    put(dir, "evt-000000000007.json", ev);
    put(dir, "intent-000000000008.json", ev); /* not an event yet */
    put(dir, "seq", "8\n");
    snprintf(dead, sizeof dead, "%s.dead", dir);
    T_EQ_INT(mkdir(dead, 0700), 0);
    put(dead, "evt-000000000003.json", ev);
    hb_refresh(dir, 0, &f);
    T_EQ_INT(f.outbox_depth, 2);
    T_EQ_INT(f.dead_letters, 1);
    T_EQ_INT(f.last_event_seq, 8);
    /* A copy whose name was taken counts; one dead letter kiosk-sync could
     * not move counts as dead, not as waiting. */
    put(dead, "evt-000000000003.1.json", ev);
    put(dead, "notes.txt", ev);
    hb_refresh(dir, 1, &f);
    T_EQ_INT(f.outbox_depth, 1);
    T_EQ_INT(f.dead_letters, 3);
    hb_refresh(dir, 0, &f);

    /* A seq file that is not digits and a newline is not believed: the
     * last figure stands. */
    static const char *const bad[] = { "9", "x\n", "\n", "12a\n", "99999999999999999999999\n",
                                       "-1\n", "1\n2\n" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put(dir, "seq", bad[i]);
        hb_refresh(dir, 0, &f);
        T_EQ_INT(f.last_event_seq, 8);
    }
    put(dir, "seq", "18446744073709551615\n");
    hb_refresh(dir, 0, &f);
    T_CHECK(f.last_event_seq == UINT64_MAX);
    put(dir, "seq", "18446744073709551616\n"); /* one more: refused */
    hb_refresh(dir, 0, &f);
    T_CHECK(f.last_event_seq == UINT64_MAX);

    /* The outbox gone: counts keep their last values, no crash. */
    rm_rf(dir);
    hb_refresh(dir, 0, &f);
    T_EQ_INT(f.outbox_depth, 2);
}

T_TEST(body_is_the_contract)
{
    hb_figures f = { .uptime_s = 86400, .outbox_depth = 3, .dead_letters = 1, .reader = "present",
                     .last_event_seq = 1834 };
    size_t len = 0;
    char *body = hb_body(&f, "1.4.0", &len);
    T_CHECK(body != NULL);
    T_EQ_INT(len, strlen(body));
    T_EQ_STR(body, "{\"version\":\"1.4.0\",\"uptime_s\":86400,\"outbox_depth\":3,\"dead_letters\":1,"
                   "\"reader\":\"present\",\"last_event_seq\":1834}");
    cJSON_free(body);

    /* No reader word yet, and negative figures never leave the terminal. */
    hb_figures g = { .uptime_s = -5, .outbox_depth = -1, .dead_letters = -1, .reader = NULL };
    body = hb_body(&g, "0.4.0", &len);
    T_CHECK(body != NULL);
    T_EQ_STR(body, "{\"version\":\"0.4.0\",\"uptime_s\":0,\"outbox_depth\":0,\"dead_letters\":0,"
                   "\"reader\":\"unknown\",\"last_event_seq\":0}");
    cJSON_free(body);
}

static bool rnd_value(void *ctx, uint32_t bound, uint32_t *out)
{
    uint32_t v = *(uint32_t *)ctx;
    *out = v < bound ? v : UINT32_MAX; /* UINT32_MAX: a liar, out of range */
    return true;
}

static bool rnd_fail(void *ctx, uint32_t bound, uint32_t *out)
{
    (void)ctx; (void)bound; (void)out;
    return false;
}

T_TEST(interval_jitters_ten_percent)
{
    uint32_t v = 0;
    T_EQ_INT(hb_interval_ms(300, rnd_value, &v), 270000);
    v = 60000;
    T_EQ_INT(hb_interval_ms(300, rnd_value, &v), 330000);
    v = 30000;
    T_EQ_INT(hb_interval_ms(300, rnd_value, &v), 300000);
    v = 60001; /* out of range: clamped to the top, not trusted */
    T_EQ_INT(hb_interval_ms(300, rnd_value, &v), 330000);
    T_EQ_INT(hb_interval_ms(300, rnd_fail, NULL), 300000);
    v = 2000;
    T_EQ_INT(hb_interval_ms(10, rnd_value, &v), 11000);
    /* A day: still fits, still spread. */
    v = 0;
    T_EQ_INT(hb_interval_ms(86400, rnd_value, &v), 77760000);
}

/* ---- the sync socket's requests (sync_server_reply) ------------------ */

typedef struct {
    int card_calls, reader_calls, status_calls;
    char card[32], reader[16];
} seen;

static size_t fake_card(void *ctx, const char *card, char *out, size_t cap)
{
    seen *s = ctx;
    s->card_calls++;
    snprintf(s->card, sizeof s->card, "%s", card);
    return (size_t)snprintf(out, cap, "{\"ok\":true,\"status\":\"active\"}\n");
}

static void fake_reader(void *ctx, const char *state)
{
    seen *s = ctx;
    s->reader_calls++;
    snprintf(s->reader, sizeof s->reader, "%s", state);
}

static size_t fake_status(void *ctx, char *out, size_t cap)
{
    seen *s = ctx;
    s->status_calls++;
    return sync_server_status_reply(SYNC_BUREAU_UNREACHABLE, "curl 7: \"refused\"", 2, out, cap);
}

static size_t reply(seen *s, const char *req, size_t len, char *out, size_t cap)
{
    sync_server_handlers h = { .card_status = fake_card, .reader = fake_reader, .status = fake_status, .ctx = s };
    return sync_server_reply(req, len, &h, out, cap);
}

#define BAD "{\"ok\":false,\"error\":\"bad_request\"}\n"

T_TEST(reply_dispatches_by_command)
{
    seen s = { 0 };
    char out[256];
    const char *req = "{\"cmd\":\"card_status\",\"card_number\":\"A12345678\",\"extra\":[1]}";
    size_t n = reply(&s, req, strlen(req), out, sizeof out);
    T_EQ_STR(out, "{\"ok\":true,\"status\":\"active\"}\n");
    T_EQ_INT(n, strlen(out));
    T_EQ_INT(s.card_calls, 1);
    T_EQ_STR(s.card, "A12345678");

    req = "{\"cmd\":\"reader\",\"state\":\"absent\"}";
    n = reply(&s, req, strlen(req), out, sizeof out);
    T_EQ_STR(out, "{\"ok\":true}\n");
    T_EQ_INT(n, 12);
    T_EQ_INT(s.reader_calls, 1);
    T_EQ_STR(s.reader, "absent");
    T_EQ_INT(s.card_calls, 1);

    req = "{\"cmd\":\"status\"}";
    n = reply(&s, req, strlen(req), out, sizeof out);
    T_EQ_STR(out, "{\"ok\":true,\"bureau\":\"unreachable\",\"last_error\":\"curl 7: \\\"refused\\\"\",\"unmovable\":2}\n");
    T_EQ_INT(s.status_calls, 1);
    /* Each state's word; an out-of-range one reads unknown. */
    sync_server_status_reply(SYNC_BUREAU_REACHABLE, "", 0, out, sizeof out);
    T_EQ_STR(out, "{\"ok\":true,\"bureau\":\"reachable\",\"last_error\":\"\",\"unmovable\":0}\n");
    sync_server_status_reply(7, NULL, -3, out, sizeof out);
    T_EQ_STR(out, "{\"ok\":true,\"bureau\":\"unknown\",\"last_error\":\"\",\"unmovable\":0}\n");
}

T_TEST(reply_refuses_what_it_cannot_read)
{
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "{\"cmd\":\"card_status\"}",
        "{\"cmd\":\"card_status\",\"card_number\":\"\"}",
        "{\"cmd\":\"card_status\",\"card_number\":\"A1234567890123456\"}", /* 16 chars */
        "{\"cmd\":\"card_status\",\"card_number\":\"A12/../x\"}",
        "{\"cmd\":\"card_status\",\"card_number\":12345678}",
        "{\"cmd\":\"CARD_STATUS\",\"card_number\":\"A12345678\"}",
        "{\"cmd\":\"reader\",\"state\":\"PRESENT\"}",
        "{\"cmd\":\"reader\",\"state\":\"broken\"}",
        "{\"cmd\":\"reader\"}",
        "{\"cmd\":\"reader\",\"state\":1}",
        "{\"cmd\":\"delete_everything\"}",
        "{\"cmd\":null}",
        /* A NUL escape: cJSON would cut the value there. */
        "{\"cmd\":\"reader\",\"state\":\"present\\u0000junk\"}",
        "{\"cmd\":\"status\\u0000x\"}",
        "{\"cmd\":\"card_status\",\"card_number\":\"A1\\u0000../x\"}",
    };
    seen s = { 0 };
    char out[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = reply(&s, bad[i], strlen(bad[i]), out, sizeof out);
        T_EQ_STR(out, BAD);
        T_EQ_INT(n, strlen(BAD));
    }
    /* A NUL inside the line, and a line over the limit. */
    static const char nul[] = "{\"cmd\":\"card_status\",\"card_number\":\"A1\0\"}";
    reply(&s, nul, sizeof nul - 1, out, sizeof out);
    T_EQ_STR(out, BAD);
    char *big = malloc(SYNC_SERVER_LINE_MAX + 1);
    T_CHECK(big != NULL);
    memset(big, ' ', SYNC_SERVER_LINE_MAX + 1);
    memcpy(big, "{\"cmd\":\"reader\",\"state\":\"present\"}", 34);
    reply(&s, big, SYNC_SERVER_LINE_MAX + 1, out, sizeof out);
    T_EQ_STR(out, BAD);
    reply(&s, big, SYNC_SERVER_LINE_MAX, out, sizeof out); /* exactly the limit: fine */
    T_EQ_STR(out, "{\"ok\":true}\n");
    free(big);
    T_EQ_INT(s.card_calls, 0);
    T_EQ_INT(s.reader_calls, 1);
}

T_TEST(card_numbers)
{
    T_CHECK(sync_server_card_ok("A12345678"));
    T_CHECK(sync_server_card_ok("z"));
    T_CHECK(sync_server_card_ok("ABCDEFGHIJKLMN5")); /* 15 */
    T_CHECK(!sync_server_card_ok("ABCDEFGHIJKLMN56"));
    T_CHECK(!sync_server_card_ok(""));
    T_CHECK(!sync_server_card_ok(NULL));
    T_CHECK(!sync_server_card_ok("A1234 678"));
    T_CHECK(!sync_server_card_ok("A1234%2F8"));
    T_CHECK(!sync_server_card_ok("\xe5\xbc\xa0"));
}

T_TEST(from_bureau_trusts_nothing)
{
    char out[512];
    static const struct { long http; const char *body, *want; } cases[] = {
        { 200, "{\"status\":\"active\",\"holder\":\"张*明\"}",
          "{\"ok\":true,\"status\":\"active\",\"holder\":\"张*明\"}\n" },
        { 200, "{\"status\":\"lost\"}", "{\"ok\":true,\"status\":\"lost\"}\n" },
        { 200, "{\"status\":\"frozen\",\"holder\":7}", "{\"ok\":true,\"status\":\"frozen\"}\n" },
        { 200, "{\"status\":\"cancelled\",\"holder\":null}", "{\"ok\":true,\"status\":\"cancelled\"}\n" },
        { 404, "whatever", "{\"ok\":true,\"status\":\"unknown\"}\n" },
        { 200, "{\"status\":\"Active\"}", "{\"ok\":false,\"error\":\"bureau_unreachable\"}\n" },
        { 200, "{\"status\":\"unknown\"}", "{\"ok\":false,\"error\":\"bureau_unreachable\"}\n" },
        { 200, "{\"status\":1}", "{\"ok\":false,\"error\":\"bureau_unreachable\"}\n" },
        { 200, "[\"active\"]", "{\"ok\":false,\"error\":\"bureau_unreachable\"}\n" },
        { 200, "{\"status\":\"active\"", "{\"ok\":false,\"error\":\"bureau_unreachable\"}\n" },
        { 200, "", "{\"ok\":false,\"error\":\"bureau_unreachable\"}\n" },
        { 500, "{\"status\":\"active\"}", "{\"ok\":false,\"error\":\"bureau_unreachable\"}\n" },
        { 0, "", "{\"ok\":false,\"error\":\"bureau_unreachable\"}\n" },
        { 201, "{\"status\":\"active\"}", "{\"ok\":false,\"error\":\"bureau_unreachable\"}\n" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = sync_server_from_bureau(cases[i].http, cases[i].body, strlen(cases[i].body), out,
                                           sizeof out);
        T_EQ_STR(out, cases[i].want);
        T_EQ_INT(n, strlen(cases[i].want));
    }
    /* A holder too long to be a masked name is dropped, the status stands. */
    char body[600];
    snprintf(body, sizeof body, "{\"status\":\"lost\",\"holder\":\"%0300d\"}", 0);
    sync_server_from_bureau(200, body, strlen(body), out, sizeof out);
    T_EQ_STR(out, "{\"ok\":true,\"status\":\"lost\"}\n");
    /* The body is taken by length: what follows is not read. */
    static const char cut[] = "{\"status\":\"lost\"}{\"status\":\"active\"}";
    sync_server_from_bureau(200, cut, 17, out, sizeof out);
    T_EQ_STR(out, "{\"ok\":true,\"status\":\"lost\"}\n");
    /* No room for the reply: the short unreachable one, never a cut line. */
    char tiny[64];
    static const char longer[] = "{\"status\":\"lost\",\"holder\":\"张*明张*明张*明张*明\"}";
    sync_server_from_bureau(200, longer, sizeof longer - 1, tiny, sizeof tiny);
    T_EQ_STR(tiny, "{\"ok\":false,\"error\":\"bureau_unreachable\"}\n");
}

T_MAIN(T_CASE(refresh_reads_the_outbox), T_CASE(body_is_the_contract),
       T_CASE(interval_jitters_ten_percent), T_CASE(reply_dispatches_by_command),
       T_CASE(reply_refuses_what_it_cannot_read), T_CASE(card_numbers),
       T_CASE(from_bureau_trusts_nothing))
