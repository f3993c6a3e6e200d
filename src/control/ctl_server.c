#include "control/ctl_server.h"
#include "util/text.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/secure.h"

#define CTL_IN_INITIAL 1024
#define CTL_ACCEPT_BURST 16
#define CTL_ACCEPT_PAUSE_MS 100 /* after EMFILE, so poll does not spin on the listener */
#define CTL_BACKLOG 16

static const char ctl_too_many[] = "{\"ok\":false,\"error\":\"too_many_clients\"}\n";

typedef struct ctl_client {
    int fd;             /* -1: free slot. Written only by the server thread, under mu. */
    uint64_t id;        /* 0 for a free slot; same rules as fd */
    bool read_eof;      /* server thread only: the peer shut its writing side */
    char *in;           /* server thread only; wiped before it is freed */
    size_t in_len, in_cap;
    /* Under mu: */
    bool subscribed;
    bool dead;          /* output overflowed or failed: dropped at the next turn */
    char *out;
    size_t out_off, out_len, out_cap;
} ctl_client;

struct ctl_server {
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    dev_t dev;
    ino_t ino;
    int listen_fd, wake_fd;
    ctl_server_on_request on_request;
    void *ud;
    pthread_t thread;
    bool thread_started;
    atomic_bool stopping;
    pthread_mutex_t mu;
    uint64_t next_id;   /* server thread only */
    ctl_client clients[CTL_SERVER_MAX_CLIENTS];
};

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wake(ctl_server *s)
{
    uint64_t one = 1;

    /* EAGAIN means the counter is already non-zero: the thread will wake. */
    if (write(s->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_warn("control", "wake: %s", strerror(errno));
}

/* ---- client slots (mu held) ----------------------------------------------- */

static void client_drop_locked(ctl_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    if (c->in) {
        secure_wipe(c->in, c->in_cap);
        free(c->in);
    }
    free(c->out);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

static ctl_client *client_find_locked(ctl_server *s, uint64_t id)
{
    if (id == 0)
        return NULL;
    for (size_t i = 0; i < CTL_SERVER_MAX_CLIENTS; i++)
        if (s->clients[i].id == id && s->clients[i].fd >= 0)
            return &s->clients[i];
    return NULL;
}

/* Appends n bytes to c's output; a client whose backlog would pass the cap is
   marked dead (it is not reading, and memory is not ours to give away). */
static void client_queue_locked(ctl_client *c, const char *data, size_t n)
{
    size_t pending;
    char *grown;
    size_t cap;

    if (c->dead || c->fd < 0 || n == 0)
        return;
    pending = c->out_len - c->out_off;
    if (n > CTL_SERVER_MAX_OUT || pending > CTL_SERVER_MAX_OUT - n) {
        log_warn("control", "client %llu does not read its replies; dropping it",
                 (unsigned long long)c->id);
        c->dead = true;
        return;
    }
    if (c->out_off > 0) {
        memmove(c->out, c->out + c->out_off, pending);
        c->out_off = 0;
        c->out_len = pending;
    }
    if (c->out_len + n > c->out_cap) {
        cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + n)
            cap *= 2;
        grown = realloc(c->out, cap);
        if (grown == NULL) {
            c->dead = true;
            return;
        }
        c->out = grown;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, n);
    c->out_len += n;
}

static void client_flush_locked(ctl_client *c)
{
    ssize_t n;

    while (!c->dead && c->out_off < c->out_len) {
        n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->out_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        } else {
            c->dead = true; /* EPIPE, ECONNRESET: the peer is gone */
        }
    }
    if (c->out_off == c->out_len) {
        c->out_off = c->out_len = 0;
        /* A burst (a big layout) should not pin its buffer for the life of
           the connection. */
        if (c->out_cap > 65536) {
            free(c->out);
            c->out = NULL;
            c->out_cap = 0;
        }
    }
}

/* ---- public, any thread ----------------------------------------------- */

void ctl_server_send(ctl_server *s, uint64_t client, const char *line)
{
    ctl_client *c;

    if (s == NULL || line == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    c = client_find_locked(s, client);
    if (c)
        client_queue_locked(c, line, strlen(line));
    pthread_mutex_unlock(&s->mu);
    if (c)
        wake(s);
}

void ctl_server_broadcast_subscribed(ctl_server *s, const char *line)
{
    size_t n;
    bool any = false;

    if (s == NULL || line == NULL)
        return;
    n = strlen(line);
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < CTL_SERVER_MAX_CLIENTS; i++) {
        ctl_client *c = &s->clients[i];
        if (c->fd >= 0 && c->subscribed) {
            client_queue_locked(c, line, n);
            any = true;
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (any)
        wake(s);
}

bool ctl_server_has_client(ctl_server *s, uint64_t client)
{
    bool found;

    if (s == NULL)
        return false;
    pthread_mutex_lock(&s->mu);
    found = client_find_locked(s, client) != NULL;
    pthread_mutex_unlock(&s->mu);
    return found;
}

void ctl_server_mark_subscribed(ctl_server *s, uint64_t client)
{
    ctl_client *c;

    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    c = client_find_locked(s, client);
    if (c)
        c->subscribed = true;
    pthread_mutex_unlock(&s->mu);
}

/* ---- the server thread ------------------------------------------------- */

/* Server thread only: no wake needed, the loop rebuilds its poll set next. */
static void queue_reply(ctl_server *s, ctl_client *c, const char *line)
{
    pthread_mutex_lock(&s->mu);
    client_queue_locked(c, line, strlen(line));
    pthread_mutex_unlock(&s->mu);
}

static void handle_line(ctl_server *s, ctl_client *c, const char *line, size_t len)
{
    ctl_request *req = calloc(1, sizeof *req);
    const char *code = NULL;
    char msg[160];
    char *reply = NULL;

    if (req == NULL) {
        reply = ctl_reply_error(NULL, "internal_error", "out of memory");
        goto out;
    }
    if (ctl_parse(line, len, req, &code, msg, sizeof msg)) {
        /* Ownership of req passes to the callback. */
        s->on_request(s->ud, c->id, req);
        req = NULL;
        goto out;
    }
    reply = ctl_reply_error(req->id_json, code, msg);

out:
    if (reply) {
        queue_reply(s, c, reply);
        free(reply);
    }
    if (req) {
        ctl_request_clear(req);
        free(req);
    }
}

/* Grows the input buffer up to one maximal line and its newline. The old
   buffer may hold part of a PIN, so it is wiped rather than realloc'd. */
static bool client_grow_in(ctl_client *c)
{
    size_t cap = c->in_cap ? c->in_cap * 2 : CTL_IN_INITIAL;
    char *grown;

    if (cap > CTL_SERVER_MAX_LINE + 1)
        cap = CTL_SERVER_MAX_LINE + 1;
    grown = malloc(cap);
    if (grown == NULL)
        return false;
    if (c->in) {
        memcpy(grown, c->in, c->in_len);
        secure_wipe(c->in, c->in_cap);
        free(c->in);
    }
    c->in = grown;
    c->in_cap = cap;
    return true;
}

static void client_too_long(ctl_server *s, ctl_client *c)
{
    char *reply = ctl_reply_error(NULL, "line_too_long", "a line may be at most 65536 bytes");

    log_warn("control", "client %llu sent a line over %d bytes; closing it",
             (unsigned long long)c->id, CTL_SERVER_MAX_LINE);
    pthread_mutex_lock(&s->mu);
    if (reply)
        client_queue_locked(c, reply, strlen(reply));
    /* Best effort: one try to write the error, then close. Waiting for a
       client that is still pushing its oversized line would let it hold us. */
    client_flush_locked(c);
    client_drop_locked(c);
    pthread_mutex_unlock(&s->mu);
    free(reply);
}

/* Reads what is there, runs every complete line, keeps the rest. Returns
   false when the client was dropped. */
static bool client_read(ctl_server *s, ctl_client *c)
{
    size_t start = 0, rest;
    ssize_t n;
    char *nl;

    if (c->in_len == c->in_cap && c->in_cap < CTL_SERVER_MAX_LINE + 1 && !client_grow_in(c))
        goto drop;
    n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return true;
    if (n < 0)
        goto drop;
    if (n == 0) {
        /* Half-closed: keep writing replies until the peer closes for good
           (POLLHUP). An unterminated fragment is not a request. */
        c->read_eof = true;
        secure_wipe(c->in, c->in_len);
        c->in_len = 0;
        return true;
    }
    c->in_len += (size_t)n;

    while ((nl = memchr(c->in + start, '\n', c->in_len - start)) != NULL) {
        size_t len = (size_t)(nl - (c->in + start));
        if (len > CTL_SERVER_MAX_LINE) {
            client_too_long(s, c);
            return false;
        }
        if (len > 0 && c->in[start + len - 1] == '\r')
            handle_line(s, c, c->in + start, len - 1);
        else
            handle_line(s, c, c->in + start, len);
        start += len + 1;
    }
    rest = c->in_len - start;
    if (rest > CTL_SERVER_MAX_LINE) {
        client_too_long(s, c);
        return false;
    }
    if (start > 0) {
        memmove(c->in, c->in + start, rest);
        secure_wipe(c->in + rest, c->in_len - rest);
        c->in_len = rest;
    }
    return true;

drop:
    pthread_mutex_lock(&s->mu);
    client_drop_locked(c);
    pthread_mutex_unlock(&s->mu);
    return false;
}

/* Returns false when accept ran out of descriptors (the caller pauses). */
static bool accept_clients(ctl_server *s)
{
    for (int i = 0; i < CTL_ACCEPT_BURST; i++) {
        ctl_client *slot = NULL;
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                log_warn("control", "accept: %s; pausing", strerror(errno));
                return false;
            }
            return true; /* EAGAIN and the rest: nothing more now */
        }
        pthread_mutex_lock(&s->mu);
        for (size_t k = 0; k < CTL_SERVER_MAX_CLIENTS && slot == NULL; k++)
            if (s->clients[k].fd < 0)
                slot = &s->clients[k];
        if (slot) {
            slot->fd = fd;
            slot->id = ++s->next_id;
        }
        pthread_mutex_unlock(&s->mu);
        if (slot == NULL) {
            log_warn("control", "more than %d clients; refusing one", CTL_SERVER_MAX_CLIENTS);
            if (send(fd, ctl_too_many, sizeof ctl_too_many - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                log_debug("control", "refusal not sent: %s", strerror(errno));
            close(fd);
        } else {
            log_debug("control", "client %llu connected", (unsigned long long)slot->id);
        }
    }
    return true;
}

static void *server_main(void *arg)
{
    ctl_server *s = arg;
    struct pollfd pfd[2 + CTL_SERVER_MAX_CLIENTS];
    size_t slot_of[CTL_SERVER_MAX_CLIENTS];
    uint64_t id_of[CTL_SERVER_MAX_CLIENTS];
    long long paused_until = 0;

    while (!atomic_load(&s->stopping)) {
        size_t nc = 0;
        int timeout = -1, rc;
        long long now = now_ms();

        pfd[0] = (struct pollfd){ .fd = s->wake_fd, .events = POLLIN };
        pfd[1] = (struct pollfd){ .fd = now < paused_until ? -1 : s->listen_fd, .events = POLLIN };
        if (now < paused_until)
            timeout = (int)(paused_until - now);

        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < CTL_SERVER_MAX_CLIENTS; i++) {
            ctl_client *c = &s->clients[i];
            if (c->fd < 0)
                continue;
            if (c->dead) {
                log_debug("control", "client %llu dropped", (unsigned long long)c->id);
                client_drop_locked(c);
                continue;
            }
            /* POLLHUP/POLLERR are always reported, even with no events. */
            pfd[2 + nc] = (struct pollfd){
                .fd = c->fd,
                .events = (short)((c->read_eof ? 0 : POLLIN) |
                                  (c->out_off < c->out_len ? POLLOUT : 0)),
            };
            slot_of[nc] = i;
            id_of[nc] = c->id;
            nc++;
        }
        pthread_mutex_unlock(&s->mu);

        rc = poll(pfd, 2 + nc, timeout);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            log_err("control", "poll: %s", strerror(errno));
            break;
        }
        if (pfd[0].revents & POLLIN) {
            uint64_t v;
            if (read(s->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
                log_warn("control", "wake read: %s", strerror(errno));
        }
        if (atomic_load(&s->stopping))
            break;
        if ((pfd[1].revents & POLLIN) && !accept_clients(s))
            paused_until = now_ms() + CTL_ACCEPT_PAUSE_MS;

        for (size_t k = 0; k < nc; k++) {
            ctl_client *c = &s->clients[slot_of[k]];
            short re = pfd[2 + k].revents;

            if (c->id != id_of[k] || c->fd < 0 || re == 0)
                continue;
            if ((re & (POLLIN | POLLERR)) && !c->read_eof && !client_read(s, c))
                continue;
            pthread_mutex_lock(&s->mu);
            if (c->fd >= 0 && (re & POLLOUT))
                client_flush_locked(c);
            /* Hang-up with nothing left to read: the peer has closed. */
            if (c->fd >= 0 && (re & (POLLHUP | POLLERR | POLLNVAL)) && (c->read_eof || !(re & POLLIN)))
                c->dead = true;
            pthread_mutex_unlock(&s->mu);
        }
    }
    return NULL;
}

/* ---- start and stop -------------------------------------------------- */

/* A socket file at path: replace it if nothing listens there any more. */
static bool clear_stale(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct stat st;
    bool ok = false;
    int fd = -1;

    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return true;
        text_errf(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    if (!S_ISSOCK(st.st_mode)) {
        text_errf(err, errlen, "%s exists and is not a socket", path);
        return false;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        text_errf(err, errlen, "socket: %s", strerror(errno));
        goto out;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        text_errf(err, errlen, "%s is in use by a running process", path);
        goto out;
    }
    if (errno != ECONNREFUSED) {
        text_errf(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        text_errf(err, errlen, "unlink %s: %s", path, strerror(errno));
        goto out;
    }
    log_info("control", "replaced a stale socket at %s", path);
    ok = true;
out:
    if (fd >= 0)
        close(fd);
    return ok;
}

ctl_server *ctl_server_start(const char *path, ctl_server_on_request on_request, void *ud,
                             char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    ctl_server *s = NULL;
    sigset_t all, old;
    struct stat st;
    bool bound = false, mu_ok = false;
    int rc;

    ctl_json_wipe_on_free();
    text_errf(err, errlen, "unknown error");
    if (path == NULL || path[0] == '\0' || on_request == NULL) {
        text_errf(err, errlen, "no socket path or no callback");
        return NULL;
    }
    if (strlen(path) >= sizeof sa.sun_path) {
        text_errf(err, errlen, "socket path longer than %zu bytes", sizeof sa.sun_path - 1);
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        text_errf(err, errlen, "out of memory");
        return NULL;
    }
    s->listen_fd = s->wake_fd = -1;
    for (size_t i = 0; i < CTL_SERVER_MAX_CLIENTS; i++)
        s->clients[i].fd = -1;
    memcpy(s->path, path, strlen(path) + 1);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    s->on_request = on_request;
    s->ud = ud;
    atomic_init(&s->stopping, false);

    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        text_errf(err, errlen, "mutex init failed");
        goto fail;
    }
    mu_ok = true;
    if (!clear_stale(path, err, errlen))
        goto fail;
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0) {
        text_errf(err, errlen, "socket: %s", strerror(errno));
        goto fail;
    }
    if (bind(s->listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        text_errf(err, errlen, "bind %s: %s", path, strerror(errno));
        goto fail;
    }
    bound = true;
    /* Nobody can connect before listen(), so tightening the mode here leaves
       no window; umask would be process-wide and race other threads. */
    if (chmod(path, 0600) < 0 || stat(path, &st) < 0) {
        text_errf(err, errlen, "chmod %s: %s", path, strerror(errno));
        goto fail;
    }
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    if (listen(s->listen_fd, CTL_BACKLOG) < 0) {
        text_errf(err, errlen, "listen %s: %s", path, strerror(errno));
        goto fail;
    }
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->wake_fd < 0) {
        text_errf(err, errlen, "eventfd: %s", strerror(errno));
        goto fail;
    }
    /* Signals belong to the main thread; the server thread must not take them. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&s->thread, NULL, server_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        text_errf(err, errlen, "pthread_create: %s", strerror(rc));
        goto fail;
    }
    s->thread_started = true;
    text_errf(err, errlen, "%s", "");
    log_info("control", "listening on %s", path);
    return s;

fail:
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (bound)
        unlink(path);
    if (mu_ok)
        pthread_mutex_destroy(&s->mu);
    free(s);
    return NULL;
}

void ctl_server_stop(ctl_server *s)
{
    struct stat st;

    if (s == NULL)
        return;
    atomic_store(&s->stopping, true);
    wake(s);
    if (s->thread_started)
        pthread_join(s->thread, NULL);
    pthread_mutex_lock(&s->mu);
    /* Replies already queued (the "ok" to a quit, above all) go out before
     * the connections close: non-blocking, so a client that stopped reading
     * cannot hold the exit up. */
    for (size_t i = 0; i < CTL_SERVER_MAX_CLIENTS; i++)
        if (s->clients[i].fd >= 0)
            client_flush_locked(&s->clients[i]);
    for (size_t i = 0; i < CTL_SERVER_MAX_CLIENTS; i++)
        if (s->clients[i].fd >= 0)
            client_drop_locked(&s->clients[i]);
    pthread_mutex_unlock(&s->mu);
    close(s->listen_fd);
    close(s->wake_fd);
    /* Another kiosk may have replaced the socket since; leave theirs alone. */
    if (stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
        unlink(s->path);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
