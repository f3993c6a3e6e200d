/* sync_server_reply.c - the sync socket's request lines and replies
 * (docs/sync-protocol.md): pure, no socket and no network, so the unit tests
 * drive every line through it. */
#include "syncd/sync_server_int.h"

#include "util/secure.h"
#include "util/text.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

const char sync_reply_unreachable[] = "{\"ok\":false,\"error\":\"bureau_unreachable\"}\n";
const char sync_reply_bad_request[] = "{\"ok\":false,\"error\":\"bad_request\"}\n";

/* The words of bureau-api.md section 1; anything else is not trusted. */
static const char *const bureau_statuses[] = { "active", "lost", "frozen", "cancelled" };

const char *const sync_reader_words[2] = { "present", "absent" };

bool sync_server_card_ok(const char *card)
{
    size_t n = 0;
    bool ok = card != NULL;
    for (; ok && card[n]; n++)
        ok = n < SYNC_CARD_MAX && ((card[n] >= '0' && card[n] <= '9') || (card[n] >= 'A' && card[n] <= 'Z') ||
                              (card[n] >= 'a' && card[n] <= 'z'));
    return ok && n >= 1;
}

size_t sync_put_reply(const char *line, char *out, size_t cap)
{
    size_t n = strlen(line);
    if (n >= cap) {
        line = sync_reply_unreachable;
        n = strlen(sync_reply_unreachable);
    }
    memcpy(out, line, n + 1);
    return n;
}

size_t sync_server_from_bureau(long http_status, const char *body, size_t len, char *out,
                               size_t cap)
{
    cJSON *in = NULL, *reply = NULL;
    char *text = NULL;
    const char *status = NULL;
    size_t n;

    if (http_status == 404) {
        status = "unknown";
    } else if (http_status == 200) {
        in = cJSON_ParseWithLength(body, len);
        const cJSON *st = cJSON_IsObject(in) ? cJSON_GetObjectItemCaseSensitive(in, "status") : NULL;
        for (size_t i = 0; cJSON_IsString(st) && !status && i < sizeof bureau_statuses / sizeof bureau_statuses[0]; i++)
            if (strcmp(st->valuestring, bureau_statuses[i]) == 0)
                status = bureau_statuses[i];
    }
    if (!status || !(reply = cJSON_CreateObject()) || !cJSON_AddTrueToObject(reply, "ok")
        || !cJSON_AddStringToObject(reply, "status", status))
        goto out;
    /* The holder is passed through as the bureau masked it; the kiosk checks
     * it before showing it. A non-string or absurdly long one is dropped. */
    const cJSON *holder = in ? cJSON_GetObjectItemCaseSensitive(in, "holder") : NULL;
    if (cJSON_IsString(holder) && strlen(holder->valuestring) <= 256
        && !cJSON_AddStringToObject(reply, "holder", holder->valuestring))
        goto out;
    text = cJSON_PrintUnformatted(reply);
out:
    if (text && strlen(text) + 2 <= cap && strlen(text) + 1 <= SYNC_SERVER_LINE_MAX) {
        n = (size_t)snprintf(out, cap, "%s\n", text);
    } else {
        n = sync_put_reply(sync_reply_unreachable, out, cap);
    }
    cJSON_free(text);
    cJSON_Delete(reply);
    cJSON_Delete(in);
    return n;
}

/* Each command's argument check and call; the reply for a valid one. */
typedef bool (*cmd_fn)(const cJSON *root, const sync_server_handlers *h, char *out, size_t cap,
                       size_t *n);

static bool cmd_card_status(const cJSON *root, const sync_server_handlers *h, char *out,
                            size_t cap, size_t *n)
{
    const cJSON *card = cJSON_GetObjectItemCaseSensitive(root, "card_number");
    bool ok = cJSON_IsString(card) && sync_server_card_ok(card->valuestring);
    if (ok)
        *n = h->card_status(h->ctx, card->valuestring, out, cap);
    return ok;
}

static bool cmd_reader(const cJSON *root, const sync_server_handlers *h, char *out, size_t cap,
                       size_t *n)
{
    static const char ack[] = "{\"ok\":true}\n";
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "state");
    const char *word = NULL;
    for (size_t i = 0; cJSON_IsString(st) && !word && i < sizeof sync_reader_words / sizeof sync_reader_words[0]; i++)
        if (strcmp(st->valuestring, sync_reader_words[i]) == 0)
            word = sync_reader_words[i];
    if (word) {
        h->reader(h->ctx, word);
        *n = sync_put_reply(ack, out, cap);
    }
    return word != NULL;
}

static bool cmd_status(const cJSON *root, const sync_server_handlers *h, char *out, size_t cap,
                       size_t *n)
{
    (void)root;
    *n = h->status(h->ctx, out, cap);
    return true;
}

/* A handler the caller left out (an older test's table): no bureau. */
static size_t no_handler(char *out, size_t cap)
{
    return sync_put_reply(sync_reply_unreachable, out, cap);
}

static bool cmd_reset_request(const cJSON *root, const sync_server_handlers *h, char *out,
                              size_t cap, size_t *n)
{
    const cJSON *card = cJSON_GetObjectItemCaseSensitive(root, "card_number");
    bool ok = cJSON_IsString(card) && sync_server_card_ok(card->valuestring);
    if (ok)
        *n = h->reset_request ? h->reset_request(h->ctx, card->valuestring, out, cap)
                              : no_handler(out, cap);
    return ok;
}

static bool cmd_reset_authorize(const cJSON *root, const sync_server_handlers *h, char *out,
                                size_t cap, size_t *n)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "reset_id");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "sms_code");
    const cJSON *chal = cJSON_GetObjectItemCaseSensitive(root, "card_challenge");
    bool ok = cJSON_IsString(id) && sync_server_reset_id_ok(id->valuestring)
              && cJSON_IsString(code) && sync_server_sms_code_ok(code->valuestring)
              && cJSON_IsString(chal) && sync_server_challenge_ok(chal->valuestring);
    if (ok)
        *n = h->reset_authorize ? h->reset_authorize(h->ctx, id->valuestring, code->valuestring,
                                                     chal->valuestring, out, cap)
                                : no_handler(out, cap);
    return ok;
}

static const struct { const char *name; cmd_fn fn; } commands[] = {
    { "card_status", cmd_card_status },
    { "reader", cmd_reader },
    { "status", cmd_status },
    { "reset_request", cmd_reset_request },
    { "reset_authorize", cmd_reset_authorize },
};

/* Wipes every string cJSON made from a request line before it is freed:
 * an authorize carries the SMS code (wherever in the object, or twice), and
 * kiosk-sync's cJSON frees do not wipe on their own. */
static void wipe_strings(cJSON *item)
{
    for (; item; item = item->next) {
        if (cJSON_IsString(item) && item->valuestring)
            secure_wipe(item->valuestring, strlen(item->valuestring));
        if (item->string)
            secure_wipe(item->string, strlen(item->string));
        wipe_strings(item->child);
    }
}

size_t sync_server_status_reply(int bureau, const char *last_error, long unmovable, char *out,
                                size_t cap)
{
    static const char *const words[] = { [SYNC_BUREAU_UNKNOWN] = "unknown",
                                         [SYNC_BUREAU_REACHABLE] = "reachable",
                                         [SYNC_BUREAU_UNREACHABLE] = "unreachable" };
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    size_t n;
    if (o && cJSON_AddTrueToObject(o, "ok")
        && cJSON_AddStringToObject(o, "bureau", words[bureau >= 0 && bureau <= 2 ? bureau : 0])
        && cJSON_AddStringToObject(o, "last_error", last_error ? last_error : "")
        && cJSON_AddNumberToObject(o, "unmovable", (double)(unmovable > 0 ? unmovable : 0)))
        text = cJSON_PrintUnformatted(o);
    if (text && strlen(text) + 2 <= cap)
        n = (size_t)snprintf(out, cap, "%s\n", text);
    else
        n = sync_put_reply(sync_reply_bad_request, out, cap);
    cJSON_free(text);
    cJSON_Delete(o);
    return n;
}

size_t sync_server_reply(const char *req, size_t len, const sync_server_handlers *h,
                         char *out, size_t cap)
{
    cJSON *root = NULL;
    size_t n = 0;
    /* cJSON stops at a NUL; the protocol forbids one anywhere in a line. */
    bool ok = len > 0 && len <= SYNC_SERVER_LINE_MAX && !memchr(req, '\0', len) &&
              !text_json_has_nul_escape(req, len); /* cJSON would cut a value there */
    cmd_fn fn = NULL;

    if (ok)
        root = cJSON_ParseWithLength(req, len);
    const cJSON *cmd = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "cmd") : NULL;
    for (size_t i = 0; cJSON_IsString(cmd) && !fn && i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd->valuestring, commands[i].name) == 0)
            fn = commands[i].fn;
    if (!fn || !fn(root, h, out, cap, &n))
        n = sync_put_reply(sync_reply_bad_request, out, cap);
    wipe_strings(root);
    cJSON_Delete(root);
    return n;
}
