/* sync_server.c - the sync socket: start and stop, the client slots and
 * the one poll loop that serves them all side by side (sync_server_int.h
 * says which file does what). */
#include "syncd/sync_server_int.h"

#include "util/log.h"
#include "util/secure.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define WHERE "sync_server"
#define READ_TIMEOUT_MS 2000   /* the kiosk sends its line at once; a silent client is dropped */
#define WRITE_TIMEOUT_MS 2000  /* a reply fits the socket buffer; a client that takes none goes */
#define IDLE_WAIT_MS 60000     /* nothing due: the loop sleeps until an event (curl's timers included) */
#define ACCEPT_PER_TURN 64     /* a flood of connections still leaves room to serve */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the clients --------------------------------------------------------- */

static void client_drop(sync_server *s, sync_client *c)
{
    sync_ask_cancel(s, c);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = SC_FREE;
    /* A line cut short may hold part of an SMS code. */
    secure_wipe(c->in, c->in_len);
    c->in_len = c->out_len = c->out_off = 0;
}

void sync_client_reply_ready(sync_client *c, size_t len)
{
    c->out_len = len;
    c->out_off = 0;
    c->state = SC_WRITING;
    c->deadline_ms = now_ms() + WRITE_TIMEOUT_MS;
}

/* Sends what it can of the reply; drops the client when it is all out or
 * the client is gone. */
static void client_write(sync_server *s, sync_client *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return; /* the loop waits for POLLOUT */
        if (w <= 0) {
            log_warn(WHERE, "could not answer a client: %s", w < 0 ? strerror(errno) : "closed");
            break;
        }
        c->out_off += (size_t)w;
    }
    client_drop(s, c); /* one request per connection */
}

/* Its line is in (`len` bytes, no newline), or it never will be (-1). */
static void client_answer(sync_server *s, sync_client *c, long len)
{
    size_t n;
    if (len < 0) {
        log_warn(WHERE, "a client sent no usable request line");
        n = sync_put_reply(sync_reply_bad_request, c->out, sizeof c->out);
    } else {
        const sync_server_handlers h = sync_ask_handlers(s);
        c->state = SC_ASKING;
        s->current = c;
        n = sync_server_reply(c->in, (size_t)len, &h, c->out, sizeof c->out);
        s->current = NULL;
    }
    /* The line is read: an authorize's SMS code must not wait here for the
     * bureau's answer (its only copy now is the POST body). */
    secure_wipe(c->in, c->in_len);
    c->in_len = 0;
    if (n > 0)
        sync_client_reply_ready(c, n);
    if (c->state == SC_WRITING)
        client_write(s, c);
}

/* Reads what has come; answers once a line is whole, or when the client
 * sent too much, went away, or broke the connection. */
static void client_read(sync_server *s, sync_client *c)
{
    for (;;) {
        ssize_t r = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0) {
            client_answer(s, c, -1);
            return;
        }
        char *nl = memchr(c->in + c->in_len, '\n', (size_t)r);
        c->in_len += (size_t)r;
        if (nl) {
            client_answer(s, c, nl - c->in);
            return;
        }
        if (c->in_len == sizeof c->in) {
            client_answer(s, c, -1);
            return;
        }
    }
}

/* A free slot; when none is, the client silent longest is dropped for it
 * (NULL if every client is waiting on the bureau or its reply). */
static sync_client *free_slot(sync_server *s)
{
    sync_client *oldest = NULL;
    for (size_t i = 0; i < SYNC_CLIENTS_MAX; i++) {
        sync_client *c = &s->clients[i];
        if (c->state == SC_FREE)
            return c;
        if (c->state == SC_READING && (!oldest || c->since_ms < oldest->since_ms))
            oldest = c;
    }
    if (oldest) {
        log_warn(WHERE, "%d clients at once: the one silent longest is dropped for a new one",
                 SYNC_CLIENTS_MAX);
        client_drop(s, oldest);
    }
    return oldest;
}

static bool room_for_one(const sync_server *s)
{
    for (size_t i = 0; i < SYNC_CLIENTS_MAX; i++)
        if (s->clients[i].state == SC_FREE || s->clients[i].state == SC_READING)
            return true;
    return false;
}

/* Takes the connections waiting, each read at once: the kiosk sends its
 * line as it connects, so its question is under way before anyone else
 * could push it out. */
static void accept_new(sync_server *s)
{
    for (int k = 0; k < ACCEPT_PER_TURN && room_for_one(s); k++) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            return; /* EAGAIN, a client gone before accept, ... */
        sync_client *c = free_slot(s);
        *c = (sync_client){ .fd = fd, .state = SC_READING, .since_ms = now_ms() };
        c->deadline_ms = c->since_ms + READ_TIMEOUT_MS;
        client_read(s, c);
    }
}

/* Clients past their deadline: a silent one gets bad_request, one that
 * will not take its reply is dropped. The wait until the next deadline. */
static int expire(sync_server *s)
{
    long long now = now_ms(), next = now + IDLE_WAIT_MS;
    for (size_t i = 0; i < SYNC_CLIENTS_MAX; i++) {
        sync_client *c = &s->clients[i];
        if ((c->state == SC_READING || c->state == SC_WRITING) && now >= c->deadline_ms) {
            if (c->state == SC_READING)
                client_answer(s, c, -1);
            else
                client_drop(s, c);
        }
        if ((c->state == SC_READING || c->state == SC_WRITING) && c->deadline_ms < next)
            next = c->deadline_ms;
    }
    return next > now ? (int)(next - now) : 0;
}

/* ---- the loop -------------------------------------------------------------- */

static void *server_thread(void *arg)
{
    sync_server *s = arg;
    struct curl_waitfd fds[2 + SYNC_CLIENTS_MAX];
    sync_client *of[2 + SYNC_CLIENTS_MAX];
    bool run = true;

    while (run) {
        int wait = expire(s);
        unsigned n = 0;
        fds[n++] = (struct curl_waitfd){ s->stop_fd, CURL_WAIT_POLLIN, 0 };
        if (room_for_one(s))
            fds[n++] = (struct curl_waitfd){ s->listen_fd, CURL_WAIT_POLLIN, 0 };
        for (size_t i = 0; i < SYNC_CLIENTS_MAX; i++) {
            sync_client *c = &s->clients[i];
            if (c->state == SC_READING || c->state == SC_WRITING) {
                of[n] = c;
                fds[n++] = (struct curl_waitfd){ c->fd,
                    (short)(c->state == SC_READING ? CURL_WAIT_POLLIN : CURL_WAIT_POLLOUT), 0 };
            }
        }
        /* curl adds the sockets of the GETs under way and shortens the wait
         * to its own timers. */
        if (curl_multi_poll(s->multi, fds, n, wait, NULL) != CURLM_OK) {
            log_err(WHERE, "curl_multi_poll failed");
            run = false;
            continue;
        }
        if (fds[0].revents) {
            run = false;
            continue;
        }
        sync_ask_progress(s);
        for (unsigned i = 1; i < n; i++) {
            if (!fds[i].revents)
                continue;
            if (fds[i].fd == s->listen_fd)
                accept_new(s);
            else if (of[i]->state == SC_READING && of[i]->fd == fds[i].fd)
                client_read(s, of[i]);
            else if (of[i]->state == SC_WRITING && of[i]->fd == fds[i].fd)
                client_write(s, of[i]);
        }
    }
    for (size_t i = 0; i < SYNC_CLIENTS_MAX; i++)
        if (s->clients[i].state != SC_FREE)
            client_drop(s, &s->clients[i]);
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
    for (size_t i = 0; i < SYNC_CLIENTS_MAX; i++)
        s->clients[i].fd = -1;
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
    if (!(s->multi = curl_multi_init())) {
        why = "curl_multi_init failed";
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
    /* A deep backlog: a burst of connections waits to be taken (and the
     * silent ones pushed out) instead of the kiosk's connect finding it full. */
    if (listen(s->listen_fd, SOMAXCONN) != 0) {
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
        /* Named as the loader names a bad value: the technician goes to
         * the line of [sync] socket. */
        config_errf(c, "sync", "socket", err, errlen, "%s: %s%s%s", c->sync_socket, why,
                    errno ? ": " : "", errno ? strerror(errno) : "");
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
    if (s->multi)
        curl_multi_cleanup(s->multi);
    pthread_mutex_destroy(&s->bureau_mu);
    free(s);
}
