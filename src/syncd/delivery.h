/* delivery.h - one attempt to record one event at the bureau
 * (POST /v1/pin-events, bureau-api.md section 2) over mutual TLS.
 *
 * The verdict is a pure function of (curl result, HTTP status), kept apart
 * from the network so a table of cases can test it:
 *   DELIVERED  200/201: the bureau has it (201 new, 200 replay); delete the file.
 *   DEAD       400, 409, 422 and every other 4xx but 401/403/408/429: the
 *              event itself is wrong; retrying cannot help; dead letter.
 *   RETRY      network error, timeout, 408, 429, 5xx, oversized answer and
 *              anything unexpected (3xx, other 2xx): try again with backoff,
 *              honouring Retry-After when the server sent one.
 *   CERT_FAIL  the server's certificate or pin did not verify, or our own
 *              certificate was refused: retrying quickly cannot fix it; only
 *              the slow schedule, logged loudly.
 *   AUTH       401/403: the bureau does not accept this terminal; out of
 *              service until a technician fixes it.
 * Unexpected answers are never DEAD: a dead letter is a claim that the
 * event is wrong, and only the bureau's explicit 4xx may make it.
 *
 * No PIN passes through here: the body is an outbox file, which never holds
 * one. The body holds a card number, so it is never logged.
 */
#ifndef SYNCD_DELIVERY_H
#define SYNCD_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "config/config.h"

typedef enum {
    DLV_DELIVERED,
    DLV_RETRY,
    DLV_DEAD,
    DLV_CERT_FAIL,
    DLV_AUTH,
} dlv_result;

#define DLV_BODY_MAX (64u * 1024u) /* bureau-api.md: larger answers are errors */
#define DLV_CODE_MAX 48            /* the "error.code" we keep for the log */
#define DLV_DETAIL_MAX 128         /* dlv_outcome.detail, for the service screen */

typedef struct dlv_outcome {
    dlv_result result;
    int curl_code;                 /* CURLcode of the transfer */
    long http_status;              /* 0 when no answer came */
    long retry_after_s;            /* -1 when absent (BACKOFF_NO_RETRY_AFTER) */
    char error_code[DLV_CODE_MAX]; /* the bureau's error.code, "" if none or unusable */
    char detail[DLV_DETAIL_MAX];   /* what went wrong, in words (printable ASCII); "" on a 2xx */
} dlv_outcome;

/* An answer's body as it comes in: `data` has room for DLV_BODY_MAX bytes. */
typedef struct dlv_answer {
    char *data;
    size_t len;
} dlv_answer;

/* CURLOPT_WRITEFUNCTION for a dlv_answer given as CURLOPT_WRITEDATA: keeps
 * the bytes, and aborts the transfer (CURLE_WRITE_ERROR) past the cap. */
size_t dlv_answer_write(char *p, size_t size, size_t nmemb, void *ud);

/* A CURLOPT_HEADERFUNCTION whose HEADERDATA is a bool: set when the answer
 * carries Retry-After (its value: CURLINFO_RETRY_AFTER, which parses both
 * forms), cleared by each new status line (after "100 Continue"). */
size_t dlv_header_retry_after(char *p, size_t size, size_t nmemb, void *seen);

/* The verdict for a transfer that ended with `curl_code` (a CURLcode) and,
 * if an answer came, `http_status` (else 0). Pure. */
dlv_result dlv_classify(int curl_code, long http_status);

/* "delivered", "retry", ... for logs. */
const char *dlv_result_name(dlv_result r);

/* Copies the bureau's {"error": {"code": "..."}} from `body` (`len` bytes,
 * not NUL-terminated) into `out` if it is a string of printable ASCII that
 * fits; else "". The server's JSON is not trusted beyond that. */
void dlv_error_code(const char *body, size_t len, char out[DLV_CODE_MAX]);

typedef struct dlv_client dlv_client;

/* Sets on `h` every option that keeps a request to the bureau safe (https
 * only, no redirects, TLS >= 1.2, the bureau's CA bundle only, client
 * certificate, pins, timeouts, low-speed cut-off, answer cap): the one place
 * for them, shared by delivery and the card-status question. */
CURLcode dlv_secure_options(CURL *h, const kiosk_config *c, long total_ms);

/* Checks the [bureau] settings (url must be https://; ca_file, client_cert
 * and client_key set) and prepares a reusable connection. Copies what it
 * needs from `c`; the caller keeps it. NULL with a reason in `err` (may be
 * NULL), "FILE:LINE: [section] key: why" as config_errf writes it.
 * curl_global_init() must have been called by the program. */
dlv_client *dlv_client_new(const kiosk_config *c, char *err, size_t errlen);
void dlv_client_free(dlv_client *d);

/* Sends `body` (`len` bytes; the caller keeps it) with Idempotency-Key
 * `event_id` and fills `out`. Blocks at most the configured timeouts. */
void dlv_send_event(dlv_client *d, const char *body, size_t len, const char *event_id,
                    dlv_outcome *out);

/* Sends the heartbeat `body` (`len` bytes) to
 * POST /v1/terminals/{id}/heartbeat (bureau-api.md section 4) with the same
 * safety as an event. True on any 2xx (the bureau answers 204); `out` says
 * what happened otherwise (its `result` as for an event). Logs the outcome. */
bool dlv_send_heartbeat(dlv_client *d, const char *body, size_t len, dlv_outcome *out);

#endif
