/* poison.h - the outbox files kiosk-sync is stepping round: one bad file
 * must never hold up the events behind it (issue 10).
 *
 * A file that cannot be read as an event right now (an open error other than
 * "gone", a socket, FIFO or directory with an event's name) is skipped for
 * the pass and tried again on a backoff of its own; after [sync]
 * dead_after_s of failing it is set aside as a dead letter. A file set aside
 * whose move to the dead letters failed, and a delivered one whose unlink
 * failed, are skipped too while the move or the unlink is retried on the
 * same kind of backoff. The events behind all of them go on in seq order.
 *
 * Pure: the time is passed in, the random source too (backoff.h); nothing
 * here touches a file. One list is used by one thread.
 */
#ifndef SYNCD_POISON_H
#define SYNCD_POISON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "syncd/backoff.h"
#include "syncd/outbox_scan.h"

typedef enum {
    POISON_UNREADABLE,  /* not readable as a regular file: retried until its bound */
    POISON_UNMOVABLE,   /* a dead letter that could not be moved: counted as one, the move retried */
    POISON_UNDELETABLE, /* delivered, the unlink failed: never sent again by this process */
} poison_kind;

typedef struct poison_entry {
    uint64_t seq;        /* the file evt-<seq>.json */
    poison_kind kind;
    long long first_ms;  /* when it first failed this way */
    long long next_ms;   /* not tried again before this */
    unsigned attempt;    /* failures so far */
    char why[256];       /* what was wrong with it, for the log (no value from the file) */
} poison_entry;

typedef struct poison_list {
    poison_entry *v;
    size_t n, room;
} poison_list; /* zero-initialised: empty */

/* The entry of `seq`, or NULL. */
poison_entry *poison_find(poison_list *l, uint64_t seq);

/* The entry of `seq` as `kind`: a new one (or one of another kind, started
 * afresh) first failing at `now_ms` and due at once. NULL when memory runs
 * out: the caller skips the file for this pass anyway. */
poison_entry *poison_get(poison_list *l, uint64_t seq, poison_kind kind, long long now_ms);

/* Counts one more failure of `e` at `now_ms` and sets when to try next:
 * the backoff of `p` for its attempt, but never after `until_ms` when that
 * is not 0 (an unreadable file's bound). */
void poison_later(poison_entry *e, const backoff_policy *p, long long now_ms, long long until_ms,
                  backoff_rand_fn rnd, void *ctx);

/* True when `e` may be tried at `now_ms`. */
bool poison_due(const poison_entry *e, long long now_ms);

/* Drops the entry of `seq` (its file was read, moved, deleted or is gone). */
void poison_forget(poison_list *l, uint64_t seq);

/* Drops every entry whose file is not in `files` (`n` of them, as
 * oscan_list gives them: by seq ascending): it left the outbox, whoever
 * moved it. */
void poison_keep(poison_list *l, const oscan_entry *files, size_t n);

/* How many entries are of `kind`. */
long poison_count(const poison_list *l, poison_kind kind);

void poison_free(poison_list *l);

#endif
