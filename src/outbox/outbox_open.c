/* outbox_open.c - taking the outbox on at start: the directory made and
 * locked, the seq counter read, and what a crash left (temp files, intents
 * in flight) cleaned up or promoted before anything new is written; and
 * close. Disk -> the struct outbox the other files use.
 */
#include "outbox/outbox_int.h"

#include "util/log.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The reason goes to the caller, who says it once, with what the caller
 * knows (the kiosk adds the config line that named the directory); only a
 * caller that takes no message has it logged here. */
static void ob_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void ob_err(char *err, size_t errlen, const char *fmt, ...)
{
    char msg[PATH_MAX + 128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", msg);
    else
        log_err(OB_WHERE, "%s", msg);
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
