#include "sync/sync_client.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util/log.h"
#include "util/text.h"
#include "util/mask.h"

#define SYNC_TIMEOUT_MAX_MS 600000
#define SYNC_BACKLOG_RETRY_MS 10 /* connect() found the listener's backlog full */
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

/* The status words a reply may carry; "unreachable" is ours, not the wire's. */
static const struct {
    const char *word;
    sync_status status;
} sync_wire_statuses[] = {
    { "active", SYNC_ST_ACTIVE },
    { "lost", SYNC_ST_LOST },
    { "frozen", SYNC_ST_FROZEN },
    { "cancelled", SYNC_ST_CANCELLED },
    { "unknown", SYNC_ST_UNKNOWN },
};

/* Code points a holder name may not carry: C0 and C1 controls, DEL, and the
   invisible direction and line marks that could make a name on screen say
   something else than its bytes. */
static const struct {
    uint32_t lo, hi;
} sync_holder_banned[] = {
    { 0x0000, 0x001F }, { 0x007F, 0x009F }, { 0x200E, 0x200F },
    { 0x2028, 0x202E }, { 0x2066, 0x2069 }, { 0xFEFF, 0xFEFF },
};

typedef struct {
    unsigned gen;
    char card[SYNC_CARD_MAX + 1];
    long long deadline_ms;
} sync_question;

struct sync_client {
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int timeout_ms;
    sync_post_fn post;
    void *ud;
    int wake_fd; /* written once, at stop, to cut the exchange in flight short */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;                          /* under mu */
    sync_question queue[SYNC_QUEUE_MAX];    /* under mu; a ring */
    size_t q_head, q_len;
    char reader[SYNC_READER_WORD_MAX];      /* under mu: last reader state, "" none yet */
    sync_bureau_fn bureau_fn;               /* under mu: a status question waits */
    void *bureau_ud;
    long long reader_due_ms;                /* under mu: when to (re)send it */
};

const char *sync_status_name(sync_status s)
{
    if ((unsigned)s >= SYNC_ST__LAST)
        return "?";
    return sync_status_names[s];
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

/* ---- holder names --------------------------------------------------- */

/* Length of the well-formed UTF-8 character at s (n bytes available), with
   its code point in *cp; 0 when the bytes are not one (overlong forms,
   surrogates and values past U+10FFFF included). */
static size_t utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
    static const uint32_t min_for_len[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    size_t len;
    uint32_t v;

    if (n == 0)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    } else if ((s[0] & 0xE0) == 0xC0) {
        len = 2;
        v = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3;
        v = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4;
        v = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min_for_len[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

static bool holder_char_allowed(uint32_t cp)
{
    for (size_t i = 0; i < sizeof sync_holder_banned / sizeof sync_holder_banned[0]; i++)
        if (cp >= sync_holder_banned[i].lo && cp <= sync_holder_banned[i].hi)
            return false;
    return true;
}

/* Copies a checked holder name into out, cut on a character boundary to fit.
   An invalid name gives "" and false: the status still stands without it. */
static bool holder_copy(const char *in, char out[SYNC_HOLDER_MAX])
{
    const unsigned char *s = (const unsigned char *)in;
    size_t n = strlen(in), i = 0, keep = 0, len;
    uint32_t cp;

    out[0] = '\0';
    while (i < n) {
        len = utf8_char(s + i, n - i, &cp);
        if (len == 0 || !holder_char_allowed(cp))
            return false;
        i += len;
        if (i < SYNC_HOLDER_MAX)
            keep = i;
    }
    memcpy(out, in, keep);
    out[keep] = '\0';
    return true;
}

/* ---- one exchange ---------------------------------------------------- */

/* Waits for `events` on fd until the deadline. 1: ready; 0: timed out;
   -1: stopping (the wake fd fired) or poll failed. */
static int wait_for(const sync_client *c, int fd, short events, long long deadline)
{
    struct pollfd pfd[2];
    nfds_t n = 0, w;
    long long left;
    int rc;

    if (fd >= 0)
        pfd[n++] = (struct pollfd){ .fd = fd, .events = events };
    w = n;
    pfd[n++] = (struct pollfd){ .fd = c->wake_fd, .events = POLLIN };
    for (;;) {
        left = deadline - now_ms();
        if (left <= 0)
            return 0;
        rc = poll(pfd, n, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0 || pfd[w].revents)
            return -1;
        if (rc == 0 || fd < 0)
            continue; /* re-check the clock */
        return 1;
    }
}

/* Reads a reply line into r. Returns the reason it could not, or NULL. */
static const char *parse_reply(const char *line, size_t len, const char *masked, sync_result *r)
{
    const char *why = NULL, *end = NULL;
    const cJSON *ok, *status, *holder, *error;
    cJSON *root = NULL;

    if (memchr(line, '\0', len) || text_json_has_nul_escape(line, len)) {
        why = "NUL byte in reply";
        goto out;
    }
    root = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    if (root == NULL || end == NULL || !text_only_whitespace(end, line + len) || !cJSON_IsObject(root)) {
        why = "reply is not one JSON object";
        goto out;
    }
    ok = cJSON_GetObjectItemCaseSensitive(root, "ok");
    if (!cJSON_IsBool(ok)) {
        why = "reply without \"ok\"";
        goto out;
    }
    if (!cJSON_IsTrue(ok)) {
        error = cJSON_GetObjectItemCaseSensitive(root, "error");
        why = (cJSON_IsString(error) && strcmp(error->valuestring, "bureau_unreachable") == 0)
                  ? "kiosk-sync cannot reach the bureau"
                  : "kiosk-sync answered an error";
        goto out;
    }
    status = cJSON_GetObjectItemCaseSensitive(root, "status");
    if (!cJSON_IsString(status)) {
        why = "reply without a status";
        goto out;
    }
    why = "unexpected status word";
    for (size_t i = 0; i < sizeof sync_wire_statuses / sizeof sync_wire_statuses[0]; i++) {
        if (strcmp(status->valuestring, sync_wire_statuses[i].word) == 0) {
            r->status = sync_wire_statuses[i].status;
            why = NULL;
            break;
        }
    }
    if (why)
        goto out;
    holder = cJSON_GetObjectItemCaseSensitive(root, "holder");
    if (holder && !cJSON_IsNull(holder) &&
        !(cJSON_IsString(holder) && holder_copy(holder->valuestring, r->holder)))
        log_warn("sync", "card %s: holder name is not clean UTF-8 text; not shown", masked);

out:
    cJSON_Delete(root);
    return why;
}

/* Connects, asks, reads the answer. Returns why it failed, or NULL with r
   filled in. The socket is closed on every path. */
/* Connects, sends `req` (`req_len` bytes, with its newline) and reads one
 * reply line into `buf` (SYNC_REPLY_MAX + 1 bytes), all before `deadline` (now_ms() clock). *line_len
 * gets the reply's length without its newline. The reason it failed, or NULL. */
static const char *exchange(const sync_client *c, const char *req, size_t req_len,
                            long long deadline, char *buf, size_t *line_len)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t sent = 0, got = 0;
    const char *why = NULL;
    char *nl = NULL;
    socklen_t slen;
    ssize_t n;
    int fd = -1, rc, soerr;

    memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        why = "no socket";
        goto out;
    }
    for (;;) {
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN) {
            /* The listener's backlog is full: try again shortly. */
            rc = wait_for(c, -1, 0, deadline < now_ms() + SYNC_BACKLOG_RETRY_MS
                                        ? deadline
                                        : now_ms() + SYNC_BACKLOG_RETRY_MS);
            if (rc < 0 || now_ms() >= deadline) {
                why = rc < 0 ? "stopping" : "kiosk-sync is not accepting connections";
                goto out;
            }
            continue;
        }
        if (errno != EINPROGRESS) {
            why = errno == ENOENT ? "no kiosk-sync socket" : "connect refused";
            goto out;
        }
        rc = wait_for(c, fd, POLLOUT, deadline);
        if (rc != 1) {
            why = rc < 0 ? "stopping" : "connect timed out";
            goto out;
        }
        soerr = 0;
        slen = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) < 0 || soerr != 0) {
            why = "connect failed";
            goto out;
        }
        break;
    }

    while (sent < req_len) {
        n = send(fd, req + sent, req_len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            sent += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            rc = wait_for(c, fd, POLLOUT, deadline);
            if (rc != 1) {
                why = rc < 0 ? "stopping" : "send timed out";
                goto out;
            }
        } else {
            why = "send failed";
            goto out;
        }
    }

    while (nl == NULL) {
        if (got == SYNC_REPLY_MAX + 1) {
            why = "reply too long";
            goto out;
        }
        n = recv(fd, buf + got, SYNC_REPLY_MAX + 1 - got, MSG_DONTWAIT);
        if (n > 0) {
            nl = memchr(buf + got, '\n', (size_t)n);
            got += (size_t)n;
        } else if (n == 0) {
            /* Closed without a newline: what came is the whole reply. */
            if (got == 0) {
                why = "connection closed without a reply";
                goto out;
            }
            nl = buf + got;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            rc = wait_for(c, fd, POLLIN, deadline);
            if (rc != 1) {
                why = rc < 0 ? "stopping" : "no reply in time";
                goto out;
            }
        } else {
            why = "recv failed";
            goto out;
        }
    }
    *line_len = (size_t)(nl - buf);

out:
    if (fd >= 0)
        close(fd);
    return why;
}

/* One card question: the request, the exchange, the reply read into r. */
static const char *ask_card(const sync_client *c, const sync_question *q, const char *masked,
                            sync_result *r)
{
    char req[96], buf[SYNC_REPLY_MAX + 1];
    size_t len = 0;
    const char *why = NULL;
    /* The card number is checked to be letters and digits: no escaping. */
    int rc = snprintf(req, sizeof req, "{\"cmd\":\"card_status\",\"card_number\":\"%s\"}\n", q->card);
    if (rc < 0 || (size_t)rc >= sizeof req)
        why = "request too long";
    else if (!(why = exchange(c, req, (size_t)rc, q->deadline_ms, buf, &len)))
        why = parse_reply(buf, len, masked, r);
    return why;
}

/* kiosk-sync's {"cmd":"status"}: what it last heard from the bureau. */
static void ask_bureau_status(const sync_client *c, sync_bureau_info *info)
{
    static const char *const words[] = { [SYNC_BUREAU_NOT_KNOWN] = "unknown",
                                         [SYNC_BUREAU_OK] = "reachable",
                                         [SYNC_BUREAU_DOWN] = "unreachable" };
    static const char req[] = "{\"cmd\":\"status\"}\n";
    char buf[SYNC_REPLY_MAX + 1];
    size_t len = 0;
    cJSON *root = NULL;
    const char *why = exchange(c, req, sizeof req - 1, now_ms() + c->timeout_ms, buf, &len);

    memset(info, 0, sizeof *info);
    if (!why && (memchr(buf, '\0', len) || text_json_has_nul_escape(buf, len)))
        why = "a NUL in the answer";
    if (!why) {
        root = cJSON_ParseWithLength(buf, len);
        const cJSON *ok = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "ok") : NULL;
        const cJSON *b = cJSON_IsTrue(ok) ? cJSON_GetObjectItemCaseSensitive(root, "bureau") : NULL;
        const cJSON *e = cJSON_IsTrue(ok) ? cJSON_GetObjectItemCaseSensitive(root, "last_error") : NULL;
        why = "an answer that is not a status";
        for (size_t i = 0; cJSON_IsString(b) && why && i < sizeof words / sizeof words[0]; i++)
            if (strcmp(b->valuestring, words[i]) == 0) {
                info->bureau = (sync_bureau)i;
                why = NULL;
            }
        /* Shown on the screen: printable ASCII only, cut to fit. */
        if (!why && cJSON_IsString(e)) {
            snprintf(info->last_error, sizeof info->last_error, "%s", e->valuestring);
            for (char *p = info->last_error; *p; p++)
                *p = *p < 0x20 || *p > 0x7e ? '?' : *p;
        }
    }
    if (why) {
        info->bureau = SYNC_BUREAU_NOT_KNOWN;
        snprintf(info->last_error, sizeof info->last_error, "kiosk-sync: %s", why);
    }
    cJSON_Delete(root);
}

/* Tells kiosk-sync the reader's state for its heartbeat. True if it said ok. */
static bool report_reader(const sync_client *c, const char *word)
{
    char req[64], buf[SYNC_REPLY_MAX + 1];
    size_t len = 0;
    const char *why = NULL;
    cJSON *root = NULL;
    int rc = snprintf(req, sizeof req, "{\"cmd\":\"reader\",\"state\":\"%s\"}\n", word);
    if (rc < 0 || (size_t)rc >= sizeof req)
        why = "request too long";
    else
        why = exchange(c, req, (size_t)rc, now_ms() + c->timeout_ms, buf, &len);
    if (!why) {
        root = cJSON_ParseWithLength(buf, len);
        if (!cJSON_IsTrue(cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "ok") : NULL))
            why = "not acknowledged";
    }
    /* Debug only: with kiosk-sync down this fails every few seconds, and
     * the card questions already say so loudly. */
    if (why)
        log_debug("sync", "reader state %s not reported: %s", word, why);
    cJSON_Delete(root);
    return why == NULL;
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
    else if (now_ms() >= q->deadline_ms)
        why = "timed out while queued";
    else
        why = ask_card(c, q, masked, &r);
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
               !(c->reader[0] && now_ms() >= c->reader_due_ms)) {
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
            ask_bureau_status(c, &info);
            fn(ud, &info);
            pthread_mutex_lock(&c->mu);
            continue;
        }
        if (c->q_len == 0) {
            /* Questions first: a citizen waits on those, nobody on this. */
            memcpy(word, c->reader, sizeof word);
            c->reader_due_ms = now_ms() + SYNC_READER_RESEND_MS;
            pthread_mutex_unlock(&c->mu);
            sent = report_reader(c, word);
            pthread_mutex_lock(&c->mu);
            if (!sent && strcmp(word, c->reader) == 0)
                c->reader_due_ms = now_ms() + SYNC_READER_RETRY_MS;
            continue;
        }
        q = c->queue[c->q_head];
        c->q_head = (c->q_head + 1) % SYNC_QUEUE_MAX;
        c->q_len--;
        stopping = c->stopping;
        pthread_mutex_unlock(&c->mu);
        answer(c, &q, stopping);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
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
    /* The reader report waits on now_ms()'s clock. */
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
        q->gen = gen;
        memcpy(q->card, card_number, strlen(card_number) + 1);
        q->deadline_ms = now_ms() + c->timeout_ms;
        c->q_len++;
        queued = true;
        pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    if (!queued)
        log_warn("sync", "not asking: stopping, or %d questions already waiting", SYNC_QUEUE_MAX);
    return queued;
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
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    close(c->wake_fd);
    free(c);
}
