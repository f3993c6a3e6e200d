/* test_sync_server_reset.c - kiosk-sync's side of a PIN reset (issue 12,
 * bureau-api.md section 3): the kiosk's request lines checked and handed
 * on, every answer of the bureau turned into its reply line, and the SMS
 * code left in no block cJSON frees. Pure: no socket, no network (the
 * calls themselves are tested against the bureau stand-in in
 * tests/integration/test_sync.py). */
#include "t.h"

#include "syncd/sync_server.h"

#include <cjson/cJSON.h>
#include <malloc.h>
#include <stdbool.h>
#include <string.h>

#define CODE "482913"
#define CHAL "1122334455667788"

/* ---- what the handlers were given ------------------------------------- */

static struct {
    int requests, authorizes;
    char card[32], id[80], code[16], chal[32];
} got;

static size_t fake_reset(void *ctx, const char *card, char *out, size_t cap)
{
    (void)ctx;
    got.requests++;
    snprintf(got.card, sizeof got.card, "%s", card);
    return (size_t)snprintf(out, cap, "{\"ok\":true,\"asked\":1}\n");
}

static size_t fake_authorize(void *ctx, const char *id, const char *code, const char *chal,
                             char *out, size_t cap)
{
    (void)ctx;
    got.authorizes++;
    snprintf(got.id, sizeof got.id, "%s", id);
    snprintf(got.code, sizeof got.code, "%s", code);
    snprintf(got.chal, sizeof got.chal, "%s", chal);
    return (size_t)snprintf(out, cap, "{\"ok\":true,\"asked\":2}\n");
}

static size_t reply(const char *req, char *out, size_t cap)
{
    sync_server_handlers h = { .ctx = NULL, .reset_request = fake_reset,
                               .reset_authorize = fake_authorize };
    return sync_server_reply(req, strlen(req), &h, out, cap);
}

/* cJSON's frees, watched: a block freed with the code still in it counts. */
static int freed_with_code;

static void watched_free(void *p)
{
    if (p && memmem(p, malloc_usable_size(p), CODE, 6))
        freed_with_code++;
    free(p);
}

T_TEST(validators)
{
    static const struct { const char *s; bool id, code, chal; } rows[] = {
        { "r-7f3a", true, false, false },
        { "A.b_9-z", true, false, false },
        { "482913", true, true, false },
        { CHAL, true, false, true },
        { "aabbccddeeff0011", true, false, true },
        { "AaBbCcDdEeFf0011", true, false, true },
        { "r123456789012345678901234567890123456789012345678901234567890ab", true, false, false }, /* 63 */
        { "r123456789012345678901234567890123456789012345678901234567890abc", false, false, false },
        { "", false, false, false },
        { ".", false, false, false },
        { "..", false, false, false },
        { "...", true, false, false },
        { "r/7f3a", false, false, false },
        { "r 7f3a", false, false, false },
        { "r%2f", false, false, false },
        { "48291", true, false, false },
        { "4829134", true, false, false },
        { "48291a", true, false, false },
        { "112233445566778", true, false, false },
        { "11223344556677889", true, false, false },
        { "112233445566778g", true, false, false },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (sync_server_reset_id_ok(rows[i].s) != rows[i].id
            || sync_server_sms_code_ok(rows[i].s) != rows[i].code
            || sync_server_challenge_ok(rows[i].s) != rows[i].chal)
            fprintf(stderr, "  row %zu: \"%s\"\n", i, rows[i].s);
        T_EQ_INT(sync_server_reset_id_ok(rows[i].s), rows[i].id);
        T_EQ_INT(sync_server_sms_code_ok(rows[i].s), rows[i].code);
        T_EQ_INT(sync_server_challenge_ok(rows[i].s), rows[i].chal);
    }
    T_CHECK(!sync_server_reset_id_ok(NULL) && !sync_server_sms_code_ok(NULL)
            && !sync_server_challenge_ok(NULL));
}

T_TEST(requests_checked_then_handed_on)
{
    static const struct { const char *req; int handler; } rows[] = {
        { "{\"cmd\":\"reset_request\",\"card_number\":\"A12345678\"}", 1 },
        { "{\"cmd\":\"reset_request\",\"card_number\":\"A12345678\",\"future\":[1]}", 1 },
        { "{\"cmd\":\"reset_authorize\",\"reset_id\":\"r-7f3a\",\"sms_code\":\"" CODE "\",\"card_challenge\":\"" CHAL "\"}", 2 },
        { "{\"cmd\":\"reset_authorize\",\"reset_id\":\"r-7f3a\",\"sms_code\":\"4829\\u0031\\u0033\",\"card_challenge\":\"" CHAL "\"}", 2 },
        /* bad_request */
        { "{\"cmd\":\"reset_request\"}", 0 },
        { "{\"cmd\":\"reset_request\",\"card_number\":\"A1234567/\"}", 0 },
        { "{\"cmd\":\"reset_request\",\"card_number\":\"A1234567890123456\"}", 0 },
        { "{\"cmd\":\"reset_request\",\"card_number\":123456789}", 0 },
        { "{\"cmd\":\"reset_authorize\",\"reset_id\":\"r-7f3a\",\"sms_code\":\"48291\",\"card_challenge\":\"" CHAL "\"}", 0 },
        { "{\"cmd\":\"reset_authorize\",\"reset_id\":\"r-7f3a\",\"sms_code\":482913,\"card_challenge\":\"" CHAL "\"}", 0 },
        { "{\"cmd\":\"reset_authorize\",\"reset_id\":\"r-7f3a\",\"sms_code\":\"" CODE "\",\"card_challenge\":\"11223344556677\"}", 0 },
        { "{\"cmd\":\"reset_authorize\",\"reset_id\":\"../x\",\"sms_code\":\"" CODE "\",\"card_challenge\":\"" CHAL "\"}", 0 },
        { "{\"cmd\":\"reset_authorize\",\"reset_id\":\"..\",\"sms_code\":\"" CODE "\",\"card_challenge\":\"" CHAL "\"}", 0 },
        { "{\"cmd\":\"reset_authorize\",\"sms_code\":\"" CODE "\",\"card_challenge\":\"" CHAL "\"}", 0 },
        { "{\"cmd\":\"reset_authorize\",\"reset_id\":\"r-7f3a\",\"card_challenge\":\"" CHAL "\"}", 0 },
        { "{\"cmd\":\"reset_authorize\",\"reset_id\":\"r-7f3a\",\"sms_code\":\"" CODE "\"}", 0 },
        { "{\"cmd\":\"Reset_request\",\"card_number\":\"A12345678\"}", 0 },
    };
    char out[SYNC_SERVER_LINE_MAX + 2];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        memset(&got, 0, sizeof got);
        size_t n = reply(rows[i].req, out, sizeof out);
        T_EQ_INT(n, strlen(out));
        if (rows[i].handler == 0)
            T_EQ_STR(out, "{\"ok\":false,\"error\":\"bad_request\"}\n");
        T_EQ_INT(got.requests, rows[i].handler == 1);
        T_EQ_INT(got.authorizes, rows[i].handler == 2);
    }
    memset(&got, 0, sizeof got);
    reply(rows[0].req, out, sizeof out);
    T_EQ_STR(got.card, "A12345678");
    T_EQ_STR(out, "{\"ok\":true,\"asked\":1}\n");
    reply(rows[2].req, out, sizeof out);
    T_EQ_STR(got.id, "r-7f3a");
    T_EQ_STR(got.code, CODE);
    T_EQ_STR(got.chal, CHAL);
    /* No handler (an older table): unreachable, not a crash. */
    sync_server_handlers none = { .ctx = NULL };
    sync_server_reply(rows[2].req, strlen(rows[2].req), &none, out, sizeof out);
    T_EQ_STR(out, "{\"ok\":false,\"error\":\"bureau_unreachable\"}\n");
}

/* Every block cJSON frees after reading an authorize has been wiped: good
 * line, bad line, the code twice or somewhere odd. */
T_TEST(the_code_is_in_no_block_cjson_frees)
{
    static const char *const reqs[] = {
        "{\"cmd\":\"reset_authorize\",\"reset_id\":\"r-7f3a\",\"sms_code\":\"" CODE "\",\"card_challenge\":\"" CHAL "\"}",
        "{\"cmd\":\"reset_authorize\",\"reset_id\":\"r-7f3a\",\"sms_code\":\"" CODE "\",\"card_challenge\":\"nothex\"}",
        "{\"cmd\":\"reset_authorize\",\"sms_code\":\"" CODE "\",\"sms_code\":\"" CODE "\"}",
        "{\"cmd\":\"reset_authorize\",\"x\":{\"y\":[\"" CODE "\"]},\"" CODE "\":1}",
        "{\"cmd\":\"nothing\",\"sms_code\":\"" CODE "\"}",
    };
    cJSON_Hooks hooks = { malloc, watched_free };
    char out[SYNC_SERVER_LINE_MAX + 2];
    cJSON_InitHooks(&hooks);
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        freed_with_code = 0;
        reply(reqs[i], out, sizeof out);
        T_EQ_INT(freed_with_code, 0);
        T_CHECK(strstr(out, CODE) == NULL);
    }
    /* The watch works: a block made and freed unwiped is seen. */
    freed_with_code = 0;
    cJSON *s = cJSON_CreateString(CODE);
    cJSON_Delete(s);
    T_EQ_INT(freed_with_code, 1);
    cJSON_InitHooks(NULL);
}

#define APDU "842C000010" "00112233445566778899AABBCCDDEEFF"
#define ERR(code) "{\"error\":{\"code\":\"" code "\",\"message\":\"m\"}}"
#define UNREACH "{\"ok\":false,\"error\":\"bureau_unreachable\"}\n"

T_TEST(bureau_answers_to_replies)
{
    static const struct {
        sync_reset_op op;
        long http, retry_after;
        const char *body, *want;
    } rows[] = {
        /* reset_request */
        { SYNC_RESET_REQUEST, 201, -1, "{\"reset_id\":\"r-7f3a\",\"phone_masked\":\"138****5678\",\"expires_in_s\":300}",
          "{\"ok\":true,\"reset_id\":\"r-7f3a\",\"phone_masked\":\"138****5678\",\"expires_in_s\":300}\n" },
        { SYNC_RESET_REQUEST, 200, -1, "{\"expires_in_s\":1,\"phone_masked\":\"****\",\"reset_id\":\"r\",\"extra\":{}}",
          "{\"ok\":true,\"reset_id\":\"r\",\"phone_masked\":\"****\",\"expires_in_s\":1}\n" },
        /* A number not masked is never put on a public screen. */
        { SYNC_RESET_REQUEST, 201, -1, "{\"reset_id\":\"r-1\",\"phone_masked\":\"13812345678\",\"expires_in_s\":300}", UNREACH },
        { SYNC_RESET_REQUEST, 201, -1, "{\"reset_id\":\"r-1\",\"phone_masked\":\"138***45678\",\"expires_in_s\":300}", UNREACH },
        { SYNC_RESET_REQUEST, 201, -1, "{\"reset_id\":\"r-1\",\"phone_masked\":\"138****5678\",\"expires_in_s\":3601}", UNREACH },
        { SYNC_RESET_REQUEST, 201, -1, "{\"reset_id\":\"r-1\",\"phone_masked\":\"138****5678\",\"expires_in_s\":0}", UNREACH },
        { SYNC_RESET_REQUEST, 201, -1, "{\"reset_id\":\"r-1\",\"phone_masked\":\"138****5678\",\"expires_in_s\":300.5}", UNREACH },
        { SYNC_RESET_REQUEST, 201, -1, "{\"reset_id\":\"r-1\",\"phone_masked\":\"138****5678\",\"expires_in_s\":\"300\"}", UNREACH },
        { SYNC_RESET_REQUEST, 201, -1, "{\"reset_id\":\"r-1\",\"phone_masked\":\"138****5678\"}", UNREACH },
        { SYNC_RESET_REQUEST, 201, -1, "{\"reset_id\":\"r/1\",\"phone_masked\":\"138****5678\",\"expires_in_s\":300}", UNREACH },
        { SYNC_RESET_REQUEST, 201, -1, "{\"reset_id\":\"\",\"phone_masked\":\"138****5678\",\"expires_in_s\":300}", UNREACH },
        { SYNC_RESET_REQUEST, 201, -1, "{\"reset_id\":\"r-1\",\"phone_masked\":\"138 **** 5678\",\"expires_in_s\":300}", UNREACH },
        { SYNC_RESET_REQUEST, 201, -1, "{\"reset_id\":\"r-1\",\"phone_masked\":\"\\\"}\",\"expires_in_s\":300}", UNREACH },
        { SYNC_RESET_REQUEST, 201, -1, "{\"reset_id\":\"r-1\",\"phone_masked\":\"13800000000000000000000000000000\",\"expires_in_s\":300}", UNREACH },
        { SYNC_RESET_REQUEST, 201, -1, "{\"reset_id\":\"r-1\",\"phone_masked\":\"\",\"expires_in_s\":300}", UNREACH },
        { SYNC_RESET_REQUEST, 201, -1, "[]", UNREACH },
        { SYNC_RESET_REQUEST, 201, -1, "not json", UNREACH },
        { SYNC_RESET_REQUEST, 201, -1, "", UNREACH },
        { SYNC_RESET_REQUEST, 409, -1, ERR("NO_PHONE_ON_FILE"), "{\"ok\":false,\"error\":\"no_phone_on_file\"}\n" },
        { SYNC_RESET_REQUEST, 403, -1, ERR("CARD_NOT_ACTIVE"), "{\"ok\":false,\"error\":\"card_not_active\"}\n" },
        { SYNC_RESET_REQUEST, 429, 3600, ERR("TOO_MANY_RESETS"), "{\"ok\":false,\"error\":\"too_many_resets\",\"retry_after_s\":3600}\n" },
        { SYNC_RESET_REQUEST, 429, 0, ERR("TOO_MANY_RESETS"), "{\"ok\":false,\"error\":\"too_many_resets\",\"retry_after_s\":0}\n" },
        { SYNC_RESET_REQUEST, 429, 999999, ERR("TOO_MANY_RESETS"), "{\"ok\":false,\"error\":\"too_many_resets\",\"retry_after_s\":86400}\n" },
        { SYNC_RESET_REQUEST, 429, -1, ERR("TOO_MANY_RESETS"), "{\"ok\":false,\"error\":\"too_many_resets\"}\n" },
        { SYNC_RESET_REQUEST, 429, 30, ERR("RATE_LIMITED"), UNREACH },
        { SYNC_RESET_REQUEST, 404, -1, ERR("CARD_NOT_FOUND"), "{\"ok\":false,\"error\":\"card_unknown\"}\n" },
        { SYNC_RESET_REQUEST, 404, -1, "", "{\"ok\":false,\"error\":\"card_unknown\"}\n" },
        { SYNC_RESET_REQUEST, 403, -1, ERR("TERMINAL_NOT_AUTHORIZED"), UNREACH },
        { SYNC_RESET_REQUEST, 409, -1, ERR("ALREADY_USED"), UNREACH },
        { SYNC_RESET_REQUEST, 403, -1, ERR("CODE_INVALID"), UNREACH },
        { SYNC_RESET_REQUEST, 500, -1, ERR("SERVER_ERROR"), UNREACH },
        { SYNC_RESET_REQUEST, 503, 5, "", UNREACH },
        { SYNC_RESET_REQUEST, 302, -1, "", UNREACH },
        { SYNC_RESET_REQUEST, 0, -1, "", UNREACH },
        /* reset_authorize */
        { SYNC_RESET_AUTHORIZE, 200, -1, "{\"command_apdu\":\"" APDU "\"}", "{\"ok\":true,\"command_apdu\":\"" APDU "\"}\n" },
        { SYNC_RESET_AUTHORIZE, 200, -1, "{\"command_apdu\":\"842c000010aabbccddeeff00112233445566778899\"}",
          "{\"ok\":true,\"command_apdu\":\"842C000010AABBCCDDEEFF00112233445566778899\"}\n" },
        { SYNC_RESET_AUTHORIZE, 200, -1, "{\"command_apdu\":\"00A40400\"}", "{\"ok\":true,\"command_apdu\":\"00A40400\"}\n" },
        { SYNC_RESET_AUTHORIZE, 200, -1, "{\"command_apdu\":\"00A404\"}", UNREACH },
        { SYNC_RESET_AUTHORIZE, 200, -1, "{\"command_apdu\":\"842C000010A\"}", UNREACH },
        { SYNC_RESET_AUTHORIZE, 200, -1, "{\"command_apdu\":\"842C 0000\"}", UNREACH },
        { SYNC_RESET_AUTHORIZE, 200, -1, "{\"command_apdu\":\"842C00001G\"}", UNREACH },
        { SYNC_RESET_AUTHORIZE, 200, -1, "{\"command_apdu\":842}", UNREACH },
        { SYNC_RESET_AUTHORIZE, 200, -1, "{}", UNREACH },
        { SYNC_RESET_AUTHORIZE, 201, -1, "{\"command_apdu\":\"" APDU "\"}", UNREACH },
        { SYNC_RESET_AUTHORIZE, 403, -1, "{\"error\":{\"code\":\"CODE_INVALID\",\"message\":\"m\",\"attempts_left\":2}}",
          "{\"ok\":false,\"error\":\"code_invalid\",\"attempts_left\":2}\n" },
        { SYNC_RESET_AUTHORIZE, 403, -1, "{\"error\":{\"code\":\"CODE_INVALID\",\"attempts_left\":0}}",
          "{\"ok\":false,\"error\":\"code_invalid\",\"attempts_left\":0}\n" },
        { SYNC_RESET_AUTHORIZE, 403, -1, "{\"error\":{\"code\":\"CODE_INVALID\",\"attempts_left\":\"2\"}}",
          "{\"ok\":false,\"error\":\"code_invalid\"}\n" },
        { SYNC_RESET_AUTHORIZE, 403, -1, "{\"error\":{\"code\":\"CODE_INVALID\",\"attempts_left\":-1}}",
          "{\"ok\":false,\"error\":\"code_invalid\"}\n" },
        { SYNC_RESET_AUTHORIZE, 403, -1, ERR("CODE_INVALID"), "{\"ok\":false,\"error\":\"code_invalid\"}\n" },
        { SYNC_RESET_AUTHORIZE, 410, -1, ERR("RESET_VOID"), "{\"ok\":false,\"error\":\"reset_void\"}\n" },
        { SYNC_RESET_AUTHORIZE, 410, -1, ERR("EXPIRED"), "{\"ok\":false,\"error\":\"code_expired\"}\n" },
        { SYNC_RESET_AUTHORIZE, 404, -1, ERR("RESET_NOT_FOUND"), "{\"ok\":false,\"error\":\"reset_not_found\"}\n" },
        { SYNC_RESET_AUTHORIZE, 409, -1, ERR("ALREADY_USED"), "{\"ok\":false,\"error\":\"already_used\"}\n" },
        { SYNC_RESET_AUTHORIZE, 404, -1, ERR("CARD_NOT_FOUND"), UNREACH },
        { SYNC_RESET_AUTHORIZE, 410, -1, ERR("GONE"), UNREACH },
        { SYNC_RESET_AUTHORIZE, 410, -1, "", UNREACH },
        { SYNC_RESET_AUTHORIZE, 403, -1, ERR("TERMINAL_NOT_AUTHORIZED"), UNREACH },
        { SYNC_RESET_AUTHORIZE, 409, -1, ERR("NO_PHONE_ON_FILE"), UNREACH },
        { SYNC_RESET_AUTHORIZE, 429, 5, ERR("TOO_MANY_RESETS"), UNREACH },
        { SYNC_RESET_AUTHORIZE, 502, -1, ERR("UNAVAILABLE"), UNREACH },
        { SYNC_RESET_AUTHORIZE, 0, -1, "", UNREACH },
    };
    char out[SYNC_SERVER_LINE_MAX + 2], why[96];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t n = sync_server_from_reset(rows[i].op, rows[i].http, rows[i].retry_after, rows[i].body,
                                          strlen(rows[i].body), out, sizeof out, why, sizeof why);
        if (strcmp(out, rows[i].want) != 0)
            fprintf(stderr, "  row %zu: %s\n", i, rows[i].body);
        T_EQ_STR(out, rows[i].want);
        T_EQ_INT(n, strlen(out));
        /* Unusable answers say why, for the log; usable ones do not. */
        T_EQ_INT(why[0] != '\0', strcmp(rows[i].want, UNREACH) == 0);
    }
}

T_TEST(longest_apdu_and_limits)
{
    char body[700], want[700], out[SYNC_SERVER_LINE_MAX + 2], tiny[64]; /* replies need 64 */
    char hex[2 * SYNC_APDU_MAX + 3];
    memset(hex, 'A', sizeof hex);
    hex[2 * SYNC_APDU_MAX] = '\0';
    snprintf(body, sizeof body, "{\"command_apdu\":\"%s\"}", hex);
    snprintf(want, sizeof want, "{\"ok\":true,\"command_apdu\":\"%s\"}\n", hex);
    sync_server_from_reset(SYNC_RESET_AUTHORIZE, 200, -1, body, strlen(body), out, sizeof out, NULL, 0);
    T_EQ_STR(out, want);
    hex[2 * SYNC_APDU_MAX] = 'A';
    hex[2 * SYNC_APDU_MAX + 1] = 'A';
    hex[2 * SYNC_APDU_MAX + 2] = '\0';
    snprintf(body, sizeof body, "{\"command_apdu\":\"%s\"}", hex);
    sync_server_from_reset(SYNC_RESET_AUTHORIZE, 200, -1, body, strlen(body), out, sizeof out, NULL, 0);
    T_EQ_STR(out, UNREACH);
    /* Only the first len bytes count; a NUL inside is not JSON. */
    static const char cut[] = "{\"command_apdu\":\"00A40400\"}garbage";
    sync_server_from_reset(SYNC_RESET_AUTHORIZE, 200, -1, cut, sizeof cut - 8, out, sizeof out, NULL, 0);
    T_EQ_STR(out, "{\"ok\":true,\"command_apdu\":\"00A40400\"}\n");
    static const char nul[] = "{\"command_apdu\":\"00A40400\\u0000\"}";
    sync_server_from_reset(SYNC_RESET_AUTHORIZE, 200, -1, nul, sizeof nul - 1, out, sizeof out, NULL, 0);
    T_EQ_STR(out, UNREACH);
    /* A NULL body with an answer, and a reply buffer too small: unreachable. */
    sync_server_from_reset(SYNC_RESET_AUTHORIZE, 410, -1, NULL, 0, out, sizeof out, NULL, 0);
    T_EQ_STR(out, UNREACH);
    snprintf(body, sizeof body, "{\"command_apdu\":\"" APDU "\"}");
    sync_server_from_reset(SYNC_RESET_AUTHORIZE, 200, -1, body, strlen(body), tiny, sizeof tiny, NULL, 0);
    T_EQ_STR(tiny, UNREACH);
}

T_MAIN(T_CASE(validators), T_CASE(requests_checked_then_handed_on),
       T_CASE(the_code_is_in_no_block_cjson_frees), T_CASE(bureau_answers_to_replies),
       T_CASE(longest_apdu_and_limits))
