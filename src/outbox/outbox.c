/* outbox.c - writing events: the kiosk's records and intents go out to
 * files here, each whole or not at all, and the helpers the other outbox
 * files share (names, the directory, a full write). Opening is in
 * outbox_open.c, what reads the files back in outbox_dead.c.
 */
#include "outbox/outbox_int.h"

#include "util/log.h"
#include "util/mask.h"
#include "util/secure.h"

#include <cJSON.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Group-readable: kiosk-sync, another user in the outbox's group, reads
 * and delivers what the kiosk writes (docs/production.md). */
#define OB_FILE_MODE 0640

/* Indexed by outbox_kind: the "kind" strings of the bureau API. */
static const char *const ob_kind_names[] = {
    [OUTBOX_PIN_CHANGED] = "pin_changed",
    [OUTBOX_PIN_BLOCKED] = "pin_blocked",
    [OUTBOX_PIN_CHANGE_UNKNOWN] = "pin_change_unknown",
    [OUTBOX_PIN_RESET] = "pin_reset",
};

#define OB_NKINDS (sizeof ob_kind_names / sizeof ob_kind_names[0])

void ob_name(char out[OB_NAME_MAX], const char *prefix, uint64_t seq)
{
    snprintf(out, OB_NAME_MAX, "%s%012" PRIu64 ".json", prefix, seq);
}

/* The seq of "<prefix><12 digits>.json" (as ob_name spells it); false for
 * any other name. */
bool ob_parse_name(const char *name, const char *prefix, uint64_t *seq)
{
    size_t plen = strlen(prefix), ndig = 0;
    uint64_t v = 0;
    const char *p;

    if (strncmp(name, prefix, plen) != 0)
        return false;
    for (p = name + plen; isdigit((unsigned char)*p) && ndig < 13; p++, ndig++)
        v = v * 10 + (uint64_t)(*p - '0');
    if (ndig != 12 || strcmp(p, ".json") != 0)
        return false;
    *seq = v;
    return true;
}

static bool ob_card_ok(const char *card)
{
    size_t n = 0;

    if (card == NULL)
        return false;
    for (; card[n] != '\0'; n++)
        if (n >= OUTBOX_CARD_MAX || !isalnum((unsigned char)card[n]))
            return false;
    return n > 0;
}

bool ob_fsync_dir(const outbox *o)
{
    if (fsync(o->dirfd) != 0) {
        log_err(OB_WHERE, "fsync of %s: %s", o->dir, strerror(errno));
        return false;
    }
    return true;
}

bool ob_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return false;
        }
        data += n;
        len -= (size_t)n;
    }
    return true;
}

/* Opens the directory for reading its entries; closedir() the result. */
DIR *ob_opendir(const outbox *o)
{
    int fd = openat(o->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d;

    if (fd < 0) {
        log_err(OB_WHERE, "open %s: %s", o->dir, strerror(errno));
        return NULL;
    }
    d = fdopendir(fd);
    if (d == NULL) {
        log_err(OB_WHERE, "open %s: %s", o->dir, strerror(errno));
        close(fd);
    }
    return d;
}

/* Makes `name` hold exactly `data`, or leaves it as it was: temp file in
 * the same directory, fsync, rename over `name`, fsync the directory. */
static bool ob_write_atomic(const outbox *o, const char *name, const char *data, size_t len)
{
    char tmp[OB_NAME_MAX + 8];
    int fd = -1, saved;
    bool created = false, ok = false;
    const char *step = "create";

    snprintf(tmp, sizeof tmp, OB_TMP_PREFIX "%s", name);
    fd = openat(o->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, OB_FILE_MODE);
    if (fd < 0 && errno == EEXIST) {
        /* Left by a failed write whose clean-up failed too. */
        unlinkat(o->dirfd, tmp, 0);
        fd = openat(o->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, OB_FILE_MODE);
    }
    if (fd < 0)
        goto out;
    created = true;
    step = "write";
    if (!ob_write_all(fd, data, len))
        goto out;
    step = "fsync";
    if (fsync(fd) != 0)
        goto out;
    step = "close";
    saved = close(fd);
    fd = -1;
    if (saved != 0)
        goto out;
    step = "rename";
    if (renameat(o->dirfd, tmp, o->dirfd, name) != 0)
        goto out;
    created = false;
    ok = true;
out:
    if (!ok) {
        saved = errno;
        log_err(OB_WHERE, "%s %s/%s (for %s): %s", step, o->dir, tmp, name, strerror(saved));
        if (fd >= 0)
            close(fd);
        if (created)
            unlinkat(o->dirfd, tmp, 0);
        errno = saved;
        return false;
    }
    /* The file is whole either way; without this fsync its name may not
     * survive a power cut, so the caller must not count on it. */
    return ob_fsync_dir(o);
}

/* Hands out the next sequence number, made durable before anyone uses it so
 * that a crash can never cause it to be handed out twice. */
static bool ob_reserve(outbox *o, uint64_t *seq)
{
    char text[32];
    uint64_t next = o->last_seq + 1;

    if (next > OB_SEQ_MAX) {
        log_err(OB_WHERE, "sequence numbers exhausted in %s", o->dir);
        return false;
    }
    snprintf(text, sizeof text, "%" PRIu64 "\n", next);
    if (!ob_write_atomic(o, OB_SEQ_FILE, text, strlen(text)))
        return false;
    o->last_seq = next;
    *seq = next;
    return true;
}

/* The POST /v1/pin-events body; malloc'd, the caller frees it. */
static char *ob_event_json(const outbox *o, const char *event_id, uint64_t seq, const char *card,
                           outbox_kind kind, const char *reset_id, time_t when)
{
    cJSON *obj = NULL;
    char stamp[32], *text = NULL;
    struct tm tm;

    if (gmtime_r(&when, &tm) == NULL || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
        log_err(OB_WHERE, "time %lld cannot be written as a date", (long long)when);
        goto out;
    }
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    obj = cJSON_CreateObject();
    if (obj == NULL || !cJSON_AddStringToObject(obj, "event_id", event_id) ||
        !cJSON_AddStringToObject(obj, "terminal_id", o->terminal_id) ||
        !cJSON_AddNumberToObject(obj, "seq", (double)seq) ||
        !cJSON_AddStringToObject(obj, "card_number", card) ||
        !cJSON_AddStringToObject(obj, "kind", ob_kind_names[kind]) ||
        (reset_id[0] && !cJSON_AddStringToObject(obj, "reset_id", reset_id)) ||
        !cJSON_AddStringToObject(obj, "occurred_at", stamp))
        goto out;
    text = cJSON_PrintUnformatted(obj);
out:
    if (obj != NULL && text == NULL)
        log_err(OB_WHERE, "cannot build the event: out of memory");
    cJSON_Delete(obj);
    return text;
}

/* Reserves a seq and writes a new event with a fresh event_id to
 * "<prefix><seq>.json". */
static bool ob_write_new(outbox *o, const char *prefix, const char *card, outbox_kind kind,
                         const char *reset_id, time_t now, uint64_t *seq_out,
                         char id_out[SECURE_UUID_LEN])
{
    char name[OB_NAME_MAX], *json = NULL;
    uint64_t seq;
    bool ok = false;

    if (!secure_uuid4(id_out)) {
        log_err(OB_WHERE, "no random event id: %s", strerror(errno));
        goto out;
    }
    if (!ob_reserve(o, &seq))
        goto out;
    json = ob_event_json(o, id_out, seq, card, kind, reset_id, now);
    if (json == NULL)
        goto out;
    ob_name(name, prefix, seq);
    if (!ob_write_atomic(o, name, json, strlen(json))) {
        /* An intent whose directory entry could not be made durable must not
         * outlive this failure: the change will not be sent, and a leftover
         * file would become a false pin_change_unknown at the next start.
         * (A record is a real event: it stays, whole, and may still arrive.) */
        if (strcmp(prefix, "intent-") == 0 && unlinkat(o->dirfd, name, 0) == 0)
            ob_fsync_dir(o);
        goto out;
    }
    *seq_out = seq;
    ok = true;
out:
    free(json);
    return ok;
}

static bool ob_check_args(const outbox *o, const char *card, const char *what)
{
    if (o == NULL) {
        log_err(OB_WHERE, "%s: no outbox", what);
        return false;
    }
    if (!ob_card_ok(card)) {
        log_err(OB_WHERE, "%s: card number is not 1..%d letters and digits", what, OUTBOX_CARD_MAX);
        return false;
    }
    return true;
}

bool outbox_record(outbox *o, const char *card_number, outbox_kind kind, time_t now)
{
    char id[SECURE_UUID_LEN], masked[MASK_CARD_MAX];
    uint64_t seq;

    if (!ob_check_args(o, card_number, "record"))
        return false;
    if ((unsigned)kind >= OB_NKINDS) {
        log_err(OB_WHERE, "record: unknown event kind %d", (int)kind);
        return false;
    }
    mask_card(card_number, masked);
    if (!ob_write_new(o, "evt-", card_number, kind, "", now, &seq, id)) {
        log_err(OB_WHERE, "%s for card %s NOT recorded", ob_kind_names[kind], masked);
        return false;
    }
    log_info(OB_WHERE, "recorded %s #%" PRIu64 " for card %s", ob_kind_names[kind], seq, masked);
    return true;
}

static bool ob_reset_id_ok(const char *id)
{
    size_t n = 0;

    for (; id[n] && n <= OUTBOX_RESET_ID_MAX; n++)
        if (!((id[n] >= 'A' && id[n] <= 'Z') || (id[n] >= 'a' && id[n] <= 'z') ||
              (id[n] >= '0' && id[n] <= '9') || id[n] == '.' || id[n] == '_' || id[n] == '-'))
            return false;
    return n >= 1 && n <= OUTBOX_RESET_ID_MAX;
}

static bool ob_intent_begin(outbox *o, const char *card_number, const char *reset_id, time_t now)
{
    char masked[MASK_CARD_MAX];

    if (!ob_check_args(o, card_number, "intent"))
        return false;
    if (o->intent_open) {
        log_err(OB_WHERE, "intent #%" PRIu64 " is still open; resolve it first", o->intent_seq);
        return false;
    }
    mask_card(card_number, masked);
    if (!ob_write_new(o, "intent-", card_number, OUTBOX_PIN_CHANGE_UNKNOWN, reset_id, now,
                      &o->intent_seq, o->intent_id)) {
        log_err(OB_WHERE, "intent for card %s NOT recorded", masked);
        return false;
    }
    snprintf(o->intent_card, sizeof o->intent_card, "%s", card_number);
    snprintf(o->intent_reset, sizeof o->intent_reset, "%s", reset_id);
    o->intent_open = true;
    log_info(OB_WHERE, "intent #%" PRIu64 " for card %s%s%s", o->intent_seq, masked,
             reset_id[0] ? ", reset " : "", reset_id);
    return true;
}

bool outbox_intent_begin(outbox *o, const char *card_number, time_t now)
{
    return ob_intent_begin(o, card_number, "", now);
}

bool outbox_intent_begin_reset(outbox *o, const char *card_number, const char *reset_id, time_t now)
{
    if (reset_id == NULL || !ob_reset_id_ok(reset_id)) {
        log_err(OB_WHERE, "intent: a reset id must be 1..%d of A-Z a-z 0-9 . _ -", OUTBOX_RESET_ID_MAX);
        return false;
    }
    return ob_intent_begin(o, card_number, reset_id, now);
}

/* CHANGED (and RESET): the new body first replaces the intent (same name),
 * then the intent becomes the event by rename. Each step is atomic, so on
 * disk there is always exactly one file for this seq, and it says either
 * "unknown" or "changed": never both, which would send one event_id with
 * two bodies (409 at the bureau). */
static bool ob_resolve_as(outbox *o, outbox_kind kind, const char *intent, const char *evt,
                          time_t now)
{
    char *json = ob_event_json(o, o->intent_id, o->intent_seq, o->intent_card, kind,
                               kind == OUTBOX_PIN_RESET ? o->intent_reset : "", now);
    bool ok = false;

    if (json == NULL)
        goto out;
    if (!ob_write_atomic(o, intent, json, strlen(json)))
        goto out;
    if (renameat(o->dirfd, intent, o->dirfd, evt) != 0) {
        log_err(OB_WHERE, "rename %s/%s: %s", o->dir, intent, strerror(errno));
        goto out;
    }
    ok = ob_fsync_dir(o);
out:
    free(json);
    return ok;
}

bool outbox_intent_resolve(outbox *o, outbox_resolution r, time_t now)
{
    static const char *const names[] = {
        [OUTBOX_RESOLVE_CHANGED] = "pin_changed",
        [OUTBOX_RESOLVE_UNKNOWN] = "pin_change_unknown",
        [OUTBOX_RESOLVE_DISCARD] = "discarded",
        [OUTBOX_RESOLVE_RESET] = "pin_reset",
    };
    char intent[OB_NAME_MAX], evt[OB_NAME_MAX], masked[MASK_CARD_MAX];
    bool ok = false;

    if (o == NULL) {
        log_err(OB_WHERE, "resolve: no outbox");
        return false;
    }
    if (!o->intent_open)
        return true;
    if ((unsigned)r >= sizeof names / sizeof names[0]) {
        log_err(OB_WHERE, "resolve: unknown resolution %d", (int)r);
        return false;
    }
    ob_name(intent, "intent-", o->intent_seq);
    ob_name(evt, "evt-", o->intent_seq);
    switch (r) {
    case OUTBOX_RESOLVE_CHANGED:
        ok = ob_resolve_as(o, OUTBOX_PIN_CHANGED, intent, evt, now);
        break;
    case OUTBOX_RESOLVE_RESET:
        /* Only the intent of a reset can become a reset. */
        ok = o->intent_reset[0] && ob_resolve_as(o, OUTBOX_PIN_RESET, intent, evt, now);
        break;
    case OUTBOX_RESOLVE_UNKNOWN:
        /* The intent already is that event. */
        ok = renameat(o->dirfd, intent, o->dirfd, evt) == 0;
        if (!ok)
            log_err(OB_WHERE, "rename %s/%s: %s", o->dir, intent, strerror(errno));
        ok = ok && ob_fsync_dir(o);
        break;
    case OUTBOX_RESOLVE_DISCARD:
        ok = unlinkat(o->dirfd, intent, 0) == 0;
        if (!ok)
            log_err(OB_WHERE, "unlink %s/%s: %s", o->dir, intent, strerror(errno));
        ok = ok && ob_fsync_dir(o);
        break;
    }
    mask_card(o->intent_card, masked);
    if (!ok) {
        log_err(OB_WHERE, "intent #%" PRIu64 " for card %s NOT resolved as %s", o->intent_seq,
                masked, names[r]);
        return false;
    }
    log_info(OB_WHERE, "intent #%" PRIu64 " for card %s resolved: %s", o->intent_seq, masked, names[r]);
    o->intent_open = false;
    memset(o->intent_card, 0, sizeof o->intent_card);
    memset(o->intent_id, 0, sizeof o->intent_id);
    memset(o->intent_reset, 0, sizeof o->intent_reset);
    return true;
}

bool outbox_intent_open(const outbox *o)
{
    return o != NULL && o->intent_open;
}

uint64_t outbox_last_seq(const outbox *o)
{
    return o != NULL ? o->last_seq : 0;
}
