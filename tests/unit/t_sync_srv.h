/* t_sync_srv.h - a kiosk-sync stand-in on a thread of the test's own, for
 * the sync client's unit tests (test_sync_client.c, test_sync_reset.c):
 * it reads one request line per connection, keeps it in srv.got, and sends
 * whatever raw bytes the test set (or nothing, holding the connection). */
#ifndef T_SYNC_SRV_H
#define T_SYNC_SRV_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static inline long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---- a kiosk-sync stand-in on its own thread ------------------------------ */

typedef struct {
    char dir[64];
    char path[100];
    int lfd;
    pthread_t th;
    atomic_bool stop;
    pthread_mutex_t mu;
    char *reply;        /* raw bytes sent after reading a line; NULL: never answer */
    size_t reply_len;
    int delay_ms;
    char got[512];      /* the last request line */
    int accepted;
} t_srv;

static t_srv srv = { .mu = PTHREAD_MUTEX_INITIALIZER };

static inline void srv_set(const char *reply, size_t len, int delay_ms)
{
    pthread_mutex_lock(&srv.mu);
    free(srv.reply);
    srv.reply = NULL;
    if (reply) {
        srv.reply = malloc(len ? len : 1);
        memcpy(srv.reply, reply, len);
    }
    srv.reply_len = len;
    srv.delay_ms = delay_ms;
    pthread_mutex_unlock(&srv.mu);
}

static inline void srv_reply(const char *reply)
{
    srv_set(reply, strlen(reply), 0);
}

static inline int srv_accepted(void)
{
    int n;
    pthread_mutex_lock(&srv.mu);
    n = srv.accepted;
    pthread_mutex_unlock(&srv.mu);
    return n;
}

/* Waits for fd to be readable, giving up when the test stops the server. */
static inline bool srv_wait(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    while (!atomic_load(&srv.stop)) {
        if (poll(&p, 1, 20) > 0)
            return true;
    }
    return false;
}

static inline void *srv_main(void *arg)
{
    (void)arg;
    while (srv_wait(srv.lfd)) {
        char line[512];
        size_t n = 0;
        char *reply = NULL;
        size_t reply_len = 0;
        int delay;
        int fd = accept(srv.lfd, NULL, NULL);

        if (fd < 0)
            continue;
        pthread_mutex_lock(&srv.mu);
        srv.accepted++;
        pthread_mutex_unlock(&srv.mu);
        while (n < sizeof line - 1 && srv_wait(fd)) {
            ssize_t r = recv(fd, line + n, 1, 0);
            if (r <= 0 || line[n] == '\n')
                break;
            n++;
        }
        line[n] = '\0';
        pthread_mutex_lock(&srv.mu);
        snprintf(srv.got, sizeof srv.got, "%s", line);
        if (srv.reply) {
            reply = malloc(srv.reply_len ? srv.reply_len : 1);
            memcpy(reply, srv.reply, srv.reply_len);
            reply_len = srv.reply_len;
        }
        delay = srv.delay_ms;
        pthread_mutex_unlock(&srv.mu);
        if (reply) {
            sleep_ms(delay);
            if (reply_len)
                send(fd, reply, reply_len, MSG_NOSIGNAL);
            free(reply);
        } else {
            /* Never answer: hold the connection until the test ends it. */
            struct pollfd p = { .fd = fd, .events = POLLIN };
            char sink[64];
            while (!atomic_load(&srv.stop)) {
                if (poll(&p, 1, 20) > 0 && recv(fd, sink, sizeof sink, 0) <= 0)
                    break;
            }
        }
        close(fd);
    }
    return NULL;
}

static inline void srv_start(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    snprintf(srv.dir, sizeof srv.dir, "/tmp/sync-test.XXXXXX");
    if (mkdtemp(srv.dir) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
    snprintf(srv.path, sizeof srv.path, "%s/sync.sock", srv.dir);
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", srv.path);
    srv.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (srv.lfd < 0 || bind(srv.lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(srv.lfd, 16) < 0) {
        perror("test server");
        exit(2);
    }
    atomic_store(&srv.stop, false);
    srv.accepted = 0;
    srv.got[0] = '\0';
    pthread_create(&srv.th, NULL, srv_main, NULL);
}

static inline void srv_stop(void)
{
    atomic_store(&srv.stop, true);
    pthread_join(srv.th, NULL);
    close(srv.lfd);
    unlink(srv.path);
    rmdir(srv.dir);
    srv_set(NULL, 0, 0);
}

#endif
