/* sync_server.c - see sync_server.h. */
#include "syncd/sync_server.h"

#include "syncd/delivery.h"
#include "util/log.h"
#include "util/mask.h"
#include "util/text.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define WHERE "sync_server"
#define CARD_MAX 15
#define READ_TIMEOUT_MS 2000   /* the kiosk sends its line at once; a silent client is dropped */
#define WRITE_TIMEOUT_S 2

static const char reply_unreachable[] = "{\"ok\":false,\"error\":\"bureau_unreachable\"}\n";
static const char reply_bad_request[] = "{\"ok\":false,\"error\":\"bad_request\"}\n";

/* The words of bureau-api.md section 1; anything else is not trusted. */
static const char *const bureau_statuses[] = { "active", "lost", "frozen", "cancelled" };

struct sync_server {
    kiosk_config cfg;              /* a copy: plain data */
    int listen_fd;
    int stop_fd;                   /* eventfd: written once by sync_server_stop */
    pthread_t thread;
    bool thread_started;
    bool socket_made;              /* ours to unlink */
    CURL *h;                       /* used by the thread only */
    char url_base[sizeof ((kiosk_config *)0)->bureau_url];
    char tid_header[sizeof ((kiosk_config *)0)->terminal_id + 32];
    char errbuf[CURL_ERROR_SIZE];
    char body[DLV_BODY_MAX];
    size_t body_len;
    atomic_int reader;             /* index in reader_words, -1 before any report */
    atomic_long unmovable;         /* dead letters kiosk-sync could not move */
    pthread_mutex_t bureau_mu;     /* guards the two below; any thread notes */
    int bureau;                    /* SYNC_BUREAU_* */
    char last_error[DLV_DETAIL_MAX];
};

bool sync_server_card_ok(const char *card)
{
    size_t n = 0;
    bool ok = card != NULL;
    for (; ok && card[n]; n++)
        ok = n < CARD_MAX && ((card[n] >= '0' && card[n] <= '9') || (card[n] >= 'A' && card[n] <= 'Z') ||
                              (card[n] >= 'a' && card[n] <= 'z'));
    return ok && n >= 1;
}

/* Copies `line` into `out` if it fits, else the short unreachable reply. */
static size_t put_reply(const char *line, char *out, size_t cap)
{
    size_t n = strlen(line);
    if (n >= cap) {
        line = reply_unreachable;
        n = sizeof reply_unreachable - 1;
    }
    memcpy(out, line, n + 1);
    return n;
}

size_t sync_server_from_bureau(long http_status, const char *body, size_t len, char *out,
                               size_t cap)
{
    cJSON *in = NULL, *reply = NULL;
    char *text = NULL;
    const char *status = NULL;
    size_t n;

    if (http_status == 404) {
        status = "unknown";
    } else if (http_status == 200) {
        in = cJSON_ParseWithLength(body, len);
        const cJSON *st = cJSON_IsObject(in) ? cJSON_GetObjectItemCaseSensitive(in, "status") : NULL;
        for (size_t i = 0; cJSON_IsString(st) && !status && i < sizeof bureau_statuses / sizeof bureau_statuses[0]; i++)
            if (strcmp(st->valuestring, bureau_statuses[i]) == 0)
                status = bureau_statuses[i];
    }
    if (!status || !(reply = cJSON_CreateObject()) || !cJSON_AddTrueToObject(reply, "ok")
        || !cJSON_AddStringToObject(reply, "status", status))
        goto out;
    /* The holder is passed through as the bureau masked it; the kiosk checks
     * it before showing it. A non-string or absurdly long one is dropped. */
    const cJSON *holder = in ? cJSON_GetObjectItemCaseSensitive(in, "holder") : NULL;
    if (cJSON_IsString(holder) && strlen(holder->valuestring) <= 256
        && !cJSON_AddStringToObject(reply, "holder", holder->valuestring))
        goto out;
    text = cJSON_PrintUnformatted(reply);
out:
    if (text && strlen(text) + 2 <= cap && strlen(text) + 1 <= SYNC_SERVER_LINE_MAX) {
        n = (size_t)snprintf(out, cap, "%s\n", text);
    } else {
        n = put_reply(reply_unreachable, out, cap);
    }
    cJSON_free(text);
    cJSON_Delete(reply);
    cJSON_Delete(in);
    return n;
}

/* Each command's argument check and call; the reply for a valid one. */
typedef bool (*cmd_fn)(const cJSON *root, const sync_server_handlers *h, char *out, size_t cap,
                       size_t *n);

static bool cmd_card_status(const cJSON *root, const sync_server_handlers *h, char *out,
                            size_t cap, size_t *n)
{
    const cJSON *card = cJSON_GetObjectItemCaseSensitive(root, "card_number");
    bool ok = cJSON_IsString(card) && sync_server_card_ok(card->valuestring);
    if (ok)
        *n = h->card_status(h->ctx, card->valuestring, out, cap);
    return ok;
}

static const char *const reader_words[] = { "present", "absent" };

static bool cmd_reader(const cJSON *root, const sync_server_handlers *h, char *out, size_t cap,
                       size_t *n)
{
    static const char ack[] = "{\"ok\":true}\n";
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "state");
    const char *word = NULL;
    for (size_t i = 0; cJSON_IsString(st) && !word && i < sizeof reader_words / sizeof reader_words[0]; i++)
        if (strcmp(st->valuestring, reader_words[i]) == 0)
            word = reader_words[i];
    if (word) {
        h->reader(h->ctx, word);
        *n = put_reply(ack, out, cap);
    }
    return word != NULL;
}

static bool cmd_status(const cJSON *root, const sync_server_handlers *h, char *out, size_t cap,
                       size_t *n)
{
    (void)root;
    *n = h->status(h->ctx, out, cap);
    return true;
}

static const struct { const char *name; cmd_fn fn; } commands[] = {
    { "card_status", cmd_card_status },
    { "reader", cmd_reader },
    { "status", cmd_status },
};

size_t sync_server_status_reply(int bureau, const char *last_error, long unmovable, char *out,
                                size_t cap)
{
    static const char *const words[] = { [SYNC_BUREAU_UNKNOWN] = "unknown",
                                         [SYNC_BUREAU_REACHABLE] = "reachable",
                                         [SYNC_BUREAU_UNREACHABLE] = "unreachable" };
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    size_t n;
    if (o && cJSON_AddTrueToObject(o, "ok")
        && cJSON_AddStringToObject(o, "bureau", words[bureau >= 0 && bureau <= 2 ? bureau : 0])
        && cJSON_AddStringToObject(o, "last_error", last_error ? last_error : "")
        && cJSON_AddNumberToObject(o, "unmovable", (double)(unmovable > 0 ? unmovable : 0)))
        text = cJSON_PrintUnformatted(o);
    if (text && strlen(text) + 2 <= cap)
        n = (size_t)snprintf(out, cap, "%s\n", text);
    else
        n = put_reply(reply_bad_request, out, cap);
    cJSON_free(text);
    cJSON_Delete(o);
    return n;
}

size_t sync_server_reply(const char *req, size_t len, const sync_server_handlers *h,
                         char *out, size_t cap)
{
    cJSON *root = NULL;
    size_t n = 0;
    /* cJSON stops at a NUL; the protocol forbids one anywhere in a line. */
    bool ok = len > 0 && len <= SYNC_SERVER_LINE_MAX && !memchr(req, '\0', len) &&
              !text_json_has_nul_escape(req, len); /* cJSON would cut a value there */
    cmd_fn fn = NULL;

    if (ok)
        root = cJSON_ParseWithLength(req, len);
    const cJSON *cmd = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "cmd") : NULL;
    for (size_t i = 0; cJSON_IsString(cmd) && !fn && i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd->valuestring, commands[i].name) == 0)
            fn = commands[i].fn;
    if (!fn || !fn(root, h, out, cap, &n))
        n = put_reply(reply_bad_request, out, cap);
    cJSON_Delete(root);
    return n;
}

/* ---- the bureau GET ---------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    sync_server *s = ud;
    size_t n = size * nmemb;
    size_t r = 0;                 /* anything but n aborts the transfer */
    if (n <= DLV_BODY_MAX - s->body_len) {
        memcpy(s->body + s->body_len, p, n);
        s->body_len += n;
        r = n;
    }
    return r;
}

/* The same safety options as delivery.c's set_options(), for a GET. */
static CURLcode set_get_options(sync_server *s, const char *url, struct curl_slist *hdrs)
{
    const kiosk_config *c = &s->cfg;
    long total_ms = (long)c->timeout_s * 1000;
    CURLcode rc;
    /* No answer after the kiosk has stopped listening. */
    if (c->status_timeout_ms > 0 && c->status_timeout_ms < total_ms)
        total_ms = c->status_timeout_ms;
    rc = dlv_secure_options(s->h, c, total_ms);
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(s->h, opt, val); } while (0)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_HTTPGET, 1L);
    SET(CURLOPT_ERRORBUFFER, s->errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, s);
    SET(CURLOPT_HTTPHEADER, hdrs);
#undef SET
    return rc;
}

/* The card_status handler over the bureau. `card` is already validated. */
static size_t ask_bureau(void *ctx, const char *card, char *out, size_t cap)
{
    sync_server *s = ctx;
    struct curl_slist *hdrs = NULL, *t;
    char url[sizeof s->url_base + 64], masked[MASK_CARD_MAX];
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    long http = 0;
    size_t n;
    const char *const lines[] = { "Accept: application/json", s->tid_header };

    s->body_len = 0;
    s->errbuf[0] = '\0';
    snprintf(url, sizeof url, "%s/v1/cards/%s/status", s->url_base, card);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        if (!(t = curl_slist_append(hdrs, lines[i])))
            goto out;
        hdrs = t;
    }
    rc = set_get_options(s, url, hdrs);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(s->h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &http);
out:
    n = sync_server_from_bureau(http, s->body, s->body_len, out, cap);
    {
        char detail[DLV_DETAIL_MAX] = "";
        if (rc != CURLE_OK)
            snprintf(detail, sizeof detail, "curl %d: %.100s", (int)rc,
                     s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
        else if (http != 200 && http != 404)
            snprintf(detail, sizeof detail, "http %ld to a card-status question", http);
        for (char *p = detail; *p; p++)
            *p = *p < 0x20 || *p > 0x7e ? '?' : *p;
        sync_server_note_bureau(s, http != 0, detail);
    }
    mask_card(card, masked);
    log_info(WHERE, "card %s: http %ld, curl %d%s%s -> %s", masked, http, (int)rc,
             s->errbuf[0] ? ": " : "", s->errbuf,
             strncmp(out, "{\"ok\":true", 10) == 0 ? "answered" : "unreachable");
    curl_slist_free_all(hdrs);
    return n;
}

void sync_server_note_bureau(sync_server *s, bool answered, const char *error)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->bureau_mu);
    s->bureau = answered ? SYNC_BUREAU_REACHABLE : SYNC_BUREAU_UNREACHABLE;
    if (error && error[0])
        snprintf(s->last_error, sizeof s->last_error, "%s", error);
    pthread_mutex_unlock(&s->bureau_mu);
}

void sync_server_note_error(sync_server *s, const char *error)
{
    if (s == NULL || !error || !error[0])
        return;
    pthread_mutex_lock(&s->bureau_mu);
    snprintf(s->last_error, sizeof s->last_error, "%s", error);
    pthread_mutex_unlock(&s->bureau_mu);
}

void sync_server_note_unmovable(sync_server *s, long n)
{
    if (s)
        atomic_store(&s->unmovable, n);
}

static size_t answer_status(void *ctx, char *out, size_t cap)
{
    sync_server *s = ctx;
    char err[DLV_DETAIL_MAX];
    int bureau;
    pthread_mutex_lock(&s->bureau_mu);
    bureau = s->bureau;
    memcpy(err, s->last_error, sizeof err);
    pthread_mutex_unlock(&s->bureau_mu);
    return sync_server_status_reply(bureau, err, atomic_load(&s->unmovable), out, cap);
}

static void note_reader(void *ctx, const char *state)
{
    sync_server *s = ctx;
    int idx = -1;
    for (size_t i = 0; idx < 0 && i < sizeof reader_words / sizeof reader_words[0]; i++)
        if (strcmp(state, reader_words[i]) == 0)
            idx = (int)i;
    if (atomic_exchange(&s->reader, idx) != idx)
        log_info(WHERE, "the kiosk reports its reader %s", state);
}

const char *sync_server_reader(sync_server *s)
{
    int idx = s ? atomic_load(&s->reader) : -1;
    return idx >= 0 ? reader_words[idx] : "unknown";
}

/* ---- the socket -------------------------------------------------------- */

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads one line (without its newline) into `buf` within READ_TIMEOUT_MS;
 * its length, or -1 for a client that sent none, too much, or went away. */
static long read_line(int fd, int stop_fd, char *buf, size_t cap)
{
    size_t len = 0;
    long deadline = now_ms() + READ_TIMEOUT_MS, result = -1;
    for (;;) {
        long left = deadline - now_ms();
        struct pollfd p[2] = { { fd, POLLIN, 0 }, { stop_fd, POLLIN, 0 } };
        if (left <= 0 || poll(p, 2, (int)left) <= 0 || p[1].revents)
            break;
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            break;
        char *nl = memchr(buf + len, '\n', (size_t)r);
        len += (size_t)r;
        if (nl) {
            result = nl - buf;
            break;
        }
        if (len == cap)
            break;
    }
    return result;
}

static void serve_one(sync_server *s, int fd)
{
    static char line[SYNC_SERVER_LINE_MAX + 2], reply[SYNC_SERVER_LINE_MAX + 2];
    long n = read_line(fd, s->stop_fd, line, sizeof line);
    size_t rn, off = 0;
    const sync_server_handlers handlers = { ask_bureau, note_reader, answer_status, s };
    if (n < 0) {
        log_warn(WHERE, "a client sent no usable request line");
        rn = put_reply(reply_bad_request, reply, sizeof reply);
    } else {
        rn = sync_server_reply(line, (size_t)n, &handlers, reply, sizeof reply);
    }
    while (off < rn) {
        ssize_t w = send(fd, reply + off, rn - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            log_warn(WHERE, "could not answer a client: %s", w < 0 ? strerror(errno) : "closed");
            break;
        }
        off += (size_t)w;
    }
}

static void *server_thread(void *arg)
{
    sync_server *s = arg;
    bool run = true;
    while (run) {
        struct pollfd p[2] = { { s->listen_fd, POLLIN, 0 }, { s->stop_fd, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0) {
            run = errno == EINTR;
            if (!run)
                log_err(WHERE, "poll: %s", strerror(errno));
            continue;
        }
        if (p[1].revents) {
            run = false;
            continue;
        }
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue; /* EAGAIN, a client gone before accept, ... */
        struct timeval tv = { WRITE_TIMEOUT_S, 0 };
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        serve_one(s, fd);
        close(fd);
    }
    return NULL;
}

/* Removes a socket left by a crashed kiosk-sync; refuses anything else, and
 * a socket some live server still answers on. */
static const char *clear_stale(const char *path)
{
    struct stat st;
    const char *why = NULL;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? NULL : "cannot stat the socket path";
    if (!S_ISSOCK(st.st_mode))
        return "something that is not a socket is at the socket path";
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
        why = "another server is listening on the socket path";
    else if (unlink(path) != 0)
        why = "cannot remove the stale socket";
    if (fd >= 0)
        close(fd);
    return why;
}

sync_server *sync_server_start(const kiosk_config *c, char *err, size_t errlen)
{
    sync_server *s = calloc(1, sizeof *s);
    const char *why = NULL;
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    char dummy[1];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!s) {
        why = "out of memory";
        goto out;
    }
    s->listen_fd = s->stop_fd = -1;
    atomic_init(&s->reader, -1);
    atomic_init(&s->unmovable, 0);
    pthread_mutex_init(&s->bureau_mu, NULL);
    errno = 0; /* only a failing call below may set it, for the message */
    s->cfg = *c;
    size_t ul = strlen(c->bureau_url);
    while (ul > 0 && c->bureau_url[ul - 1] == '/')
        ul--;
    snprintf(s->url_base, sizeof s->url_base, "%.*s", (int)ul, c->bureau_url);
    snprintf(s->tid_header, sizeof s->tid_header, "X-Terminal-Id: %s", c->terminal_id);
    if (!c->sync_socket[0] || strlen(c->sync_socket) >= sizeof a.sun_path) {
        why = "[sync] socket is empty or too long";
        goto out;
    }
    snprintf(a.sun_path, sizeof a.sun_path, "%s", c->sync_socket);
    if ((why = clear_stale(c->sync_socket)))
        goto out;
    if (!(s->h = curl_easy_init())) {
        why = "curl_easy_init failed";
        goto out;
    }
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    s->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (s->listen_fd < 0 || s->stop_fd < 0) {
        why = "cannot create the socket";
        goto out;
    }
    /* The socket is born 0660: the kiosk, another user in the socket's
     * group, connects; no window in which anyone else may. */
    mode_t old = umask(0117);
    int b = bind(s->listen_fd, (struct sockaddr *)&a, sizeof a);
    umask(old);
    if (b != 0) {
        why = "cannot bind the socket";
        goto out;
    }
    s->socket_made = true;
    if (listen(s->listen_fd, 8) != 0) {
        why = "cannot listen on the socket";
        goto out;
    }
    if (pthread_create(&s->thread, NULL, server_thread, s) != 0) {
        why = "cannot start the server thread";
        goto out;
    }
    s->thread_started = true;
    log_info(WHERE, "listening on %s", c->sync_socket);
out:
    if (why) {
        snprintf(err, errlen, "%s: %s%s%s", c->sync_socket, why, errno ? ": " : "",
                 errno ? strerror(errno) : "");
        sync_server_stop(s);
        s = NULL;
    }
    return s;
}

void sync_server_stop(sync_server *s)
{
    if (!s)
        return;
    if (s->thread_started) {
        uint64_t one = 1;
        if (write(s->stop_fd, &one, sizeof one) != (ssize_t)sizeof one)
            log_err(WHERE, "cannot wake the server thread: %s", strerror(errno));
        pthread_join(s->thread, NULL);
    }
    if (s->socket_made)
        unlink(s->cfg.sync_socket);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    if (s->h)
        curl_easy_cleanup(s->h);
    pthread_mutex_destroy(&s->bureau_mu);
    free(s);
}
