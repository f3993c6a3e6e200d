#include "t.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sync/sync_client.h"
#include "t_sync_srv.h"

/* ---- results, as the UI would receive them -------------------------------- */

#define T_MAX_RESULTS 32

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sync_result r[T_MAX_RESULTS];
    int n;
} res = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void post(void *ud, const sync_result *r)
{
    T_CHECK(ud == &res);
    pthread_mutex_lock(&res.mu);
    if (res.n < T_MAX_RESULTS)
        res.r[res.n] = *r;
    res.n++;
    pthread_cond_broadcast(&res.cv);
    pthread_mutex_unlock(&res.mu);
}

static void res_reset(void)
{
    pthread_mutex_lock(&res.mu);
    res.n = 0;
    pthread_mutex_unlock(&res.mu);
}

static int res_count(void)
{
    int n;
    pthread_mutex_lock(&res.mu);
    n = res.n;
    pthread_mutex_unlock(&res.mu);
    return n;
}

/* Waits up to ms for the result number `idx` (0-based). */
static bool res_wait(int idx, int ms, sync_result *out)
{
    struct timespec dl;
    bool got;

    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&res.mu);
    while (res.n <= idx && pthread_cond_timedwait(&res.cv, &res.mu, &dl) == 0)
        ;
    got = res.n > idx;
    if (got && out)
        *out = res.r[idx];
    pthread_mutex_unlock(&res.mu);
    return got;
}

/* Asks once against the test server and returns the result; *ms gets how
   long the answer took. */
static sync_result ask_one(sync_client *c, unsigned gen, const char *card, long long *ms)
{
    sync_result r;
    long long t0 = now_ms();

    memset(&r, 0, sizeof r);
    r.status = SYNC_ST__LAST;
    res_reset();
    T_CHECK(sync_client_ask(c, gen, card));
    T_CHECK(res_wait(0, 5000, &r));
    if (ms)
        *ms = now_ms() - t0;
    T_EQ_INT(r.gen, gen);
    return r;
}

/* ---- tests ------------------------------------------------------------- */

T_TEST(each_status)
{
    static const struct { const char *word; sync_status st; } rows[] = {
        { "active", SYNC_ST_ACTIVE }, { "lost", SYNC_ST_LOST }, { "frozen", SYNC_ST_FROZEN },
        { "cancelled", SYNC_ST_CANCELLED }, { "unknown", SYNC_ST_UNKNOWN },
    };
    sync_client *c;

    srv_start();
    c = sync_client_start(srv.path, 2000, post, &res);
    T_CHECK(c != NULL);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char reply[128];
        sync_result r;

        snprintf(reply, sizeof reply, "{\"ok\":true,\"status\":\"%s\"}\n", rows[i].word);
        srv_reply(reply);
        r = ask_one(c, 100 + (unsigned)i, "A12345678", NULL);
        T_EQ_INT(r.status, rows[i].st);
        T_EQ_STR(r.holder, "");
        T_EQ_STR(sync_status_name(r.status), rows[i].word);
    }
    pthread_mutex_lock(&srv.mu);
    T_EQ_STR(srv.got, "{\"cmd\":\"card_status\",\"card_number\":\"A12345678\"}");
    pthread_mutex_unlock(&srv.mu);
    T_EQ_STR(sync_status_name(SYNC_ST_UNREACHABLE), "unreachable");
    T_EQ_STR(sync_status_name(SYNC_ST__LAST), "?");
    sync_client_stop(c);
    T_EQ_INT(res_count(), 1); /* nothing extra at stop */
    srv_stop();
}

T_TEST(holder_names)
{
    static const struct { const char *reply; const char *holder; } rows[] = {
        { "{\"ok\":true,\"status\":\"active\",\"holder\":\"\xe5\xbc\xa0*\xe6\x98\x8e\"}\n", "\xe5\xbc\xa0*\xe6\x98\x8e" },
        { "{\"ok\":true,\"status\":\"lost\",\"holder\":\"\\u5f20*\\u660e\"}\n", "\xe5\xbc\xa0*\xe6\x98\x8e" },
        { "{\"ok\":true,\"status\":\"active\",\"holder\":\"Zhang *ing\"}\n", "Zhang *ing" },
        { "{\"ok\":true,\"status\":\"active\",\"holder\":\"\\ud83d\\ude00\"}\n", "\xf0\x9f\x98\x80" },
        { "{\"ok\":true,\"status\":\"active\",\"holder\":null}\n", "" },
        { "{\"ok\":true,\"status\":\"active\",\"holder\":\"\"}\n", "" },
        /* rejected holders: the status stands, the name does not */
        { "{\"ok\":true,\"status\":\"active\",\"holder\":\"\xff\xfe\"}\n", "" },
        { "{\"ok\":true,\"status\":\"active\",\"holder\":\"\xe5\xbc\"}\n", "" },     /* cut short */
        { "{\"ok\":true,\"status\":\"active\",\"holder\":\"\xc0\xaf\"}\n", "" },     /* overlong */
        { "{\"ok\":true,\"status\":\"active\",\"holder\":\"\xed\xa0\x80\"}\n", "" }, /* surrogate */
        { "{\"ok\":true,\"status\":\"active\",\"holder\":\"\xf4\x90\x80\x80\"}\n", "" }, /* > U+10FFFF */
        { "{\"ok\":true,\"status\":\"active\",\"holder\":\"A\\nB\"}\n", "" },
        { "{\"ok\":true,\"status\":\"active\",\"holder\":\"A\\u0007\"}\n", "" },
        { "{\"ok\":true,\"status\":\"active\",\"holder\":\"A\xc2\x85\"}\n", "" },    /* C1 NEL */
        { "{\"ok\":true,\"status\":\"active\",\"holder\":\"\\u202eA\"}\n", "" },     /* bidi override */
        { "{\"ok\":true,\"status\":\"active\",\"holder\":42}\n", "" },
    };
    sync_client *c;

    srv_start();
    c = sync_client_start(srv.path, 2000, post, &res);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sync_result r;
        srv_reply(rows[i].reply);
        r = ask_one(c, (unsigned)i, "B99887766", NULL);
        if (strcmp(r.holder, rows[i].holder) != 0)
            fprintf(stderr, "  row %zu\n", i);
        T_EQ_STR(r.holder, rows[i].holder);
        T_CHECK(r.status == SYNC_ST_ACTIVE || r.status == SYNC_ST_LOST);
    }
    /* a long name is cut on a character boundary: 30 x U+5F20 (3 bytes) -> 21 */
    {
        char reply[256] = "{\"ok\":true,\"status\":\"active\",\"holder\":\"";
        char want[64] = "";
        sync_result r;
        for (int i = 0; i < 30; i++)
            strcat(reply, "\xe5\xbc\xa0");
        strcat(reply, "\"}\n");
        for (int i = 0; i < 21; i++)
            strcat(want, "\xe5\xbc\xa0");
        srv_reply(reply);
        r = ask_one(c, 77, "B99887766", NULL);
        T_EQ_INT(strlen(r.holder), 63);
        T_EQ_STR(r.holder, want);
    }
    /* and a 63-byte ASCII name fits exactly; 64 is cut to 63 */
    {
        char reply[256], name[65];
        sync_result r;
        memset(name, 'x', 64);
        name[64] = '\0';
        snprintf(reply, sizeof reply, "{\"ok\":true,\"status\":\"active\",\"holder\":\"%s\"}\n", name);
        srv_reply(reply);
        r = ask_one(c, 78, "B99887766", NULL);
        name[63] = '\0';
        T_EQ_STR(r.holder, name);
    }
    sync_client_stop(c);
    srv_stop();
}

T_TEST(no_server_is_unreachable_at_once)
{
    sync_client *c = sync_client_start("/tmp/no-such-dir-for-sync/sync.sock", 3000, post, &res);
    long long ms;
    sync_result r;

    T_CHECK(c != NULL);
    r = ask_one(c, 5, "A12345678", &ms);
    T_EQ_INT(r.status, SYNC_ST_UNREACHABLE);
    T_CHECK(ms < 500);
    sync_client_stop(c);
}

T_TEST(refused_is_unreachable_at_once)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char dir[] = "/tmp/sync-test.XXXXXX", path[100];
    sync_client *c;
    long long ms;
    sync_result r;
    int fd;

    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/sync.sock", dir);
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    T_EQ_INT(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    close(fd); /* a socket file that nobody listens on */
    c = sync_client_start(path, 3000, post, &res);
    r = ask_one(c, 6, "A12345678", &ms);
    T_EQ_INT(r.status, SYNC_ST_UNREACHABLE);
    T_CHECK(ms < 500);
    sync_client_stop(c);
    unlink(path);
    rmdir(dir);
}

T_TEST(silent_server_is_unreachable_within_the_timeout)
{
    static const char frozen[] = "{\"ok\":true,\"status\":\"frozen\"}\n";
    sync_client *c;
    long long ms;
    sync_result r;

    srv_start();
    srv_set(NULL, 0, 0);
    c = sync_client_start(srv.path, 300, post, &res);
    r = ask_one(c, 9, "A12345678", &ms);
    T_EQ_INT(r.status, SYNC_ST_UNREACHABLE);
    T_CHECK(ms >= 290);
    T_CHECK(ms < 300 + 150);
    /* slow but in time is fine */
    srv_set(frozen, strlen(frozen), 100);
    r = ask_one(c, 10, "A12345678", &ms);
    T_EQ_INT(r.status, SYNC_ST_FROZEN);
    T_CHECK(ms >= 90);
    /* too slow is not */
    srv_set(frozen, strlen(frozen), 600);
    r = ask_one(c, 11, "A12345678", &ms);
    T_EQ_INT(r.status, SYNC_ST_UNREACHABLE);
    T_CHECK(ms < 300 + 150);
    sync_client_stop(c);
    srv_stop();
}

T_TEST(bad_replies_are_unreachable)
{
    static const char *replies[] = {
        "not json\n",
        "[1,2]\n",
        "\"active\"\n",
        "{\"ok\":true}\n",
        "{\"status\":\"active\"}\n",
        "{\"ok\":\"yes\",\"status\":\"active\"}\n",
        "{\"ok\":true,\"status\":\"stolen\"}\n",
        "{\"ok\":true,\"status\":\"ACTIVE\"}\n",
        "{\"ok\":true,\"status\":\"unreachable\"}\n",
        "{\"ok\":true,\"status\":5}\n",
        "{\"ok\":true,\"status\":\"active\"} trailing\n",
        "{\"ok\":true,\"status\":\"active\"}{\"ok\":true}\n",
        "{\"ok\":true,\"status\":\"active\\u0000\"}\n",
        "{\"ok\":true,\"status\":\"act",
        "{\"ok\":false,\"error\":\"bureau_unreachable\"}\n",
        "{\"ok\":false,\"error\":\"something_else\",\"status\":\"active\"}\n",
        "",
    };
    sync_client *c;

    srv_start();
    c = sync_client_start(srv.path, 1000, post, &res);
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
        sync_result r;
        long long ms;
        srv_reply(replies[i]);
        r = ask_one(c, (unsigned)i, "A12345678", &ms);
        if (r.status != SYNC_ST_UNREACHABLE)
            fprintf(stderr, "  reply %zu was accepted\n", i);
        T_EQ_INT(r.status, SYNC_ST_UNREACHABLE);
        T_CHECK(ms < 500); /* a bad reply is not waited out */
    }
    /* a NUL byte in the line */
    {
        static const char nul[] = "{\"ok\":true,\"status\":\"active\"\0}\n";
        srv_set(nul, sizeof nul - 1, 0);
        T_EQ_INT(ask_one(c, 50, "A12345678", NULL).status, SYNC_ST_UNREACHABLE);
    }
    /* a reply closed without its newline is still a reply */
    srv_reply("{\"ok\":true,\"status\":\"lost\"}");
    T_EQ_INT(ask_one(c, 51, "A12345678", NULL).status, SYNC_ST_LOST);
    sync_client_stop(c);
    srv_stop();
}

T_TEST(oversized_reply_is_unreachable)
{
    size_t n = 5000;
    char *big = malloc(n + 64);
    sync_client *c;
    int k;

    srv_start();
    c = sync_client_start(srv.path, 1000, post, &res);
    /* 5000 bytes: too long */
    k = snprintf(big, n + 64, "{\"ok\":true,\"status\":\"active\",\"pad\":\"");
    memset(big + k, 'p', n - (size_t)k - 3);
    memcpy(big + n - 3, "\"}\n", 3);
    srv_set(big, n, 0);
    T_EQ_INT(ask_one(c, 1, "A12345678", NULL).status, SYNC_ST_UNREACHABLE);
    /* exactly SYNC_REPLY_MAX bytes and the newline: fine */
    n = SYNC_REPLY_MAX + 1;
    memset(big + k, 'p', n - (size_t)k - 3);
    memcpy(big + n - 3, "\"}\n", 3);
    srv_set(big, n, 0);
    T_EQ_INT(ask_one(c, 2, "A12345678", NULL).status, SYNC_ST_ACTIVE);
    /* one more byte: not */
    n = SYNC_REPLY_MAX + 2;
    memset(big + k, 'p', n - (size_t)k - 3);
    memcpy(big + n - 3, "\"}\n", 3);
    srv_set(big, n, 0);
    T_EQ_INT(ask_one(c, 3, "A12345678", NULL).status, SYNC_ST_UNREACHABLE);
    sync_client_stop(c);
    srv_stop();
    free(big);
}

T_TEST(bad_questions_are_refused_without_a_post)
{
    sync_client *c = sync_client_start("/tmp/no-such-dir-for-sync/sync.sock", 1000, post, &res);

    res_reset();
    T_CHECK(!sync_client_ask(c, 1, NULL));
    T_CHECK(!sync_client_ask(c, 1, ""));
    T_CHECK(!sync_client_ask(c, 1, "A123456789012345")); /* 16 */
    T_CHECK(!sync_client_ask(c, 1, "A1234\"5678"));
    T_CHECK(!sync_client_ask(c, 1, "A1234 5678"));
    T_CHECK(!sync_client_ask(NULL, 1, "A12345678"));
    T_CHECK(sync_client_ask(c, 2, "A12345678901234")); /* 15 is fine */
    T_CHECK(res_wait(0, 2000, NULL));
    sleep_ms(50);
    T_EQ_INT(res_count(), 1);
    sync_client_stop(c);

    T_CHECK(sync_client_start(NULL, 1000, post, &res) == NULL);
    T_CHECK(sync_client_start("", 1000, post, &res) == NULL);
    T_CHECK(sync_client_start("/tmp/x.sock", 0, post, &res) == NULL);
    T_CHECK(sync_client_start("/tmp/x.sock", 600001, post, &res) == NULL);
    T_CHECK(sync_client_start("/tmp/x.sock", 1000, NULL, &res) == NULL);
    {
        char longp[200];
        memset(longp, 'a', sizeof longp - 1);
        longp[0] = '/';
        longp[sizeof longp - 1] = '\0';
        T_CHECK(sync_client_start(longp, 1000, post, &res) == NULL);
    }
    sync_client_stop(NULL);
}

T_TEST(every_question_gets_exactly_one_answer_in_time)
{
    sync_client *c;
    int seen[10] = { 0 };
    long long t0;

    srv_start();
    srv_set(NULL, 0, 0);
    c = sync_client_start(srv.path, 300, post, &res);
    res_reset();
    t0 = now_ms();
    T_CHECK(sync_client_ask(c, 0, "A12345678"));
    /* once the worker is busy with it, the queue holds SYNC_QUEUE_MAX more */
    for (int i = 0; i < 200 && srv_accepted() == 0; i++)
        sleep_ms(5);
    T_EQ_INT(srv_accepted(), 1);
    for (unsigned g = 1; g <= SYNC_QUEUE_MAX; g++)
        T_CHECK(sync_client_ask(c, g, "A12345678"));
    T_CHECK(!sync_client_ask(c, 99, "A12345678"));
    T_CHECK(res_wait(SYNC_QUEUE_MAX, 2000, NULL));
    T_CHECK(now_ms() - t0 < 300 + 200);
    sleep_ms(50);
    T_EQ_INT(res_count(), SYNC_QUEUE_MAX + 1);
    pthread_mutex_lock(&res.mu);
    for (int i = 0; i < res.n && i < T_MAX_RESULTS; i++) {
        T_EQ_INT(res.r[i].status, SYNC_ST_UNREACHABLE);
        if (res.r[i].gen < 10)
            seen[res.r[i].gen]++;
    }
    pthread_mutex_unlock(&res.mu);
    for (int g = 0; g <= SYNC_QUEUE_MAX; g++)
        T_EQ_INT(seen[g], 1);
    sync_client_stop(c);
    srv_stop();
}

T_TEST(stop_answers_what_is_open_and_returns_quickly)
{
    sync_client *c;
    long long t0;

    srv_start();
    srv_set(NULL, 0, 0);
    c = sync_client_start(srv.path, 60000, post, &res);
    res_reset();
    T_CHECK(sync_client_ask(c, 1, "A12345678"));
    T_CHECK(sync_client_ask(c, 2, "A12345678"));
    T_CHECK(sync_client_ask(c, 3, "A12345678"));
    for (int i = 0; i < 200 && srv_accepted() == 0; i++)
        sleep_ms(5);
    t0 = now_ms();
    sync_client_stop(c);
    T_CHECK(now_ms() - t0 < 500);
    T_EQ_INT(res_count(), 3);
    pthread_mutex_lock(&res.mu);
    for (int i = 0; i < 3; i++) {
        T_EQ_INT(res.r[i].gen, (unsigned)i + 1);
        T_EQ_INT(res.r[i].status, SYNC_ST_UNREACHABLE);
    }
    pthread_mutex_unlock(&res.mu);
    srv_stop();
}

T_TEST(logs_mask_the_card_number)
{
    char tmpl[] = "/tmp/sync-log.XXXXXX", buf[4096];
    int fd = mkstemp(tmpl), saved = dup(2);
    sync_client *c;
    ssize_t n;

    T_CHECK(fd >= 0 && saved >= 0);
    srv_start();
    srv_reply("{\"ok\":true,\"status\":\"lost\",\"holder\":\"\xff\"}\n");
    c = sync_client_start(srv.path, 1000, post, &res);
    fflush(stderr);
    dup2(fd, 2);
    ask_one(c, 1, "A12345678", NULL);
    srv_reply("{\"ok\":false,\"error\":\"bureau_unreachable\"}\n");
    ask_one(c, 2, "A12345678", NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    sync_client_stop(c);
    srv_stop();
    n = pread(fd, buf, sizeof buf - 1, 0);
    T_CHECK(n > 0);
    buf[n > 0 ? n : 0] = '\0';
    T_CHECK(strstr(buf, "A12***678") != NULL);
    T_CHECK(strstr(buf, "A12345678") == NULL);
    T_CHECK(strstr(buf, "lost") != NULL);
    close(fd);
    unlink(tmpl);
}

T_MAIN(T_CASE(each_status), T_CASE(holder_names), T_CASE(no_server_is_unreachable_at_once),
       T_CASE(refused_is_unreachable_at_once),
       T_CASE(silent_server_is_unreachable_within_the_timeout), T_CASE(bad_replies_are_unreachable),
       T_CASE(oversized_reply_is_unreachable), T_CASE(bad_questions_are_refused_without_a_post),
       T_CASE(every_question_gets_exactly_one_answer_in_time),
       T_CASE(stop_answers_what_is_open_and_returns_quickly), T_CASE(logs_mask_the_card_number))
