/* outbox_scan.h - kiosk-sync's side of the outbox (docs/outbox.md).
 *
 * The kiosk writes evt-<seq 12 digits>.json files atomically; this module
 * lists them oldest seq first, reads one (at most OSCAN_FILE_MAX bytes),
 * and after the bureau's verdict either deletes it (200/201) or moves it to
 * the dead-letter folder (a permanent 4xx, or a file that cannot be sent).
 * Every name change is followed by an fsync of the directory, so a verdict
 * survives power loss; a kill -9 between the answer and the unlink only
 * means the event is sent again, which the bureau dedups on event_id.
 *
 * Dead letters live in "<outbox dir>.dead" (e.g. /var/lib/kiosk/outbox.dead),
 * beside the outbox, not inside it: same file system (rename stays atomic),
 * and the kiosk's own scans never see them. It is created 0700 on first use.
 *
 * intent-*, .tmp-*, seq and anything else is ignored. Nothing here sees a
 * PIN (the files never hold one); card numbers are never logged.
 * Reading and dead-lettering say what went wrong in a `why` for the caller
 * to log with the file's fate; the rest log their failures with the errno
 * text and return false (or -1).
 */
#ifndef SYNCD_OUTBOX_SCAN_H
#define SYNCD_OUTBOX_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/evname.h"

#define OSCAN_FILE_MAX 4096u      /* an event is ~200 bytes; anything over is not ours */
#define OSCAN_NAME_LEN EVNAME_LEN /* "evt-000000001834.json" and its NUL */
#define OSCAN_PATH_MAX 512

typedef struct oscan_entry {
    uint64_t seq;
    char name[OSCAN_NAME_LEN];
} oscan_entry;

/* The evt-*.json files in `dir`, sorted by seq ascending, into a new array
 * *out (caller frees it with free(); NULL when *n is 0). False (with *out
 * NULL, *n 0) if the directory cannot be read or memory runs out. */
bool oscan_list(const char *dir, oscan_entry **out, size_t *n);

/* True if `name` is exactly "evt-" 12 digits ".json"; *seq gets the number
 * (seq may be NULL). */
bool oscan_parse_name(const char *name, uint64_t *seq);

typedef enum {
    OSCAN_READ_OK,
    OSCAN_READ_GONE,       /* vanished since the listing: nothing to do */
    OSCAN_READ_UNREADABLE, /* not readable as a regular file now: skip it, try again later */
    OSCAN_READ_BAD,        /* larger than an event can be: a dead letter */
} oscan_read_result;

/* Reads `dir`/`name` into `buf` (`cap` bytes, at most OSCAN_FILE_MAX used;
 * not NUL-terminated) with its length in *len. A socket, FIFO, directory,
 * link or device is UNREADABLE without being opened (a FIFO could never
 * block us anyway: O_NONBLOCK). What went wrong is written to `why`
 * ("cannot open: Permission denied", "a socket, not a regular file"); this
 * function logs nothing. Whether the bytes are an event is evcheck.h's
 * question. */
oscan_read_result oscan_read(const char *dir, const char *name, char *buf, size_t cap,
                             size_t *len, char *why, size_t whylen);

/* "<dir>.dead" (trailing slashes of `dir` dropped) into `out`; false if it
 * does not fit. */
bool oscan_dead_dir(const char *dir, char *out, size_t outlen);

/* Moves `dir`/`name` (an event's name) into the dead-letter folder,
 * creating it, under the same name, or when a dead letter of that name is
 * already there under the first free copy name (util/evname.h); never over
 * an older one. The name it took goes to `dest`. fsyncs both directories.
 * False with the reason in `why` (nothing logged) if it could not be moved:
 * it is then still in the outbox. */
bool oscan_dead_letter(const char *dir, const char *name, char dest[EVNAME_DEAD_LEN], char *why,
                       size_t whylen);

/* Removes a delivered `dir`/`name` and fsyncs `dir`. A file already gone
 * counts as removed (a restart may have got there first). */
bool oscan_delete(const char *dir, const char *name);

/* Number of evt-*.json files in `dir` (or -1): the heartbeat's depth. */
long oscan_count(const char *dir);

/* Number of dead letters beside the outbox `dir` (every name util/evname.h
 * calls one; 0 when there is no folder), or -1: what the heartbeat and the
 * service screen (outbox_dead_count) both count. */
long oscan_dead_count(const char *dir);

#endif
