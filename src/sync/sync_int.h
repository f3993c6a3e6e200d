/* sync_int.h - what the sync client's two files share; private to src/sync.
 *
 *   sync_client.c  the worker thread, its queue and the public functions
 *                  (the UI's questions in, answers out through post())
 *   sync_wire.c    one exchange on kiosk-sync's socket and reading its
 *                  reply (a request out, a checked result back)
 *
 * sync_wire.c runs on the worker thread only and reads just what is set
 * before the thread starts (path, timeout_ms, wake_fd), so it takes no lock.
 */
#ifndef SYNC_SYNC_INT_H
#define SYNC_SYNC_INT_H

#include "sync/sync_client.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>
#include <time.h>

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

static inline long long sync_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Defined in sync_wire.c; the worker thread's only way to the socket. */
const char *sync_wire_ask_card(const sync_client *c, const sync_question *q, const char *masked,
                               sync_result *r);
void sync_wire_ask_bureau_status(const sync_client *c, sync_bureau_info *info);
bool sync_wire_report_reader(const sync_client *c, const char *word);

#endif
