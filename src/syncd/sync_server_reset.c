/* sync_server_reset.c - a forgotten PIN's reset (bureau-api.md section 3)
 * as the sync socket speaks it (docs/sync-protocol.md): what the kiosk may
 * ask, and the bureau's answers turned into reply lines. Pure, like
 * sync_server_reply.c, so a unit test drives every answer through it.
 *
 * Nothing the bureau sends is passed on before it has its form: a reset_id
 * goes into a URL later, a masked phone onto the screen, a command APDU to
 * the card. Whatever does not fit is bureau_unreachable, as is every answer
 * this table does not name: the kiosk then sends the citizen to a counter,
 * which is always safe.
 */
#include "syncd/sync_server_int.h"

#include "util/text.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define RESET_EXPIRES_MAX 3600  /* s: the bureau's 300, with room */
#define RETRY_AFTER_MAX 86400   /* s: three resets a day, so a day at most */
#define ATTEMPTS_MAX 99         /* a count of wrong codes left, not a value to trust beyond */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_id_char(char c)
{
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.' || c == '_'
           || c == '-';
}

bool sync_server_reset_id_ok(const char *id)
{
    size_t n = id ? strnlen(id, SYNC_RESET_ID_MAX + 1) : 0;
    bool ok = n >= 1 && n <= SYNC_RESET_ID_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = is_id_char(id[i]);
    /* It becomes a path segment: "." and ".." would climb out of it. */
    return ok && strcmp(id, ".") != 0 && strcmp(id, "..") != 0;
}

bool sync_server_sms_code_ok(const char *code)
{
    bool ok = code && strnlen(code, SYNC_SMS_CODE_LEN + 1) == SYNC_SMS_CODE_LEN;
    for (size_t i = 0; ok && i < SYNC_SMS_CODE_LEN; i++)
        ok = is_digit(code[i]);
    return ok;
}

bool sync_server_challenge_ok(const char *hex)
{
    bool ok = hex && strnlen(hex, SYNC_CHALLENGE_HEX + 1) == SYNC_CHALLENGE_HEX;
    for (size_t i = 0; ok && i < SYNC_CHALLENGE_HEX; i++)
        ok = is_hex(hex[i]);
    return ok;
}

/* A masked phone number as the bureau writes it: "138****5678"; an
 * unmasked one (fewer than four '*') is refused, never shown. */
static bool phone_ok(const char *s)
{
    size_t n = strnlen(s, SYNC_PHONE_MAX + 1), stars = 0;
    bool ok = n >= 1 && n <= SYNC_PHONE_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        ok = is_digit(s[i]) || s[i] == '*';
        stars += s[i] == '*';
    }
    return ok && stars >= 4;
}

/* Even-length hex of SYNC_APDU_MIN..MAX bytes: well-formed and plausible,
 * nothing more (the card judges the command; kiosk-sync never could). */
static bool apdu_ok(const char *s)
{
    size_t n = strnlen(s, 2 * SYNC_APDU_MAX + 1);
    bool ok = n % 2 == 0 && n >= 2 * SYNC_APDU_MIN && n <= 2 * SYNC_APDU_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = is_hex(s[i]);
    return ok;
}

/* An integer in lo..hi, or -1. */
static long int_in(const cJSON *v, long lo, long hi)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)lo && v->valuedouble <= (double)hi)
        || v->valuedouble != (double)(long)v->valuedouble)
        return -1;
    return (long)v->valuedouble;
}

/* What a member of the error object adds to the wire reply. */
typedef enum { EXTRA_NONE, EXTRA_RETRY_AFTER, EXTRA_ATTEMPTS_LEFT } reset_extra;

/* Section 3's errors, as (call, HTTP status, error.code) -> wire word. A
 * NULL code matches any (the contract names 404 alone for an unknown card).
 * Every other answer, a 401/403 TERMINAL_NOT_AUTHORIZED included, is
 * bureau_unreachable: nothing the citizen could do about it. */
static const struct {
    sync_reset_op op;
    long http;
    const char *code;
    const char *word;
    reset_extra extra;
} reset_errors[] = {
    { SYNC_RESET_REQUEST, 409, "NO_PHONE_ON_FILE", "no_phone_on_file", EXTRA_NONE },
    { SYNC_RESET_REQUEST, 403, "CARD_NOT_ACTIVE", "card_not_active", EXTRA_NONE },
    { SYNC_RESET_REQUEST, 429, "TOO_MANY_RESETS", "too_many_resets", EXTRA_RETRY_AFTER },
    { SYNC_RESET_REQUEST, 404, NULL, "card_unknown", EXTRA_NONE },
    { SYNC_RESET_AUTHORIZE, 403, "CODE_INVALID", "code_invalid", EXTRA_ATTEMPTS_LEFT },
    { SYNC_RESET_AUTHORIZE, 410, "RESET_VOID", "reset_void", EXTRA_NONE },
    { SYNC_RESET_AUTHORIZE, 410, "EXPIRED", "code_expired", EXTRA_NONE },
    { SYNC_RESET_AUTHORIZE, 404, "RESET_NOT_FOUND", "reset_not_found", EXTRA_NONE },
    { SYNC_RESET_AUTHORIZE, 409, "ALREADY_USED", "already_used", EXTRA_NONE },
};

/* The success reply into `line`, or "" with the reason in `why`. Every
 * value put in is of a charset that needs no JSON escaping. */
static void success(sync_reset_op op, const cJSON *in, char *line, size_t cap, char *why,
                    size_t whylen)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(in, "reset_id");
    const cJSON *phone = cJSON_GetObjectItemCaseSensitive(in, "phone_masked");
    const cJSON *apdu = cJSON_GetObjectItemCaseSensitive(in, "command_apdu");
    long expires = int_in(cJSON_GetObjectItemCaseSensitive(in, "expires_in_s"), 1, RESET_EXPIRES_MAX);

    line[0] = '\0';
    if (op == SYNC_RESET_REQUEST) {
        if (!cJSON_IsString(id) || !sync_server_reset_id_ok(id->valuestring))
            text_errf(why, whylen, "reset_id missing or malformed");
        else if (!cJSON_IsString(phone) || !phone_ok(phone->valuestring))
            text_errf(why, whylen, "phone_masked missing or malformed");
        else if (expires < 0)
            text_errf(why, whylen, "expires_in_s not an integer 1..%d", RESET_EXPIRES_MAX);
        else
            snprintf(line, cap, "{\"ok\":true,\"reset_id\":\"%s\",\"phone_masked\":\"%s\","
                     "\"expires_in_s\":%ld}\n", id->valuestring, phone->valuestring, expires);
    } else if (!cJSON_IsString(apdu) || !apdu_ok(apdu->valuestring)) {
        text_errf(why, whylen, "command_apdu missing, not even-length hex or not %d..%d bytes",
                  SYNC_APDU_MIN, SYNC_APDU_MAX);
    } else {
        char hex[2 * SYNC_APDU_MAX + 1];
        size_t n = strlen(apdu->valuestring);
        /* Upper case, as the kiosk's own APDUs are written; the bytes are the same. */
        for (size_t i = 0; i <= n; i++)
            hex[i] = apdu->valuestring[i] >= 'a' && apdu->valuestring[i] <= 'f'
                         ? (char)(apdu->valuestring[i] - 'a' + 'A') : apdu->valuestring[i];
        snprintf(line, cap, "{\"ok\":true,\"command_apdu\":\"%s\"}\n", hex);
    }
}

/* The error reply into `line` when the table names this answer; else "". */
static void failure(sync_reset_op op, long http, long retry_after_s, const cJSON *in, char *line,
                    size_t cap, char *why, size_t whylen)
{
    const cJSON *err = cJSON_IsObject(in) ? cJSON_GetObjectItemCaseSensitive(in, "error") : NULL;
    const cJSON *code = cJSON_IsObject(err) ? cJSON_GetObjectItemCaseSensitive(err, "code") : NULL;
    const char *c = cJSON_IsString(code) ? code->valuestring : NULL;
    size_t i = 0;

    line[0] = '\0';
    while (i < sizeof reset_errors / sizeof reset_errors[0]
           && !(reset_errors[i].op == op && reset_errors[i].http == http
                && (!reset_errors[i].code || (c && strcmp(c, reset_errors[i].code) == 0))))
        i++;
    if (i == sizeof reset_errors / sizeof reset_errors[0]) {
        if (http)
            text_errf(why, whylen, "http %ld, not an answer of section 3", http);
        else
            text_errf(why, whylen, "no answer");
        return;
    }
    long n = -1;
    const char *name = NULL;
    if (reset_errors[i].extra == EXTRA_RETRY_AFTER && retry_after_s >= 0) {
        n = retry_after_s > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : retry_after_s;
        name = "retry_after_s";
    } else if (reset_errors[i].extra == EXTRA_ATTEMPTS_LEFT) {
        /* Passed on only when it is a plain small count. */
        n = int_in(cJSON_IsObject(err) ? cJSON_GetObjectItemCaseSensitive(err, "attempts_left") : NULL,
                   0, ATTEMPTS_MAX);
        name = "attempts_left";
    }
    if (n >= 0)
        snprintf(line, cap, "{\"ok\":false,\"error\":\"%s\",\"%s\":%ld}\n", reset_errors[i].word,
                 name, n);
    else
        snprintf(line, cap, "{\"ok\":false,\"error\":\"%s\"}\n", reset_errors[i].word);
}

size_t sync_server_from_reset(sync_reset_op op, long http_status, long retry_after_s,
                              const char *body, size_t len, char *out, size_t cap, char *why,
                              size_t whylen)
{
    char line[2 * SYNC_APDU_MAX + 128] = "";
    cJSON *in = NULL;

    if (why && whylen)
        why[0] = '\0';
    if (http_status != 0 && body && len > 0 && !memchr(body, '\0', len)
        && !text_json_has_nul_escape(body, len))
        in = cJSON_ParseWithLength(body, len);
    bool ok2xx = op == SYNC_RESET_REQUEST ? (http_status == 201 || http_status == 200)
                                          : http_status == 200;
    if (ok2xx && !cJSON_IsObject(in))
        text_errf(why, whylen, "http %ld without a JSON object", http_status);
    else if (ok2xx)
        success(op, in, line, sizeof line, why, whylen);
    else
        failure(op, http_status, retry_after_s, in, line, sizeof line, why, whylen);
    cJSON_Delete(in);
    return sync_put_reply(line[0] ? line : sync_reply_unreachable, out, cap);
}
