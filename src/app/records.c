/* records.c - records kept while the disk refuses them, and the storage
 * probe (records.h). The outbox module writes; this room decides what to
 * keep, when to try again, and when PIN changes must stop. */
#include "app/records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/effects.h"
#include "util/log.h"

#define RECORDS_RETRY_MS 5000u
#define PENDING_BLOCKED 4

struct app_records {
    int pending_res;        /* a resolution the outbox could not write yet, or -1 */
    char pending_blocked[PENDING_BLOCKED][CORE_CARD_NUMBER_MAX]; /* pin_blocked records not written yet */
    int n_pending_blocked;
    uint64_t retry_at_ms;
    bool storage_down;      /* the outbox cannot take a record: no PIN changes */
    char storage_why[192];  /* why, for the log and the service screen */
    uint64_t probe_at_ms;   /* next look at the outbox's disk */
};

static const outbox_resolution records_resolutions[] = {
    [RES_CHANGED] = OUTBOX_RESOLVE_CHANGED, [RES_UNKNOWN] = OUTBOX_RESOLVE_UNKNOWN,
    [RES_DISCARD] = OUTBOX_RESOLVE_DISCARD, [RES_RESET] = OUTBOX_RESOLVE_RESET,
};

app_records *records_new(void)
{
    app_records *r = calloc(1, sizeof *r);
    if (r)
        r->pending_res = -1;
    return r;
}

void records_free(app_records *r)
{
    if (r) {
        explicit_bzero(r, sizeof *r);
        free(r);
    }
}

static void records_keep_blocked(app *a, const char *card)
{
    app_records *r = a->rec;

    if (r->n_pending_blocked < PENDING_BLOCKED) {
        log_err("app", "could not record a blocked card; retrying");
        snprintf(r->pending_blocked[r->n_pending_blocked++], CORE_CARD_NUMBER_MAX, "%s", card);
        r->retry_at_ms = app_now_ms() + RECORDS_RETRY_MS;
    } else {
        log_err("app", "could not record a blocked card, and four more wait: this one is lost");
    }
}

/* Writes what the outbox refused before (a full or failing disk that has
 * recovered since). */
static void records_retry(app *a)
{
    app_records *r = a->rec;
    time_t t = time(NULL);

    if (r->pending_res >= 0 && outbox_intent_resolve(a->ob, records_resolutions[r->pending_res], t)) {
        log_notice("app", "change record written on retry");
        r->pending_res = -1;
    }
    while (r->n_pending_blocked > 0 &&
           outbox_record(a->ob, r->pending_blocked[r->n_pending_blocked - 1], OUTBOX_PIN_BLOCKED, t)) {
        log_notice("app", "blocked-card record written on retry");
        explicit_bzero(r->pending_blocked[--r->n_pending_blocked], CORE_CARD_NUMBER_MAX);
    }
    r->retry_at_ms = r->pending_res >= 0 || r->n_pending_blocked > 0 ? app_now_ms() + RECORDS_RETRY_MS : 0;
    a->ob_depth = outbox_depth(a->ob);
}

bool records_intent(app *a, const char *card_number, const char *reset_id, time_t now)
{
    records_retry(a);
    if (a->rec->pending_res >= 0)
        return false;
    return reset_id[0] ? outbox_intent_begin_reset(a->ob, card_number, reset_id, now)
                       : outbox_intent_begin(a->ob, card_number, now);
}

void records_resolve(app *a, core_resolution res, time_t now)
{
    if (!outbox_intent_resolve(a->ob, records_resolutions[res], now)) {
        /* Kept and retried; until it is written no new change starts,
         * and a restart turns the intent into pin_change_unknown. */
        log_err("app", "could not resolve the change record; retrying");
        a->rec->pending_res = (int)res;
        a->rec->retry_at_ms = app_now_ms() + RECORDS_RETRY_MS;
    }
}

void records_blocked(app *a, const char *card_number, time_t now)
{
    if (!outbox_record(a->ob, card_number, OUTBOX_PIN_BLOCKED, now))
        records_keep_blocked(a, card_number);
}

/* Looks at whether the outbox can take a record now (free space, and a
 * small write and fsync) and tells the core when that changes: a full or
 * failing disk stops new PIN changes instead of changing a PIN that could
 * not be recorded. Again every few seconds while it fails, every minute
 * while it works, and whenever a card comes or a write fails. */
void records_probe(app *a)
{
    app_records *r = a->rec;
    char why[sizeof r->storage_why];
    bool ok = outbox_probe(a->ob, OUTBOX_MIN_FREE, why, sizeof why);

    if (ok && r->pending_res >= 0)
        records_retry(a);
    if (ok && r->pending_res >= 0) {
        ok = false;
        snprintf(why, sizeof why, "a change record could not be written yet");
    }
    if (!ok && !r->storage_down) {
        log_err("outbox", "cannot record: %s: PIN changes stopped until it can", why);
        snprintf(r->storage_why, sizeof r->storage_why, "%s", why);
        r->storage_down = true;
        fx_simple(a, EV_STORAGE_DOWN);
    } else if (ok && r->storage_down) {
        log_notice("outbox", "records can be written again: PIN changes resume");
        r->storage_why[0] = '\0';
        r->storage_down = false;
        records_retry(a);
        fx_simple(a, EV_STORAGE_UP);
    }
    r->probe_at_ms = app_now_ms() + (r->storage_down ? 5000u : 60000u);
}

uint64_t records_deadline(const app *a)
{
    return app_earlier(a->rec->retry_at_ms, a->rec->probe_at_ms);
}

void records_due(app *a)
{
    if (a->rec->retry_at_ms && app_now_ms() >= a->rec->retry_at_ms)
        records_retry(a);
    if (a->rec->probe_at_ms && app_now_ms() >= a->rec->probe_at_ms)
        records_probe(a);
}

const char *records_trouble(const app *a)
{
    return a->rec->storage_down ? a->rec->storage_why : "";
}
