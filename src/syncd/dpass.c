/* dpass.c - see dpass.h. */
#include "syncd/dpass.h"

#include "syncd/evcheck.h"
#include "syncd/outbox_scan.h"
#include "util/log.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WHERE "kiosk-sync"
#define IO_RETRY_MS 1000u      /* the outbox could not be listed: look again soon */
#define ATTEMPT_MAX 64u        /* the backoff window is capped long before this */
#define REASON_MAX 256

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Moves `f` to the dead letters for `reason`; when that fails it stays in
 * the outbox, is never sent, counts as a dead letter and the move is tried
 * again on its own backoff. Either way a person must look: logged at err. */
static void set_aside(dpass *p, const oscan_entry *f, const char *reason)
{
    char dest[EVNAME_DEAD_LEN], why[REASON_MAX], dead[OSCAN_PATH_MAX] = "";
    long long now;
    poison_entry *e;

    oscan_dead_dir(p->cfg->outbox_dir, dead, sizeof dead);
    if (oscan_dead_letter(p->cfg->outbox_dir, f->name, dest, why, sizeof why)) {
        log_err(WHERE, "%s set aside as a dead letter: %s; moved to the dead letters as %s/%s%s; "
                "it will not be sent again", f->name, reason, dead, dest,
                strcmp(dest, f->name) != 0 ? " (that name was taken)" : "");
        poison_forget(&p->poison, f->seq);
        return;
    }
    now = now_ms();
    e = poison_get(&p->poison, f->seq, POISON_UNMOVABLE, now);
    if (e) {
        if (e->why != reason)
            text_errf(e->why, sizeof e->why, "%s", reason);
        poison_later(e, &p->policy, now, 0, backoff_rand_secure, NULL);
    }
    log_err(WHERE, "%s is a dead letter (%s) but cannot be moved: %s; it stays in the outbox, "
            "counted as a dead letter and never sent; the move is tried again after %lld ms",
            f->name, reason, why, e ? e->next_ms - now : (long long)DPASS_IDLE_MS);
    text_errf(why, sizeof why, "%s is a dead letter that cannot be moved", f->name);
    sync_server_note_error(p->srv, why);
}

/* `f` cannot be read now: stepped round, tried again on its own backoff,
 * and set aside once it has failed for [sync] dead_after_s. */
static void unreadable(dpass *p, const oscan_entry *f, const char *why)
{
    long long now = now_ms(), bound = (long long)p->cfg->dead_after_s * 1000;
    char reason[REASON_MAX];
    poison_entry *e = poison_get(&p->poison, f->seq, POISON_UNREADABLE, now);

    if (!e) {
        log_err(WHERE, "%s cannot be read (%s): skipped (no memory to track it)", f->name, why);
        return;
    }
    if (now - e->first_ms >= bound) {
        text_errf(reason, sizeof reason, "unreadable for %lld s (%s)", (now - e->first_ms) / 1000, why);
        set_aside(p, f, reason);
        return;
    }
    poison_later(e, &p->policy, now, e->first_ms + bound, backoff_rand_secure, NULL);
    log_warn(WHERE, "%s cannot be read (%s): skipped, the events after it go on; try %u after %lld ms, "
             "a dead letter after %d s", f->name, why, e->attempt, e->next_ms - now,
             p->cfg->dead_after_s);
}

/* Delivered, but the unlink failed: never sent again by this process (a
 * restart sends it once more and the bureau answers 200); the unlink is
 * tried again on its own backoff. */
static void undeletable(dpass *p, const oscan_entry *f)
{
    long long now = now_ms();
    poison_entry *e = poison_get(&p->poison, f->seq, POISON_UNDELETABLE, now);
    if (e)
        poison_later(e, &p->policy, now, 0, backoff_rand_secure, NULL);
    log_err(WHERE, "%s was delivered but cannot be removed; it is not sent again, removing it is "
            "tried again after %lld ms", f->name, e ? e->next_ms - now : (long long)DPASS_IDLE_MS);
}

/* How long to wait after one event's verdict; 0 = go on with the next. */
static unsigned after_verdict(dpass *p, const oscan_entry *f, const dlv_outcome *o)
{
    char reason[REASON_MAX];
    unsigned wait = 0;
    switch (o->result) {
    case DLV_DELIVERED:
        p->attempt = 0;
        if (!oscan_delete(p->cfg->outbox_dir, f->name))
            undeletable(p, f);
        break;
    case DLV_DEAD:
        /* Delivery already logged the bureau's verdict. */
        text_errf(reason, sizeof reason, "refused by the bureau (http %ld%s%s)", o->http_status,
                 o->error_code[0] ? ", " : "", o->error_code);
        set_aside(p, f, reason);
        break;
    case DLV_RETRY:
        /* At least 1 ms: a zero draw must still end the pass, or the next
         * event would go before this one and break seq order. */
        wait = backoff_next_ms(&p->policy, p->attempt, o->retry_after_s, backoff_rand_secure, NULL);
        wait = wait ? wait : 1;
        if (p->attempt < ATTEMPT_MAX)
            p->attempt++;
        log_warn(WHERE, "%s not delivered; retry %u in %u ms", f->name, p->attempt, wait);
        break;
    case DLV_CERT_FAIL:
    case DLV_AUTH:
        wait = backoff_slow_ms(&p->policy, backoff_rand_secure, NULL);
        wait = wait ? wait : 1;
        log_err(WHERE, "the bureau %s: a technician must check the terminal; retry in %u s",
                o->result == DLV_AUTH ? "refuses this terminal" : "certificate or pin does not verify",
                wait / 1000);
        break;
    }
    return wait;
}

/* One file of the pass; the wait it asks for (0: go on with the next). */
static unsigned one_file(dpass *p, const oscan_entry *f)
{
    static char body[OSCAN_FILE_MAX];
    char why[REASON_MAX], reason[REASON_MAX], event_id[EVCHECK_ID_LEN];
    size_t len;
    dlv_outcome o;
    poison_entry *e = poison_find(&p->poison, f->seq);

    if (e && !poison_due(e, now_ms()))
        return 0;
    if (e && e->kind == POISON_UNMOVABLE) {
        set_aside(p, f, e->why);
        return 0;
    }
    if (e && e->kind == POISON_UNDELETABLE) {
        if (oscan_delete(p->cfg->outbox_dir, f->name)) {
            log_notice(WHERE, "%s, delivered earlier, is removed at last", f->name);
            poison_forget(&p->poison, f->seq);
        } else {
            undeletable(p, f);
        }
        return 0;
    }
    switch (oscan_read(p->cfg->outbox_dir, f->name, body, sizeof body, &len, why, sizeof why)) {
    case OSCAN_READ_GONE:
        poison_forget(&p->poison, f->seq);
        return 0;
    case OSCAN_READ_UNREADABLE:
        unreadable(p, f, why);
        return 0;
    case OSCAN_READ_BAD:
        set_aside(p, f, why);
        return 0;
    case OSCAN_READ_OK:
        break;
    }
    poison_forget(&p->poison, f->seq);
    /* Nothing leaves the terminal that is not exactly a section 2 body. */
    if (!evcheck_body(body, len, p->cfg->terminal_id, f->seq, event_id, why, sizeof why)) {
        text_errf(reason, sizeof reason, "not a pin-events body: %s", why);
        set_aside(p, f, reason);
        return 0;
    }
    dlv_send_event(p->dlv, body, len, event_id, &o);
    sync_server_note_bureau(p->srv, o.http_status != 0, o.result == DLV_DELIVERED ? "" : o.detail);
    return after_verdict(p, f, &o);
}

unsigned dpass_run(dpass *p, bool *stop)
{
    oscan_entry *list = NULL;
    size_t n = 0;
    unsigned wait = 0;

    if (!oscan_list(p->cfg->outbox_dir, &list, &n)) {
        wait = IO_RETRY_MS;
        goto out;
    }
    poison_keep(&p->poison, list, n);
    for (size_t i = 0; i < n && wait == 0 && !*stop; i++) {
        wait = one_file(p, &list[i]);
        /* Between two events: a stop, the watchdog and the heartbeat are
         * not held up by a long backlog. */
        *stop = *stop || p->between(p->ud);
    }
    sync_server_note_unmovable(p->srv, dpass_unmovable(p));
out:
    free(list);
    return wait ? wait : DPASS_IDLE_MS;
}

long dpass_unmovable(const dpass *p)
{
    return poison_count(&p->poison, POISON_UNMOVABLE);
}

void dpass_free(dpass *p)
{
    poison_free(&p->poison);
}
