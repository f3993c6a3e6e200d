#include "card/worker.h"

#include "card/profile.h"
#include "util/log.h"
#include "util/secmem.h"
#include "util/secure.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One more than CARD_PIN_MAX digits fit, so an over-long PIN stays over-long
 * (and is refused) instead of being cut to a valid one. */
#define JOB_PIN_CAP (CARD_PIN_MAX + 2)

typedef struct {
    card_op op;
    unsigned gen;
    char old_pin[JOB_PIN_CAP];
    char new_pin[JOB_PIN_CAP];
    /* RESET: the bureau's command. Not a PIN, but the one thing that puts a
     * card back on its initial PIN, so it is kept and wiped like one. */
    uint8_t apdu[CARD_APDU_MAX];
    size_t apdu_len;
} worker_job;

struct card_worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    card_transport t;
    card_cfg cfg;
    void (*post)(void *ud, const card_result *r);
    void *ud;

    worker_job q[CARD_WORKER_QUEUE];
    size_t head, count;
    bool stopping;

    card_profile last_profile; /* worker thread only */
};

static void today_utc(char out[9])
{
    time_t now = time(NULL);
    struct tm tm;

    if (gmtime_r(&now, &tm) == NULL || strftime(out, 9, "%Y%m%d", &tm) != 8)
        out[0] = '\0'; /* the read then skips the expiry check, and says so */
}

static void run_job(card_worker *w, const worker_job *j, card_result *res)
{
    char today[9];

    switch (j->op) {
    case CARD_OP_READ:
        today_utc(today);
        card_read(&w->t, &w->cfg, today, res);
        w->last_profile = res->profile;
        break;
    case CARD_OP_VERIFY:
        card_verify(&w->t, &w->cfg, w->last_profile, j->old_pin, res);
        break;
    case CARD_OP_CHANGE:
        card_change(&w->t, &w->cfg, w->last_profile, j->old_pin, j->new_pin, res);
        break;
    case CARD_OP_CHALLENGE:
        card_challenge(&w->t, &w->cfg, w->last_profile, res);
        /* A challenge before any read found the profile (auto): keep it for
         * the reset's result. */
        if (res->profile != CARD_PROFILE_AUTO)
            w->last_profile = res->profile;
        break;
    case CARD_OP_RESET:
        card_reset_pin(&w->t, &w->cfg, w->last_profile, j->apdu, j->apdu_len, res);
        break;
    case CARD_OP__LAST:
        break; /* never queued */
    }
    res->gen = j->gen;
}

static void *worker_main(void *arg)
{
    card_worker *w = arg;
    worker_job job;
    card_result res;

    pthread_setname_np(pthread_self(), "card-worker"); /* for ps, gdb and the tests */
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->stopping && w->count == 0)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stopping) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        job = w->q[w->head];
        secure_wipe(&w->q[w->head], sizeof w->q[w->head]);
        w->head = (w->head + 1) % CARD_WORKER_QUEUE;
        w->count--;
        pthread_mutex_unlock(&w->mu);

        run_job(w, &job, &res);
        secure_wipe(&job, sizeof job);
        if (w->post)
            w->post(w->ud, &res);
    }
    secure_wipe(&job, sizeof job);
    return NULL;
}

/* The worker's thread stack: APDUs with PINs are built there, so it comes
 * from the secrets arena when there is one (locked, never dumped). Card
 * operations are shallow: the deepest use is 17.4 KB, through a real
 * pcscd as on the simulated card, 18.8 KB under ASan, whose larger frames
 * keep the 64 KiB it had; test_pcsc and test_service hold the use under
 * 3/4 of the size (stats.secrets.stacks, painted by secmem.c). A guard
 * page below it turns an overrun into a fault (secmem.h). */
#ifdef SECMEM_ASAN
#define WORKER_STACK (64u * 1024u)
#else
#define WORKER_STACK (32u * 1024u)
#endif

/* Frees a worker from either home. */
static void worker_free(card_worker *w)
{
    if (secmem_owns(w))
        secure_wipe(w, sizeof *w); /* the arena is never given back */
    else
        free(w);
}

card_worker *card_worker_start(card_transport t, const card_cfg *cfg,
                               void (*post)(void *ud, const card_result *r), void *ud)
{
    /* Its job queue holds PINs: the arena if there is one. */
    card_worker *w = secmem_alloc(sizeof *w, SECMEM_ALIGN);
    int stage = 0;

    if (w == NULL)
        w = calloc(1, sizeof *w);
    if (w == NULL)
        goto fail;
    w->t = t;
    if (cfg)
        w->cfg = *cfg;
    else
        card_cfg_default(&w->cfg);
    w->post = post;
    w->ud = ud;
    w->last_profile = CARD_PROFILE_AUTO;
    if (pthread_mutex_init(&w->mu, NULL) != 0)
        goto fail;
    stage = 1;
    if (pthread_cond_init(&w->cv, NULL) != 0)
        goto fail;
    stage = 2;
    if (secmem_thread_create(&w->thread, WORKER_STACK, worker_main, w) != 0)
        goto fail;
    return w;
fail:
    log_err("card", "cannot start the card worker");
    if (stage >= 2)
        pthread_cond_destroy(&w->cv);
    if (stage >= 1)
        pthread_mutex_destroy(&w->mu);
    if (w)
        worker_free(w);
    return NULL;
}

static void copy_pin(char dst[JOB_PIN_CAP], const char *pin)
{
    size_t n = pin ? strnlen(pin, JOB_PIN_CAP - 1) : 0;

    memcpy(dst, pin ? pin : "", n);
    dst[n] = '\0';
}

static bool enqueue(card_worker *w, card_op op, unsigned gen, const char *old_pin,
                    const char *new_pin, const uint8_t *apdu, size_t apdu_len)
{
    bool ok = false;
    worker_job *j;

    if (w == NULL)
        return false;
    pthread_mutex_lock(&w->mu);
    if (w->stopping || w->count == CARD_WORKER_QUEUE) {
        log_warn("card", "%s job %u not queued: %s", card_op_name(op), gen,
                 w->stopping ? "worker stopping" : "queue full");
        goto unlock;
    }
    j = &w->q[(w->head + w->count) % CARD_WORKER_QUEUE];
    memset(j, 0, sizeof *j);
    j->op = op;
    j->gen = gen;
    copy_pin(j->old_pin, old_pin);
    copy_pin(j->new_pin, new_pin);
    if (apdu_len > 0)
        memcpy(j->apdu, apdu, apdu_len);
    j->apdu_len = apdu_len;
    w->count++;
    pthread_cond_signal(&w->cv);
    ok = true;
unlock:
    pthread_mutex_unlock(&w->mu);
    return ok;
}

bool card_worker_read(card_worker *w, unsigned gen)
{
    return enqueue(w, CARD_OP_READ, gen, NULL, NULL, NULL, 0);
}

bool card_worker_verify(card_worker *w, unsigned gen, const char *pin)
{
    return enqueue(w, CARD_OP_VERIFY, gen, pin, NULL, NULL, 0);
}

bool card_worker_change(card_worker *w, unsigned gen, const char *old_pin, const char *new_pin)
{
    return enqueue(w, CARD_OP_CHANGE, gen, old_pin, new_pin, NULL, 0);
}

bool card_worker_challenge(card_worker *w, unsigned gen)
{
    return enqueue(w, CARD_OP_CHALLENGE, gen, NULL, NULL, NULL, 0);
}

bool card_worker_reset(card_worker *w, unsigned gen, const uint8_t *apdu, size_t len)
{
    /* Too long to hold is refused here; any other malformed command is
     * queued and refused by card_reset_pin without being sent, so the
     * caller hears of it in the result like of any other refusal. */
    if (len > CARD_APDU_MAX || (apdu == NULL && len > 0)) {
        log_warn("card", "reset job %u not queued: %zu bytes is no APDU", gen, len);
        return false;
    }
    return enqueue(w, CARD_OP_RESET, gen, NULL, NULL, apdu, len);
}

void card_worker_stop(card_worker *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    secure_wipe(w->q, sizeof w->q);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    worker_free(w);
}
