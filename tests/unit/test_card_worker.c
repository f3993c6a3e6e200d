/* test_card_worker.c - the card worker with the simulated card: results come
 * back in order, each with its gen, and a pulled card ends a slow job. */
#include "card/worker.h"

#include "card/sim.h"
#include "t.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#define MAX_RESULTS 32

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    card_result r[MAX_RESULTS];
    int n;
} inbox;

static void post(void *ud, const card_result *r)
{
    inbox *b = ud;
    pthread_mutex_lock(&b->mu);
    if (b->n < MAX_RESULTS)
        b->r[b->n] = *r;
    b->n++;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static void inbox_init(inbox *b)
{
    memset(b, 0, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
}

static void inbox_done(inbox *b)
{
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
}

/* Waits (at most 1.5 s) for `n` results; returns how many there are. */
static int wait_for(inbox *b, int n)
{
    struct timespec dl;
    int got;

    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += 500000000L;
    dl.tv_sec += 1 + dl.tv_nsec / 1000000000L;
    dl.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&b->mu);
    while (b->n < n && pthread_cond_timedwait(&b->cv, &b->mu, &dl) == 0)
        ;
    got = b->n;
    pthread_mutex_unlock(&b->mu);
    return got;
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

T_TEST(session_in_order)
{
    inbox b;
    sim_reader *r = sim_reader_new(NULL, NULL);
    sim_card_params c = card("A12345678", "123456", 3, CARD_PROFILE_SSSE);
    card_worker *w;
    char pin[17];

    inbox_init(&b);
    T_CHECK(sim_reader_insert(r, &c));
    w = card_worker_start(sim_reader_transport(r), NULL, post, &b);
    T_CHECK(w != NULL);
    T_CHECK(card_worker_read(w, 7));
    T_CHECK(card_worker_verify(w, 8, "111111"));
    T_CHECK(card_worker_verify(w, 9, "123456"));
    T_CHECK(card_worker_change(w, 10, "123456", "802463"));
    T_EQ_INT(wait_for(&b, 4), 4);

    T_EQ_INT(b.r[0].gen, 7);
    T_EQ_INT(b.r[0].op, CARD_OP_READ);
    T_EQ_INT(b.r[0].res, CARD_RES_OK);
    T_EQ_STR(b.r[0].card_number, "A12345678");
    T_EQ_INT(b.r[0].profile, CARD_PROFILE_SSSE);

    T_EQ_INT(b.r[1].gen, 8);
    T_EQ_INT(b.r[1].op, CARD_OP_VERIFY);
    T_EQ_INT(b.r[1].res, CARD_RES_WRONG_PIN);
    T_EQ_INT(b.r[1].tries, 2);
    T_EQ_INT(b.r[1].sw, 0x63C2);

    T_EQ_INT(b.r[2].gen, 9);
    T_EQ_INT(b.r[2].res, CARD_RES_OK);

    T_EQ_INT(b.r[3].gen, 10);
    T_EQ_INT(b.r[3].op, CARD_OP_CHANGE);
    T_EQ_INT(b.r[3].res, CARD_RES_OK);
    card_worker_stop(w);

    T_CHECK(sim_reader_card_state(r, "A12345678", pin, NULL, NULL));
    T_EQ_STR(pin, "802463");
    sim_reader_free(r);
    inbox_done(&b);
}

T_TEST(iso_profile_remembered)
{
    inbox b;
    sim_reader *r = sim_reader_new(NULL, NULL);
    sim_card_params c = card("T1000", "2580", 3, CARD_PROFILE_ISO7816);
    card_cfg cfg;
    card_worker *w;

    inbox_init(&b);
    memcpy(c.expiry, "20000101", 9);
    T_CHECK(sim_reader_insert(r, &c));
    card_cfg_default(&cfg);
    w = card_worker_start(sim_reader_transport(r), &cfg, post, &b);
    T_CHECK(card_worker_read(w, 1));
    T_CHECK(card_worker_verify(w, 1, "2580"));
    T_CHECK(card_worker_verify(w, 2, "12345678901234567")); /* too long */
    T_CHECK(card_worker_verify(w, 2, NULL));
    T_EQ_INT(wait_for(&b, 4), 4);
    T_EQ_INT(b.r[0].res, CARD_RES_EXPIRED); /* today comes from time() */
    T_EQ_STR(b.r[0].expiry, "20000101");
    T_EQ_INT(b.r[0].profile, CARD_PROFILE_ISO7816);
    T_EQ_INT(b.r[1].res, CARD_RES_OK);
    T_EQ_INT(b.r[1].profile, CARD_PROFILE_ISO7816);
    T_EQ_INT(b.r[2].res, CARD_RES_REFUSED);
    T_EQ_INT(b.r[2].gen, 2);
    T_EQ_INT(b.r[3].res, CARD_RES_REFUSED);
    card_worker_stop(w);
    T_EQ_INT(b.n, 4);
    sim_reader_free(r);
    inbox_done(&b);
}

static void *remove_later(void *arg)
{
    usleep(60 * 1000);
    sim_reader_remove(arg);
    return NULL;
}

T_TEST(removal_ends_slow_job)
{
    inbox b;
    sim_reader *r = sim_reader_new(NULL, NULL);
    sim_card_params c = card("A12345678", "123456", 3, CARD_PROFILE_SSSE);
    card_worker *w;
    pthread_t th;

    inbox_init(&b);
    c.delay_ms = 10000;
    c.delay_on = CARD_OP_CHANGE;
    T_CHECK(sim_reader_insert(r, &c));
    w = card_worker_start(sim_reader_transport(r), NULL, post, &b);
    T_CHECK(card_worker_read(w, 3));
    T_CHECK(card_worker_change(w, 3, "123456", "654321"));
    T_EQ_INT(wait_for(&b, 1), 1);
    T_EQ_INT(pthread_create(&th, NULL, remove_later, r), 0);
    T_EQ_INT(wait_for(&b, 2), 2);
    pthread_join(th, NULL);
    T_EQ_INT(b.r[1].gen, 3);
    T_EQ_INT(b.r[1].op, CARD_OP_CHANGE);
    T_EQ_INT(b.r[1].res, CARD_RES_REMOVED);
    card_worker_stop(w);
    {
        char pin[17];
        T_CHECK(sim_reader_card_state(r, "A12345678", pin, NULL, NULL));
        T_EQ_STR(pin, "123456"); /* cut short before the card took it */
    }
    sim_reader_free(r);
    inbox_done(&b);
}

T_TEST(full_queue_and_stop)
{
    inbox b;
    sim_reader *r = sim_reader_new(NULL, NULL);
    sim_card_params c = card("A12345678", "123456", 3, CARD_PROFILE_SSSE);
    card_worker *w;
    pthread_t th;
    int queued = 0;

    inbox_init(&b);
    c.delay_ms = 10000;
    c.delay_on = CARD_OP_READ;
    T_CHECK(sim_reader_insert(r, &c));
    w = card_worker_start(sim_reader_transport(r), NULL, post, &b);
    T_CHECK(card_worker_read(w, 1));
    usleep(30 * 1000); /* let the worker take job 1 into the slow read */
    while (queued < 20 && card_worker_verify(w, 2, "123456"))
        queued++;
    T_EQ_INT(queued, CARD_WORKER_QUEUE);
    T_EQ_INT(pthread_create(&th, NULL, remove_later, r), 0);
    card_worker_stop(w); /* waits for job 1, drops the queued verifies */
    pthread_join(th, NULL);
    T_EQ_INT(b.n, 1);
    T_EQ_INT(b.r[0].gen, 1);
    T_EQ_INT(b.r[0].res, CARD_RES_REMOVED);
    T_EQ_INT(sim_reader_card_state(r, "A12345678", NULL, NULL, NULL), true);
    card_worker_stop(NULL);
    T_CHECK(!card_worker_read(NULL, 1));
    sim_reader_free(r);
    inbox_done(&b);
}

/* Between a challenge job and the reset job nothing reaches the card, so
 * the command made for the challenge the worker posted is accepted. */
typedef struct {
    inbox *b;
    sim_reader *r;
    card_worker *w;
} chain;

static void post_and_reset(void *ud, const card_result *res)
{
    chain *c = ud;
    uint8_t cmd[SIM_RESET_APDU_LEN];

    post(c->b, res);
    /* As the app would: the bureau answers, the reset goes in the queue.
     * Here on the worker thread itself, which is allowed (enqueue only). */
    if (res->op == CARD_OP_CHALLENGE && res->res == CARD_RES_OK) {
        sim_reset_command("A12345678", res->challenge, cmd);
        T_CHECK(card_worker_reset(c->w, res->gen + 1, cmd, sizeof cmd));
    }
}

T_TEST(challenge_then_reset)
{
    inbox b;
    chain ch;
    sim_reader *r = sim_reader_new(NULL, NULL);
    sim_card_params c = card("A12345678", "654321", 3, CARD_PROFILE_SSSE);
    static const uint8_t zero[CARD_CHALLENGE_LEN];
    char pin[17];
    int tries = -1;
    bool blocked = true;

    inbox_init(&b);
    c.blocked = true;
    T_CHECK(sim_reader_insert(r, &c));
    ch.b = &b;
    ch.r = r;
    ch.w = card_worker_start(sim_reader_transport(r), NULL, post_and_reset, &ch);
    T_CHECK(ch.w != NULL);
    T_CHECK(card_worker_challenge(ch.w, 20));
    T_EQ_INT(wait_for(&b, 2), 2);
    card_worker_stop(ch.w);

    T_EQ_INT(b.r[0].op, CARD_OP_CHALLENGE);
    T_EQ_INT(b.r[0].gen, 20);
    T_EQ_INT(b.r[0].res, CARD_RES_OK);
    T_EQ_INT(b.r[0].profile, CARD_PROFILE_SSSE); /* auto found it */
    T_CHECK(memcmp(b.r[0].challenge, zero, sizeof zero) != 0);
    T_EQ_INT(b.r[1].op, CARD_OP_RESET);
    T_EQ_INT(b.r[1].gen, 21);
    T_EQ_INT(b.r[1].res, CARD_RES_OK);
    T_EQ_INT(b.r[1].profile, CARD_PROFILE_SSSE); /* remembered from the challenge */
    T_CHECK(b.r[1].sent);
    T_CHECK(sim_reader_card_state(r, "A12345678", pin, &tries, &blocked));
    T_EQ_STR(pin, SIM_INITIAL_PIN);
    T_EQ_INT(tries, 3);
    T_CHECK(!blocked);
    sim_reader_free(r);
    inbox_done(&b);
}

T_TEST(reset_jobs_refused)
{
    inbox b;
    sim_reader *r = sim_reader_new(NULL, NULL);
    sim_card_params c = card("T1000", "2580", 3, CARD_PROFILE_ISO7816);
    uint8_t big[CARD_APDU_MAX + 1], cmd[SIM_RESET_APDU_LEN];
    static const uint8_t chal[CARD_CHALLENGE_LEN] = { 8, 7, 6, 5, 4, 3, 2, 1 };
    card_worker *w;
    char pin[17];

    inbox_init(&b);
    T_CHECK(sim_reader_insert(r, &c));
    w = card_worker_start(sim_reader_transport(r), NULL, post, &b);
    memset(big, 0, sizeof big);
    /* Too long to be an APDU: not even queued. */
    T_CHECK(!card_worker_reset(w, 1, big, sizeof big));
    T_CHECK(!card_worker_reset(w, 1, NULL, 21));
    /* Short but malformed: queued, refused, never sent. */
    T_CHECK(card_worker_reset(w, 2, big, 3));
    T_CHECK(card_worker_reset(w, 3, NULL, 0));
    /* Well-formed, with no challenge before it: the card refuses. */
    sim_reset_command("T1000", chal, cmd);
    T_CHECK(card_worker_reset(w, 4, cmd, sizeof cmd));
    T_EQ_INT(wait_for(&b, 3), 3);
    T_EQ_INT(b.r[0].gen, 2);
    T_EQ_INT(b.r[0].res, CARD_RES_REFUSED);
    T_CHECK(!b.r[0].sent);
    T_EQ_INT(b.r[1].res, CARD_RES_REFUSED);
    T_CHECK(!b.r[1].sent);
    T_EQ_INT(b.r[2].gen, 4);
    T_EQ_INT(b.r[2].res, CARD_RES_REFUSED);
    T_EQ_INT(b.r[2].sw, 0x6988);
    T_CHECK(b.r[2].sent);
    card_worker_stop(w);
    T_EQ_INT(b.n, 3);
    T_CHECK(sim_reader_card_state(r, "T1000", pin, NULL, NULL));
    T_EQ_STR(pin, "2580");
    sim_reader_free(r);
    inbox_done(&b);
}

T_TEST(reset_removed_mid_command)
{
    inbox b;
    sim_reader *r = sim_reader_new(NULL, NULL);
    sim_card_params c = card("A12345678", "654321", 3, CARD_PROFILE_SSSE);
    static const uint8_t chal[CARD_CHALLENGE_LEN] = { 1, 1, 2, 3, 5, 8, 13, 21 };
    uint8_t cmd[SIM_RESET_APDU_LEN];
    card_worker *w;
    pthread_t th;
    char pin[17];

    inbox_init(&b);
    c.delay_ms = 10000;
    c.delay_on = CARD_OP_RESET;
    T_CHECK(sim_reader_insert(r, &c));
    sim_reader_fix_challenge(r, chal);
    sim_reset_command("A12345678", chal, cmd);
    w = card_worker_start(sim_reader_transport(r), NULL, post, &b);
    T_CHECK(card_worker_challenge(w, 5));
    T_CHECK(card_worker_reset(w, 5, cmd, sizeof cmd));
    T_EQ_INT(wait_for(&b, 1), 1);
    T_EQ_INT(b.r[0].res, CARD_RES_OK);
    T_EQ_MEM(b.r[0].challenge, chal, sizeof chal);
    T_EQ_INT(pthread_create(&th, NULL, remove_later, r), 0);
    T_EQ_INT(wait_for(&b, 2), 2);
    pthread_join(th, NULL);
    T_EQ_INT(b.r[1].op, CARD_OP_RESET);
    T_EQ_INT(b.r[1].res, CARD_RES_REMOVED);
    T_CHECK(b.r[1].sent); /* sent: the outcome is unknown to the kiosk */
    card_worker_stop(w);
    T_CHECK(sim_reader_card_state(r, "A12345678", pin, NULL, NULL));
    T_EQ_STR(pin, "654321"); /* the sim's delay came before the card took it */
    sim_reader_free(r);
    inbox_done(&b);
}

T_MAIN(T_CASE(session_in_order), T_CASE(iso_profile_remembered), T_CASE(removal_ends_slow_job),
       T_CASE(full_queue_and_stop), T_CASE(challenge_then_reset), T_CASE(reset_jobs_refused),
       T_CASE(reset_removed_mid_command))
