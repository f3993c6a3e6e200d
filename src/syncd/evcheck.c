/* evcheck.c - see evcheck.h. */
#include "syncd/evcheck.h"

#include "util/text.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define SEQ_MAX 999999999999.0 /* what fits the 12 digits of a file name */
#define NAME_SHOWN_MAX 32      /* an unknown member's name is shown up to this length */

/* What a member's value is checked against: its rule, and the file's. */
typedef struct evcheck_ctx {
    const char *terminal_id;
    uint64_t name_seq;
} evcheck_ctx;

/* NULL if `v` has the member's form, else what is wrong, in words. */
typedef const char *(*evcheck_fn)(const cJSON *v, const evcheck_ctx *cx);

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* 8-4-4-4-12 hex digits, version 4, RFC 4122 variant; either case (it goes
 * into the Idempotency-Key header, so nothing but hex and dashes). */
static const char *check_event_id(const cJSON *v, const evcheck_ctx *cx)
{
    (void)cx;
    const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
    bool ok = s && strlen(s) == EVCHECK_ID_LEN - 1;
    for (size_t i = 0; ok && i < EVCHECK_ID_LEN - 1; i++)
        ok = (i == 8 || i == 13 || i == 18 || i == 23) ? s[i] == '-' : is_hex(s[i]);
    ok = ok && s[14] == '4' && strchr("89abAB", s[19]) != NULL;
    return ok ? NULL : "is not a UUID version 4";
}

static const char *check_terminal_id(const cJSON *v, const evcheck_ctx *cx)
{
    bool ok = cJSON_IsString(v) && strcmp(v->valuestring, cx->terminal_id) == 0;
    return ok ? NULL : "is not this terminal's id";
}

/* The number's value only; that it is written as a plain integer is seen in
 * the text (plain_numbers), since cJSON reads 1834, 1834.0 and 1.834e3 alike. */
static const char *check_seq(const cJSON *v, const evcheck_ctx *cx)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 1.0 && v->valuedouble <= SEQ_MAX)
        || v->valuedouble != (double)(uint64_t)v->valuedouble)
        return "is not an integer from 1 to 999999999999";
    return (uint64_t)v->valuedouble == cx->name_seq ? NULL : "differs from the seq in the file's name";
}

/* The card number form of bureau-api.md (A12345678) and the social security
 * card's record (shared/card-facts.md): 9 capital letters and digits. */
static const char *check_card_number(const cJSON *v, const evcheck_ctx *cx)
{
    (void)cx;
    const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
    bool ok = s && strlen(s) == 9;
    for (size_t i = 0; ok && i < 9; i++)
        ok = is_digit(s[i]) || (s[i] >= 'A' && s[i] <= 'Z');
    return ok ? NULL : "is not 9 capital letters and digits";
}

static const char *const kinds[] = { "pin_changed", "pin_blocked", "pin_change_unknown", "pin_reset" };

static const char *check_kind(const cJSON *v, const evcheck_ctx *cx)
{
    (void)cx;
    for (size_t i = 0; cJSON_IsString(v) && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(v->valuestring, kinds[i]) == 0)
            return NULL;
    return "is not pin_changed, pin_blocked, pin_change_unknown or pin_reset";
}

static unsigned num(const char *s, size_t n)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10u + (unsigned)(s[i] - '0');
    return v;
}

/* YYYY-MM-DDTHH:MM:SSZ, a real date and time: RFC 3339 in UTC, as the kiosk
 * writes it and the bureau reads it (no fraction, no offset, no leap second). */
static const char *check_occurred_at(const cJSON *v, const evcheck_ctx *cx)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    (void)cx;
    const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
    bool ok = s && strlen(s) == sizeof shape - 1;
    for (size_t i = 0; ok && i < sizeof shape - 1; i++)
        ok = shape[i] == 'd' ? is_digit(s[i]) : s[i] == shape[i];
    if (ok) {
        unsigned y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2);
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        ok = y >= 1 && mo >= 1 && mo <= 12 && d >= 1 && d <= mdays[mo - 1]
             && !(mo == 2 && d == 29 && !leap) && num(s + 11, 2) <= 23 && num(s + 14, 2) <= 59
             && num(s + 17, 2) <= 59;
    }
    return ok ? NULL : "is not a UTC time YYYY-MM-DDTHH:MM:SSZ";
}

/* bureau-api.md section 3: a reset's id, as the bureau makes it and
 * kiosk-sync passes it on: 1..63 of [A-Za-z0-9._-]. */
static const char *check_reset_id(const cJSON *v, const evcheck_ctx *cx)
{
    (void)cx;
    const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
    size_t n = s ? strlen(s) : 0;
    bool ok = n >= 1 && n <= EVCHECK_RESET_ID_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = is_digit(s[i]) || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')
             || strchr("._-", s[i]) != NULL;
    return ok ? NULL : "is not 1 to 63 letters, digits, '.', '_' or '-'";
}

/* bureau-api.md sections 2 and 3: these members, each at most once, nothing
 * else; the first six always, reset_id as `reset_kinds` below says. */
static const struct { const char *name; evcheck_fn check; } members[] = {
    { "event_id", check_event_id },     { "terminal_id", check_terminal_id },
    { "seq", check_seq },               { "card_number", check_card_number },
    { "kind", check_kind },             { "occurred_at", check_occurred_at },
    { "reset_id", check_reset_id },
};
#define NMEMBERS (sizeof members / sizeof members[0])
#define M_KIND 4     /* index of "kind" above */
#define M_RESET_ID 6 /* index of "reset_id" above */

/* The kinds a reset's record may take (section 3: the resolved pin_reset,
 * and the intent's unresolved pin_change_unknown), and whether reset_id is
 * then required. Every other kind must not carry one. */
static const struct { const char *kind; bool required; } reset_kinds[] = {
    { "pin_reset", true },
    { "pin_change_unknown", false },
};

/* Only printable ASCII and JSON's four whitespace characters: no member's
 * form holds anything else, and the rest (control bytes, a BOM, invalid
 * UTF-8) is where parsers disagree. */
static bool plain_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 0x20 && c <= 0x7e) || c == '\t' || c == '\n' || c == '\r'))
            return false;
    }
    return true;
}

/* Outside strings, numbers are digits only without a leading zero: a sign,
 * a fraction or an exponent is not a plain integer, and JSON forbids the
 * leading zero cJSON lets through. Called once every member has its type,
 * so the only number is seq and no true/false/null is left. */
static bool plain_numbers(const char *s, size_t n)
{
    bool in_str = false, ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (strchr("+-.eE", c)) {
            ok = false;
        } else if (c == '0' && i + 1 < n && is_digit(s[i + 1]) && !(i > 0 && is_digit(s[i - 1]))) {
            ok = false;
        }
    }
    return ok;
}

/* A member that is not ours is named in the reason only when its name is a
 * short plain word: a name made of digits could be a PIN. */
static void unexpected(const char *name, char *why, size_t whylen)
{
    size_t n = strlen(name);
    bool word = n >= 1 && n <= NAME_SHOWN_MAX;
    for (size_t i = 0; word && i < n; i++)
        word = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') || name[i] == '_';
    if (word)
        text_errf(why, whylen, "unexpected member \"%s\"", name);
    else
        text_errf(why, whylen, "a member that is not in bureau-api.md section 2");
}

/* reset_id is there exactly when the kind (already checked) asks for it. */
static bool check_reset_rule(const char *kind, bool has_reset_id, char *why, size_t whylen)
{
    for (size_t i = 0; i < sizeof reset_kinds / sizeof reset_kinds[0]; i++)
        if (strcmp(kind, reset_kinds[i].kind) == 0) {
            if (reset_kinds[i].required && !has_reset_id) {
                text_errf(why, whylen, "member reset_id is missing (kind %s)", kind);
                return false;
            }
            return true;
        }
    if (has_reset_id)
        text_errf(why, whylen, "unexpected member \"reset_id\" (kind %s)", kind);
    return !has_reset_id;
}

/* Each member of `root` is one of ours, seen once, of its form; then none is
 * missing. */
static bool check_members(const cJSON *root, const evcheck_ctx *cx, char *why, size_t whylen)
{
    bool seen[NMEMBERS] = { false };
    const cJSON *m;
    cJSON_ArrayForEach(m, root) {
        size_t i = 0;
        while (i < NMEMBERS && strcmp(m->string, members[i].name) != 0)
            i++;
        if (i == NMEMBERS) {
            unexpected(m->string, why, whylen);
            return false;
        }
        if (seen[i]) {
            text_errf(why, whylen, "member %s appears twice", members[i].name);
            return false;
        }
        seen[i] = true;
        const char *bad = members[i].check(m, cx);
        if (bad) {
            text_errf(why, whylen, "%s %s", members[i].name, bad);
            return false;
        }
    }
    for (size_t i = 0; i < NMEMBERS; i++) {
        if (!seen[i] && i != M_RESET_ID) {
            text_errf(why, whylen, "member %s is missing", members[i].name);
            return false;
        }
    }
    return check_reset_rule(cJSON_GetObjectItemCaseSensitive(root, members[M_KIND].name)->valuestring,
                            seen[M_RESET_ID], why, whylen);
}

bool evcheck_body(const char *body, size_t len, const char *terminal_id, uint64_t name_seq,
                  char event_id[EVCHECK_ID_LEN], char *why, size_t whylen)
{
    char text[EVCHECK_BODY_MAX + 1];
    const evcheck_ctx cx = { terminal_id ? terminal_id : "", name_seq };
    const char *end = NULL;
    cJSON *root = NULL;
    bool ok = false;

    if (len == 0 || len > EVCHECK_BODY_MAX) {
        text_errf(why, whylen, "empty or larger than %u bytes", EVCHECK_BODY_MAX);
        goto out;
    }
    if (!plain_ascii(body, len)) {
        text_errf(why, whylen, "holds a byte that is not printable ASCII");
        goto out;
    }
    if (text_json_has_nul_escape(body, len)) {
        text_errf(why, whylen, "holds \\u0000");
        goto out;
    }
    memcpy(text, body, len);
    text[len] = '\0';
    /* require_null_terminated: nothing but whitespace after the object. */
    root = cJSON_ParseWithOpts(text, &end, 1);
    if (!cJSON_IsObject(root)) {
        text_errf(why, whylen, "not one JSON object");
        goto out;
    }
    if (!check_members(root, &cx, why, whylen))
        goto out;
    if (!plain_numbers(text, len)) {
        text_errf(why, whylen, "seq is not written as a plain integer");
        goto out;
    }
    memcpy(event_id, cJSON_GetObjectItemCaseSensitive(root, "event_id")->valuestring, EVCHECK_ID_LEN);
    ok = true;
out:
    cJSON_Delete(root);
    return ok;
}
