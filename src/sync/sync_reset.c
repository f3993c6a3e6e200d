/* sync_reset.c - a forgotten PIN's reset on kiosk-sync's socket
 * (docs/sync-protocol.md, issue 12): the two request lines, the SMS code's
 * short life in the secrets arena, and the replies checked before anything
 * of them reaches a result (a reset_id goes back to kiosk-sync, a masked
 * phone onto the screen, a command to the card).
 */
#include "sync/sync_int.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/secure.h"
#include "util/text.h"

#define RESET_EXPIRES_MAX 3600
#define RETRY_AFTER_MAX 86400
#define ATTEMPTS_MAX 99

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static int hex_val(char ch)
{
    if (is_digit(ch))
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

bool sync_reset_id_valid(const char *id)
{
    size_t n = id ? strnlen(id, SYNC_RESET_ID_MAX) : 0;
    bool ok = n >= 1 && n < SYNC_RESET_ID_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = is_digit(id[i]) || (id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= 'a' && id[i] <= 'z')
             || id[i] == '.' || id[i] == '_' || id[i] == '-';
    /* kiosk-sync puts it in a URL path, where these two would climb. */
    return ok && strcmp(id, ".") != 0 && strcmp(id, "..") != 0;
}

bool sync_sms_code_valid(const char *code)
{
    bool ok = code && strnlen(code, SYNC_SMS_CODE_LEN + 1) == SYNC_SMS_CODE_LEN;
    for (size_t i = 0; ok && i < SYNC_SMS_CODE_LEN; i++)
        ok = is_digit(code[i]);
    return ok;
}

/* Appends `n` bytes to the line, if they fit. By hand rather than with
 * snprintf: nothing of the code passes through a formatter's buffers. */
static bool put(char *line, size_t *len, const char *s, size_t n)
{
    if (*len + n >= SYNC_RESET_LINE_MAX)
        return false;
    memcpy(line + *len, s, n);
    *len += n;
    return true;
}

void sync_reset_take_code(sync_client *c, const sync_question *q, bool build)
{
    static const char hex[] = "0123456789ABCDEF";
    sync_secrets *sec = c->secrets;
    char *code = sec->codes[q->slot];
    char chal[2 * SYNC_CHALLENGE_LEN];
    size_t len = 0;
    bool ok = build;

    for (size_t i = 0; i < SYNC_CHALLENGE_LEN; i++) {
        chal[2 * i] = hex[q->challenge[i] >> 4];
        chal[2 * i + 1] = hex[q->challenge[i] & 15];
    }
#define PUT(s) (ok = ok && put(sec->line, &len, s, strlen(s)))
    PUT("{\"cmd\":\"reset_authorize\",\"reset_id\":\"");
    PUT(q->reset_id); /* checked: nothing to escape */
    PUT("\",\"sms_code\":\"");
    ok = ok && put(sec->line, &len, code, SYNC_SMS_CODE_LEN);
    PUT("\",\"card_challenge\":\"");
    ok = ok && put(sec->line, &len, chal, sizeof chal);
    PUT("\"}\n");
#undef PUT
    sec->line_len = ok ? len : 0;
    if (!ok)
        secure_wipe(sec->line, sizeof sec->line);
    secure_wipe(code, sizeof sec->codes[q->slot]);
}

/* ---- replies ------------------------------------------------------------ */

/* The error words a reply may carry for each question; any other word (a
 * bad_request included: that would be our bug) is UNREACHABLE. */
static const struct {
    sync_question_kind kind;
    const char *word;
    sync_reset_status status;
} reset_words[] = {
    { SQ_RESET_REQUEST, "no_phone_on_file", SYNC_RS_NO_PHONE },
    { SQ_RESET_REQUEST, "card_not_active", SYNC_RS_NOT_ACTIVE },
    { SQ_RESET_REQUEST, "too_many_resets", SYNC_RS_TOO_MANY },
    { SQ_RESET_REQUEST, "card_unknown", SYNC_RS_CARD_UNKNOWN },
    { SQ_RESET_AUTHORIZE, "code_invalid", SYNC_RS_CODE_INVALID },
    { SQ_RESET_AUTHORIZE, "reset_void", SYNC_RS_VOID },
    { SQ_RESET_AUTHORIZE, "code_expired", SYNC_RS_EXPIRED },
    { SQ_RESET_AUTHORIZE, "reset_not_found", SYNC_RS_NOT_FOUND },
    { SQ_RESET_AUTHORIZE, "already_used", SYNC_RS_ALREADY_USED },
};

/* An integer lo..hi, or -1 (absent, or not one). */
static int int_in(const cJSON *root, const char *name, int lo, int hi)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi)
        || v->valuedouble != (double)(int)v->valuedouble)
        return -1;
    return (int)v->valuedouble;
}

/* Digits and '*', at least four of those: a whole number the bureau sent
 * by mistake must not go up on a public screen. */
static bool phone_valid(const char *s)
{
    size_t n = strnlen(s, SYNC_PHONE_MAX), stars = 0;
    bool ok = n >= 1 && n < SYNC_PHONE_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        ok = is_digit(s[i]) || s[i] == '*';
        stars += s[i] == '*';
    }
    return ok && stars >= 4;
}

/* Even-length hex of 4..SYNC_APDU_MAX bytes into r->apdu. */
static bool apdu_copy(const char *s, sync_reset_result *r)
{
    size_t n = strnlen(s, 2 * SYNC_APDU_MAX + 1);
    if (n % 2 != 0 || n < 8 || n > 2 * SYNC_APDU_MAX)
        return false;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_val(s[i]), lo = hex_val(s[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        r->apdu[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    r->apdu_len = n / 2;
    return true;
}

/* The ok:true members of each question into r. The reason, or NULL. */
static const char *read_ok(const sync_question *q, const cJSON *root, sync_reset_result *r)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "reset_id");
    const cJSON *phone = cJSON_GetObjectItemCaseSensitive(root, "phone_masked");
    const cJSON *apdu = cJSON_GetObjectItemCaseSensitive(root, "command_apdu");

    if (q->kind == SQ_RESET_AUTHORIZE)
        return cJSON_IsString(apdu) && apdu_copy(apdu->valuestring, r) ? NULL
                                                                       : "command_apdu missing or malformed";
    if (!cJSON_IsString(id) || !sync_reset_id_valid(id->valuestring))
        return "reset_id missing or malformed";
    if (!cJSON_IsString(phone) || !phone_valid(phone->valuestring))
        return "phone_masked missing or malformed";
    r->expires_in_s = int_in(root, "expires_in_s", 1, RESET_EXPIRES_MAX);
    if (r->expires_in_s < 0)
        return "expires_in_s missing or not 1..3600";
    memcpy(r->reset_id, id->valuestring, strlen(id->valuestring) + 1);
    memcpy(r->phone_masked, phone->valuestring, strlen(phone->valuestring) + 1);
    return NULL;
}

/* The reply line into r. The reason it is UNREACHABLE, or NULL. */
static const char *read_reply(const sync_question *q, const char *line, size_t len,
                              sync_reset_result *r)
{
    const char *why = NULL, *end = NULL;
    cJSON *root = NULL;

    if (memchr(line, '\0', len) || text_json_has_nul_escape(line, len))
        return "NUL byte in reply";
    root = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    const cJSON *ok = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "ok") : NULL;
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (!root || !end || !text_only_whitespace(end, line + len) || !cJSON_IsBool(ok)) {
        why = "reply is not one JSON object with \"ok\"";
    } else if (cJSON_IsTrue(ok)) {
        why = read_ok(q, root, r);
        r->status = SYNC_RS_OK;
    } else {
        why = cJSON_IsString(err) && strcmp(err->valuestring, "bureau_unreachable") == 0
                  ? "kiosk-sync cannot reach the bureau" : "kiosk-sync answered an unexpected error";
        for (size_t i = 0; cJSON_IsString(err) && i < sizeof reset_words / sizeof reset_words[0]; i++)
            if (reset_words[i].kind == q->kind && strcmp(err->valuestring, reset_words[i].word) == 0) {
                r->status = reset_words[i].status;
                why = NULL;
            }
        if (r->status == SYNC_RS_CODE_INVALID)
            r->attempts_left = int_in(root, "attempts_left", 0, ATTEMPTS_MAX);
        if (r->status == SYNC_RS_TOO_MANY)
            r->retry_after_s = int_in(root, "retry_after_s", 0, RETRY_AFTER_MAX);
    }
    cJSON_Delete(root);
    return why;
}

void sync_reset_drop_line(sync_client *c)
{
    sync_secrets *sec = c->secrets;

    secure_wipe(sec->line, sizeof sec->line);
    sec->line_len = 0;
}

const char *sync_reset_ask(sync_client *c, const sync_question *q, sync_reset_result *r)
{
    char req[96], buf[SYNC_REPLY_MAX + 1];
    sync_secrets *sec = c->secrets;
    size_t len = 0;
    const char *why;

    if (q->kind == SQ_RESET_AUTHORIZE) {
        if (sec->line_len == 0)
            return "request too long";
        why = sync_wire_exchange(c, sec->line, sec->line_len, q->deadline_ms, buf, &len, sec->line);
        sec->line_len = 0;
    } else {
        /* The card number is checked to be letters and digits: no escaping. */
        int rc = snprintf(req, sizeof req, "{\"cmd\":\"reset_request\",\"card_number\":\"%s\"}\n",
                          q->card);
        why = rc < 0 || (size_t)rc >= sizeof req
                  ? "request too long"
                  : sync_wire_exchange(c, req, (size_t)rc, q->deadline_ms, buf, &len, NULL);
    }
    return why ? why : read_reply(q, buf, len, r);
}
