/* heartbeat.c - see heartbeat.h. */
#include "syncd/heartbeat.h"

#include "syncd/outbox_scan.h"
#include "util/log.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WHERE "heartbeat"
#define SEQ_TEXT_MAX 32

/* The kiosk's `seq` file: decimal digits and a newline. False if absent,
 * unreadable or not that. */
static bool read_seq(const char *dir, uint64_t *out)
{
    char path[OSCAN_PATH_MAX], text[SEQ_TEXT_MAX];
    ssize_t n = -1;
    uint64_t v = 0;
    bool ok = false;
    int fd = -1;
    int k = snprintf(path, sizeof path, "%s/seq", dir);

    if (k > 0 && (size_t)k < sizeof path)
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0)
        n = read(fd, text, sizeof text);
    /* Digits then one newline, nothing else, and no overflow. */
    for (ssize_t i = 0; n > 1 && n < (ssize_t)sizeof text && i < n; i++) {
        if (i == n - 1) {
            ok = text[i] == '\n';
        } else if (text[i] < '0' || text[i] > '9'
                   || v > (UINT64_MAX - (uint64_t)(text[i] - '0')) / 10) {
            break;
        } else {
            v = v * 10 + (uint64_t)(text[i] - '0');
        }
    }
    if (ok)
        *out = v;
    if (fd >= 0)
        close(fd);
    return ok;
}

void hb_refresh(const char *outbox_dir, long unmovable, hb_figures *f)
{
    struct timespec ts;
    long depth = oscan_count(outbox_dir), n_dead = oscan_dead_count(outbox_dir);
    uint64_t seq;

    /* A dead letter that could not be moved is still in the outbox: it is
     * counted as what it is, a dead letter, and not as an event waiting. */
    if (depth >= 0)
        f->outbox_depth = depth > unmovable ? depth - unmovable : 0;
    else
        log_err(WHERE, "cannot count the outbox %s: the heartbeat keeps its last figure", outbox_dir);
    if (n_dead >= 0)
        f->dead_letters = n_dead + unmovable;
    else
        log_err(WHERE, "cannot count the dead letters beside %s", outbox_dir);
    if (read_seq(outbox_dir, &seq))
        f->last_event_seq = seq;
    /* A fresh terminal has no seq file until its first event: 0 stands. */
    if (clock_gettime(CLOCK_BOOTTIME, &ts) == 0)
        f->uptime_s = (long)ts.tv_sec;
}

char *hb_body(const hb_figures *f, const char *version, size_t *len)
{
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    /* Numbers as doubles are exact up to 2^53: seq and counts stay far below. */
    if (o && cJSON_AddStringToObject(o, "version", version)
        && cJSON_AddNumberToObject(o, "uptime_s", (double)(f->uptime_s < 0 ? 0 : f->uptime_s))
        && cJSON_AddNumberToObject(o, "outbox_depth", (double)(f->outbox_depth < 0 ? 0 : f->outbox_depth))
        && cJSON_AddNumberToObject(o, "dead_letters", (double)(f->dead_letters < 0 ? 0 : f->dead_letters))
        && cJSON_AddStringToObject(o, "reader", f->reader ? f->reader : "unknown")
        && cJSON_AddNumberToObject(o, "last_event_seq", (double)f->last_event_seq))
        text = cJSON_PrintUnformatted(o);
    if (text)
        *len = strlen(text);
    cJSON_Delete(o);
    return text;
}

uint32_t hb_interval_ms(unsigned period_s, backoff_rand_fn rnd, void *ctx)
{
    uint64_t base = (uint64_t)period_s * 1000u, spread = base / 5u, r = spread / 2u;
    uint32_t pick;
    /* [0.9, 1.1] x period; without randomness, the period itself. */
    if (spread > 0 && spread < UINT32_MAX && rnd(ctx, (uint32_t)spread + 1u, &pick))
        r = pick <= spread ? pick : spread; /* a source out of range is not trusted */
    base = base - spread / 2u + r;
    return base > UINT32_MAX ? UINT32_MAX : (uint32_t)base;
}
