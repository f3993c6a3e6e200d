/* ctl_server.c - the control server's shared state: client slots and the
 * output each one has waiting, the functions any thread calls to queue a
 * reply or a broadcast (bytes in, the server thread woken to write them),
 * and start/stop. The thread itself is in ctl_server_thread.c.
 */
#include "control/ctl_server_int.h"
#include "util/text.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
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

#define CTL_BACKLOG 16

static void wake(ctl_server *s)
{
    uint64_t one = 1;

    /* EAGAIN means the counter is already non-zero: the thread will wake. */
    if (write(s->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_warn("control", "wake: %s", strerror(errno));
}

long long ctl_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- client slots (mu held) ----------------------------------------------- */

bool ctl_client_may_take_locked(const ctl_client *c)
{
    return !c->dead && c->in_flight < CTL_SERVER_MAX_IN_FLIGHT &&
           c->out_len - c->out_off < CTL_SERVER_OUT_PAUSE;
}

void ctl_client_drop_locked(ctl_client *c)
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
void ctl_client_queue_locked(ctl_client *c, const char *data, size_t n)
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

void ctl_client_flush_locked(ctl_client *c)
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
    if (c) {
        ctl_client_queue_locked(c, line, strlen(line));
        if (c->in_flight > 0)
            c->in_flight--;
        c->active_ms = ctl_now_ms();
    }
    pthread_mutex_unlock(&s->mu);
    /* Also to read on: the client may have lines waiting for this place. */
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
            ctl_client_queue_locked(c, line, n);
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
    rc = pthread_create(&s->thread, NULL, ctl_server_main, s);
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
            ctl_client_flush_locked(&s->clients[i]);
    for (size_t i = 0; i < CTL_SERVER_MAX_CLIENTS; i++)
        if (s->clients[i].fd >= 0)
            ctl_client_drop_locked(&s->clients[i]);
    pthread_mutex_unlock(&s->mu);
    close(s->listen_fd);
    close(s->wake_fd);
    /* Another kiosk may have replaced the socket since; leave theirs alone. */
    if (stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
        unlink(s->path);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
