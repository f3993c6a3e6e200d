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
 *
 * Issue 12 adds a forgotten PIN's reset (bureau-api.md section 3): the
 * kiosk's reset_request and reset_authorize become one POST each, on the
 * same multi handle with the same options, and are never retried (each
 * retry would text the citizen another code). The SMS code of an authorize
 * is a secret like a PIN: never logged, sent only to the authorize
 * endpoint, and wiped from the request line, the parsed request and the
 * POST body as soon as the call no longer needs it.
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
    /* Issue 12, after ctx so older initialisers stay valid (a NULL one
     * answers bureau_unreachable). Both answer later (0) like card_status.
     * reset_authorize's `sms_code` lives only during the call: a handler
     * that needs it later copies it into memory it wipes. */
    size_t (*reset_request)(void *ctx, const char *card, char *out, size_t cap);
    size_t (*reset_authorize)(void *ctx, const char *reset_id, const char *sms_code,
                              const char *challenge, char *out, size_t cap);
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

/* ---- PIN resets (bureau-api.md section 3; sync_server_reset.c) ---------- */

#define SYNC_RESET_ID_MAX 63 /* characters of a reset_id */
#define SYNC_PHONE_MAX 31    /* characters of a masked phone number */
#define SYNC_SMS_CODE_LEN 6  /* digits of an SMS code */
#define SYNC_CHALLENGE_HEX 16 /* hex digits of a card challenge (8 bytes) */
#define SYNC_APDU_MIN 4      /* bytes of a plausible command APDU */
#define SYNC_APDU_MAX 261

/* 1..63 of [A-Za-z0-9._-], and not "." or "..": it goes into a URL path. */
bool sync_server_reset_id_ok(const char *id);
/* Exactly 6 ASCII digits. */
bool sync_server_sms_code_ok(const char *code);
/* Exactly 16 hex digits, either case. */
bool sync_server_challenge_ok(const char *hex);

typedef enum { SYNC_RESET_REQUEST, SYNC_RESET_AUTHORIZE } sync_reset_op;

/* The reply line (with '\n') for the bureau's answer to a reset call:
 * `http_status` (0 = no answer), `retry_after_s` (-1 = no Retry-After),
 * its body (`len` bytes, not NUL-terminated). A 2xx whose members are all
 * well-formed gives {"ok":true,...}; the errors of section 3 their wire
 * words (docs/sync-protocol.md); anything else bureau_unreachable. `why`
 * (may be NULL) says, for the log, what was wrong with an answer that
 * could not be used ("" if none); it never holds a value of the body. Pure. */
size_t sync_server_from_reset(sync_reset_op op, long http_status, long retry_after_s,
                              const char *body, size_t len, char *out, size_t cap, char *why,
                              size_t whylen);

#endif
