/* ctl_server_thread.c - the control server's thread: it accepts clients,
 * reads their lines (wiping what held a PIN), hands each parsed request to
 * on_request and answers the ones that do not parse; then writes out what
 * any thread queued (ctl_server.c). Socket bytes in -> requests; queued
 * replies -> socket bytes out.
 */
#include "control/ctl_server_int.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/secure.h"

#define CTL_IN_INITIAL 1024
#define CTL_ACCEPT_BURST 16
#define CTL_ACCEPT_PAUSE_MS 100 /* after EMFILE, so poll does not spin on the listener */

static const char ctl_too_many[] = "{\"ok\":false,\"error\":\"too_many_clients\"}\n";

/* Server thread only: no wake needed, the loop rebuilds its poll set next. */
static void queue_reply(ctl_server *s, ctl_client *c, const char *line)
{
    pthread_mutex_lock(&s->mu);
    ctl_client_queue_locked(c, line, strlen(line));
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
        pthread_mutex_lock(&s->mu);
        c->in_flight++;
        c->active_ms = ctl_now_ms();
        pthread_mutex_unlock(&s->mu);
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
        ctl_client_queue_locked(c, reply, strlen(reply));
    /* Best effort: one try to write the error, then close. Waiting for a
       client that is still pushing its oversized line would let it hold us. */
    ctl_client_flush_locked(c);
    ctl_client_drop_locked(c);
    pthread_mutex_unlock(&s->mu);
    free(reply);
}

static bool client_may_take(ctl_server *s, const ctl_client *c)
{
    bool ok;

    pthread_mutex_lock(&s->mu);
    ok = ctl_client_may_take_locked(c);
    pthread_mutex_unlock(&s->mu);
    return ok;
}

/* Runs the complete lines in c's buffer while it may have more in flight,
   keeps the rest. Returns false when the client was dropped. */
static bool client_run_lines(ctl_server *s, ctl_client *c)
{
    size_t start = 0, rest;
    char *nl = NULL;

    while (c->in_len > start && client_may_take(s, c) &&
           (nl = memchr(c->in + start, '\n', c->in_len - start)) != NULL) {
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
    /* Too long only if no line ends in it: lines that wait for a place in
       flight may fill the buffer. */
    if (rest > CTL_SERVER_MAX_LINE && memchr(c->in + start, '\n', rest) == NULL) {
        client_too_long(s, c);
        return false;
    }
    if (start > 0) {
        memmove(c->in, c->in + start, rest);
        secure_wipe(c->in + rest, c->in_len - rest);
        c->in_len = rest;
    }
    return true;
}

/* Reads what is there, then runs the lines it may. Returns false when the
   client was dropped. */
static bool client_read(ctl_server *s, ctl_client *c)
{
    ssize_t n;

    if (c->in_len == c->in_cap && c->in_cap < CTL_SERVER_MAX_LINE + 1 && !client_grow_in(c))
        goto drop;
    if (c->in_len == c->in_cap)
        return client_run_lines(s, c); /* full of lines waiting their turn */
    n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return true;
    if (n < 0)
        goto drop;
    if (n == 0) {
        /* Half-closed: keep writing replies until the peer closes for good
           (POLLHUP). Its complete lines still count; an unterminated
           fragment is not a request. */
        c->read_eof = true;
        if (!client_run_lines(s, c))
            return false;
        if (memchr(c->in, '\n', c->in_len) == NULL) {
            secure_wipe(c->in, c->in_len);
            c->in_len = 0;
        }
        return true;
    }
    c->in_len += (size_t)n;
    return client_run_lines(s, c);

drop:
    pthread_mutex_lock(&s->mu);
    ctl_client_drop_locked(c);
    pthread_mutex_unlock(&s->mu);
    return false;
}

/* Every slot is taken: the client idle longest gives up its slot, if one
   has been idle long enough and owes and is owed nothing (mu held). */
static ctl_client *evict_idle_locked(ctl_server *s)
{
    long long now = ctl_now_ms();
    ctl_client *victim = NULL;

    for (size_t k = 0; k < CTL_SERVER_MAX_CLIENTS; k++) {
        ctl_client *c = &s->clients[k];
        if (c->fd < 0 || c->subscribed || c->in_flight > 0 || c->in_len > 0 ||
            c->out_off < c->out_len || now - c->active_ms < CTL_SERVER_IDLE_EVICT_MS)
            continue;
        if (victim == NULL || c->active_ms < victim->active_ms)
            victim = c;
    }
    if (victim) {
        log_notice("control", "client %llu silent for %lld ms; closed to make room for another",
                   (unsigned long long)victim->id, now - victim->active_ms);
        ctl_client_drop_locked(victim);
    }
    return victim;
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
        if (slot == NULL)
            slot = evict_idle_locked(s);
        if (slot) {
            slot->fd = fd;
            slot->id = ++s->next_id;
            slot->active_ms = ctl_now_ms();
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

void *ctl_server_main(void *arg)
{
    ctl_server *s = arg;
    struct pollfd pfd[2 + CTL_SERVER_MAX_CLIENTS];
    size_t slot_of[CTL_SERVER_MAX_CLIENTS];
    uint64_t id_of[CTL_SERVER_MAX_CLIENTS];
    long long paused_until = 0;

    while (!atomic_load(&s->stopping)) {
        size_t nc = 0;
        int timeout = -1, rc;
        long long now = ctl_now_ms();

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
                ctl_client_drop_locked(c);
                continue;
            }
            /* POLLHUP/POLLERR are always reported, even with no events. No
               POLLIN while it may not take more: its lines wait in the socket. */
            pfd[2 + nc] = (struct pollfd){
                .fd = c->fd,
                .events = (short)((c->read_eof || !ctl_client_may_take_locked(c) ? 0 : POLLIN) |
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
            paused_until = ctl_now_ms() + CTL_ACCEPT_PAUSE_MS;

        for (size_t k = 0; k < nc; k++) {
            ctl_client *c = &s->clients[slot_of[k]];
            short re = pfd[2 + k].revents;

            if (c->id != id_of[k] || c->fd < 0)
                continue;
            if ((re & (POLLIN | POLLERR)) && !c->read_eof && !client_read(s, c))
                continue;
            /* Lines that waited for a place in flight, whatever woke us (a
               reply that freed one may come with nothing else to read). */
            if (c->in_len > 0 && !client_run_lines(s, c))
                continue;
            if (re == 0)
                continue;
            pthread_mutex_lock(&s->mu);
            if (c->fd >= 0 && (re & POLLOUT))
                ctl_client_flush_locked(c);
            /* Hang-up with nothing left to read: the peer has closed. */
            if (c->fd >= 0 && (re & (POLLHUP | POLLERR | POLLNVAL)) && (c->read_eof || !(re & POLLIN)))
                c->dead = true;
            pthread_mutex_unlock(&s->mu);
        }
    }
    return NULL;
}
