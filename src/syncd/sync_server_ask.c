/* sync_server_ask.c - the calls made to the bureau for the kiosk (card
 * status GETs, PIN reset POSTs), many at once on one curl multi handle
 * driven by the server's poll loop, so a slow answer for one client holds
 * up no other; and what kiosk-sync last heard from the bureau and the
 * kiosk (status, reader). Nothing here retries: a failed call is the
 * kiosk's bureau_unreachable. */
#include "syncd/sync_server_int.h"

#include "util/log.h"
#include "util/mask.h"
#include "util/secure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHERE "sync_server"

/* The same safety options as delivery's, for a GET, or a POST of c->body. */
static CURLcode set_options(const sync_server *s, sync_client *c, const char *url, bool post)
{
    const kiosk_config *cfg = &s->cfg;
    long total_ms = (long)cfg->timeout_s * 1000;
    CURLcode rc;
    /* No answer after the kiosk has stopped listening: a status question
     * waits status_timeout_ms there, a reset's call (the POSTs) its own
     * reset_timeout_ms, of which a second is left for the way back. */
    long limit = post ? (long)cfg->reset_timeout_ms - 1000 : (long)cfg->status_timeout_ms;
    if (post && limit < 1000)
        limit = 1000;
    if (limit > 0 && limit < total_ms)
        total_ms = limit;
    rc = dlv_secure_options(c->easy, cfg, total_ms);
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(c->easy, opt, val); } while (0)
    SET(CURLOPT_URL, url);
    if (post) {
        /* Our buffer, not COPYPOSTFIELDS; curl's own copies (its request
         * and upload buffers) are zeroed when freed (main.c installs
         * util/wipealloc.h as its allocator). */
        SET(CURLOPT_POSTFIELDSIZE, (long)c->body_len);
        SET(CURLOPT_POSTFIELDS, c->body);
        /* Never sent twice: curl resends a request once on its own when a
         * reused connection dies before any answer byte, and the bureau
         * may have taken the first (a second code texted, or a command
         * already made). A connection of its own, not kept, leaves curl
         * nothing to resend on. */
        SET(CURLOPT_FRESH_CONNECT, 1L);
        SET(CURLOPT_FORBID_REUSE, 1L);
    } else {
        SET(CURLOPT_HTTPGET, 1L);
    }
    SET(CURLOPT_ERRORBUFFER, c->errbuf);
    SET(CURLOPT_WRITEFUNCTION, dlv_answer_write);
    SET(CURLOPT_WRITEDATA, &c->answer);
    /* too_many_resets passes Retry-After on. */
    SET(CURLOPT_HEADERFUNCTION, dlv_header_retry_after);
    SET(CURLOPT_HEADERDATA, &c->retry_after_seen);
    SET(CURLOPT_HTTPHEADER, c->hdrs);
    SET(CURLOPT_PRIVATE, c);
#undef SET
    return rc;
}

void sync_ask_cancel(sync_server *s, sync_client *c)
{
    if (c->easy) {
        curl_multi_remove_handle(s->multi, c->easy);
        curl_easy_cleanup(c->easy);
        c->easy = NULL;
    }
    curl_slist_free_all(c->hdrs);
    c->hdrs = NULL;
    free(c->answer.data);
    c->answer = (dlv_answer){ NULL, 0 };
    /* The SMS code, if this was an authorize: gone with the call. */
    secure_wipe(c->body, sizeof c->body);
    c->body_len = 0;
}

/* What a call is named in the log: the card masked, or the reset's id. */
static void call_name(const sync_client *c, char *out, size_t cap)
{
    char masked[MASK_CARD_MAX];
    mask_card(c->card, masked);
    if (c->kind == SA_RESET_AUTHORIZE)
        snprintf(out, cap, "reset %s authorize", c->reset_id);
    else
        snprintf(out, cap, "%s%s", c->kind == SA_RESET_REQUEST ? "reset request card " : "card ",
                 masked);
}

/* What the kiosk is told, for the log: "answered", or the reply's error
 * word. Never more: a reply holds no secret (no answer carries the SMS
 * code), but the log needs no card, phone or command either. */
static const char *told(const char *reply, char word[32])
{
    static const char err[] = "{\"ok\":false,\"error\":\"";
    if (strncmp(reply, err, sizeof err - 1) != 0)
        return "answered";
    snprintf(word, 32, "%.*s", (int)strcspn(reply + sizeof err - 1, "\""), reply + sizeof err - 1);
    return word;
}

/* The reply for `c` from the bureau's answer (`rc`, `http`; 0 for none),
 * noted for the service screen and logged with the card masked (a reset
 * by its id; never the SMS code, which is in no answer). */
static size_t answered(sync_server *s, sync_client *c, CURLcode rc, long http)
{
    char detail[DLV_DETAIL_MAX] = "", name[96], why[96] = "", word[32];
    curl_off_t ra = -1;
    size_t n;

    if (c->kind == SA_CARD_STATUS) {
        n = sync_server_from_bureau(http, c->answer.data, c->answer.len, c->out, sizeof c->out);
    } else {
        if (rc == CURLE_OK && c->retry_after_seen
            && curl_easy_getinfo(c->easy, CURLINFO_RETRY_AFTER, &ra) != CURLE_OK)
            ra = -1;
        n = sync_server_from_reset(c->kind == SA_RESET_REQUEST ? SYNC_RESET_REQUEST
                                                               : SYNC_RESET_AUTHORIZE,
                                   http, ra < 0 ? -1 : (long)ra, c->answer.data, c->answer.len,
                                   c->out, sizeof c->out, why, sizeof why);
    }
    if (rc != CURLE_OK)
        snprintf(detail, sizeof detail, "curl %d: %.100s", (int)rc,
                 c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
    else if (c->kind == SA_CARD_STATUS && http != 200 && http != 404)
        snprintf(detail, sizeof detail, "http %ld to a card-status question", http);
    else if (c->kind != SA_CARD_STATUS && why[0])
        snprintf(detail, sizeof detail, "%.40s: %.80s",
                 c->kind == SA_RESET_REQUEST ? "reset request" : "reset authorize", why);
    for (char *p = detail; *p; p++)
        *p = *p < 0x20 || *p > 0x7e ? '?' : *p;
    sync_server_note_bureau(s, http != 0, detail);
    call_name(c, name, sizeof name);
    /* An answer we could not use is a warning: the bureau broke its contract. */
    log_msg(why[0] && http ? LOG_LVL_WARN : LOG_LVL_INFO, WHERE,
            "%s: http %ld, curl %d%s%s%s%s -> %s", name, http, (int)rc,
             c->errbuf[0] ? ": " : "", c->errbuf, why[0] ? "; unusable: " : "", why,
             told(c->out, word));
    return n;
}

/* Starts the call for s->current: a GET of `path`, or a POST of c->body;
 * answers later (0), or at once (unreachable) if it cannot be started. */
static size_t start_call(sync_server *s, sync_client *c, const char *path, bool post)
{
    char url[sizeof s->url_base + 128];
    const char *const lines[] = { "Accept: application/json", s->tid_header,
                                  "Content-Type: application/json",
                                  "Expect:" /* no 100-continue round trip for a tiny body */ };
    size_t nlines = post ? sizeof lines / sizeof lines[0] : 2;
    struct curl_slist *t;
    CURLcode rc = CURLE_OUT_OF_MEMORY;

    c->errbuf[0] = '\0';
    c->answer.len = 0;
    c->retry_after_seen = false;
    snprintf(url, sizeof url, "%s%s", s->url_base, path);
    if (!(c->answer.data = malloc(DLV_BODY_MAX)) || !(c->easy = curl_easy_init()))
        goto fail;
    for (size_t i = 0; i < nlines; i++) {
        if (!(t = curl_slist_append(c->hdrs, lines[i])))
            goto fail;
        c->hdrs = t;
    }
    if ((rc = set_options(s, c, url, post)) != CURLE_OK)
        goto fail;
    if (curl_multi_add_handle(s->multi, c->easy) != CURLM_OK) {
        rc = CURLE_FAILED_INIT;
        goto fail;
    }
    return 0;
fail:
    c->answer.len = 0;
    sync_client_reply_ready(c, answered(s, c, rc, 0));
    sync_ask_cancel(s, c);
    return 0;
}

/* The card_status handler: GET /v1/cards/{card}/status. `card` is valid. */
static size_t ask_bureau(void *ctx, const char *card, char *out, size_t cap)
{
    sync_server *s = ctx;
    sync_client *c = s->current;
    char path[64];

    (void)out;
    (void)cap; /* the reply goes to the client's own buffer, later */
    c->kind = SA_CARD_STATUS;
    snprintf(c->card, sizeof c->card, "%s", card);
    snprintf(path, sizeof path, "/v1/cards/%s/status", card);
    return start_call(s, c, path, false);
}

/* reset_request: POST /v1/cards/{card}/pin-resets {"terminal_id": ...}.
 * Never retried: each call texts the citizen a new code. */
static size_t ask_reset(void *ctx, const char *card, char *out, size_t cap)
{
    sync_server *s = ctx;
    sync_client *c = s->current;
    char path[64];
    size_t n = 0;

    (void)out;
    (void)cap;
    c->kind = SA_RESET_REQUEST;
    snprintf(c->card, sizeof c->card, "%s", card);
    snprintf(path, sizeof path, "/v1/cards/%s/pin-resets", card);
    /* The id is printable ASCII without spaces (config.c): only '"' and
     * '\\' need escaping. */
    n += (size_t)snprintf(c->body, sizeof c->body, "{\"terminal_id\":\"");
    for (const char *p = s->cfg.terminal_id; *p && n + 4 < sizeof c->body; p++) {
        if (*p == '"' || *p == '\\')
            c->body[n++] = '\\';
        c->body[n++] = *p;
    }
    n += (size_t)snprintf(c->body + n, sizeof c->body - n, "\"}");
    c->body_len = n;
    return start_call(s, c, path, true);
}

/* reset_authorize: POST /v1/pin-resets/{id}/authorize with the code and the
 * challenge, all three already checked (digits and hex: nothing to escape).
 * The code is copied into c->body only, which sync_ask_cancel wipes. */
static size_t ask_authorize(void *ctx, const char *reset_id, const char *sms_code,
                            const char *challenge, char *out, size_t cap)
{
    sync_server *s = ctx;
    sync_client *c = s->current;
    char path[SYNC_RESET_ID_MAX + 48];

    (void)out;
    (void)cap;
    c->kind = SA_RESET_AUTHORIZE;
    c->card[0] = '\0';
    snprintf(c->reset_id, sizeof c->reset_id, "%s", reset_id);
    snprintf(path, sizeof path, "/v1/pin-resets/%s/authorize", reset_id);
    c->body_len = (size_t)snprintf(c->body, sizeof c->body,
                                   "{\"sms_code\":\"%s\",\"card_challenge\":\"%s\"}",
                                   sms_code, challenge);
    return start_call(s, c, path, true);
}

void sync_ask_progress(sync_server *s)
{
    int running, left;
    CURLMsg *m;
    curl_multi_perform(s->multi, &running);
    while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
        sync_client *c = NULL;
        long http = 0;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
        if (!c)
            continue;
        CURLcode rc = m->data.result; /* m is not valid once its handle is removed */
        if (rc == CURLE_OK)
            curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &http);
        sync_client_reply_ready(c, answered(s, c, rc, http));
        sync_ask_cancel(s, c);
    }
}

void sync_server_note_bureau(sync_server *s, bool answered_, const char *error)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->bureau_mu);
    s->bureau = answered_ ? SYNC_BUREAU_REACHABLE : SYNC_BUREAU_UNREACHABLE;
    if (error && error[0])
        snprintf(s->last_error, sizeof s->last_error, "%s", error);
    pthread_mutex_unlock(&s->bureau_mu);
}

void sync_server_note_error(sync_server *s, const char *error)
{
    if (s == NULL || !error || !error[0])
        return;
    pthread_mutex_lock(&s->bureau_mu);
    snprintf(s->last_error, sizeof s->last_error, "%s", error);
    pthread_mutex_unlock(&s->bureau_mu);
}

void sync_server_note_unmovable(sync_server *s, long n)
{
    if (s)
        atomic_store(&s->unmovable, n);
}

static size_t answer_status(void *ctx, char *out, size_t cap)
{
    sync_server *s = ctx;
    char err[DLV_DETAIL_MAX];
    int bureau;
    pthread_mutex_lock(&s->bureau_mu);
    bureau = s->bureau;
    memcpy(err, s->last_error, sizeof err);
    pthread_mutex_unlock(&s->bureau_mu);
    return sync_server_status_reply(bureau, err, atomic_load(&s->unmovable), out, cap);
}

static void note_reader(void *ctx, const char *state)
{
    sync_server *s = ctx;
    int idx = -1;
    for (size_t i = 0; idx < 0 && i < sizeof sync_reader_words / sizeof sync_reader_words[0]; i++)
        if (strcmp(state, sync_reader_words[i]) == 0)
            idx = (int)i;
    if (atomic_exchange(&s->reader, idx) != idx)
        log_info(WHERE, "the kiosk reports its reader %s", state);
}

const char *sync_server_reader(sync_server *s)
{
    int idx = s ? atomic_load(&s->reader) : -1;
    return idx >= 0 ? sync_reader_words[idx] : "unknown";
}

sync_server_handlers sync_ask_handlers(sync_server *s)
{
    return (sync_server_handlers){ ask_bureau, note_reader, answer_status, s, ask_reset,
                                   ask_authorize };
}
