/* sync_server_int.h - what the sync server's three files share; private to
 * src/syncd.
 *
 *   sync_server_reply.c  request lines -> replies (pure: parsing, the
 *                        command table, the bureau's answer as a reply)
 *   sync_server_reset.c  PIN resets: the kiosk's arguments checked, the
 *                        bureau's answers as replies (pure)
 *   sync_server_ask.c    the bureau calls (card-status GETs, reset POSTs),
 *                        many at once on one curl multi handle; what
 *                        kiosk-sync last heard from the bureau, the reader
 *                        the kiosk reports
 *   sync_server.c        the socket: start/stop, client slots, the poll loop
 *
 * Everything in sync_client and the multi handle belongs to the server
 * thread; the fields under bureau_mu, and `reader`, may be touched by any.
 */
#ifndef SYNCD_SYNC_SERVER_INT_H
#define SYNCD_SYNC_SERVER_INT_H

#include "syncd/sync_server.h"

#include "syncd/delivery.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* Clients at once. More than the kiosk ever needs (it asks one question at
 * a time, and reports its reader): the rest is room for other local
 * clients, and when it is full the one that has said nothing for longest
 * goes, so a new question always gets in. */
#define SYNC_CLIENTS_MAX 32
#define SYNC_CARD_MAX 15

/* Which bureau call a client waits on. */
typedef enum { SA_CARD_STATUS, SA_RESET_REQUEST, SA_RESET_AUTHORIZE } sync_ask_kind;

/* A POST body: {"terminal_id":...} (the id escaped, at most 6 bytes each)
 * or {"sms_code":"NNNNNN","card_challenge":"<16 hex>"}. */
#define SYNC_POST_BODY_MAX (6 * sizeof ((kiosk_config *)0)->terminal_id + 64)

typedef enum {
    SC_FREE,     /* no client */
    SC_READING,  /* its request line is not in yet */
    SC_ASKING,   /* its bureau call is under way */
    SC_WRITING,  /* its reply is going out */
} sync_client_state;

typedef struct sync_client {
    int fd;
    sync_client_state state;
    long long since_ms;                    /* accepted at */
    long long deadline_ms;                 /* READING: line in by then; WRITING: reply out */
    char in[SYNC_SERVER_LINE_MAX + 2];
    size_t in_len;
    char out[SYNC_SERVER_LINE_MAX + 2];
    size_t out_len, out_off;
    /* SC_ASKING */
    CURL *easy;
    struct curl_slist *hdrs;
    dlv_answer answer;                     /* its data malloc'd for the GET */
    char errbuf[CURL_ERROR_SIZE];
    char card[SYNC_CARD_MAX + 1];          /* card status, reset request; for the log */
    sync_ask_kind kind;
    char reset_id[SYNC_RESET_ID_MAX + 1];  /* reset authorize; for the log */
    /* The POST body, ours (CURLOPT_POSTFIELDS, not a copy curl keeps): an
     * authorize's holds the SMS code, so it is wiped when the call ends. */
    char body[SYNC_POST_BODY_MAX];
    size_t body_len;
    bool retry_after_seen;                 /* this answer carried Retry-After */
} sync_client;

struct sync_server {
    kiosk_config cfg;              /* a copy: plain data */
    int listen_fd;
    int stop_fd;                   /* eventfd: written once by sync_server_stop */
    pthread_t thread;
    bool thread_started;
    bool socket_made;              /* ours to unlink */
    CURLM *multi;                  /* the card-status GETs; server thread only */
    char url_base[sizeof ((kiosk_config *)0)->bureau_url];
    char tid_header[sizeof ((kiosk_config *)0)->terminal_id + 32];
    sync_client *current;          /* the client whose line is being answered */
    sync_client clients[SYNC_CLIENTS_MAX];
    atomic_int reader;             /* index in sync_reader_words, -1 before any report */
    atomic_long unmovable;         /* dead letters kiosk-sync could not move */
    pthread_mutex_t bureau_mu;     /* guards the two below; any thread notes */
    int bureau;                    /* SYNC_BUREAU_* */
    char last_error[DLV_DETAIL_MAX];
};

extern const char *const sync_reader_words[2];

/* The short replies every file may need, with their '\n'. */
extern const char sync_reply_unreachable[];
extern const char sync_reply_bad_request[];

/* Copies `line` into `out` if it fits, else the short unreachable reply;
 * its length. */
size_t sync_put_reply(const char *line, char *out, size_t cap);

/* The handlers of a real server (sync_server_ask.c): card_status starts a
 * GET for s->current and answers later (0), or at once if it cannot. */
sync_server_handlers sync_ask_handlers(sync_server *s);

/* Runs the GETs under way and turns each finished one into its client's
 * reply (state SC_WRITING). */
void sync_ask_progress(sync_server *s);

/* Ends `c`'s GET, if any, and frees what it held. */
void sync_ask_cancel(sync_server *s, sync_client *c);

/* A client whose reply is ready is set to write it (sync_server.c). */
void sync_client_reply_ready(sync_client *c, size_t len);

#endif
