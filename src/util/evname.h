/* evname.h - the names of event files (docs/outbox.md), shared by the kiosk
 * (src/outbox) and kiosk-sync (src/syncd) so that both count the same files.
 *
 * In the outbox an event is "evt-" 12 digits ".json" (evt-000000001834.json),
 * the digits its seq, so names sort in seq order.
 *
 * In the dead-letter folder an event keeps that name, unless a dead letter
 * of that name is already there (an older one is evidence too and is never
 * overwritten): then it takes the first free "evt-<12 digits>.<n>.json",
 * n = 1..EVNAME_COPY_MAX without leading zeros. Every such name is a dead
 * letter for the service screen's and the heartbeat's figure, and goes back
 * into the outbox under its plain name when a technician requeues it.
 */
#ifndef UTIL_EVNAME_H
#define UTIL_EVNAME_H

#include <stdbool.h>
#include <stdint.h>

#define EVNAME_LEN 22       /* "evt-000000001834.json" and its NUL */
#define EVNAME_DEAD_LEN 26  /* "evt-000000001834.999.json" and its NUL */
#define EVNAME_COPY_MAX 999u

/* True if `name` is exactly "evt-" 12 digits ".json"; *seq (may be NULL)
 * gets the number. */
bool evname_parse(const char *name, uint64_t *seq);

/* True if `name` is a dead letter's name: an event's, or one with a copy
 * number. *seq and *copy (0 for the plain name) may be NULL. */
bool evname_parse_dead(const char *name, uint64_t *seq, unsigned *copy);

/* The dead-letter name of `seq` for `copy` (0: the plain event name). */
void evname_dead(char out[EVNAME_DEAD_LEN], uint64_t seq, unsigned copy);

#endif
