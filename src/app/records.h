/* records.h - the kiosk's side of the outbox: the records the core asks
 * for, written at once or kept and retried while the disk refuses them,
 * and the storage probe that stops new PIN changes while the outbox cannot
 * take a record. Called by effects.c (records) and loop.c (deadlines);
 * tells the core through effects.c (EV_STORAGE_DOWN / EV_STORAGE_UP).
 */
#ifndef APP_RECORDS_H
#define APP_RECORDS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "app/app_int.h"

app_records *records_new(void);
void records_free(app_records *r);

/* The intent before a change command (reset_id "") or the bureau's reset
 * command (its reset_id): false if it is not durable, or if an earlier
 * resolution still waits (a PIN is never changed unrecorded). */
bool records_intent(app *a, const char *card_number, const char *reset_id, time_t now);
/* Resolves the open intent; kept and retried if the disk refuses. */
void records_resolve(app *a, core_resolution res, time_t now);
/* A card blocked at this terminal; kept and retried if the disk refuses. */
void records_blocked(app *a, const char *card_number, time_t now);

/* Looks at the outbox's disk now, and tells the core when that changes. */
void records_probe(app *a);

/* The next retry or probe (monotonic ms), 0 none; and doing what is due. */
uint64_t records_deadline(const app *a);
void records_due(app *a);

/* Why no record can be written now, or "" (for the service screen). */
const char *records_trouble(const app *a);

#endif
