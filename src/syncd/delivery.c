/* delivery.c - see delivery.h. */
#include "syncd/delivery.h"

#include "util/log.h"
#include "util/text.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WHERE "delivery"

/* ---- the verdict (pure) ---------------------------------------------- */

/* Transfers that failed before an answer: only these are not plain RETRY.
 * A wrong server certificate or pin will not get better in a few seconds,
 * and neither will our own unreadable certificate or CA file. */
static const struct { CURLcode code; dlv_result r; } curl_table[] = {
    { CURLE_PEER_FAILED_VERIFICATION, DLV_CERT_FAIL }, /* also CURLE_SSL_CACERT */
    { CURLE_SSL_PINNEDPUBKEYNOTMATCH, DLV_CERT_FAIL },
    { CURLE_SSL_CERTPROBLEM, DLV_CERT_FAIL },
    { CURLE_SSL_CACERT_BADFILE, DLV_CERT_FAIL },
    { CURLE_SSL_ISSUER_ERROR, DLV_CERT_FAIL },
    { CURLE_SSL_CRL_BADFILE, DLV_CERT_FAIL },
};

/* Answers, by exact status first, then by class. */
static const struct { long status; dlv_result r; } status_table[] = {
    { 200, DLV_DELIVERED }, { 201, DLV_DELIVERED },
    { 401, DLV_AUTH }, { 403, DLV_AUTH },
    { 408, DLV_RETRY }, { 429, DLV_RETRY },
};
static const struct { long lo, hi; dlv_result r; } class_table[] = {
    { 400, 499, DLV_DEAD },
    { 500, 599, DLV_RETRY },
};

dlv_result dlv_classify(int curl_code, long http_status)
{
    dlv_result r = DLV_RETRY; /* anything unforeseen: keep the event, try later */
    bool found = false;
    if (curl_code != CURLE_OK) {
        for (size_t i = 0; !found && i < sizeof curl_table / sizeof curl_table[0]; i++)
            if ((int)curl_table[i].code == curl_code) {
                r = curl_table[i].r;
                found = true;
            }
    } else {
        for (size_t i = 0; !found && i < sizeof status_table / sizeof status_table[0]; i++)
            if (status_table[i].status == http_status) {
                r = status_table[i].r;
                found = true;
            }
        for (size_t i = 0; !found && i < sizeof class_table / sizeof class_table[0]; i++)
            if (http_status >= class_table[i].lo && http_status <= class_table[i].hi) {
                r = class_table[i].r;
                found = true;
            }
    }
    return r;
}

const char *dlv_result_name(dlv_result r)
{
    static const char *const names[] = {
        [DLV_DELIVERED] = "delivered", [DLV_RETRY] = "retry", [DLV_DEAD] = "dead",
        [DLV_CERT_FAIL] = "cert_fail", [DLV_AUTH] = "auth",
    };
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

void dlv_error_code(const char *body, size_t len, char out[DLV_CODE_MAX])
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *err = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "error") : NULL;
    const cJSON *code = cJSON_IsObject(err) ? cJSON_GetObjectItemCaseSensitive(err, "code") : NULL;
    bool ok = cJSON_IsString(code) && strlen(code->valuestring) < DLV_CODE_MAX;
    /* It goes into our log: printable ASCII only, so no escape sequences or
     * fake log lines from the server. */
    for (const char *p = ok ? code->valuestring : ""; ok && *p; p++)
        ok = *p >= 0x21 && *p <= 0x7e;
    snprintf(out, DLV_CODE_MAX, "%s", ok ? code->valuestring : "");
    cJSON_Delete(root);
}

/* ---- the transfer ------------------------------------------------------ */

struct dlv_client {
    CURL *h;
    kiosk_config cfg;              /* a copy: plain data */
    char url[sizeof ((kiosk_config *)0)->bureau_url + 32];
    /* The terminal id escaped three-fold at most: "%XX" for each byte. */
    char hb_url[sizeof ((kiosk_config *)0)->bureau_url + 3 * sizeof ((kiosk_config *)0)->terminal_id + 32];
    char tid_header[sizeof ((kiosk_config *)0)->terminal_id + 32];
    char errbuf[CURL_ERROR_SIZE];
    dlv_answer answer;             /* the last answer's body */
    bool retry_after_seen;
};

size_t dlv_answer_write(char *p, size_t size, size_t nmemb, void *ud)
{
    dlv_answer *a = ud;
    size_t n = size * nmemb;      /* curl guarantees size == 1 */
    size_t r = 0;                 /* anything but n aborts with CURLE_WRITE_ERROR */
    if (n <= DLV_BODY_MAX - a->len) {
        memcpy(a->data + a->len, p, n);
        a->len += n;
        r = n;
    }
    return r;
}

size_t dlv_header_retry_after(char *p, size_t size, size_t nmemb, void *seen)
{
    bool *flag = seen;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n >= 5 && strncmp(p, "HTTP/", 5) == 0)
        *flag = false;
    else if (n >= sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0)
        *flag = true;
    return n;
}

/* A header value must not smuggle in another header or line. */
static bool plain_header_value(const char *s)
{
    bool ok = *s != '\0';
    for (; ok && *s; s++)
        ok = *s >= 0x20 && *s <= 0x7e;
    return ok;
}

/* Mutual TLS: the bureau's CA bundle and this terminal's certificate and
 * key, each a path in [bureau]. */
static const struct {
    const char *name;
    size_t offset;
} tls_files[] = {
    { "ca_file", offsetof(kiosk_config, ca_file) },
    { "client_cert", offsetof(kiosk_config, client_cert) },
    { "client_key", offsetof(kiosk_config, client_key) },
};

/* The settings a client cannot work without, as the loader would word a
 * refusal, naming the line that set the value (if a line did). */
static bool settings_usable(const kiosk_config *c, size_t url_len, char *err, size_t errlen)
{
    char why[256];

    if (strncasecmp(c->bureau_url, "https://", 8) != 0 || url_len <= 8) {
        config_errf(c, "bureau", "url", err, errlen,
                    "must start with https:// (the bureau is only spoken to over TLS)");
        return false;
    }
    for (size_t i = 0; i < sizeof tls_files / sizeof tls_files[0]; i++) {
        if (((const char *)c + tls_files[i].offset)[0] == '\0') {
            config_errf(c, "bureau", tls_files[i].name, err, errlen,
                        "must be set: ca_file, client_cert and client_key are all required (mutual TLS)");
            return false;
        }
    }
    /* The loader already refused such an id, in these words; this is for a
     * config made by hand (tests), so no header line can be smuggled in. */
    if (!config_terminal_id_valid(c->terminal_id, why, sizeof why)) {
        config_errf(c, "terminal", "id", err, errlen, "%s", why);
        return false;
    }
    return true;
}

dlv_client *dlv_client_new(const kiosk_config *c, char *err, size_t errlen)
{
    dlv_client *d = NULL;
    const char *why = NULL;
    size_t ul = strlen(c->bureau_url);
    char dummy[1];

    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    while (ul > 0 && c->bureau_url[ul - 1] == '/')
        ul--;
    if (!settings_usable(c, ul, err, errlen))
        return NULL;
    d = calloc(1, sizeof *d);
    if (!d || !(d->answer.data = malloc(DLV_BODY_MAX))) {
        why = "out of memory";
        goto out;
    }
    d->cfg = *c;
    snprintf(d->url, sizeof d->url, "%.*s/v1/pin-events", (int)ul, c->bureau_url);
    snprintf(d->tid_header, sizeof d->tid_header, "X-Terminal-Id: %s", c->terminal_id);
    if (!(d->h = curl_easy_init())) {
        why = "curl_easy_init failed";
        goto out;
    }
    /* The id goes into the path: escaped, so a '/' or '?' in it cannot
     * change which resource is asked. */
    char *tid = curl_easy_escape(d->h, c->terminal_id, 0);
    if (!tid) {
        why = "out of memory";
        goto out;
    }
    snprintf(d->hb_url, sizeof d->hb_url, "%.*s/v1/terminals/%s/heartbeat", (int)ul, c->bureau_url, tid);
    curl_free(tid);
out:
    if (why) {
        text_errf(err, errlen, "%s", why);
        dlv_client_free(d);
        d = NULL;
    }
    return d;
}

void dlv_client_free(dlv_client *d)
{
    if (d) {
        if (d->h)
            curl_easy_cleanup(d->h);
        free(d->answer.data);
        free(d);
    }
}

/* Every option that makes the transfer safe, in one place; set again per
 * request because curl_easy_reset() is not used and setopt is cheap. The
 * first failing option is reported (an old libcurl without
 * CURLOPT_PROTOCOLS_STR must fail closed, not run without it). */
CURLcode dlv_secure_options(CURL *h, const kiosk_config *c, long total_ms)
{
    long low_time = c->connect_timeout_s > 0 ? c->connect_timeout_s : 10;
    CURLcode rc = CURLE_OK;
#define SECURE(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, val); } while (0)
    SECURE(CURLOPT_PROTOCOLS_STR, "https");
    SECURE(CURLOPT_REDIR_PROTOCOLS_STR, "https");
    SECURE(CURLOPT_FOLLOWLOCATION, 0L);
    SECURE(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    SECURE(CURLOPT_SSL_VERIFYPEER, 1L);
    SECURE(CURLOPT_SSL_VERIFYHOST, 2L);
    SECURE(CURLOPT_CAINFO, c->ca_file);
    /* Without this a distribution's default CA directory would be trusted
     * besides the bureau's bundle. */
    SECURE(CURLOPT_CAPATH, (char *)NULL);
    SECURE(CURLOPT_SSLCERT, c->client_cert);
    SECURE(CURLOPT_SSLKEY, c->client_key);
    SECURE(CURLOPT_PINNEDPUBLICKEY, c->pinned_pubkey[0] ? c->pinned_pubkey : (char *)NULL);
    SECURE(CURLOPT_NOSIGNAL, 1L); /* timeouts must not use SIGALRM in a threaded daemon */
    SECURE(CURLOPT_CONNECTTIMEOUT, (long)c->connect_timeout_s);
    SECURE(CURLOPT_TIMEOUT_MS, total_ms);
    /* A bureau that stops sending mid-answer is cut off before the total
     * timeout would notice. */
    SECURE(CURLOPT_LOW_SPEED_LIMIT, 1L);
    SECURE(CURLOPT_LOW_SPEED_TIME, low_time);
    SECURE(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)DLV_BODY_MAX);
#undef SECURE
    return rc;
}

static CURLcode set_options(dlv_client *d, const char *url, struct curl_slist *hdrs,
                            const char *body, size_t len)
{
    CURLcode rc = dlv_secure_options(d->h, &d->cfg, (long)d->cfg.timeout_s * 1000);
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(d->h, opt, val); } while (0)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_ERRORBUFFER, d->errbuf);
    SET(CURLOPT_WRITEFUNCTION, dlv_answer_write);
    SET(CURLOPT_WRITEDATA, &d->answer);
    SET(CURLOPT_HEADERFUNCTION, dlv_header_retry_after);
    SET(CURLOPT_HEADERDATA, &d->retry_after_seen);
    SET(CURLOPT_HTTPHEADER, hdrs);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    SET(CURLOPT_POSTFIELDS, body);
#undef SET
    return rc;
}

/* One POST of `body` to `url` with the common headers and `extra` (NULL
 * for none); fills `out` except the verdict. */
static void post(dlv_client *d, const char *url, const char *extra, const char *body, size_t len,
                 dlv_outcome *out)
{
    struct curl_slist *hdrs = NULL, *t;
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    curl_off_t ra = -1;
    const char *const lines[] = {
        "Content-Type: application/json",
        "Accept: application/json",
        "Expect:", /* no 100-continue round trip for a 200-byte body */
        d->tid_header,
        extra,
    };

    memset(out, 0, sizeof *out);
    out->retry_after_s = -1;
    d->answer.len = 0;
    d->errbuf[0] = '\0';
    d->retry_after_seen = false;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0] && lines[i]; i++) {
        if (!(t = curl_slist_append(hdrs, lines[i])))
            goto out;
        hdrs = t;
    }
    rc = set_options(d, url, hdrs, body, len);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(d->h);
    if (rc == CURLE_OK || rc == CURLE_WRITE_ERROR)
        curl_easy_getinfo(d->h, CURLINFO_RESPONSE_CODE, &out->http_status);
    if (rc == CURLE_OK && d->retry_after_seen
        && curl_easy_getinfo(d->h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK)
        out->retry_after_s = ra < 0 ? 0 : (ra > 86400 * 366 ? 86400L * 366 : (long)ra);
    if (rc == CURLE_OK && (out->http_status < 200 || out->http_status > 299))
        dlv_error_code(d->answer.data, d->answer.len, out->error_code);
out:
    out->curl_code = (int)rc;
    if (rc != CURLE_OK)
        snprintf(out->detail, sizeof out->detail, "curl %d: %.100s", (int)rc,
                 d->errbuf[0] ? d->errbuf : curl_easy_strerror(rc));
    else if (out->http_status < 200 || out->http_status > 299)
        snprintf(out->detail, sizeof out->detail, "http %ld%s%s", out->http_status,
                 out->error_code[0] ? " " : "", out->error_code);
    /* It is shown on a screen: printable ASCII only. */
    for (char *p = out->detail; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            *p = '?';
    curl_slist_free_all(hdrs);
}

void dlv_send_event(dlv_client *d, const char *body, size_t len, const char *event_id,
                    dlv_outcome *out)
{
    char idem[128];
    const char *shown = event_id;

    if (!plain_header_value(event_id) || strlen(event_id) > 64) {
        shown = "(invalid)"; /* never echo raw bytes into the log */
        memset(out, 0, sizeof *out);
        out->curl_code = CURLE_BAD_FUNCTION_ARGUMENT;
        snprintf(out->detail, sizeof out->detail, "an event_id that is not a plain header value");
        out->retry_after_s = -1;
        d->errbuf[0] = '\0';
        log_err(WHERE, "refusing an event_id that is not a plain header value");
    } else {
        snprintf(idem, sizeof idem, "Idempotency-Key: %s", event_id);
        post(d, d->url, idem, body, len, out);
    }
    out->result = dlv_classify(out->curl_code, out->http_status);
    if (out->result != DLV_RETRY)
        out->retry_after_s = -1; /* only a retry has a "when" */
    {
        /* Loud where a person must act; the event_id identifies the record
         * without any personal data. */
        enum log_level lvl = out->result == DLV_DELIVERED ? LOG_LVL_INFO
                           : out->result == DLV_RETRY ? LOG_LVL_WARN : LOG_LVL_ERR;
        log_msg(lvl, WHERE, "event %s: %s (http %ld, curl %d%s%s%s%s, retry-after %ld)",
                shown, dlv_result_name(out->result), out->http_status, out->curl_code,
                d->errbuf[0] ? ": " : "", d->errbuf, out->error_code[0] ? ", bureau " : "",
                out->error_code, out->retry_after_s);
    }
}

bool dlv_send_heartbeat(dlv_client *d, const char *body, size_t len, dlv_outcome *out)
{
    bool ok;
    post(d, d->hb_url, NULL, body, len, out);
    ok = out->curl_code == CURLE_OK && out->http_status >= 200 && out->http_status <= 299;
    /* Only the verdict's kind matters here: whether a person must act. */
    out->result = ok ? DLV_DELIVERED : dlv_classify(out->curl_code, out->http_status);
    if (ok)
        log_info(WHERE, "heartbeat: http %ld", out->http_status);
    else
        log_msg(out->result == DLV_RETRY ? LOG_LVL_WARN : LOG_LVL_ERR, WHERE,
                "heartbeat not taken (http %ld, curl %d%s%s%s%s)", out->http_status,
                out->curl_code, d->errbuf[0] ? ": " : "", d->errbuf,
                out->error_code[0] ? ", bureau " : "", out->error_code);
    return ok;
}
