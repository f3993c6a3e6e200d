/* sync_server_ask.c - the card-status questions asked of the bureau, many
 * at once on one curl multi handle driven by the server's poll loop, so a
 * slow answer for one client holds up no other; and what kiosk-sync last
 * heard from the bureau and the kiosk (status, reader). */
#include "syncd/sync_server_int.h"

#include "util/log.h"
#include "util/mask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHERE "sync_server"

/* The same safety options as delivery's, for a GET. */
static CURLcode set_get_options(const sync_server *s, sync_client *c, const char *url)
{
    const kiosk_config *cfg = &s->cfg;
    long total_ms = (long)cfg->timeout_s * 1000;
    CURLcode rc;
    /* No answer after the kiosk has stopped listening. */
    if (cfg->status_timeout_ms > 0 && cfg->status_timeout_ms < total_ms)
        total_ms = cfg->status_timeout_ms;
    rc = dlv_secure_options(c->easy, cfg, total_ms);
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(c->easy, opt, val); } while (0)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_HTTPGET, 1L);
    SET(CURLOPT_ERRORBUFFER, c->errbuf);
    SET(CURLOPT_WRITEFUNCTION, dlv_answer_write);
    SET(CURLOPT_WRITEDATA, &c->answer);
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
}

/* The reply for `c` from the bureau's answer (`rc`, `http`; 0 for none),
 * noted for the service screen and logged with the card masked. */
static size_t answered(sync_server *s, sync_client *c, CURLcode rc, long http)
{
    char detail[DLV_DETAIL_MAX] = "", masked[MASK_CARD_MAX];
    size_t n = sync_server_from_bureau(http, c->answer.data, c->answer.len, c->out, sizeof c->out);

    if (rc != CURLE_OK)
        snprintf(detail, sizeof detail, "curl %d: %.100s", (int)rc,
                 c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
    else if (http != 200 && http != 404)
        snprintf(detail, sizeof detail, "http %ld to a card-status question", http);
    for (char *p = detail; *p; p++)
        *p = *p < 0x20 || *p > 0x7e ? '?' : *p;
    sync_server_note_bureau(s, http != 0, detail);
    mask_card(c->card, masked);
    log_info(WHERE, "card %s: http %ld, curl %d%s%s -> %s", masked, http, (int)rc,
             c->errbuf[0] ? ": " : "", c->errbuf,
             strncmp(c->out, "{\"ok\":true", 10) == 0 ? "answered" : "unreachable");
    return n;
}

/* The card_status handler: starts the GET for s->current and answers later
 * (0), or at once (unreachable) if it cannot be started. `card` is valid. */
static size_t ask_bureau(void *ctx, const char *card, char *out, size_t cap)
{
    sync_server *s = ctx;
    sync_client *c = s->current;
    char url[sizeof s->url_base + 64];
    const char *const lines[] = { "Accept: application/json", s->tid_header };
    struct curl_slist *t;
    CURLcode rc = CURLE_OUT_OF_MEMORY;

    (void)out;
    (void)cap; /* the reply goes to the client's own buffer, later */
    snprintf(c->card, sizeof c->card, "%s", card);
    c->errbuf[0] = '\0';
    c->answer.len = 0;
    snprintf(url, sizeof url, "%s/v1/cards/%s/status", s->url_base, card);
    if (!(c->answer.data = malloc(DLV_BODY_MAX)) || !(c->easy = curl_easy_init()))
        goto fail;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        if (!(t = curl_slist_append(c->hdrs, lines[i])))
            goto fail;
        c->hdrs = t;
    }
    if ((rc = set_get_options(s, c, url)) != CURLE_OK)
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
    return (sync_server_handlers){ ask_bureau, note_reader, answer_status, s };
}
