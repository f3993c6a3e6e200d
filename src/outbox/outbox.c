#include "outbox/outbox.h"

#include "util/log.h"
#include "util/mask.h"
#include "util/secure.h"

#include <cJSON.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define OB_WHERE "outbox"
#define OB_TERMINAL_MAX 63
#define OB_SEQ_MAX UINT64_C(999999999999) /* what fits the 12 digits of a file name */
#define OB_NAME_MAX 64                    /* ".tmp-intent-<12 digits>.json" and then some */
#define OB_TMP_PREFIX ".tmp-"
#define OB_SEQ_FILE "seq"
/* Group-readable: kiosk-sync, another user in the outbox's group, reads
 * and delivers what the kiosk writes (docs/production.md). */
#define OB_FILE_MODE 0640

struct outbox {
    int dirfd;                   /* the directory; holds the flock */
    char dir[PATH_MAX];
    char terminal_id[OB_TERMINAL_MAX + 1];
    uint64_t last_seq;           /* last number reserved in the seq file */
    bool intent_open;
    uint64_t intent_seq;
    char intent_id[SECURE_UUID_LEN];
    char intent_card[OUTBOX_CARD_MAX + 1];
};

/* Indexed by outbox_kind: the "kind" strings of the bureau API. */
static const char *const ob_kind_names[] = {
    [OUTBOX_PIN_CHANGED] = "pin_changed",
    [OUTBOX_PIN_BLOCKED] = "pin_blocked",
    [OUTBOX_PIN_CHANGE_UNKNOWN] = "pin_change_unknown",
};

#define OB_NKINDS (sizeof ob_kind_names / sizeof ob_kind_names[0])

static void ob_name(char out[OB_NAME_MAX], const char *prefix, uint64_t seq)
{
    snprintf(out, OB_NAME_MAX, "%s%012" PRIu64 ".json", prefix, seq);
}

/* The seq of "<prefix><12 digits>.json" (as ob_name spells it); false for
 * any other name. */
static bool ob_parse_name(const char *name, const char *prefix, uint64_t *seq)
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

static bool ob_fsync_dir(const outbox *o)
{
    if (fsync(o->dirfd) != 0) {
        log_err(OB_WHERE, "fsync of %s: %s", o->dir, strerror(errno));
        return false;
    }
    return true;
}

static bool ob_write_all(int fd, const char *data, size_t len)
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
                           outbox_kind kind, time_t when)
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
                         time_t now, uint64_t *seq_out, char id_out[SECURE_UUID_LEN])
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
    json = ob_event_json(o, id_out, seq, card, kind, now);
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
    if (!ob_write_new(o, "evt-", card_number, kind, now, &seq, id)) {
        log_err(OB_WHERE, "%s for card %s NOT recorded", ob_kind_names[kind], masked);
        return false;
    }
    log_info(OB_WHERE, "recorded %s #%" PRIu64 " for card %s", ob_kind_names[kind], seq, masked);
    return true;
}

bool outbox_intent_begin(outbox *o, const char *card_number, time_t now)
{
    char masked[MASK_CARD_MAX];

    if (!ob_check_args(o, card_number, "intent"))
        return false;
    if (o->intent_open) {
        log_err(OB_WHERE, "intent #%" PRIu64 " is still open; resolve it first", o->intent_seq);
        return false;
    }
    mask_card(card_number, masked);
    if (!ob_write_new(o, "intent-", card_number, OUTBOX_PIN_CHANGE_UNKNOWN, now, &o->intent_seq,
                      o->intent_id)) {
        log_err(OB_WHERE, "intent for card %s NOT recorded", masked);
        return false;
    }
    snprintf(o->intent_card, sizeof o->intent_card, "%s", card_number);
    o->intent_open = true;
    log_info(OB_WHERE, "intent #%" PRIu64 " for card %s", o->intent_seq, masked);
    return true;
}

/* CHANGED: the pin_changed body first replaces the intent (same name), then
 * the intent becomes the event by rename. Each step is atomic, so on disk
 * there is always exactly one file for this seq, and it says either
 * "unknown" or "changed": never both, which would send one event_id with
 * two bodies (409 at the bureau). */
static bool ob_resolve_changed(outbox *o, const char *intent, const char *evt, time_t now)
{
    char *json = ob_event_json(o, o->intent_id, o->intent_seq, o->intent_card, OUTBOX_PIN_CHANGED, now);
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
        ok = ob_resolve_changed(o, intent, evt, now);
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
    return true;
}

bool outbox_intent_open(const outbox *o)
{
    return o != NULL && o->intent_open;
}

/* Opens the directory for reading its entries; closedir() the result. */
static DIR *ob_opendir(const outbox *o)
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

int outbox_depth(outbox *o)
{
    DIR *d;
    struct dirent *e;
    int n = 0;
    size_t len;

    if (o == NULL)
        return -1;
    d = ob_opendir(o);
    if (d == NULL)
        return -1;
    for (errno = 0; (e = readdir(d)) != NULL; errno = 0) {
        len = strlen(e->d_name);
        if (strncmp(e->d_name, "evt-", 4) == 0 && len >= 9 && strcmp(e->d_name + len - 5, ".json") == 0)
            n++;
    }
    if (errno != 0) {
        log_err(OB_WHERE, "read %s: %s", o->dir, strerror(errno));
        n = -1;
    }
    closedir(d);
    return n;
}

/* "evt-" + 12 digits + ".json", as ob_name spells it. */
static bool ob_is_event_name(const char *name)
{
    uint64_t seq;
    return ob_parse_name(name, "evt-", &seq);
}

/* The dead-letter folder kiosk-sync keeps beside the outbox, opened; -1 if
 * there is none (errno ENOENT: nothing was ever refused). */
static int ob_open_dead(const outbox *o)
{
    char path[PATH_MAX + 8];
    int k = snprintf(path, sizeof path, "%s.dead", o->dir);
    if (k < 0 || (size_t)k >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

long outbox_dead_count(outbox *o)
{
    DIR *d = NULL;
    struct dirent *e;
    long n = -1;
    int fd = o ? ob_open_dead(o) : -1;

    if (fd < 0) {
        n = o && errno == ENOENT ? 0 : -1;
        goto out;
    }
    if ((d = fdopendir(fd)) == NULL)
        goto out;
    fd = -1;
    n = 0;
    for (errno = 0; (e = readdir(d)) != NULL; errno = 0)
        n += ob_is_event_name(e->d_name);
    if (errno != 0)
        n = -1;
out:
    if (d)
        closedir(d);
    if (fd >= 0)
        close(fd);
    return n;
}

long outbox_requeue_dead(outbox *o)
{
    DIR *d = NULL;
    struct dirent *e;
    long moved = -1, clashes = 0;
    int fd = o ? ob_open_dead(o) : -1, dfd = -1;

    if (fd < 0) {
        moved = o && errno == ENOENT ? 0 : -1;
        if (moved < 0 && o)
            log_err(OB_WHERE, "cannot open the dead letters of %s: %s", o->dir, strerror(errno));
        goto out;
    }
    dfd = dup(fd);
    if (dfd < 0 || (d = fdopendir(fd)) == NULL)
        goto out;
    fd = -1;
    moved = 0;
    for (errno = 0; (e = readdir(d)) != NULL; errno = 0) {
        if (!ob_is_event_name(e->d_name))
            continue;
        /* Never over an event of the same name (a seq is never reused, so
         * that would be a second copy): it stays a dead letter. */
        if (renameat2(dfd, e->d_name, o->dirfd, e->d_name, RENAME_NOREPLACE) == 0) {
            moved++;
        } else {
            clashes++;
            log_err(OB_WHERE, "dead letter %s stays: %s", e->d_name, strerror(errno));
        }
    }
    if (moved > 0 && (fsync(dfd) != 0 || !ob_fsync_dir(o)))
        log_err(OB_WHERE, "fsync after moving dead letters back: %s", strerror(errno));
    log_notice(OB_WHERE, "%ld dead letter(s) moved back into %s%s", moved, o->dir,
               clashes ? " (some stayed: see above)" : "");
out:
    if (d)
        closedir(d);
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    return moved;
}

bool outbox_probe(outbox *o, uint64_t min_free, char *why, size_t whylen)
{
    static const char name[] = OB_TMP_PREFIX "probe";
    char block[512];
    struct statvfs vs;
    uint64_t avail;
    bool ok = false, made = false;
    int fd = -1;
    const char *step = "statvfs";

    /* A record is ~200 bytes; the rest of this much is headroom for the
     * seq file, temp files and the intent of a change under way. */
    if (fstatvfs(o->dirfd, &vs) != 0)
        goto out;
    avail = (uint64_t)vs.f_bavail * (uint64_t)vs.f_frsize;
    if (avail < min_free) {
        snprintf(why, whylen, "only %" PRIu64 " KiB free in %s (%" PRIu64 " KiB needed)",
                 avail / 1024, o->dir, min_free / 1024);
        step = NULL; /* said */
        goto out;
    }
    step = "create";
    fd = openat(o->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        goto out;
    made = true;
    memset(block, 'p', sizeof block);
    step = "write";
    if (!ob_write_all(fd, block, sizeof block))
        goto out;
    step = "fsync";
    if (fsync(fd) != 0)
        goto out;
    ok = true;
out:
    if (!ok && step)
        snprintf(why, whylen, "%s %s/%s: %s", step, o->dir, name, strerror(errno));
    if (fd >= 0)
        close(fd);
    if (made && unlinkat(o->dirfd, name, 0) != 0 && ok) {
        snprintf(why, whylen, "unlink %s/%s: %s", o->dir, name, strerror(errno));
        ok = false;
    }
    return ok;
}

uint64_t outbox_last_seq(const outbox *o)
{
    return o != NULL ? o->last_seq : 0;
}

static void ob_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void ob_err(char *err, size_t errlen, const char *fmt, ...)
{
    char msg[PATH_MAX + 128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_err(OB_WHERE, "%s", msg);
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

/* mkdir -p with mode 0700 for every directory it creates. */
static bool ob_mkdirs(const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX];

    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;

        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            ob_err(err, errlen, "cannot create %s: %s", path, strerror(errno));
            return false;
        }
        *p = c;
        if (c == '\0')
            return true;
    }
}

/* The number in the seq file; 0 if there is none yet. A damaged counter is
 * an error: guessing could hand out a number the bureau already has. */
static bool ob_read_counter(outbox *o, uint64_t *out, char *err, size_t errlen)
{
    char buf[32];
    ssize_t n;
    int fd;
    uint64_t v = 0;
    size_t i;

    *out = 0;
    fd = openat(o->dirfd, OB_SEQ_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return true;
        ob_err(err, errlen, "cannot open %s/" OB_SEQ_FILE ": %s", o->dir, strerror(errno));
        return false;
    }
    do
        n = read(fd, buf, sizeof buf - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n < 0) {
        ob_err(err, errlen, "cannot read %s/" OB_SEQ_FILE ": %s", o->dir, strerror(errno));
        return false;
    }
    buf[n] = '\0';
    for (i = 0; isdigit((unsigned char)buf[i]) && i < 13; i++)
        v = v * 10 + (uint64_t)(buf[i] - '0');
    if (i == 0 || i > 12 || strcmp(buf + i, "\n") != 0 || v > OB_SEQ_MAX) {
        ob_err(err, errlen, "%s/" OB_SEQ_FILE " is damaged; refusing to guess the next sequence number",
               o->dir);
        return false;
    }
    *out = v;
    return true;
}

/* Removes temp files, finds the highest seq in use and promotes leftover
 * intents: their change command was in flight when the kiosk stopped. */
static bool ob_recover(outbox *o, uint64_t *max_seq, char *err, size_t errlen)
{
    DIR *d = NULL;
    struct dirent *e;
    uint64_t seq, *intents = NULL;
    size_t nintents = 0, cap = 0;
    bool changed = false, ok = false;
    char evt[OB_NAME_MAX];

    *max_seq = 0;
    d = ob_opendir(o);
    if (d == NULL) {
        ob_err(err, errlen, "cannot read %s: %s", o->dir, strerror(errno));
        goto out;
    }
    for (errno = 0; (e = readdir(d)) != NULL; errno = 0) {
        if (strncmp(e->d_name, OB_TMP_PREFIX, strlen(OB_TMP_PREFIX)) == 0) {
            if (unlinkat(o->dirfd, e->d_name, 0) != 0) {
                ob_err(err, errlen, "cannot remove %s/%s: %s", o->dir, e->d_name, strerror(errno));
                goto out;
            }
            changed = true;
        } else if (ob_parse_name(e->d_name, "evt-", &seq)) {
            *max_seq = seq > *max_seq ? seq : *max_seq;
        } else if (ob_parse_name(e->d_name, "intent-", &seq)) {
            *max_seq = seq > *max_seq ? seq : *max_seq;
            if (nintents == cap) {
                uint64_t *more = realloc(intents, (cap ? cap * 2 : 4) * sizeof *intents);

                if (more == NULL) {
                    ob_err(err, errlen, "out of memory");
                    goto out;
                }
                intents = more;
                cap = cap ? cap * 2 : 4;
            }
            intents[nintents++] = seq;
        }
    }
    if (errno != 0) {
        ob_err(err, errlen, "cannot read %s: %s", o->dir, strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < nintents; i++) {
        char intent[OB_NAME_MAX];

        ob_name(intent, "intent-", intents[i]);
        ob_name(evt, "evt-", intents[i]);
        if (renameat(o->dirfd, intent, o->dirfd, evt) != 0) {
            ob_err(err, errlen, "cannot promote %s/%s: %s", o->dir, intent, strerror(errno));
            goto out;
        }
        log_warn(OB_WHERE, "a PIN change was in flight when the kiosk stopped: intent #%" PRIu64
                 " is now an event for the bureau", intents[i]);
        changed = true;
    }
    if (changed && fsync(o->dirfd) != 0) {
        ob_err(err, errlen, "fsync of %s: %s", o->dir, strerror(errno));
        goto out;
    }
    ok = true;
out:
    if (d != NULL)
        closedir(d);
    free(intents);
    return ok;
}

outbox *outbox_open(const char *dir, const char *terminal_id, char *err, size_t errlen)
{
    outbox *o = NULL;
    uint64_t counter, in_files;
    bool ok = false;

    if (dir == NULL || dir[0] == '\0') {
        ob_err(err, errlen, "no outbox directory given");
        goto out;
    }
    if (strlen(dir) >= PATH_MAX - OB_NAME_MAX) {
        ob_err(err, errlen, "outbox directory name is too long (%zu characters)", strlen(dir));
        goto out;
    }
    if (terminal_id == NULL || terminal_id[0] == '\0' || strlen(terminal_id) > OB_TERMINAL_MAX) {
        ob_err(err, errlen, "terminal id must be 1..%d characters", OB_TERMINAL_MAX);
        goto out;
    }
    o = calloc(1, sizeof *o);
    if (o == NULL) {
        ob_err(err, errlen, "out of memory");
        goto out;
    }
    o->dirfd = -1;
    snprintf(o->dir, sizeof o->dir, "%s", dir);
    /* "outbox/" and "outbox" are one directory, and its dead letters are
     * "outbox.dead" either way (kiosk-sync's oscan_dead_dir agrees). */
    for (size_t n = strlen(o->dir); n > 1 && o->dir[n - 1] == '/'; n--)
        o->dir[n - 1] = '\0';
    snprintf(o->terminal_id, sizeof o->terminal_id, "%s", terminal_id);
    if (!ob_mkdirs(dir, err, errlen))
        goto out;
    o->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (o->dirfd < 0) {
        ob_err(err, errlen, "cannot open %s: %s", dir, strerror(errno));
        goto out;
    }
    if (flock(o->dirfd, LOCK_EX | LOCK_NB) != 0) {
        ob_err(err, errlen, "cannot lock %s: %s", dir,
               errno == EWOULDBLOCK ? "another process has it open" : strerror(errno));
        goto out;
    }
    if (!ob_read_counter(o, &counter, err, errlen) || !ob_recover(o, &in_files, err, errlen))
        goto out;
    if (in_files > counter)
        log_warn(OB_WHERE, "%s: counter %" PRIu64 " is behind the files (%" PRIu64 "); going on from there",
                 dir, counter, in_files);
    o->last_seq = in_files > counter ? in_files : counter;
    ok = true;
out:
    if (!ok) {
        outbox_close(o);
        o = NULL;
    }
    return o;
}

void outbox_close(outbox *o)
{
    if (o == NULL)
        return;
    if (o->intent_open)
        log_warn(OB_WHERE, "closing with intent #%" PRIu64 " open; it becomes pin_change_unknown",
                 o->intent_seq);
    if (o->dirfd >= 0)
        close(o->dirfd);
    free(o);
}
