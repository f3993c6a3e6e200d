/* sync_int.h - what the sync client's two files share; private to src/sync.
 *
 *   sync_client.c  the worker thread, its queue and the public functions
 *                  (the UI's questions in, answers out through post())
 *   sync_wire.c    one exchange on kiosk-sync's socket and reading its
 *                  reply (a request out, a checked result back)
 *   sync_reset.c   a PIN reset's questions: the request lines (the code's
 *                  built in the secrets arena) and their replies checked
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
#include <stdint.h>
#include <sys/un.h>
#include <time.h>

typedef enum { SQ_CARD, SQ_RESET_REQUEST, SQ_RESET_AUTHORIZE } sync_question_kind;

/* A question waiting, and the copy the worker takes of it. It holds no
 * secret: an authorize's SMS code waits in secrets->codes[slot]. */
typedef struct {
    sync_question_kind kind;
    unsigned gen;
    char card[SYNC_CARD_MAX + 1];       /* SQ_CARD, SQ_RESET_REQUEST */
    long long deadline_ms;
    char reset_id[SYNC_RESET_ID_MAX];   /* SQ_RESET_AUTHORIZE */
    uint8_t challenge[SYNC_CHALLENGE_LEN];
    size_t slot;                        /* its ring position when asked */
} sync_question;

/* An authorize's request line: {"cmd":"reset_authorize","reset_id":"<63>",
 * "sms_code":"<6>","card_challenge":"<16>"} and its newline. */
#define SYNC_RESET_LINE_MAX 192

/* What is secret in the client, in the secrets arena when there is one
 * (util/secmem.h), taken once at start; wiped when used and at stop. */
typedef struct {
    char codes[SYNC_QUEUE_MAX][SYNC_SMS_CODE_LEN + 1]; /* under mu: by ring slot */
    char line[SYNC_RESET_LINE_MAX]; /* the worker's: the line being sent */
    size_t line_len;
} sync_secrets;

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
    sync_reset_fn reset_fn;                 /* under mu: set once, before resets */
    void *reset_ud;
    sync_secrets *secrets;                  /* arena, or calloc when there is none */
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
/* Connects, sends `req` (`req_len` bytes, with its newline) and reads one
 * reply line into `buf` (SYNC_REPLY_MAX + 1 bytes) before `deadline`; its
 * length, newline excluded, in *line_len. `wipe` (NULL: none) is wiped,
 * req_len bytes, as soon as the line is sent, and on every other path: it
 * is `req` when the line holds a secret. The reason it failed, or NULL. */
const char *sync_wire_exchange(const sync_client *c, const char *req, size_t req_len,
                               long long deadline, char *buf, size_t *line_len, char *wipe);

/* Defined in sync_reset.c. */
bool sync_reset_id_valid(const char *id);
bool sync_sms_code_valid(const char *code);
/* Builds q's authorize line in c->secrets->line from the code in its slot,
 * then wipes that slot (both whatever happens). Under mu. `build` false:
 * only the wipe (the question will not be sent). */
void sync_reset_take_code(sync_client *c, const sync_question *q, bool build);
/* One reset question (the line for an authorize already built): the
 * exchange and its reply read into r; the line wiped right after sending.
 * The reason it is UNREACHABLE, or NULL. */
const char *sync_reset_ask(sync_client *c, const sync_question *q, sync_reset_result *r);
/* Wipes the authorize line whatever became of it: the question may have
 * run out of time between the line being built and being sent. */
void sync_reset_drop_line(sync_client *c);

#endif
