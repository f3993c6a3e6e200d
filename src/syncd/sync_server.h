/* sync_server.h - kiosk-sync's side of the sync socket (docs/sync-protocol.md).
 *
 * The kiosk asks "what does the bureau say about this card?" over a UNIX
 * stream socket; this module answers each question with one
 * GET /v1/cards/{n}/status (bureau-api.md section 1) over the same mutual
 * TLS settings as delivery. It runs on a thread of its own so a slow bureau
 * never holds up the delivery of events, and each GET is bounded by the
 * kiosk's patience ([sync] status_timeout_ms) and [bureau] timeout_s,
 * whichever is shorter: an answer after the kiosk gave up helps nobody.
 *
 * Clients are served side by side (one poll loop; the GETs run together on
 * a curl multi handle): a client that connects and says nothing, or asks
 * about a card while the bureau is slow, never delays another. Each has
 * 2 s to send its line and 2 s to take its reply; at most 32 are kept, and
 * a newcomer when all are taken pushes out the one that has been silent
 * longest. So the kiosk's question is answered within its timeout whatever
 * other local clients do.
 *
 * One request per connection. Card numbers are validated (1..15 ASCII
 * letters and digits) before they go near a URL and are logged masked only.
 * No PIN ever passes here.
 */
#ifndef SYNCD_SYNC_SERVER_H
#define SYNCD_SYNC_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

#define SYNC_SERVER_LINE_MAX 4096u /* a request or reply line, newline excluded */

typedef struct sync_server sync_server;

/* Creates the socket at c->sync_socket (mode 0660, for the kiosk's group; a
 * stale socket left by a crash is removed, anything else at that path is refused), and starts the
 * serving thread. Copies what it needs from `c`; the caller keeps it.
 * Changes the process umask for the bind, so call it before other threads
 * exist. curl_global_init() must have been called. NULL with a reason in
 * `err` (NUL-terminated, truncated to `errlen`), "FILE:LINE: [sync] socket:
 * PATH: why" as config_errf writes it. */
sync_server *sync_server_start(const kiosk_config *c, char *err, size_t errlen);

/* Stops the thread (an answer in progress finishes within its timeout),
 * removes the socket and frees `s`. NULL is fine. */
void sync_server_stop(sync_server *s);

/* True if `card` is 1..15 ASCII letters and digits. */
bool sync_server_card_ok(const char *card);

/* What a request line may ask; the server's handlers, or a test's. */
typedef struct sync_server_handlers {
    /* A valid card_status request: fills the reply for the card itself
     * (with its '\n'), returns its length; or returns 0 when the answer
     * comes later (the server's own handler asks the bureau without
     * waiting for it). */
    size_t (*card_status)(void *ctx, const char *card, char *out, size_t cap);
    /* A valid reader report: `state` is "present" or "absent". */
    void (*reader)(void *ctx, const char *state);
    /* A status question (the service screen's): fills the reply. */
    size_t (*status)(void *ctx, char *out, size_t cap);
    void *ctx;
} sync_server_handlers;

/* The reply line (with its '\n') for the request line `req` (`len` bytes,
 * no newline, not NUL-terminated), written to `out` (`cap` bytes, at least
 * 64), after calling the handler the request names. A request that is not
 * valid JSON, names no known cmd, or has a bad argument gets bad_request
 * and calls nothing. Returns the reply length (0: the handler answers later). */
size_t sync_server_reply(const char *req, size_t len, const sync_server_handlers *h,
                         char *out, size_t cap);

/* What the last exchange with the bureau said, for the kiosk's service
 * screen ({"cmd":"status"}): `answered` if an HTTP answer came (the bureau
 * is reachable), `error` what went wrong ("" for a success; kept until the
 * next error). Thread-safe; the card-status GETs note theirs themselves. */
void sync_server_note_bureau(sync_server *s, bool answered, const char *error);

/* The reply to a status question: {"ok":true,"bureau":"reachable"|
 * "unreachable"|"unknown","last_error":"...","unmovable":N} and its '\n'.
 * Pure. */
size_t sync_server_status_reply(int bureau, const char *last_error, long unmovable, char *out,
                                size_t cap);

/* A problem of kiosk-sync's own for the status reply's last_error (kept
 * until the next one), without a word about the bureau. Thread-safe. */
void sync_server_note_error(sync_server *s, const char *error);

/* How many dead letters kiosk-sync could not move out of the outbox (the
 * status reply's "unmovable"). Thread-safe. */
void sync_server_note_unmovable(sync_server *s, long n);
#define SYNC_BUREAU_UNKNOWN 0
#define SYNC_BUREAU_REACHABLE 1
#define SYNC_BUREAU_UNREACHABLE 2

/* The reader state the kiosk last reported: "present", "absent", or
 * "unknown" before any report (for the heartbeat). Thread-safe. */
const char *sync_server_reader(sync_server *s);

/* The reply for a bureau answer: `http_status` (0 = no answer) and its body
 * (`len` bytes, not NUL-terminated). 200 with a known status word →
 * {"ok":true,"status":...[,"holder":...]}, 404 → status "unknown", anything
 * else → bureau_unreachable. Returns the reply length (with '\n'). */
size_t sync_server_from_bureau(long http_status, const char *body, size_t len, char *out,
                               size_t cap);

#endif
