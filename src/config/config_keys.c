/* config_keys.c - the table of every key of kiosk.conf, with its default
 * and range, and how each kind of value is read (config_int.h). */
#include "config/config_int.h"

#include "service/tcode.h"
#include "util/log.h"
#include "util/text.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Enums are stored through an int-sized write (cfg_store). */
_Static_assert(sizeof(cfg_backend) == sizeof(int), "cfg_backend is int-sized");
_Static_assert(sizeof(cfg_profile) == sizeof(int), "cfg_profile is int-sized");
_Static_assert(sizeof(cfg_offline) == sizeof(int), "cfg_offline is int-sized");

static bool cfg_parse_string(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n);
static bool cfg_parse_int(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n);
static bool cfg_parse_choice(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n);
static bool cfg_parse_word(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n);
static bool cfg_parse_initial(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n);
static bool cfg_parse_code_hash(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n);
static bool cfg_parse_terminal_id(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n);
static bool cfg_parse_station_text(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n);

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
const cfg_key cfg_keys[] = {
    /* Identifies the terminal to the bureau; a placeholder until provisioned.
     * Both programs refuse an id kiosk-sync could not send (the rule is
     * config_terminal_id_valid), so none reaches a record either. */
    { "terminal", "id", cfg_parse_terminal_id, CFG_FIELD(terminal_id), "TEST-0001", 0, 0, NULL, 0 },
    /* Where a citizen the kiosk cannot help goes next: the station's own
     * words, shown beside the 12333 helpline on refusals and errors. */
    { "terminal", "counter", cfg_parse_station_text, CFG_FIELD(counter), "", 0, CFG_STATION_CHARS, NULL, 0 },
    { "terminal", "counter_hours", cfg_parse_station_text, CFG_FIELD(counter_hours), "", 0,
      CFG_STATION_CHARS, NULL, 0 },

    /* A kiosk covers the whole screen; 0 x 0 takes the desktop's size. */
    K_BOOL("display", "fullscreen", fullscreen, "true"),
    K_INT("display", "width", width, "1920", 0, 16384),
    K_INT("display", "height", height, "1080", 0, 16384),

    /* Most citizens read Chinese; the screen offers English too. */
    K_WORD("ui", "language", language, "zh", cfg_languages),
    K_INT("ui", "idle_timeout_s", idle_timeout_s, "30", 5, 600),
    K_INT("ui", "warning_s", warning_s, "15", 3, 120),
    K_BOOL("ui", "scramble_keypad", scramble_keypad, "false"),
    /* A card left in the reader (and the holder's name beside it) must not
     * wait for the next person: remind after this, and drop the name. */
    K_INT("ui", "take_card_s", take_card_s, "15", 5, 300),
    /* "We cannot tell whether the PIN changed" is for the citizen who
     * pulled the card: a tap or the next card clears it sooner. */
    K_INT("ui", "change_unknown_s", change_unknown_s, "30", 5, 300),

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
    /* A reset's calls text a code or make a card command: slower than a
     * status, and never retried, so the patience is their own. */
    K_INT("sync", "reset_timeout_ms", reset_timeout_ms, "10000", 1000, 60000),
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

    /* The voice (issue 13): on unless the station turns it off; prompts
     * play at their recorded level (100) unless turned down. A night level
     * is the station's choice: none until night_from and night_to differ. */
    K_BOOL("audio", "enabled", audio_enabled, "true"),
    K_INT("audio", "volume", audio_volume, "100", 0, 100),
    K_INT("audio", "night_volume", audio_night_volume, "50", 0, 100),
    K_INT("audio", "night_from", audio_night_from, "0", 0, 23),
    K_INT("audio", "night_to", audio_night_to, "0", 0, 23),
};

const size_t cfg_nkeys = sizeof cfg_keys / sizeof cfg_keys[0];
_Static_assert(sizeof cfg_keys / sizeof cfg_keys[0] <= CFG_KEYS_MAX, "kiosk_config.line_of holds every key");

static void cfg_store(void *dst, size_t size, long v)
{
    if (size == sizeof(bool))
        *(bool *)dst = v != 0;
    else
        *(int *)dst = (int)v;
}

/* The value without the quotes that allow an explicit empty one
 * (reader = ""), checked to fit the key's field. */
static bool cfg_unquote(const cfg_key *k, const char **v, size_t *len, char *why, size_t n)
{
    *len = strlen(*v);
    if (*len >= 2 && (*v)[0] == '"' && (*v)[*len - 1] == '"') {
        (*v)++;
        *len -= 2;
    }
    if (*len >= k->size) {
        snprintf(why, n, "value is %zu characters long, at most %zu fit", *len, k->size - 1);
        return false;
    }
    return true;
}

static void cfg_store_text(const cfg_key *k, kiosk_config *c, const char *v, size_t len)
{
    char *dst = (char *)c + k->offset;

    memcpy(dst, v, len);
    dst[len] = '\0';
}

static bool cfg_parse_string(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n)
{
    size_t len;

    if (!cfg_unquote(k, &v, &len, why, n))
        return false;
    cfg_store_text(k, c, v, len);
    return true;
}

/* What keeps a byte out of a terminal id, by range: kiosk-sync sends the id
 * as the X-Terminal-Id header (where a CR or LF would start another header)
 * and in URL paths, and the kiosk writes it into every record and log line
 * (where a control character could forge a line or move a cursor). */
static const struct {
    unsigned char lo, hi;
    const char *what;
    bool show_byte;
} cfg_id_bytes[] = {
    { 0x20, 0x20, "a space", false },
    { 0x00, 0x1f, "a control character", true },
    { 0x7f, 0x7f, "a control character", true },
    { 0x80, 0xff, "not ASCII", true },
};

#define CFG_ID_RULE "an id is printable ASCII without spaces, e.g. GZ-YX-0042 " \
                    "(it is sent as X-Terminal-Id and in URLs)"

/* The `len` bytes at `id` against the rule; the first byte that breaks it
 * is named by position and value, never echoed. */
static bool cfg_id_check(const char *id, size_t len, char *why, size_t n)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)id[i];

        for (size_t r = 0; r < sizeof cfg_id_bytes / sizeof cfg_id_bytes[0]; r++) {
            if (b < cfg_id_bytes[r].lo || b > cfg_id_bytes[r].hi)
                continue;
            if (cfg_id_bytes[r].show_byte)
                text_errf(why, n, "byte %zu is %s (0x%02x): " CFG_ID_RULE, i + 1, cfg_id_bytes[r].what, b);
            else
                text_errf(why, n, "byte %zu is %s: " CFG_ID_RULE, i + 1, cfg_id_bytes[r].what);
            return false;
        }
    }
    return true;
}

bool config_terminal_id_valid(const char *id, char *why, size_t whylen)
{
    size_t max = sizeof ((kiosk_config *)0)->terminal_id - 1;
    size_t len = id ? strnlen(id, max + 1) : 0;

    if (len == 0) {
        text_errf(why, whylen, "must not be empty");
        return false;
    }
    if (len > max) {
        text_errf(why, whylen, "more than %zu characters", max);
        return false;
    }
    return cfg_id_check(id, len, why, whylen);
}

static bool cfg_parse_terminal_id(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n)
{
    size_t len;

    if (!cfg_unquote(k, &v, &len, why, n) || !cfg_id_check(v, len, why, n))
        return false;
    cfg_store_text(k, c, v, len);
    return true;
}

/* One UTF-8 character at p (at most `left` bytes): its length, or 0 when
 * it is not well formed (a stray byte, an overlong form, a surrogate,
 * past U+10FFFF), with its code point in *cp. */
static size_t cfg_utf8(const unsigned char *p, size_t left, unsigned long *cp)
{
    static const struct { unsigned char mask, lead; size_t len; unsigned long min; } forms[] = {
        { 0x80, 0x00, 1, 0 }, { 0xE0, 0xC0, 2, 0x80 }, { 0xF0, 0xE0, 3, 0x800 }, { 0xF8, 0xF0, 4, 0x10000 },
    };
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        if ((p[0] & forms[f].mask) != forms[f].lead)
            continue;
        if (forms[f].len > left)
            return 0;
        *cp = p[0] & (unsigned char)~forms[f].mask;
        for (size_t i = 1; i < forms[f].len; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            *cp = (*cp << 6) | (p[i] & 0x3Fu);
        }
        if (*cp < forms[f].min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
            return 0;
        return forms[f].len;
    }
    return 0;
}

/* The station's text goes on a citizen's screen as it is: well-formed
 * UTF-8, no control character (which could hide text or break a line),
 * and no longer than k->max characters (it must fit its line). */
static bool cfg_parse_station_text(const cfg_key *k, kiosk_config *c, const char *v, char *why, size_t n)
{
    size_t len, chars = 0;
    const unsigned char *p;

    if (!cfg_unquote(k, &v, &len, why, n))
        return false;
    p = (const unsigned char *)v;
    for (size_t i = 0; i < len; chars++) {
        unsigned long cp;
        size_t step = cfg_utf8(p + i, len - i, &cp);
        if (step == 0) {
            text_errf(why, n, "byte %zu is not UTF-8 (save the file as UTF-8)", i + 1);
            return false;
        }
        if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
            text_errf(why, n, "character %zu is a control character", chars + 1);
            return false;
        }
        i += step;
    }
    if (chars > (size_t)k->max) {
        text_errf(why, n, "%zu characters, at most %ld fit on the screen", chars, k->max);
        return false;
    }
    cfg_store_text(k, c, v, len);
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

const cfg_key *cfg_find(const char *section, const char *name)
{
    for (size_t i = 0; i < cfg_nkeys; i++)
        if (strcmp(cfg_keys[i].section, section) == 0 && strcmp(cfg_keys[i].name, name) == 0)
            return &cfg_keys[i];
    return NULL;
}

bool cfg_section_known(const char *section, size_t len)
{
    for (size_t i = 0; i < cfg_nkeys; i++)
        if (strlen(cfg_keys[i].section) == len && strncmp(cfg_keys[i].section, section, len) == 0)
            return true;
    return false;
}

void config_defaults(kiosk_config *c)
{
    char why[256];

    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < cfg_nkeys; i++) {
        if (!cfg_keys[i].parse(&cfg_keys[i], c, cfg_keys[i].def, why, sizeof why)) {
            /* A bad default is a bug in the table above, not in a file. */
            log_err("config", "default of [%s] %s: %s", cfg_keys[i].section, cfg_keys[i].name, why);
            abort();
        }
    }
}
