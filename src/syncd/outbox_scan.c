/* outbox_scan.c - see outbox_scan.h. */
#include "syncd/outbox_scan.h"

#include "util/log.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WHERE "outbox"

#define PREFIX "evt-"
#define SUFFIX ".json"
#define SEQ_DIGITS 12

bool oscan_parse_name(const char *name, uint64_t *seq)
{
    size_t pl = strlen(PREFIX), sl = strlen(SUFFIX);
    uint64_t v = 0;
    bool ok = strlen(name) == pl + SEQ_DIGITS + sl && strncmp(name, PREFIX, pl) == 0
              && strcmp(name + pl + SEQ_DIGITS, SUFFIX) == 0;
    for (size_t i = 0; ok && i < SEQ_DIGITS; i++) {
        char c = name[pl + i];
        ok = c >= '0' && c <= '9';
        v = v * 10u + (uint64_t)(c - '0'); /* 12 digits cannot overflow 64 bits */
    }
    if (ok && seq)
        *seq = v;
    return ok;
}

static int by_seq(const void *a, const void *b)
{
    uint64_t x = ((const oscan_entry *)a)->seq, y = ((const oscan_entry *)b)->seq;
    return (x > y) - (x < y);
}

bool oscan_list(const char *dir, oscan_entry **out, size_t *n)
{
    bool ok = false;
    oscan_entry *v = NULL;
    size_t count = 0, room = 0;
    DIR *d = opendir(dir);
    *out = NULL;
    *n = 0;
    if (!d) {
        log_err(WHERE, "cannot open %s: %s", dir, strerror(errno));
        goto out;
    }
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno) {
                log_err(WHERE, "cannot read %s: %s", dir, strerror(errno));
                goto out;
            }
            break;
        }
        uint64_t seq;
        if (!oscan_parse_name(e->d_name, &seq))
            continue;
        if (count == room) {
            size_t nroom = room ? room * 2 : 16;
            oscan_entry *nv = realloc(v, nroom * sizeof *nv);
            if (!nv) {
                log_err(WHERE, "out of memory listing %s", dir);
                goto out;
            }
            v = nv;
            room = nroom;
        }
        v[count].seq = seq;
        memcpy(v[count].name, e->d_name, OSCAN_NAME_LEN); /* length checked by parse_name */
        count++;
    }
    if (count)
        qsort(v, count, sizeof *v, by_seq);
    ok = true;
out:
    if (d)
        closedir(d);
    if (ok) {
        *out = count ? v : NULL;
        *n = count;
        if (!count)
            free(v);
    } else {
        free(v);
    }
    return ok;
}

long oscan_count(const char *dir)
{
    oscan_entry *v;
    size_t n;
    long r = oscan_list(dir, &v, &n) ? (long)n : -1;
    free(v);
    return r;
}

static bool join(char *out, size_t outlen, const char *dir, const char *name)
{
    int k = snprintf(out, outlen, "%s/%s", dir, name);
    return k > 0 && (size_t)k < outlen;
}

/* Lower-case or upper-case canonical 8-4-4-4-12 hex: it goes into an HTTP
 * header, so nothing but hex and dashes may pass. */
static bool is_uuid(const char *s, size_t len)
{
    bool ok = len == OSCAN_EVENT_ID_LEN - 1;
    for (size_t i = 0; ok && i < len; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        ok = dash ? c == '-'
                  : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
    return ok;
}

oscan_read_result oscan_read(const char *dir, const char *name, char *buf, size_t cap,
                             size_t *len, char event_id[OSCAN_EVENT_ID_LEN])
{
    oscan_read_result r = OSCAN_READ_IO;
    char path[OSCAN_PATH_MAX];
    cJSON *root = NULL;
    int fd = -1;
    size_t got = 0;
    char extra;
    struct stat st;

    *len = 0;
    if (cap > OSCAN_FILE_MAX)
        cap = OSCAN_FILE_MAX;
    if (!join(path, sizeof path, dir, name)) {
        log_err(WHERE, "path too long: %s/%s", dir, name);
        goto out;
    }
    /* O_NOFOLLOW|O_NONBLOCK: a symlink or a FIFO planted in the outbox must
     * neither redirect us nor hang us. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        r = errno == ENOENT ? OSCAN_READ_GONE : errno == ELOOP ? OSCAN_READ_BAD : OSCAN_READ_IO;
        log_warn(WHERE, "cannot open %s: %s", name, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        log_err(WHERE, "cannot stat %s: %s", name, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > cap) {
        log_err(WHERE, "%s is not a regular file of at most %zu bytes", name, cap);
        r = OSCAN_READ_BAD;
        goto out;
    }
    while (got < cap) {
        ssize_t k = read(fd, buf + got, cap - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            log_err(WHERE, "cannot read %s: %s", name, strerror(errno));
            goto out;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    /* The size may have changed since fstat: one more byte says "too big". */
    if (got == cap && read(fd, &extra, 1) > 0) {
        log_err(WHERE, "%s is larger than %zu bytes", name, cap);
        r = OSCAN_READ_BAD;
        goto out;
    }
    root = cJSON_ParseWithLength(buf, got);
    const cJSON *id = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "event_id") : NULL;
    if (!cJSON_IsString(id) || !is_uuid(id->valuestring, strlen(id->valuestring))) {
        log_err(WHERE, "%s is not an event with a valid event_id", name);
        r = OSCAN_READ_BAD;
        goto out;
    }
    memcpy(event_id, id->valuestring, OSCAN_EVENT_ID_LEN);
    *len = got;
    r = OSCAN_READ_OK;
out:
    cJSON_Delete(root);
    if (fd >= 0)
        close(fd);
    return r;
}

static bool fsync_dir(const char *dir)
{
    bool ok = false;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        log_err(WHERE, "cannot fsync %s: %s", dir, strerror(errno));
    else
        ok = true;
    if (fd >= 0)
        close(fd);
    return ok;
}

bool oscan_dead_dir(const char *dir, char *out, size_t outlen)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    int k = snprintf(out, outlen, "%.*s.dead", (int)n, dir);
    return n > 0 && !(n == 1 && dir[0] == '/') && k > 0 && (size_t)k < outlen;
}

/* The parent of `path` (for fsync after mkdir), "." when it has none. */
static void parent_of(const char *path, char *out, size_t outlen)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, outlen, ".");
    else if (slash == path)
        snprintf(out, outlen, "/");
    else
        snprintf(out, outlen, "%.*s", (int)(slash - path), path);
}

static bool ensure_dir(const char *dead)
{
    bool ok = false;
    char parent[OSCAN_PATH_MAX];
    struct stat st;
    if (mkdir(dead, 0700) == 0) {
        parent_of(dead, parent, sizeof parent);
        ok = fsync_dir(parent); /* the new folder's name must survive power loss too */
    } else if (errno == EEXIST && lstat(dead, &st) == 0 && S_ISDIR(st.st_mode)) {
        ok = true;
    } else {
        log_err(WHERE, "cannot create dead-letter folder %s: %s", dead,
                errno == EEXIST ? "exists and is not a directory" : strerror(errno));
    }
    return ok;
}

bool oscan_dead_letter(const char *dir, const char *name)
{
    bool ok = false;
    char dead[OSCAN_PATH_MAX], from[OSCAN_PATH_MAX], to[OSCAN_PATH_MAX];
    if (!oscan_dead_dir(dir, dead, sizeof dead) || !join(from, sizeof from, dir, name)
        || !join(to, sizeof to, dead, name)) {
        log_err(WHERE, "dead-letter path too long for %s/%s", dir, name);
        goto out;
    }
    if (!ensure_dir(dead))
        goto out;
    /* NOREPLACE: an older dead letter of the same name is evidence too;
     * never destroy it. Falls back to link+unlink where unsupported. */
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) != 0) {
        if (errno != EINVAL && errno != ENOSYS) {
            log_err(WHERE, "cannot move %s to %s: %s", name, dead, strerror(errno));
            goto out;
        }
        if (link(from, to) != 0 || unlink(from) != 0) {
            log_err(WHERE, "cannot move %s to %s: %s", name, dead, strerror(errno));
            goto out;
        }
    }
    ok = fsync_dir(dead) && fsync_dir(dir);
    if (ok)
        log_err(WHERE, "DEAD LETTER: %s moved to %s; it will not be sent again", name, dead);
out:
    return ok;
}

bool oscan_delete(const char *dir, const char *name)
{
    bool ok = false;
    char path[OSCAN_PATH_MAX];
    if (!join(path, sizeof path, dir, name)) {
        log_err(WHERE, "path too long: %s/%s", dir, name);
        goto out;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        log_err(WHERE, "cannot remove %s: %s", name, strerror(errno));
        goto out;
    }
    ok = fsync_dir(dir);
out:
    return ok;
}
