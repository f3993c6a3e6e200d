#include "control/ctl_proto.h"

#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/secure.h"
#include "util/text.h"

/* Where a parse failure is recorded; every checker returns false through
   ctl_fail so that the code and message are always set together. */
typedef struct {
    const char *code;
    char *msg;
    size_t msglen;
} ctl_err;

static bool ctl_fail(ctl_err *e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool ctl_fail(ctl_err *e, const char *code, const char *fmt, ...)
{
    va_list ap;

    e->code = code;
    if (e->msg && e->msglen > 0) {
        va_start(ap, fmt);
        vsnprintf(e->msg, e->msglen, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* ---- character classes, as tables of allowed bytes per field ---------- */

typedef bool (*ctl_charset)(unsigned char c);

static bool cs_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static bool cs_alnum(unsigned char c)
{
    return cs_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
static bool cs_widget(unsigned char c) { return cs_alnum(c) || c == '.' || c == '_' || c == '-'; }
static bool cs_state(unsigned char c) { return cs_alnum(c) || c == '_'; }
/* A path may hold any byte but a control character (a newline in a file name
   only makes trouble for the scripts that read it back). */
static bool cs_path(unsigned char c) { return c >= 0x20 && c != 0x7f; }

/* ---- field readers ----------------------------------------------------- */

typedef enum { FIELD_ABSENT, FIELD_OK, FIELD_BAD } field_rc;

/* A JSON null counts as absent, so that scripts may pass None for defaults. */
static const cJSON *field_get(const cJSON *root, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, name);
    return (it == NULL || cJSON_IsNull(it)) ? NULL : it;
}

/* Copies a string field of minlen..maxlen bytes whose bytes all pass `cs` into
   out (size > maxlen). The value is never echoed: it may be a PIN. */
static field_rc field_string(const cJSON *root, const char *name, size_t minlen, size_t maxlen,
                             ctl_charset cs, char *out, size_t outsize, ctl_err *e)
{
    const cJSON *it = field_get(root, name);
    size_t n;

    if (it == NULL)
        return FIELD_ABSENT;
    if (!cJSON_IsString(it) || it->valuestring == NULL) {
        ctl_fail(e, "bad_field", "field \"%s\" must be a string", name);
        return FIELD_BAD;
    }
    n = strlen(it->valuestring);
    if (n < minlen || n > maxlen || n >= outsize) {
        ctl_fail(e, "bad_field", "field \"%s\" must be %zu to %zu characters", name, minlen, maxlen);
        return FIELD_BAD;
    }
    for (size_t i = 0; i < n; i++) {
        if (!cs((unsigned char)it->valuestring[i])) {
            ctl_fail(e, "bad_field", "field \"%s\" has a character that is not allowed", name);
            return FIELD_BAD;
        }
    }
    memcpy(out, it->valuestring, n + 1);
    return FIELD_OK;
}

static field_rc field_int(const cJSON *root, const char *name, int min, int max, int *out,
                          ctl_err *e)
{
    const cJSON *it = field_get(root, name);
    double v;

    if (it == NULL)
        return FIELD_ABSENT;
    if (!cJSON_IsNumber(it)) {
        ctl_fail(e, "bad_field", "field \"%s\" must be an integer", name);
        return FIELD_BAD;
    }
    v = it->valuedouble;
    /* The range test comes first (NaN fails it), so the cast is defined. */
    if (!(v >= (double)min && v <= (double)max) || (double)(int)v != v) {
        ctl_fail(e, "bad_field", "field \"%s\" must be an integer from %d to %d", name, min, max);
        return FIELD_BAD;
    }
    *out = (int)v;
    return FIELD_OK;
}

static field_rc field_bool(const cJSON *root, const char *name, bool *out, ctl_err *e)
{
    const cJSON *it = field_get(root, name);

    if (it == NULL)
        return FIELD_ABSENT;
    if (!cJSON_IsBool(it)) {
        ctl_fail(e, "bad_field", "field \"%s\" must be true or false", name);
        return FIELD_BAD;
    }
    *out = cJSON_IsTrue(it);
    return FIELD_OK;
}

/* A string field that must be one of the NULL-terminated `words`; its index
   goes to *idx. */
static field_rc field_word(const cJSON *root, const char *name, const char *const *words,
                           size_t *idx, ctl_err *e)
{
    const cJSON *it = field_get(root, name);

    if (it == NULL)
        return FIELD_ABSENT;
    if (cJSON_IsString(it) && it->valuestring) {
        for (size_t i = 0; words[i]; i++) {
            if (strcmp(it->valuestring, words[i]) == 0) {
                *idx = i;
                return FIELD_OK;
            }
        }
    }
    ctl_fail(e, "bad_field", "field \"%s\" is not one of the allowed words", name);
    return FIELD_BAD;
}

static bool required(field_rc rc, const char *name, ctl_err *e)
{
    if (rc == FIELD_ABSENT)
        return ctl_fail(e, "missing_field", "missing field \"%s\"", name);
    return rc == FIELD_OK;
}

static bool optional(field_rc rc)
{
    return rc != FIELD_BAD;
}

/* ---- word tables -------------------------------------------------------- */

static const char *const ctl_key_names[] = {
    "Return", "Escape", "Backspace",
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
    "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F11", "F12",
    NULL
};
static const char *const ctl_card_actions[] = { "insert", "remove", NULL };
static const ctl_card_action ctl_card_action_vals[] = { CTL_CARD_INSERT, CTL_CARD_REMOVE };
static const char *const ctl_profiles[] = { "ssse", "iso7816", NULL };
static const char *const ctl_faults[] = { "none", "pull", "garbage", "truncated", NULL };
/* The words of card_op_name() (src/card/apdu.c), which the app maps back
 * with card_op_from_name(); kept here so that this parser needs no card
 * layer. */
static const char *const ctl_card_ops[] = { "read", "verify", "change", "challenge", "reset", NULL };

static void copy_word(char *out, size_t outsize, const char *word)
{
    snprintf(out, outsize, "%s", word);
}

/* ---- per-command parsers ------------------------------------------------ */

typedef bool (*ctl_parse_fn)(const cJSON *root, ctl_request *req, ctl_err *e);

static bool parse_nothing(const cJSON *root, ctl_request *req, ctl_err *e)
{
    (void)root;
    (void)req;
    (void)e;
    return true;
}

static bool parse_tap(const cJSON *root, ctl_request *req, ctl_err *e)
{
    field_rc w, x, y;
    const cJSON *id;

    w = field_string(root, "widget", 1, sizeof req->widget - 1, cs_widget, req->widget,
                     sizeof req->widget, e);
    if (w == FIELD_BAD)
        return false;
    /* A long press: the finger stays down this long (the service gesture). */
    if (field_int(root, "hold_ms", 0, CTL_HOLD_MAX_MS, &req->hold_ms, e) == FIELD_BAD)
        return false;
    x = field_int(root, "x", 0, CTL_COORD_MAX, &req->x, e);
    if (x == FIELD_BAD)
        return false;
    y = field_int(root, "y", 0, CTL_COORD_MAX, &req->y, e);
    if (y == FIELD_BAD)
        return false;
    if (x != y)
        return ctl_fail(e, "missing_field", "missing field \"%s\" (a point needs both x and y)",
                        x == FIELD_ABSENT ? "x" : "y");
    req->has_xy = (x == FIELD_OK);
    if (w == FIELD_OK && req->has_xy)
        return ctl_fail(e, "bad_field", "tap takes a widget or x and y, not both");
    if (w == FIELD_OK || req->has_xy)
        return true;
    /* The contract's form: the widget is the request's "id". */
    id = field_get(root, "id");
    if (id == NULL || !cJSON_IsString(id))
        return ctl_fail(e, "missing_field", "missing field \"id\" (a widget) or \"x\" and \"y\"");
    return required(field_string(root, "id", 1, sizeof req->widget - 1, cs_widget, req->widget,
                                 sizeof req->widget, e),
                    "id", e);
}

static bool parse_type(const cJSON *root, ctl_request *req, ctl_err *e)
{
    return required(field_string(root, "digits", 1, sizeof req->digits - 1, cs_digit,
                                 req->digits, sizeof req->digits, e),
                    "digits", e);
}

static bool parse_key(const cJSON *root, ctl_request *req, ctl_err *e)
{
    size_t i = 0;

    if (!required(field_word(root, "name", ctl_key_names, &i, e), "name", e))
        return false;
    copy_word(req->key, sizeof req->key, ctl_key_names[i]);
    return true;
}

static bool parse_wait(const cJSON *root, ctl_request *req, ctl_err *e)
{
    req->timeout_ms = CTL_WAIT_DEFAULT_MS;
    return required(field_string(root, "state", 1, sizeof req->state - 1, cs_state, req->state,
                                 sizeof req->state, e),
                    "state", e) &&
           optional(field_int(root, "timeout_ms", 0, CTL_WAIT_MAX_MS, &req->timeout_ms, e));
}

static bool parse_screenshot(const cJSON *root, ctl_request *req, ctl_err *e)
{
    if (!required(field_string(root, "path", 1, sizeof req->path - 1, cs_path, req->path,
                               sizeof req->path, e),
                  "path", e))
        return false;
    if (req->path[0] != '/')
        return ctl_fail(e, "bad_field", "field \"path\" must be an absolute path");
    return true;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "YYYYMMDD" naming a day that exists (20240230 does not). */
static bool expiry_valid(const char *s)
{
    static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, m, d;

    if (strlen(s) != 8)
        return false;
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    m = (s[4] - '0') * 10 + (s[5] - '0');
    d = (s[6] - '0') * 10 + (s[7] - '0');
    if (y < 1 || m < 1 || m > 12 || d < 1)
        return false;
    return d <= mdays[m - 1] + (m == 2 && is_leap(y));
}

static bool parse_card_insert(const cJSON *root, ctl_request *req, ctl_err *e)
{
    size_t i = 0;
    field_rc rc;

    req->tries = CTL_CARD_TRIES_DEFAULT;
    copy_word(req->pin, sizeof req->pin, CTL_CARD_PIN_DEFAULT);
    copy_word(req->fault, sizeof req->fault, "none");

    if (!required(field_string(root, "card_number", 1, sizeof req->card_number - 1, cs_alnum,
                               req->card_number, sizeof req->card_number, e),
                  "card_number", e))
        return false;
    if (!optional(field_string(root, "pin", 4, sizeof req->pin - 1, cs_digit, req->pin,
                               sizeof req->pin, e)) ||
        !optional(field_int(root, "tries", 1, 15, &req->tries, e)) ||
        !optional(field_bool(root, "blocked", &req->blocked, e)) ||
        !optional(field_bool(root, "locked", &req->locked, e)) ||
        !optional(field_int(root, "delay_ms", 0, CTL_DELAY_MAX_MS, &req->delay_ms, e)))
        return false;

    rc = field_word(root, "profile", ctl_profiles, &i, e);
    if (rc == FIELD_BAD)
        return false;
    if (rc == FIELD_OK)
        copy_word(req->profile, sizeof req->profile, ctl_profiles[i]);

    rc = field_word(root, "fault", ctl_faults, &i, e);
    if (rc == FIELD_BAD)
        return false;
    if (rc == FIELD_OK)
        copy_word(req->fault, sizeof req->fault, ctl_faults[i]);

    rc = field_word(root, "fault_on", ctl_card_ops, &i, e);
    if (rc == FIELD_BAD)
        return false;
    if (rc == FIELD_OK)
        copy_word(req->fault_on, sizeof req->fault_on, ctl_card_ops[i]);

    rc = field_word(root, "delay_on", ctl_card_ops, &i, e);
    if (rc == FIELD_BAD)
        return false;
    if (rc == FIELD_OK)
        copy_word(req->delay_on, sizeof req->delay_on, ctl_card_ops[i]);

    /* A fault or a delay without the operation it applies to is a script's
     * mistake: refuse it rather than guess "read". */
    if (strcmp(req->fault, "none") != 0 && req->fault_on[0] == '\0')
        return ctl_fail(e, "missing_field", "field \"fault_on\" is required with \"fault\"");
    if (req->delay_ms > 0 && req->delay_on[0] == '\0')
        return ctl_fail(e, "missing_field", "field \"delay_on\" is required with \"delay_ms\"");

    rc = field_string(root, "expiry", 8, 8, cs_digit, req->expiry, sizeof req->expiry, e);
    if (rc == FIELD_BAD)
        return false;
    if (rc == FIELD_OK && !expiry_valid(req->expiry))
        return ctl_fail(e, "bad_field", "field \"expiry\" must be a date as YYYYMMDD");
    return true;
}

static bool parse_card(const cJSON *root, ctl_request *req, ctl_err *e)
{
    size_t i = 0;

    if (!required(field_word(root, "action", ctl_card_actions, &i, e), "action", e))
        return false;
    req->action = ctl_card_action_vals[i];
    return req->action == CTL_CARD_INSERT ? parse_card_insert(root, req, e) : true;
}

static const struct {
    const char *name;
    ctl_cmd cmd;
    ctl_parse_fn parse;
} ctl_cmds[CTL__LAST] = {
    { "state", CTL_STATE, parse_nothing },
    { "layout", CTL_LAYOUT, parse_nothing },
    { "tap", CTL_TAP, parse_tap },
    { "type", CTL_TYPE, parse_type },
    { "key", CTL_KEY, parse_key },
    { "wait", CTL_WAIT, parse_wait },
    { "screenshot", CTL_SCREENSHOT, parse_screenshot },
    { "card", CTL_CARD, parse_card },
    { "subscribe", CTL_SUBSCRIBE, parse_nothing },
    { "quit", CTL_QUIT, parse_nothing },
    { "stats", CTL_STATS, parse_nothing },
};

const char *ctl_cmd_name(ctl_cmd c)
{
    if ((unsigned)c >= CTL__LAST)
        return "?";
    return ctl_cmds[c].name;
}

/* ---- the line ----------------------------------------------------------- */

void ctl_json_wipe(cJSON *item)
{
    for (; item; item = item->next) {
        if (item->string)
            secure_wipe(item->string, strlen(item->string));
        if (cJSON_IsString(item) && item->valuestring)
            secure_wipe(item->valuestring, strlen(item->valuestring));
        ctl_json_wipe(item->child);
    }
}

static void wiping_free(void *p)
{
    if (p) {
        secure_wipe(p, malloc_usable_size(p));
        free(p);
    }
}

static void install_wiping_hooks(void)
{
    cJSON_Hooks hooks = { .malloc_fn = malloc, .free_fn = wiping_free };
    cJSON_InitHooks(&hooks);
}

void ctl_json_wipe_on_free(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_wiping_hooks);
}

bool ctl_parse(const char *line, size_t len, ctl_request *req, const char **code, char *msg,
               size_t msglen)
{
    ctl_err e = { "malformed", msg, msglen };
    const char *dummy_code;

    const char *end = NULL;
    cJSON *root = NULL;
    const cJSON *id, *cmd;
    bool ok = false;

    if (code == NULL)
        code = &dummy_code;
    memset(req, 0, sizeof *req);
    if (msg && msglen)
        msg[0] = '\0';

    if (len == 0 || text_only_whitespace(line, line + len)) {
        ctl_fail(&e, "malformed", "empty line");
        goto out;
    }
    if (memchr(line, '\0', len) != NULL || text_json_has_nul_escape(line, len)) {
        ctl_fail(&e, "malformed", "NUL byte in line");
        goto out;
    }
    root = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    if (root == NULL) {
        ctl_fail(&e, "malformed", "not valid JSON");
        goto out;
    }
    if (end == NULL || end < line || end > line + len || !text_only_whitespace(end, line + len)) {
        ctl_fail(&e, "malformed", "more than one JSON value on the line");
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        ctl_fail(&e, "malformed", "a request must be a JSON object");
        goto out;
    }

    /* The id first, so that every later error can still echo it. */
    id = cJSON_GetObjectItemCaseSensitive(root, "id");
    if (id != NULL) {
        req->id_json = cJSON_PrintUnformatted(id);
        if (req->id_json == NULL) {
            ctl_fail(&e, "malformed", "out of memory");
            goto out;
        }
    }

    cmd = cJSON_GetObjectItemCaseSensitive(root, "cmd");
    if (cmd == NULL || cJSON_IsNull(cmd)) {
        ctl_fail(&e, "missing_field", "missing field \"cmd\"");
        goto out;
    }
    if (!cJSON_IsString(cmd) || cmd->valuestring == NULL) {
        ctl_fail(&e, "bad_field", "field \"cmd\" must be a string");
        goto out;
    }
    for (size_t i = 0; i < CTL__LAST; i++) {
        if (strcmp(cmd->valuestring, ctl_cmds[i].name) == 0) {
            req->cmd = ctl_cmds[i].cmd;
            ok = ctl_cmds[i].parse(root, req, &e);
            goto out;
        }
    }
    ctl_fail(&e, "unknown_command", "unknown command");

out:
    if (root) {
        ctl_json_wipe(root);
        cJSON_Delete(root);
    }
    if (!ok) {
        /* Keep only what an error reply needs: the id. */
        char *id_json = req->id_json;
        secure_wipe(req, sizeof *req);
        req->id_json = id_json;
    }
    *code = ok ? NULL : e.code;
    return ok;
}

void ctl_request_clear(ctl_request *req)
{
    if (req == NULL)
        return;
    if (req->id_json)
        cJSON_free(req->id_json);
    secure_wipe(req, sizeof *req);
}

/* ---- replies ------------------------------------------------------------ */

static bool reserved_member(const char *name)
{
    static const char *const reserved[] = { "ok", "error", "id", NULL };

    for (size_t i = 0; reserved[i]; i++)
        if (name && strcmp(name, reserved[i]) == 0)
            return true;
    return false;
}

/* Builds {"ok":..., ["error":..., "message":...,] fields..., ["id":...]}\n.
   Consumes `fields` on every path. */
static char *reply_build(const char *id_json, bool ok, const char *code, const char *message,
                         cJSON *fields)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *it, *id = NULL;
    char *text = NULL, *line = NULL;
    size_t n;

    if (root == NULL || cJSON_AddBoolToObject(root, "ok", ok) == NULL)
        goto out;
    if (!ok) {
        if (cJSON_AddStringToObject(root, "error", code ? code : "error") == NULL)
            goto out;
        if (message && cJSON_AddStringToObject(root, "message", message) == NULL)
            goto out;
    }
    if (fields != NULL && cJSON_IsObject(fields)) {
        while ((it = fields->child) != NULL) {
            cJSON_DetachItemViaPointer(fields, it);
            if (it->string == NULL || reserved_member(it->string)) {
                cJSON_Delete(it);
                continue;
            }
            if (!cJSON_AddItemToObject(root, it->string, it)) {
                cJSON_Delete(it);
                goto out;
            }
        }
    }
    if (id_json) {
        /* An id that does not parse back (a caller's bug) is left out rather
           than sent as broken JSON. */
        id = cJSON_Parse(id_json);
        if (id) {
            if (!cJSON_AddItemToObject(root, "id", id)) {
                cJSON_Delete(id);
                goto out;
            }
        }
    }
    text = cJSON_PrintUnformatted(root);
    if (text == NULL)
        goto out;
    n = strlen(text);
    line = malloc(n + 2);
    if (line == NULL)
        goto out;
    memcpy(line, text, n);
    line[n] = '\n';
    line[n + 1] = '\0';

out:
    if (text)
        cJSON_free(text);
    cJSON_Delete(fields);
    cJSON_Delete(root);
    return line;
}

char *ctl_reply_ok(const char *id_json, cJSON *fields)
{
    return reply_build(id_json, true, NULL, NULL, fields);
}

char *ctl_reply_error(const char *id_json, const char *code, const char *message)
{
    return reply_build(id_json, false, code, message, NULL);
}

char *ctl_reply_error_fields(const char *id_json, const char *code, const char *message,
                             cJSON *fields)
{
    return reply_build(id_json, false, code, message, fields);
}
