/* test_sync_reset.c - the kiosk's PIN reset questions to kiosk-sync
 * (issue 12; src/sync/sync_reset.c): every reply form, malformed replies,
 * timeouts, stop with questions open, and the SMS code: in the arena while
 * it waits, wiped once sent and on every other path, never logged. Against
 * the stand-in of t_sync_srv.h. */
#include "t.h"

#include "sync/sync_int.h" /* white box: the secrets, to see them wiped */
#include "t_sync_srv.h"
#include "util/secmem.h"

#define CODE "482913"
#define APDU_HEX "842C000010" "00112233445566778899AABBCCDDEEFF"

static const uint8_t chal[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x8a };

/* ---- answers, as the UI would receive them --------------------------------- */

#define T_MAX 32
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sync_reset_result r[T_MAX];
    int n;
} res = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void on_reset(void *ud, const sync_reset_result *r)
{
    T_CHECK(ud == &res);
    pthread_mutex_lock(&res.mu);
    if (res.n < T_MAX)
        res.r[res.n] = *r;
    res.n++;
    pthread_cond_broadcast(&res.cv);
    pthread_mutex_unlock(&res.mu);
}

static void on_card(void *ud, const sync_result *r)
{
    (void)ud;
    (void)r;
}

static int res_count(void)
{
    pthread_mutex_lock(&res.mu);
    int n = res.n;
    pthread_mutex_unlock(&res.mu);
    return n;
}

static bool res_wait(int idx, int ms, sync_reset_result *out)
{
    long long until = now_ms() + ms;
    bool got;
    for (;;) {
        pthread_mutex_lock(&res.mu);
        got = res.n > idx;
        if (got && out)
            *out = res.r[idx];
        pthread_mutex_unlock(&res.mu);
        if (got || now_ms() >= until)
            return got;
        sleep_ms(2);
    }
}

static sync_client *start(int timeout_ms)
{
    sync_client *c = sync_client_start(srv.path, timeout_ms, on_card, NULL);
    T_CHECK(c != NULL);
    sync_client_on_reset(c, on_reset, &res);
    pthread_mutex_lock(&res.mu);
    res.n = 0;
    pthread_mutex_unlock(&res.mu);
    return c;
}

/* Asks one question against the stand-in's `reply`; its answer. */
static sync_reset_result ask(sync_client *c, bool authorize, const char *reply)
{
    sync_reset_result r;
    int before = res_count();
    memset(&r, 0, sizeof r);
    r.status = SYNC_RS__LAST;
    srv_reply(reply);
    if (authorize)
        T_CHECK(sync_client_reset_authorize(c, 7, "r-7f3a", CODE, chal, 2000));
    else
        T_CHECK(sync_client_reset_request(c, 7, "A12345678", 2000));
    T_CHECK(res_wait(before, 3000, &r));
    T_EQ_INT(r.gen, 7);
    T_EQ_INT(r.authorize, authorize);
    return r;
}

/* No byte of the code left anywhere in the client's secrets. */
static bool secrets_clean(const sync_secrets *sec)
{
    return memmem(sec, sizeof *sec, CODE, 6) == NULL && memmem(sec, sizeof *sec, "sms_code", 8) == NULL;
}

/* ---- tests ----------------------------------------------------------------- */

T_TEST(request_lines_and_successes)
{
    srv_start();
    sync_client *c = start(2000);
    sync_reset_result r = ask(c, false, "{\"ok\":true,\"reset_id\":\"r-7f3a\",\"phone_masked\":\"138****5678\",\"expires_in_s\":300}\n");
    T_EQ_STR(srv.got, "{\"cmd\":\"reset_request\",\"card_number\":\"A12345678\"}");
    T_EQ_INT(r.status, SYNC_RS_OK);
    T_EQ_STR(r.reset_id, "r-7f3a");
    T_EQ_STR(r.phone_masked, "138****5678");
    T_EQ_INT(r.expires_in_s, 300);
    T_EQ_INT(r.attempts_left, -1);
    T_EQ_INT(r.retry_after_s, -1);

    r = ask(c, true, "{\"ok\":true,\"command_apdu\":\"" APDU_HEX "\",\"more\":1}\n");
    T_EQ_STR(srv.got, "{\"cmd\":\"reset_authorize\",\"reset_id\":\"r-7f3a\",\"sms_code\":\"" CODE
                      "\",\"card_challenge\":\"112233445566778A\"}");
    T_EQ_INT(r.status, SYNC_RS_OK);
    T_EQ_INT(r.apdu_len, 21);
    static const uint8_t want[21] = { 0x84, 0x2C, 0, 0, 0x10, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                                      0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF };
    T_EQ_MEM(r.apdu, want, 21);
    r = ask(c, true, "{\"ok\":true,\"command_apdu\":\"00a40400\"}"); /* lower case, closed without \n */
    T_EQ_INT(r.status, SYNC_RS_OK);
    T_EQ_INT(r.apdu_len, 4);
    T_CHECK(r.apdu[1] == 0xA4);
    T_CHECK(secrets_clean(c->secrets));
    sync_client_stop(c);
    srv_stop();
}

T_TEST(every_error_word)
{
    static const struct { bool authorize; const char *reply; sync_reset_status st; int attempts, retry; } rows[] = {
        { false, "{\"ok\":false,\"error\":\"no_phone_on_file\"}", SYNC_RS_NO_PHONE, -1, -1 },
        { false, "{\"ok\":false,\"error\":\"card_not_active\"}", SYNC_RS_NOT_ACTIVE, -1, -1 },
        { false, "{\"ok\":false,\"error\":\"too_many_resets\",\"retry_after_s\":3600}", SYNC_RS_TOO_MANY, -1, 3600 },
        { false, "{\"ok\":false,\"error\":\"too_many_resets\"}", SYNC_RS_TOO_MANY, -1, -1 },
        { false, "{\"ok\":false,\"error\":\"too_many_resets\",\"retry_after_s\":-5}", SYNC_RS_TOO_MANY, -1, -1 },
        { false, "{\"ok\":false,\"error\":\"card_unknown\"}", SYNC_RS_CARD_UNKNOWN, -1, -1 },
        { false, "{\"ok\":false,\"error\":\"bureau_unreachable\"}", SYNC_RS_UNREACHABLE, -1, -1 },
        { false, "{\"ok\":false,\"error\":\"bad_request\"}", SYNC_RS_UNREACHABLE, -1, -1 },
        { false, "{\"ok\":false,\"error\":\"code_invalid\",\"attempts_left\":2}", SYNC_RS_UNREACHABLE, -1, -1 },
        { true, "{\"ok\":false,\"error\":\"code_invalid\",\"attempts_left\":2}", SYNC_RS_CODE_INVALID, 2, -1 },
        { true, "{\"ok\":false,\"error\":\"code_invalid\",\"attempts_left\":0}", SYNC_RS_CODE_INVALID, 0, -1 },
        { true, "{\"ok\":false,\"error\":\"code_invalid\",\"attempts_left\":1.5}", SYNC_RS_CODE_INVALID, -1, -1 },
        { true, "{\"ok\":false,\"error\":\"code_invalid\"}", SYNC_RS_CODE_INVALID, -1, -1 },
        { true, "{\"ok\":false,\"error\":\"reset_void\"}", SYNC_RS_VOID, -1, -1 },
        { true, "{\"ok\":false,\"error\":\"code_expired\"}", SYNC_RS_EXPIRED, -1, -1 },
        { true, "{\"ok\":false,\"error\":\"reset_not_found\"}", SYNC_RS_NOT_FOUND, -1, -1 },
        { true, "{\"ok\":false,\"error\":\"already_used\"}", SYNC_RS_ALREADY_USED, -1, -1 },
        { true, "{\"ok\":false,\"error\":\"bureau_unreachable\"}", SYNC_RS_UNREACHABLE, -1, -1 },
        { true, "{\"ok\":false,\"error\":\"no_phone_on_file\"}", SYNC_RS_UNREACHABLE, -1, -1 },
        { true, "{\"ok\":false,\"error\":\"Code_Invalid\"}", SYNC_RS_UNREACHABLE, -1, -1 },
    };
    srv_start();
    sync_client *c = start(2000);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char line[256];
        snprintf(line, sizeof line, "%s\n", rows[i].reply);
        sync_reset_result r = ask(c, rows[i].authorize, line);
        if (r.status != rows[i].st)
            fprintf(stderr, "  row %zu: %s -> %s\n", i, rows[i].reply, sync_reset_status_name(r.status));
        T_EQ_INT(r.status, rows[i].st);
        T_EQ_INT(r.attempts_left, rows[i].attempts);
        T_EQ_INT(r.retry_after_s, rows[i].retry);
        T_EQ_INT(r.apdu_len, 0);
        T_EQ_STR(r.reset_id, "");
    }
    sync_client_stop(c);
    srv_stop();
}

T_TEST(malformed_replies_are_unreachable)
{
    static const struct { bool authorize; const char *reply; } rows[] = {
        { false, "{\"ok\":true,\"reset_id\":\"r/1\",\"phone_masked\":\"138****5678\",\"expires_in_s\":300}\n" },
        { false, "{\"ok\":true,\"reset_id\":\"r-1\",\"phone_masked\":\"13812345678\",\"expires_in_s\":300}\n" },
        { false, "{\"ok\":true,\"reset_id\":\"..\",\"phone_masked\":\"138****5678\",\"expires_in_s\":300}\n" },
        { false, "{\"ok\":true,\"reset_id\":\"\",\"phone_masked\":\"138****5678\",\"expires_in_s\":300}\n" },
        { false, "{\"ok\":true,\"reset_id\":\"r1234567890123456789012345678901234567890123456789012345678901234\",\"phone_masked\":\"1\",\"expires_in_s\":300}\n" },
        { false, "{\"ok\":true,\"reset_id\":\"r-1\",\"phone_masked\":\"138 **** 5678\",\"expires_in_s\":300}\n" },
        { false, "{\"ok\":true,\"reset_id\":\"r-1\",\"phone_masked\":\"\",\"expires_in_s\":300}\n" },
        { false, "{\"ok\":true,\"reset_id\":\"r-1\",\"phone_masked\":\"12345678901234567890123456789012\",\"expires_in_s\":300}\n" },
        { false, "{\"ok\":true,\"reset_id\":\"r-1\",\"phone_masked\":\"138****5678\",\"expires_in_s\":0}\n" },
        { false, "{\"ok\":true,\"reset_id\":\"r-1\",\"phone_masked\":\"138****5678\",\"expires_in_s\":3601}\n" },
        { false, "{\"ok\":true,\"reset_id\":\"r-1\",\"phone_masked\":\"138****5678\"}\n" },
        { false, "{\"ok\":true,\"status\":\"active\"}\n" },
        { false, "{\"ok\":\"true\",\"reset_id\":\"r-1\",\"phone_masked\":\"1\",\"expires_in_s\":3}\n" },
        { true, "{\"ok\":true}\n" },
        { true, "{\"ok\":true,\"command_apdu\":\"842C00\"}\n" },
        { true, "{\"ok\":true,\"command_apdu\":\"842C0000A\"}\n" },
        { true, "{\"ok\":true,\"command_apdu\":\"842C 0000\"}\n" },
        { true, "{\"ok\":true,\"command_apdu\":\"842C00001G\"}\n" },
        { true, "{\"ok\":true,\"command_apdu\":[132]}\n" },
        { true, "{\"ok\":true,\"command_apdu\":\"00A40400\"} {}\n" },
        { true, "{\"ok\":true,\"command_apdu\":\"00A40400\\u0000\"}\n" },
        { true, "[{\"ok\":true,\"command_apdu\":\"00A40400\"}]\n" },
        { true, "not json\n" },
        { true, "\n" },
        { true, "" },
    };
    srv_start();
    sync_client *c = start(2000);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sync_reset_result r = ask(c, rows[i].authorize, rows[i].reply);
        if (r.status != SYNC_RS_UNREACHABLE)
            fprintf(stderr, "  row %zu: %s -> %s\n", i, rows[i].reply, sync_reset_status_name(r.status));
        T_EQ_INT(r.status, SYNC_RS_UNREACHABLE);
        T_EQ_INT(r.apdu_len, 0);
        T_EQ_STR(r.reset_id, "");
        T_EQ_STR(r.phone_masked, "");
    }
    /* The longest command passes, one byte more does not. */
    char big[2 * SYNC_APDU_MAX + 64], hex[2 * SYNC_APDU_MAX + 3];
    memset(hex, 'F', sizeof hex);
    hex[2 * SYNC_APDU_MAX] = '\0';
    snprintf(big, sizeof big, "{\"ok\":true,\"command_apdu\":\"%s\"}\n", hex);
    sync_reset_result r = ask(c, true, big);
    T_EQ_INT(r.status, SYNC_RS_OK);
    T_EQ_INT(r.apdu_len, SYNC_APDU_MAX);
    strcpy(hex + 2 * SYNC_APDU_MAX, "FF");
    snprintf(big, sizeof big, "{\"ok\":true,\"command_apdu\":\"%s\"}\n", hex);
    T_EQ_INT(ask(c, true, big).status, SYNC_RS_UNREACHABLE);
    sync_client_stop(c);
    srv_stop();
}

T_TEST(bad_questions_are_refused_without_an_answer)
{
    srv_start();
    sync_client *c = sync_client_start(srv.path, 1000, on_card, NULL);
    /* no callback yet */
    T_CHECK(!sync_client_reset_request(c, 1, "A12345678", 1000));
    sync_client_on_reset(c, on_reset, &res);
    res.n = 0;
    T_CHECK(!sync_client_reset_request(c, 1, "A1234567/", 1000));
    T_CHECK(!sync_client_reset_request(c, 1, "", 1000));
    T_CHECK(!sync_client_reset_request(c, 1, NULL, 1000));
    T_CHECK(!sync_client_reset_request(c, 1, "A12345678", 0));
    T_CHECK(!sync_client_reset_request(c, 1, "A12345678", 600001));
    T_CHECK(!sync_client_reset_request(NULL, 1, "A12345678", 1000));
    T_CHECK(!sync_client_reset_authorize(c, 1, "r-7f3a", "48291", chal, 1000));
    T_CHECK(!sync_client_reset_authorize(c, 1, "r-7f3a", "4829134", chal, 1000));
    T_CHECK(!sync_client_reset_authorize(c, 1, "r-7f3a", "48291a", chal, 1000));
    T_CHECK(!sync_client_reset_authorize(c, 1, "r-7f3a", NULL, chal, 1000));
    T_CHECK(!sync_client_reset_authorize(c, 1, "r-7f3a", CODE, NULL, 1000));
    T_CHECK(!sync_client_reset_authorize(c, 1, "r/7f3a", CODE, chal, 1000));
    T_CHECK(!sync_client_reset_authorize(c, 1, "..", CODE, chal, 1000));
    T_CHECK(!sync_client_reset_authorize(c, 1, "", CODE, chal, 1000));
    T_CHECK(!sync_client_reset_authorize(c, 1, "r-7f3a", CODE, chal, -1));
    sleep_ms(50);
    T_EQ_INT(res_count(), 0);
    T_EQ_INT(srv_accepted(), 0);
    T_CHECK(secrets_clean(c->secrets));
    sync_client_stop(c);
    srv_stop();
    T_EQ_STR(sync_reset_status_name(SYNC_RS_VOID), "void");
    T_EQ_STR(sync_reset_status_name(SYNC_RS__LAST), "?");
}

/* A silent kiosk-sync: each question is answered UNREACHABLE within its own
 * timeout; the queue holds SYNC_QUEUE_MAX more, each answered once, and a
 * queued code is wiped when its question times out unsent. */
T_TEST(timeouts_and_a_full_queue)
{
    srv_start();
    srv_set(NULL, 0, 0);
    sync_client *c = start(60000);
    long long t0 = now_ms();
    T_CHECK(sync_client_reset_authorize(c, 0, "r-0", CODE, chal, 150));
    for (int i = 0; i < 200 && srv_accepted() == 0; i++)
        sleep_ms(5);
    for (unsigned g = 1; g <= SYNC_QUEUE_MAX; g++)
        T_CHECK(g % 2 ? sync_client_reset_authorize(c, g, "r-1", CODE, chal, 100)
                      : sync_client_reset_request(c, g, "A12345678", 100));
    T_CHECK(!sync_client_reset_request(c, 99, "A12345678", 100));
    T_CHECK(res_wait(SYNC_QUEUE_MAX, 2000, NULL));
    T_CHECK(now_ms() - t0 < 150 + 100);
    sleep_ms(30);
    T_EQ_INT(res_count(), SYNC_QUEUE_MAX + 1);
    pthread_mutex_lock(&res.mu);
    for (int i = 0; i <= SYNC_QUEUE_MAX; i++) {
        T_EQ_INT(res.r[i].gen, (unsigned)i);
        T_EQ_INT(res.r[i].status, SYNC_RS_UNREACHABLE);
        T_EQ_INT(res.r[i].authorize, i == 0 || i % 2 == 1);
    }
    pthread_mutex_unlock(&res.mu);
    T_EQ_INT(srv_accepted(), 1); /* the queued ones timed out unsent: never sent twice, either */
    T_CHECK(secrets_clean(c->secrets));
    sync_client_stop(c);
    srv_stop();
}

/* The arena from here on: the code waits there, and is wiped at stop. */
T_TEST(stop_answers_open_questions_and_wipes_the_codes)
{
    T_CHECK(secmem_init(64 * 1024));
    srv_start();
    srv_set(NULL, 0, 0);
    sync_client *c = start(60000);
    T_CHECK(secmem_owns(c->secrets));
    T_CHECK(sync_client_reset_authorize(c, 1, "r-1", CODE, chal, 60000));
    T_CHECK(sync_client_reset_authorize(c, 2, "r-2", CODE, chal, 60000));
    T_CHECK(sync_client_reset_request(c, 3, "A12345678", 60000));
    T_CHECK(sync_client_reset_authorize(c, 4, "r-4", CODE, chal, 60000));
    for (int i = 0; i < 200 && srv_accepted() == 0; i++)
        sleep_ms(5);
    /* One in flight (its line already wiped, sent), three waiting. */
    pthread_mutex_lock(&c->mu);
    int waiting_codes = 0;
    for (size_t i = 0; i < SYNC_QUEUE_MAX; i++)
        waiting_codes += strcmp(c->secrets->codes[i], CODE) == 0;
    pthread_mutex_unlock(&c->mu);
    T_EQ_INT(waiting_codes, 2);
    T_CHECK(memmem(c->secrets->line, sizeof c->secrets->line, CODE, 6) == NULL);
    T_CHECK(strstr(srv.got, CODE) != NULL);
    const sync_secrets *sec = c->secrets;
    long long t0 = now_ms();
    sync_client_stop(c);
    T_CHECK(now_ms() - t0 < 500);
    T_EQ_INT(res_count(), 4);
    pthread_mutex_lock(&res.mu);
    for (int i = 0; i < 4; i++) {
        T_EQ_INT(res.r[i].gen, (unsigned)i + 1);
        T_EQ_INT(res.r[i].status, SYNC_RS_UNREACHABLE);
        T_EQ_INT(res.r[i].authorize, i != 2);
    }
    pthread_mutex_unlock(&res.mu);
    T_CHECK(secmem_owns(sec)); /* never given back, so readable: all wiped */
    T_CHECK(secrets_clean(sec));
    srv_stop();
}

T_TEST(logs_hold_no_code_and_no_card)
{
    char tmpl[] = "/tmp/sync-reset-log.XXXXXX", buf[8192];
    int fd = mkstemp(tmpl), saved = dup(2);
    T_CHECK(fd >= 0 && saved >= 0);
    srv_start();
    sync_client *c = start(1000);
    fflush(stderr);
    dup2(fd, 2);
    ask(c, false, "{\"ok\":true,\"reset_id\":\"r-7f3a\",\"phone_masked\":\"138****5678\",\"expires_in_s\":300}\n");
    ask(c, false, "{\"ok\":false,\"error\":\"card_not_active\"}\n");
    ask(c, true, "{\"ok\":false,\"error\":\"code_invalid\",\"attempts_left\":1}\n");
    ask(c, true, "{\"ok\":true,\"command_apdu\":\"" APDU_HEX "\"}\n");
    ask(c, true, "garbage\n");
    T_CHECK(!sync_client_reset_authorize(c, 1, "r-7f3a", "48291x", chal, 1000));
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    sync_client_stop(c);
    srv_stop();
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    T_CHECK(n > 0);
    buf[n > 0 ? n : 0] = '\0';
    T_CHECK(strstr(buf, "A12***678") != NULL);
    T_CHECK(strstr(buf, "r-7f3a") != NULL);
    T_CHECK(strstr(buf, "code_invalid") != NULL);
    T_CHECK(strstr(buf, "A12345678") == NULL);
    T_CHECK(strstr(buf, CODE) == NULL && strstr(buf, "48291") == NULL);
    T_CHECK(strstr(buf, "138****5678") == NULL);
    close(fd);
    unlink(tmpl);
}

T_MAIN(T_CASE(request_lines_and_successes), T_CASE(every_error_word),
       T_CASE(malformed_replies_are_unreachable), T_CASE(bad_questions_are_refused_without_an_answer),
       T_CASE(timeouts_and_a_full_queue), T_CASE(stop_answers_open_questions_and_wipes_the_codes),
       T_CASE(logs_hold_no_code_and_no_card))
