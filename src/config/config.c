#include "config/config.h"

#include "service/tcode.h"
#include "util/text.h"

#include "util/log.h"

#include <ini.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A config file is a page of text; anything bigger is a mistake (a log or a
 * binary given by accident), and refusing it early bounds the work. */
#define CFG_FILE_MAX (64 * 1024)

/* Enums are stored through an int-sized write (cfg_store). */
_Static_assert(sizeof(cfg_backend) == sizeof(int), "cfg_backend is int-sized");
_Static_assert(sizeof(cfg_profile) == sizeof(int), "cfg_profile is int-sized");
_Static_assert(sizeof(cfg_offline) == sizeof(int), "cfg_offline is int-sized");

typedef struct cfg_key cfg_key;

/* Turns `value` into the key's field of `c`. On a bad value it writes why
 * (without the "name:line: key: " prefix) into `why` and leaves `c` alone. */
typedef bool (*cfg_parse_fn)(const cfg_key *k, kiosk_config *c, const char *value,
                             char *why, size_t whylen);

typedef struct {
    const char *text;
    int value;
} cfg_choice;

enum { CFG_HEX = 1 }; /* cfg_key.flags: "0x80" is accepted as well as "128" */

struct cfg_key {
    const char *section, *name;
    cfg_parse_fn parse;
    size_t offset, size;      /* the field in kiosk_config */
    const char *def;          /* the default, as it would be written in the file */
    long min, max;            /* numbers: inclusive range; initial: digits per PIN */
    const cfg_choice *choices; /* choices and words: ends with a NULL text */
    unsigned flags;
};

static bool cfg_parse_string(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n);
static bool cfg_parse_int(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n);
static bool cfg_parse_choice(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n);
static bool cfg_parse_word(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n);
static bool cfg_parse_initial(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n);
static bool cfg_parse_code_hash(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n);

static const cfg_choice cfg_bool[] = {
    { "true", 1 }, { "false", 0 }, { "yes", 1 }, { "no", 0 }, { "1", 1 }, { "0", 0 }, { NULL, 0 },
};
static const cfg_choice cfg_languages[] = { { "zh", 0 }, { "en", 0 }, { NULL, 0 } };
static const cfg_choice cfg_backends[] = {
    { "pcsc", CFG_BACKEND_PCSC }, { "sim", CFG_BACKEND_SIM }, { NULL, 0 },
};
static const cfg_choice cfg_profiles[] = {
    { "auto", CFG_PROFILE_AUTO }, { "ssse", CFG_PROFILE_SSSE }, { "iso7816", CFG_PROFILE_ISO7816 },
    { NULL, 0 },
};
static const cfg_choice cfg_paddings[] = { { "ascii", 0 }, { "bcd", 1 }, { NULL, 0 } };
static const cfg_choice cfg_offline_policies[] = {
    { "allow", CFG_OFFLINE_ALLOW }, { "deny", CFG_OFFLINE_DENY }, { NULL, 0 },
};

#define CFG_FIELD(f) offsetof(kiosk_config, f), sizeof(((kiosk_config *)0)->f)
#define K_STR(s, n, f, d)            { s, n, cfg_parse_string, CFG_FIELD(f), d, 0, 0, NULL, 0 }
#define K_INT(s, n, f, d, lo, hi)    { s, n, cfg_parse_int, CFG_FIELD(f), d, lo, hi, NULL, 0 }
#define K_HEX(s, n, f, d, lo, hi)    { s, n, cfg_parse_int, CFG_FIELD(f), d, lo, hi, NULL, CFG_HEX }
#define K_BOOL(s, n, f, d)           { s, n, cfg_parse_choice, CFG_FIELD(f), d, 0, 0, cfg_bool, 0 }
#define K_CHOICE(s, n, f, d, ch)     { s, n, cfg_parse_choice, CFG_FIELD(f), d, 0, 0, ch, 0 }
#define K_WORD(s, n, f, d, ch)       { s, n, cfg_parse_word, CFG_FIELD(f), d, 0, 0, ch, 0 }

#define CFG_PIN_MIN 4
#define CFG_PIN_MAX 12
_Static_assert(CFG_PIN_MAX < sizeof(((kiosk_config *)0)->pin_initial[0]), "initial PIN fits");

/* Every key the kiosk reads, with its default: config_defaults() parses the
 * default texts below, so this table is where each default is set. Keep
 * kiosk.conf in step with it. */
static const cfg_key cfg_keys[] = {
    /* Identifies the terminal to the bureau; a placeholder until provisioned. */
    K_STR("terminal", "id", terminal_id, "TEST-0001"),

    /* A kiosk covers the whole screen; 0 x 0 takes the desktop's size. */
    K_BOOL("display", "fullscreen", fullscreen, "true"),
    K_INT("display", "width", width, "1920", 0, 16384),
    K_INT("display", "height", height, "1080", 0, 16384),

    /* Most citizens read Chinese; the screen offers English too. */
    K_WORD("ui", "language", language, "zh", cfg_languages),
    K_INT("ui", "idle_timeout_s", idle_timeout_s, "30", 5, 600),
    K_INT("ui", "warning_s", warning_s, "15", 3, 120),
    K_BOOL("ui", "scramble_keypad", scramble_keypad, "false"),

    /* Social security cards use six-digit PINs, issued as 123456. */
    K_INT("pin", "length", pin_length, "6", CFG_PIN_MIN, CFG_PIN_MAX),
    { "pin", "initial", cfg_parse_initial, CFG_FIELD(pin_initial), "123456",
      CFG_PIN_MIN, CFG_PIN_MAX, NULL, 0 },

    /* A real reader unless told otherwise; sim is for development. */
    K_CHOICE("card", "backend", card_backend, "pcsc", cfg_backends),
    K_STR("card", "reader", card_reader, ""),
    K_CHOICE("card", "profile", card_profile, "auto", cfg_profiles),
    K_HEX("card", "iso_pin_ref", iso_pin_ref, "0x80", 0, 255),
    K_CHOICE("card", "iso_pin_padding", iso_pin_bcd, "ascii", cfg_paddings),

    K_STR("outbox", "dir", outbox_dir, "/var/lib/kiosk/outbox"),

    K_STR("sync", "socket", sync_socket, "/run/kiosk/sync.sock"),
    /* A citizen should not be turned away because the network is down: the
     * change is recorded and reported later. */
    K_CHOICE("sync", "offline_policy", offline_policy, "allow", cfg_offline_policies),
    K_INT("sync", "heartbeat_s", heartbeat_s, "300", 10, 86400),
    K_INT("sync", "status_timeout_ms", status_timeout_ms, "3000", 100, 30000),
    /* kiosk-sync's backoff: a fleet coming back after an outage spreads its
     * retries over the cap; tests shorten both to see recovery in seconds. */
    K_INT("sync", "retry_base_ms", retry_base_ms, "1000", 100, 60000),
    K_INT("sync", "retry_cap_s", retry_cap_s, "300", 1, 3600),
    /* An event file kiosk-sync cannot read (not ours, an I/O error, not a
     * regular file) is stepped round and retried meanwhile; an hour leaves
     * room for a passing fault or a technician's fix before it is set aside
     * as a dead letter (where the service screen shows it and can send it
     * again). Up to a week; tests use seconds. */
    K_INT("sync", "dead_after_s", dead_after_s, "3600", 1, 604800),

    /* No bureau until provisioned: kiosk-sync refuses to start without url. */
    K_STR("bureau", "url", bureau_url, ""),
    K_STR("bureau", "ca_file", ca_file, ""),
    K_STR("bureau", "client_cert", client_cert, ""),
    K_STR("bureau", "client_key", client_key, ""),
    K_STR("bureau", "pinned_pubkey", pinned_pubkey, ""),
    K_INT("bureau", "connect_timeout_s", connect_timeout_s, "5", 1, 60),
    K_INT("bureau", "timeout_s", timeout_s, "10", 1, 300),

    /* Automation is opt-in. */
    K_STR("control", "socket", control_socket, ""),

    /* The technician's screen: none until a code's salted hash is set
     * (kiosk-code-hash makes the line). */
    { "service", "code_hash", cfg_parse_code_hash, CFG_FIELD(service_code_hash), "", 0, 0, NULL, 0 },
    K_INT("service", "idle_s", service_idle_s, "60", 5, 600),
};

#define CFG_NKEYS (sizeof cfg_keys / sizeof cfg_keys[0])

/* State of one load, shared by the reader and the handler. */
typedef struct {
    kiosk_config work;       /* parsed into; copied out only on success */
    const char *name;
    const char *text;        /* the whole file, for messages about a line */
    const char *pos;         /* next unread character */
    int line;                /* line number of the line inih is working on */
    int line_of[CFG_NKEYS];  /* where each key was set; 0 = not set */
    bool failed;
    int fail_line;
    char *err;
    size_t errlen;
} cfg_parse;

/* Records the first problem as "<name>:<line>: <what>"; returns 0 so that a
 * handler can `return cfg_fail(...)`. */
static int cfg_fail(cfg_parse *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int cfg_fail(cfg_parse *p, int line, const char *fmt, ...)
{
    char what[384];
    va_list ap;

    if (p->failed)
        return 0;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    text_errf(p->err, p->errlen, "%s:%d: %s", p->name, line, what);
    p->failed = true;
    p->fail_line = line;
    return 0;
}

static void cfg_store(void *dst, size_t size, long v)
{
    if (size == sizeof(bool))
        *(bool *)dst = v != 0;
    else
        *(int *)dst = (int)v;
}

static bool cfg_parse_string(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n)
{
    char *dst = (char *)c + k->offset;
    size_t len = strlen(v);

    /* Quotes allow an explicit empty value (reader = "") and are not part
     * of the value. */
    if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
        v++;
        len -= 2;
    }
    if (len >= k->size) {
        snprintf(why, n, "value is %zu characters long, at most %zu fit", len, k->size - 1);
        return false;
    }
    memcpy(dst, v, len);
    dst[len] = '\0';
    return true;
}

/* Checked here, so that a mistyped hash stops the start with its line
 * number instead of silently locking the technician out. */
static bool cfg_parse_code_hash(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n)
{
    tcode t;
    bool ok = v[0] == '\0' || tcode_parse(v, &t, why, n);
    if (ok)
        ok = cfg_parse_string(k, c, v, why, n);
    explicit_bzero(&t, sizeof t);
    return ok;
}

static bool cfg_parse_int(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n)
{
    const char *digits = v, *p;
    int base = 10;
    long val;

    if ((k->flags & CFG_HEX) && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
        base = 16;
        digits = v + 2;
    } else if (v[0] == '-') {
        digits = v + 1;
    }
    for (p = digits; *p != '\0'; p++)
        if (base == 16 ? !isxdigit((unsigned char)*p) : !isdigit((unsigned char)*p))
            break;
    if (*digits == '\0' || *p != '\0') {
        snprintf(why, n, "'%.40s' is not a %s", v,
                 (k->flags & CFG_HEX) ? "number (decimal or 0x hex)" : "whole number");
        return false;
    }
    errno = 0;
    val = strtol(base == 16 ? digits : v, NULL, base);
    if (errno == ERANGE || val < k->min || val > k->max) {
        snprintf(why, n, "%.40s is out of range %ld..%ld", v, k->min, k->max);
        return false;
    }
    cfg_store((char *)c + k->offset, k->size, val);
    return true;
}

static const cfg_choice *cfg_choose(const cfg_key *k, const char *v, char *why, size_t n)
{
    const cfg_choice *ch;
    size_t used;

    for (ch = k->choices; ch->text != NULL; ch++)
        if (strcasecmp(ch->text, v) == 0)
            return ch;
    used = (size_t)snprintf(why, n, "'%.40s' is not one of", v);
    for (ch = k->choices; ch->text != NULL && used < n; ch++)
        used += (size_t)snprintf(why + used, n - used, "%s %s", ch == k->choices ? "" : ",", ch->text);
    return NULL;
}

static bool cfg_parse_choice(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n)
{
    const cfg_choice *ch = cfg_choose(k, v, why, n);

    if (ch == NULL)
        return false;
    cfg_store((char *)c + k->offset, k->size, ch->value);
    return true;
}

/* A string limited to a list of words; stores the word as the table spells it. */
static bool cfg_parse_word(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n)
{
    const cfg_choice *ch = cfg_choose(k, v, why, n);

    if (ch == NULL)
        return false;
    snprintf((char *)c + k->offset, k->size, "%s", ch->text);
    return true;
}

/* "123456, 000000": up to CFG_MAX_INITIAL PINs of digits. Whether each has
 * pin_length digits is checked once the whole file is read (cfg_check), as
 * [pin] length may come later. Messages name the PIN by position only. */
static bool cfg_parse_initial(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n)
{
    char list[CFG_MAX_INITIAL][sizeof c->pin_initial[0]];
    int count = 0;
    const char *p = v;

    memset(list, 0, sizeof list);
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        while (len > 0 && isspace((unsigned char)*p)) {
            p++;
            len--;
        }
        while (len > 0 && isspace((unsigned char)p[len - 1]))
            len--;
        if (count == CFG_MAX_INITIAL) {
            snprintf(why, n, "more than %d initial PINs", CFG_MAX_INITIAL);
            return false;
        }
        if (len == 0) {
            snprintf(why, n, "initial PIN #%d is empty", count + 1);
            return false;
        }
        for (size_t i = 0; i < len; i++) {
            if (!isdigit((unsigned char)p[i])) {
                snprintf(why, n, "initial PIN #%d has a character that is not a digit", count + 1);
                return false;
            }
        }
        if (len < (size_t)k->min || len > (size_t)k->max) {
            snprintf(why, n, "initial PIN #%d has %zu digits, a PIN has %ld..%ld", count + 1, len,
                     k->min, k->max);
            return false;
        }
        memcpy(list[count], p, len);
        count++;
        if (end == NULL)
            break;
        p = end + 1;
    }
    memcpy(c->pin_initial, list, sizeof list);
    c->pin_initial_count = count;
    return true;
}

static const cfg_key *cfg_find(const char *section, const char *name)
{
    for (size_t i = 0; i < CFG_NKEYS; i++)
        if (strcmp(cfg_keys[i].section, section) == 0 && strcmp(cfg_keys[i].name, name) == 0)
            return &cfg_keys[i];
    return NULL;
}

static bool cfg_section_known(const char *section, size_t len)
{
    for (size_t i = 0; i < CFG_NKEYS; i++)
        if (strlen(cfg_keys[i].section) == len && strncmp(cfg_keys[i].section, section, len) == 0)
            return true;
    return false;
}

static size_t cfg_index(const char *section, const char *name)
{
    return (size_t)(cfg_find(section, name) - cfg_keys);
}

static int cfg_handler(void *user, const char *section, const char *name, const char *value)
{
    cfg_parse *p = user;
    const cfg_key *k;
    size_t i;
    char why[256];

    if (p->failed)
        return 0;
    if (section[0] == '\0')
        return cfg_fail(p, p->line, "'%s' is outside any section; put it under its [section]", name);
    k = cfg_find(section, name);
    if (k == NULL) {
        if (!cfg_section_known(section, strlen(section)))
            return cfg_fail(p, p->line, "unknown section [%s]", section);
        return cfg_fail(p, p->line, "unknown key '%s' in [%s]", name, section);
    }
    i = (size_t)(k - cfg_keys);
    if (p->line_of[i] != 0)
        return cfg_fail(p, p->line, "duplicate key '%s' in [%s] (first set on line %d)", name,
                        section, p->line_of[i]);
    p->line_of[i] = p->line;
    if (!k->parse(k, &p->work, value, why, sizeof why))
        return cfg_fail(p, p->line, "%s: %s", name, why);
    return 1;
}

/* Feeds inih one line at a time so that the handler knows the line number,
 * and stops the parse at the first problem by reporting end of input. It
 * also removes leading blanks, which inih would otherwise take for the
 * continuation of the previous value, and checks section headers here so
 * that an unknown section is reported on its own line. */
static char *cfg_reader(char *buf, int num, void *stream)
{
    cfg_parse *p = stream;
    const char *s = p->pos, *nl, *close;
    size_t len;

    if (p->failed || *s == '\0')
        return NULL;
    p->line++;
    nl = strchr(s, '\n');
    len = nl ? (size_t)(nl - s) + 1 : strlen(s);
    p->pos = s + len;
    if (p->line == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        len -= 3;
    }
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    if (num < 3 || len > (size_t)num - 1) {
        cfg_fail(p, p->line, "line is longer than %d characters", num - 2);
        return NULL;
    }
    if (len > 0 && *s == '[') {
        close = memchr(s, ']', len);
        if (close == NULL) {
            cfg_fail(p, p->line, "'[' without a closing ']'");
            return NULL;
        }
        if (!cfg_section_known(s + 1, (size_t)(close - s - 1))) {
            cfg_fail(p, p->line, "unknown section [%.*s]", (int)(close - s - 1), s + 1);
            return NULL;
        }
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}

/* The start of line `line` of the text. */
static const char *cfg_line_start(const char *text, int line)
{
    for (int i = 1; i < line && text != NULL; i++) {
        text = strchr(text, '\n');
        if (text != NULL)
            text++;
    }
    return text ? text : "";
}

static int cfg_max_line(const cfg_parse *p, const char *section, const char *a, const char *b)
{
    int la = p->line_of[cfg_index(section, a)], lb = p->line_of[cfg_index(section, b)];

    return la > lb ? la : lb;
}

/* Rules between keys, checked once every key is known. A problem is
 * reported on the later of the lines involved: the point where it arose. */
static void cfg_check(cfg_parse *p)
{
    const kiosk_config *c = &p->work;
    int line;

    for (int i = 0; i < c->pin_initial_count; i++) {
        size_t len = strlen(c->pin_initial[i]);

        if (len != (size_t)c->pin_length) {
            line = cfg_max_line(p, "pin", "initial", "length");
            cfg_fail(p, line, "initial PIN #%d has %zu digits but [pin] length is %d", i + 1, len,
                     c->pin_length);
            return;
        }
    }
    /* Keys the kiosk cannot run without may not be set empty. */
    static const struct { const char *section, *name; size_t off; } required[] = {
        { "terminal", "id", offsetof(kiosk_config, terminal_id) },
        { "outbox", "dir", offsetof(kiosk_config, outbox_dir) },
        { "sync", "socket", offsetof(kiosk_config, sync_socket) },
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        if (((const char *)c + required[i].off)[0] == '\0') {
            cfg_fail(p, p->line_of[cfg_index(required[i].section, required[i].name)],
                     "[%s] %s must not be empty", required[i].section, required[i].name);
            return;
        }
    }
    if (!c->fullscreen && (c->width == 0 || c->height == 0)) {
        line = cfg_max_line(p, "display", "width", "height");
        if (p->line_of[cfg_index("display", "fullscreen")] > line)
            line = p->line_of[cfg_index("display", "fullscreen")];
        cfg_fail(p, line, "width and height must not be 0 when fullscreen is false");
    }
}

void config_defaults(kiosk_config *c)
{
    char why[256];

    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < CFG_NKEYS; i++) {
        if (!cfg_keys[i].parse(&cfg_keys[i], c, cfg_keys[i].def, why, sizeof why)) {
            /* A bad default is a bug in the table above, not in a file. */
            log_err("config", "default of [%s] %s: %s", cfg_keys[i].section, cfg_keys[i].name, why);
            abort();
        }
    }
}

bool config_load_string(kiosk_config *c, const char *text, const char *name, char *err, size_t errlen)
{
    cfg_parse *p = NULL;
    bool ok = false;
    int ret;

    if (name == NULL)
        name = "(config)";
    if (c == NULL || text == NULL) {
        text_errf(err, errlen, "%s: no config given", name);
        goto out;
    }
    p = calloc(1, sizeof *p);
    if (p == NULL) {
        text_errf(err, errlen, "%s: out of memory", name);
        goto out;
    }
    config_defaults(&p->work);
    p->name = name;
    p->text = text;
    p->pos = text;
    p->err = err;
    p->errlen = errlen;

    ret = ini_parse_stream(cfg_reader, p, cfg_handler, p);
    if (ret < 0) {
        text_errf(err, errlen, "%s: out of memory", name);
        goto out;
    }
    /* inih reports lines it cannot parse only through its return value: the
     * first line with an error, ours (handler refused) or its own. */
    if (ret > 0 && (!p->failed || ret < p->fail_line)) {
        const char *l = cfg_line_start(text, ret);

        p->failed = false;
        l += strspn(l, " \t");
        if (*l == '[')
            cfg_fail(p, ret, "'[' without a closing ']'");
        else
            cfg_fail(p, ret, "expected 'name = value', '[section]' or a comment");
    }
    if (!p->failed)
        cfg_check(p);
    if (p->failed)
        goto out;
    *c = p->work;
    ok = true;
out:
    free(p);
    return ok;
}

bool config_load_file(kiosk_config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = NULL;
    char *text = NULL;
    const char *nul;
    size_t n;
    bool ok = false;

    if (path == NULL) {
        text_errf(err, errlen, "(config): no file name given");
        goto out;
    }
    f = fopen(path, "re");
    if (f == NULL) {
        text_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    text = malloc(CFG_FILE_MAX + 1);
    if (text == NULL) {
        text_errf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    n = fread(text, 1, CFG_FILE_MAX + 1, f);
    if (ferror(f)) {
        text_errf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        goto out;
    }
    if (n > CFG_FILE_MAX) {
        text_errf(err, errlen, "%s: larger than %d bytes, not a config file", path, CFG_FILE_MAX);
        goto out;
    }
    text[n] = '\0';
    nul = memchr(text, '\0', n);
    if (nul != NULL) {
        int line = 1;

        for (const char *q = text; q < nul; q++)
            line += *q == '\n';
        text_errf(err, errlen, "%s:%d: NUL byte: not a text file", path, line);
        goto out;
    }
    ok = config_load_string(c, text, path, err, errlen);
out:
    if (f != NULL)
        fclose(f);
    free(text);
    return ok;
}
