/* ctl_server_int.h - what the control server's two files share; private to
 * src/control.
 *
 *   ctl_server.c         client slots and their output buffers, the
 *                        any-thread functions that queue replies, start/stop
 *   ctl_server_thread.c  the server thread: accept, read lines, hand them to
 *                        on_request, write out what was queued
 *
 * The field comments of ctl_client say which thread may touch what, and
 * whether mu must be held.
 */
#ifndef CONTROL_CTL_SERVER_INT_H
#define CONTROL_CTL_SERVER_INT_H

#include "control/ctl_server.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

typedef struct ctl_client {
    int fd;             /* -1: free slot. Written only by the server thread, under mu. */
    uint64_t id;        /* 0 for a free slot; same rules as fd */
    bool read_eof;      /* server thread only: the peer shut its writing side */
    char *in;           /* server thread only; wiped before it is freed */
    size_t in_len, in_cap;
    /* Under mu: */
    unsigned in_flight;     /* requests handed to on_request, not yet answered */
    long long active_ms;    /* monotonic ms of its last request, reply or connect */
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

/* Defined in ctl_server.c; mu held. */
void ctl_client_drop_locked(ctl_client *c);
void ctl_client_queue_locked(ctl_client *c, const char *data, size_t n);
void ctl_client_flush_locked(ctl_client *c);

/* The client may have another request handed on now (mu held). */
bool ctl_client_may_take_locked(const ctl_client *c);
long long ctl_now_ms(void);

/* The server thread's body (ctl_server_thread.c); arg is the ctl_server. */
void *ctl_server_main(void *arg);

#endif
