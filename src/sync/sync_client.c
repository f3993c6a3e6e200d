/* sync_client.c - the kiosk's side of kiosk-sync: questions from the UI
 * (card status, a PIN reset's two steps, the bureau's status, the reader's
 * state) queue here, a worker thread takes them one at a time to
 * sync_wire.c and sync_reset.c, and every card or reset question is
 * answered exactly once, through post() or the reset callback.
 */
#include "sync/sync_int.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/mask.h"
#include "util/secmem.h"
#include "util/secure.h"

#define SYNC_TIMEOUT_MAX_MS 600000
/* A restarted kiosk-sync learns the reader state within this, unasked. */
#define SYNC_READER_RESEND_MS 60000
#define SYNC_READER_RETRY_MS 5000 /* kiosk-sync was not there: try again soon */

/* The reader words of the heartbeat (bureau-api.md section 4). */
static const char *const sync_reader_words[] = { "present", "absent" };

static const char *const sync_status_names[SYNC_ST__LAST] = {
    [SYNC_ST_ACTIVE] = "active",
    [SYNC_ST_LOST] = "lost",
    [SYNC_ST_FROZEN] = "frozen",
    [SYNC_ST_CANCELLED] = "cancelled",
    [SYNC_ST_UNKNOWN] = "unknown",
    [SYNC_ST_UNREACHABLE] = "unreachable",
};

const char *sync_status_name(sync_status s)
{
    if ((unsigned)s >= SYNC_ST__LAST)
        return "?";
    return sync_status_names[s];
}

static const char *const sync_reset_status_names[SYNC_RS__LAST] = {
    [SYNC_RS_OK] = "ok",
    [SYNC_RS_NO_PHONE] = "no_phone",
    [SYNC_RS_NOT_ACTIVE] = "not_active",
    [SYNC_RS_TOO_MANY] = "too_many",
    [SYNC_RS_CARD_UNKNOWN] = "card_unknown",
    [SYNC_RS_CODE_INVALID] = "code_invalid",
    [SYNC_RS_VOID] = "void",
    [SYNC_RS_EXPIRED] = "expired",
    [SYNC_RS_NOT_FOUND] = "not_found",
    [SYNC_RS_ALREADY_USED] = "already_used",
    [SYNC_RS_UNREACHABLE] = "unreachable",
};

const char *sync_reset_status_name(sync_reset_status s)
{
    if ((unsigned)s >= SYNC_RS__LAST)
        return "?";
    return sync_reset_status_names[s];
}

static bool card_valid(const char *card)
{
    size_t n = card ? strnlen(card, SYNC_CARD_MAX + 1) : 0;

    if (n == 0 || n > SYNC_CARD_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = card[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')))
            return false;
    }
    return true;
}

static void answer(sync_client *c, const sync_question *q, bool stopping)
{
    sync_result r;
    char masked[MASK_CARD_MAX];
    const char *why;

    memset(&r, 0, sizeof r);
    r.gen = q->gen;
    mask_card(q->card, masked);
    if (stopping)
        why = "stopping";
    else if (sync_now_ms() >= q->deadline_ms)
        why = "timed out while queued";
    else
        why = sync_wire_ask_card(c, q, masked, &r);
    if (why) {
        memset(&r, 0, sizeof r);
        r.gen = q->gen;
        r.status = SYNC_ST_UNREACHABLE;
        log_warn("sync", "card %s: unreachable (%s)", masked, why);
    } else {
        log_info("sync", "card %s: %s", masked, sync_status_name(r.status));
    }
    c->post(c->ud, &r);
}

/* A reset question's one answer, through the reset callback. Never the
   SMS code in the log: the masked card, or the reset's id. */
static void answer_reset(sync_client *c, const sync_question *q, bool stopping)
{
    sync_reset_result r;
    char name[SYNC_RESET_ID_MAX + 32], masked[MASK_CARD_MAX];
    const char *why;

    memset(&r, 0, sizeof r);
    r.status = SYNC_RS_UNREACHABLE;
    r.attempts_left = r.retry_after_s = -1;
    mask_card(q->card, masked);
    if (q->kind == SQ_RESET_AUTHORIZE)
        snprintf(name, sizeof name, "reset %s authorize", q->reset_id);
    else
        snprintf(name, sizeof name, "reset request card %s", masked);
    if (stopping)
        why = "stopping";
    else if (sync_now_ms() >= q->deadline_ms)
        why = "timed out while queued";
    else
        why = sync_reset_ask(c, q, &r);
    if (q->kind == SQ_RESET_AUTHORIZE)
        sync_reset_drop_line(c);
    if (why) {
        memset(&r, 0, sizeof r);
        r.status = SYNC_RS_UNREACHABLE;
        r.attempts_left = r.retry_after_s = -1;
        log_warn("sync", "%s: unreachable (%s)", name, why);
    } else {
        log_info("sync", "%s: %s", name, sync_reset_status_name(r.status));
    }
    r.gen = q->gen;
    r.authorize = q->kind == SQ_RESET_AUTHORIZE;
    c->reset_fn(c->reset_ud, &r);
}

static void *sync_main(void *arg)
{
    sync_client *c = arg;
    sync_question q;
    bool stopping;

    char word[SYNC_READER_WORD_MAX];
    struct timespec until;
    long long due;
    bool sent;

    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->stopping && c->q_len == 0 && !c->bureau_fn &&
               !(c->reader[0] && sync_now_ms() >= c->reader_due_ms)) {
            if (!c->reader[0]) {
                pthread_cond_wait(&c->cv, &c->mu);
            } else {
                due = c->reader_due_ms;
                until.tv_sec = (time_t)(due / 1000);
                until.tv_nsec = (long)(due % 1000) * 1000000L;
                pthread_cond_timedwait(&c->cv, &c->mu, &until);
            }
        }
        if (c->q_len == 0 && c->stopping)
            break; /* every question answered */
        if (c->q_len == 0 && c->bureau_fn) {
            sync_bureau_fn fn = c->bureau_fn;
            void *ud = c->bureau_ud;
            sync_bureau_info info;
            c->bureau_fn = NULL;
            pthread_mutex_unlock(&c->mu);
            sync_wire_ask_bureau_status(c, &info);
            fn(ud, &info);
            pthread_mutex_lock(&c->mu);
            continue;
        }
        if (c->q_len == 0) {
            /* Questions first: a citizen waits on those, nobody on this. */
            memcpy(word, c->reader, sizeof word);
            c->reader_due_ms = sync_now_ms() + SYNC_READER_RESEND_MS;
            pthread_mutex_unlock(&c->mu);
            sent = sync_wire_report_reader(c, word);
            pthread_mutex_lock(&c->mu);
            if (!sent && strcmp(word, c->reader) == 0)
                c->reader_due_ms = sync_now_ms() + SYNC_READER_RETRY_MS;
            continue;
        }
        q = c->queue[c->q_head];
        c->q_head = (c->q_head + 1) % SYNC_QUEUE_MAX;
        c->q_len--;
        stopping = c->stopping;
        /* Its slot may be reused once the lock goes: the code moves into
           the line now (or is just wiped if it will not be sent). */
        if (q.kind == SQ_RESET_AUTHORIZE)
            sync_reset_take_code(c, &q, !stopping && sync_now_ms() < q.deadline_ms);
        pthread_mutex_unlock(&c->mu);
        if (q.kind == SQ_CARD)
            answer(c, &q, stopping);
        else
            answer_reset(c, &q, stopping);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Frees the secrets from either home; the arena's are wiped and kept. */
static void secrets_free(sync_secrets *sec)
{
    if (sec == NULL)
        return;
    secure_wipe(sec, sizeof *sec);
    if (!secmem_owns(sec))
        free(sec);
}

sync_client *sync_client_start(const char *socket_path, int timeout_ms, sync_post_fn post,
                               void *ud)
{
    sync_client *c = NULL;
    pthread_condattr_t ca;
    sigset_t all, old;
    int stage = 0, rc;

    if (socket_path == NULL || socket_path[0] == '\0' || post == NULL) {
        log_err("sync", "no socket path or no callback");
        return NULL;
    }
    if (strlen(socket_path) >= sizeof c->path) {
        log_err("sync", "socket path longer than %zu bytes", sizeof c->path - 1);
        return NULL;
    }
    if (timeout_ms < 1 || timeout_ms > SYNC_TIMEOUT_MAX_MS) {
        log_err("sync", "timeout %d ms is not in 1..%d", timeout_ms, SYNC_TIMEOUT_MAX_MS);
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL)
        goto fail;
    /* The SMS codes of resets: locked memory, taken once (the arena is
       never given back), or ordinary memory when there is no arena. */
    c->secrets = secmem_alloc(sizeof *c->secrets, SECMEM_ALIGN);
    if (c->secrets == NULL)
        c->secrets = calloc(1, sizeof *c->secrets);
    if (c->secrets == NULL)
        goto fail;
    memcpy(c->path, socket_path, strlen(socket_path) + 1);
    c->timeout_ms = timeout_ms;
    c->post = post;
    c->ud = ud;
    c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->wake_fd < 0)
        goto fail;
    stage = 1;
    if (pthread_mutex_init(&c->mu, NULL) != 0)
        goto fail;
    stage = 2;
    /* The reader report waits on sync_now_ms()'s clock. */
    if (pthread_condattr_init(&ca) != 0)
        goto fail;
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        goto fail;
    stage = 3;
    /* Signals belong to the main thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&c->thread, NULL, sync_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        goto fail;
    return c;

fail:
    log_err("sync", "cannot start the sync client");
    if (stage >= 3)
        pthread_cond_destroy(&c->cv);
    if (stage >= 2)
        pthread_mutex_destroy(&c->mu);
    if (stage >= 1)
        close(c->wake_fd);
    if (c)
        secrets_free(c->secrets);
    free(c);
    return NULL;
}

bool sync_client_ask(sync_client *c, unsigned gen, const char *card_number)
{
    sync_question *q;
    bool queued = false;

    if (c == NULL || !card_valid(card_number)) {
        log_warn("sync", "not asking: the card number is not 1..%d letters and digits",
                 SYNC_CARD_MAX);
        return false;
    }
    pthread_mutex_lock(&c->mu);
    if (!c->stopping && c->q_len < SYNC_QUEUE_MAX) {
        q = &c->queue[(c->q_head + c->q_len) % SYNC_QUEUE_MAX];
        q->kind = SQ_CARD; /* the slot may have held a reset */
        q->gen = gen;
        memcpy(q->card, card_number, strlen(card_number) + 1);
        q->deadline_ms = sync_now_ms() + c->timeout_ms;
        c->q_len++;
        queued = true;
        pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    if (!queued)
        log_warn("sync", "not asking: stopping, or %d questions already waiting", SYNC_QUEUE_MAX);
    return queued;
}

void sync_client_on_reset(sync_client *c, sync_reset_fn fn, void *ud)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->reset_fn = fn;
    c->reset_ud = ud;
    pthread_mutex_unlock(&c->mu);
}

/* Queues a reset question `q` (its kind and arguments filled in); an
   authorize's code goes to the secrets slot of its ring position. */
static bool enqueue_reset(sync_client *c, sync_question *q, const char *sms_code, int timeout_ms)
{
    bool queued = false;
    size_t slot;

    pthread_mutex_lock(&c->mu);
    if (!c->stopping && c->reset_fn != NULL && c->q_len < SYNC_QUEUE_MAX) {
        slot = (c->q_head + c->q_len) % SYNC_QUEUE_MAX;
        q->slot = slot;
        q->deadline_ms = sync_now_ms() + timeout_ms;
        if (sms_code)
            memcpy(c->secrets->codes[slot], sms_code, SYNC_SMS_CODE_LEN + 1);
        c->queue[slot] = *q;
        c->q_len++;
        queued = true;
        pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    if (!queued)
        log_warn("sync", "not asking: stopping, no reset callback, or %d questions already waiting",
                 SYNC_QUEUE_MAX);
    return queued;
}

bool sync_client_reset_request(sync_client *c, unsigned gen, const char *card_number,
                               int timeout_ms)
{
    sync_question q = { .kind = SQ_RESET_REQUEST, .gen = gen };

    if (c == NULL || !card_valid(card_number) || timeout_ms < 1 || timeout_ms > SYNC_TIMEOUT_MAX_MS) {
        log_warn("sync", "not asking for a reset: bad card number or timeout");
        return false;
    }
    memcpy(q.card, card_number, strlen(card_number) + 1);
    return enqueue_reset(c, &q, NULL, timeout_ms);
}

bool sync_client_reset_authorize(sync_client *c, unsigned gen, const char *reset_id,
                                 const char *sms_code, const uint8_t challenge[8], int timeout_ms)
{
    sync_question q = { .kind = SQ_RESET_AUTHORIZE, .gen = gen };

    if (c == NULL || !sync_reset_id_valid(reset_id) || !sync_sms_code_valid(sms_code)
        || challenge == NULL || timeout_ms < 1 || timeout_ms > SYNC_TIMEOUT_MAX_MS) {
        /* Never the code itself, nor what was wrong with it. */
        log_warn("sync", "not asking for a reset's command: a bad argument");
        return false;
    }
    memcpy(q.reset_id, reset_id, strlen(reset_id) + 1);
    memcpy(q.challenge, challenge, SYNC_CHALLENGE_LEN);
    return enqueue_reset(c, &q, sms_code, timeout_ms);
}

bool sync_client_report_reader(sync_client *c, const char *state)
{
    bool ok = false;
    for (size_t i = 0; !ok && i < sizeof sync_reader_words / sizeof sync_reader_words[0]; i++)
        ok = state != NULL && strcmp(state, sync_reader_words[i]) == 0;
    if (ok && c != NULL) {
        pthread_mutex_lock(&c->mu);
        if (strcmp(c->reader, state) != 0) {
            memcpy(c->reader, state, strlen(state) + 1);
            c->reader_due_ms = 0; /* now */
            pthread_cond_signal(&c->cv);
        }
        pthread_mutex_unlock(&c->mu);
    }
    return ok && c != NULL;
}

bool sync_client_ask_bureau(sync_client *c, sync_bureau_fn fn, void *ud)
{
    bool ok = false;
    if (c != NULL && fn != NULL) {
        pthread_mutex_lock(&c->mu);
        if (!c->stopping) {
            c->bureau_fn = fn;
            c->bureau_ud = ud;
            pthread_cond_signal(&c->cv);
            ok = true;
        }
        pthread_mutex_unlock(&c->mu);
    }
    return ok;
}

void sync_client_stop(sync_client *c)
{
    uint64_t one = 1;

    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (write(c->wake_fd, &one, sizeof one) < 0)
        log_warn("sync", "wake: %s", strerror(errno));
    pthread_join(c->thread, NULL);
    secrets_free(c->secrets); /* every code was wiped as answered; this is the rest */
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    close(c->wake_fd);
    free(c);
}
