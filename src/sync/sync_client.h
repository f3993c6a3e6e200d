/* sync_client.h - asking kiosk-sync what the bureau says about a card.
 *
 * The kiosk has no network; kiosk-sync does. This module asks it over a UNIX
 * stream socket (protocol: docs/sync-protocol.md), one connection per
 * question, on a worker thread, so the UI never waits on it. Every answer
 * comes back through `post`, called on the worker thread; `gen` ties it to
 * the question (the UI drops answers for a card that is no longer there).
 *
 * Whatever goes wrong - no socket, refused, slow, a malformed, oversized or
 * unexpected reply - the answer is SYNC_ST_UNREACHABLE, within the question's
 * timeout: a question is never left unanswered and never answered twice.
 */
#ifndef SYNC_SYNC_CLIENT_H
#define SYNC_SYNC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    SYNC_ST_ACTIVE,
    SYNC_ST_LOST,
    SYNC_ST_FROZEN,
    SYNC_ST_CANCELLED,
    SYNC_ST_UNKNOWN,     /* the bureau does not know the card (its 404) */
    SYNC_ST_UNREACHABLE, /* no answer we can trust, for whatever reason */
    SYNC_ST__LAST
} sync_status;

#define SYNC_HOLDER_MAX 64
#define SYNC_REPLY_MAX 4096 /* bytes of a reply line, newline excluded */
#define SYNC_QUEUE_MAX 8    /* questions waiting at once */
#define SYNC_CARD_MAX 15    /* card number: 1..15 ASCII letters and digits */

typedef struct {
    unsigned gen;
    sync_status status;
    /* The holder's name as the bureau masked it: valid UTF-8 without control
       characters, cut on a character boundary to fit; "" when absent, not
       valid, or the status is UNREACHABLE. */
    char holder[SYNC_HOLDER_MAX];
} sync_result;

typedef void (*sync_post_fn)(void *ud, const sync_result *r);

typedef struct sync_client sync_client;

/* Starts the worker. `socket_path` is copied (it need not exist yet: each
   question connects anew). timeout_ms (1..600000) bounds each question from
   the moment it is asked. `post` is called on the worker thread with a result
   that is only valid during the call (copy it). NULL on bad arguments or when
   the thread cannot start. */
sync_client *sync_client_start(const char *socket_path, int timeout_ms, sync_post_fn post,
                               void *ud);

/* Queues a question; copies card_number. Returns true when queued: then
   exactly one post() answers it, within timeout_ms plus a small slack (a few
   ms), or during sync_client_stop. Returns false, and nothing is posted, when
   card_number is not 1..15 ASCII letters and digits, SYNC_QUEUE_MAX questions
   are already waiting, or the client is stopping. Thread-safe. */
bool sync_client_ask(sync_client *c, unsigned gen, const char *card_number);

/* Tells kiosk-sync the reader's state, "present" or "absent", for the
   heartbeat it sends the bureau. Sent on the worker thread when no question
   waits, again whenever it changes, and every minute anyway (so a restarted
   kiosk-sync learns it); a failed send is retried after a few seconds.
   Never blocks. False if `state` is not one of those words. Thread-safe. */
#define SYNC_READER_WORD_MAX 16
bool sync_client_report_reader(sync_client *c, const char *state);

/* What kiosk-sync last heard from the bureau, for the service screen. */
typedef enum { SYNC_BUREAU_NOT_KNOWN, SYNC_BUREAU_OK, SYNC_BUREAU_DOWN } sync_bureau;
typedef struct {
    sync_bureau bureau;
    char last_error[128]; /* printable ASCII; "" none. When kiosk-sync did not
                             answer: NOT_KNOWN, and this says why */
    long unmovable;       /* event files kiosk-sync set aside but could not move
                             out of the outbox (never sent); 0 none or unknown */
} sync_bureau_info;
typedef void (*sync_bureau_fn)(void *ud, const sync_bureau_info *info);

/* Asks kiosk-sync ({"cmd":"status"}). Sent when no card question waits;
   `fn` is called once, on the worker thread, with the answer (valid only
   during the call), unless the client stops first. A second ask before the
   first is answered replaces it.
   False if the client is stopping. Thread-safe. */
bool sync_client_ask_bureau(sync_client *c, sync_bureau_fn fn, void *ud);

/* Answers every question still open with SYNC_ST_UNREACHABLE (cutting short
   the one in flight), joins the worker and frees c. No post() runs after it
   returns. NULL is fine. */
void sync_client_stop(sync_client *c);

/* "active", "lost", ... "unreachable"; "?" out of range. */
const char *sync_status_name(sync_status s);

/* ---- a forgotten PIN's reset (issue 12; bureau-api.md section 3) ---------
 *
 * Two questions, asked through kiosk-sync like the card's status and with
 * the same guarantees: queued with the card questions and answered in
 * order, one at a time; exactly one answer per accepted question, within
 * its own timeout_ms plus a few ms, on the worker thread, through the
 * callback set by sync_client_on_reset; SYNC_RS_UNREACHABLE at stop and
 * whenever the reply cannot be trusted; never sent twice (each send makes
 * the bureau text the citizen another code, so a question that failed is
 * answered, not retried).
 *
 * The SMS code is a secret like a PIN: its queued copy and the request line
 * made from it live in the secrets arena (util/secmem.h; ordinary memory if
 * there is none), the line is built under the queue's lock as the question
 * is taken, the queued copy wiped at once, the line right after it is sent,
 * and both on every other path (stop, timeout while queued); never logged. */
typedef enum {
    SYNC_RS_OK,
    SYNC_RS_NO_PHONE,     /* the bureau has no phone for the card: a counter */
    SYNC_RS_NOT_ACTIVE,   /* lost, frozen or cancelled */
    SYNC_RS_TOO_MANY,     /* three resets today already; retry_after_s if known */
    SYNC_RS_CARD_UNKNOWN, /* the bureau does not know the card */
    SYNC_RS_CODE_INVALID, /* wrong SMS code; attempts_left if known */
    SYNC_RS_VOID,         /* three wrong codes: this reset is over */
    SYNC_RS_EXPIRED,      /* the code's time ran out */
    SYNC_RS_NOT_FOUND,    /* the bureau knows no such reset */
    SYNC_RS_ALREADY_USED, /* this reset already produced its command */
    SYNC_RS_UNREACHABLE,  /* no answer we can trust, for whatever reason */
    SYNC_RS__LAST
} sync_reset_status;

#define SYNC_RESET_ID_MAX 64 /* 1..63 of [A-Za-z0-9._-] and the NUL */
#define SYNC_PHONE_MAX 32    /* 1..31 digits and '*' ("138****5678") and the NUL */
#define SYNC_APDU_MAX 261    /* bytes of the reset command; at least 4 */
#define SYNC_SMS_CODE_LEN 6  /* digits */
#define SYNC_CHALLENGE_LEN 8 /* bytes of the card's GET CHALLENGE */

typedef struct {
    unsigned gen;
    bool authorize;              /* the answer to reset_authorize (else reset_request) */
    sync_reset_status status;
    /* reset_request, OK: the reset's id, the masked phone the code went to,
       and how long the code lives (1..3600 s). */
    char reset_id[SYNC_RESET_ID_MAX];
    char phone_masked[SYNC_PHONE_MAX];
    int expires_in_s;
    int attempts_left;           /* CODE_INVALID: 0..99, else -1 */
    int retry_after_s;           /* TOO_MANY: 0..86400, else -1 */
    /* reset_authorize, OK: the command for the card, as the bureau made it. */
    uint8_t apdu[SYNC_APDU_MAX];
    size_t apdu_len;
} sync_reset_result;

typedef void (*sync_reset_fn)(void *ud, const sync_reset_result *r);

/* Where reset answers go (valid only during the call: copy them). Set once,
   before the first reset question; a reset asked without it is refused. */
void sync_client_on_reset(sync_client *c, sync_reset_fn fn, void *ud);

/* {"cmd":"reset_request"}: the bureau texts a code to the card holder's
   phone. True when queued (then exactly one answer); false, and no answer,
   for a card number that is not 1..15 letters and digits, timeout_ms not in
   1..600000, no callback, a full queue, or a client stopping. */
bool sync_client_reset_request(sync_client *c, unsigned gen, const char *card_number,
                               int timeout_ms);

/* {"cmd":"reset_authorize"}: the code the citizen typed and the card's
   challenge, for the command that resets the PIN. `sms_code` (exactly 6
   ASCII digits) is copied into locked memory; the caller wipes its own.
   False, and no answer, as above, or for a reset_id that is not 1..63 of
   [A-Za-z0-9._-] ("." and ".." neither), a malformed code or no challenge. */
bool sync_client_reset_authorize(sync_client *c, unsigned gen, const char *reset_id,
                                 const char *sms_code, const uint8_t challenge[8],
                                 int timeout_ms);

/* "ok", "no_phone", ... "unreachable"; "?" out of range. */
const char *sync_reset_status_name(sync_reset_status s);

#endif
