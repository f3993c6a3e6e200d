/* pcsc_monitor.c - the monitor thread: watches the readers and the PnP
 * notification reader with SCardGetStatusChange on its own PC/SC context.
 *
 * Data flows one way, out: what pcscd says becomes r->current, r->all,
 * r->card_in and r->card_seq (under r->mu, read by the accessors in pcsc.c
 * and by the transport in pcsc_link.c), and events through on_event.
 */
#include "card/pcsc_int.h"

#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounded looks: pcsc-lite 1.9.9 flags the PnP reader only when the reader
 * count changes DURING a call, so a reader plugged between two looks is seen
 * by the re-list at the top of the next one; the bound keeps that gap short. */
#define PCSC_WAIT_MS 2000
#define PCSC_RETRY_MS 500       /* service gone: a new context this often */
#define PCSC_RELIST_MS 100      /* a reader vanished between list and look */

/* SCardGetStatusChange refuses more than PCSCLITE_MAX_READERS_CONTEXTS
 * entries; one is the PnP reader. */
#define PCSC_MAX_WATCHED (PCSCLITE_MAX_READERS_CONTEXTS - 1)
#define PCSC_PNP_NAME "\\\\?PnP?\\Notification"

static bool is_stopping(pcsc_reader *r)
{
    pthread_mutex_lock(&r->mu);
    bool s = r->stopping;
    pthread_mutex_unlock(&r->mu);
    return s;
}

/* Sleeps `ms` unless stop comes first. */
static void nap(pcsc_reader *r, unsigned ms)
{
    struct timespec dl = pcsc_deadline_in(ms);

    pthread_mutex_lock(&r->mu);
    while (!r->stopping && pthread_cond_timedwait(&r->cv, &r->mu, &dl) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&r->mu);
}

/* The monitor thread's own state. */
typedef struct {
    bool have_ctx;
    SCARDCONTEXT ctx;
    char *names;     /* SCardListReaders' multi-string; the st[].szReader point into it */
    DWORD names_len;
    SCARD_READERSTATE st[PCSC_MAX_WATCHED + 1]; /* the readers, then the PnP reader */
    size_t n;                                   /* readers in st (PnP at st[n]) */
    int avail;                                  /* -1 nothing said yet, 0 unavailable, 1 ready */
    bool card;                                  /* CARD_IN said and no CARD_OUT since */
    char chosen[PCSC_READER_NAME_MAX];
    DWORD counter; /* the chosen reader's event counter at the last look */
    LONG last_err; /* not to log the same failure every retry */
} mon_state;

static void post(pcsc_reader *r, pcsc_event ev)
{
    if (is_stopping(r))
        return;
    log_info(WHERE, "%s", pcsc_event_name(ev));
    if (r->on_event)
        r->on_event(r->ud, ev);
}

static void mon_set_chosen(pcsc_reader *r, mon_state *m, const char *name)
{
    if (name[0] != '\0')
        log_info(WHERE, "reader: %s", name);
    snprintf(m->chosen, sizeof m->chosen, "%s", name);
    pthread_mutex_lock(&r->mu);
    snprintf(r->current, sizeof r->current, "%s", name);
    pthread_mutex_unlock(&r->mu);
}

static void mon_card_in(pcsc_reader *r, mon_state *m)
{
    m->card = true;
    pthread_mutex_lock(&r->mu);
    r->card_in = true;
    r->card_seq++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    post(r, PCSC_CARD_IN);
}

static void mon_card_out(pcsc_reader *r, mon_state *m)
{
    if (!m->card)
        return;
    m->card = false;
    pthread_mutex_lock(&r->mu);
    r->card_in = false;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    post(r, PCSC_CARD_OUT);
}

static void mon_set_avail(pcsc_reader *r, mon_state *m, bool ready)
{
    if (m->avail == (int)ready)
        return;
    m->avail = ready;
    post(r, ready ? PCSC_READY : PCSC_UNAVAILABLE);
}

/* The reader is gone from our view: its card first, then the reader. */
static void mon_lost(pcsc_reader *r, mon_state *m)
{
    mon_card_out(r, m);
    if (m->chosen[0] != '\0')
        mon_set_chosen(r, m, "");
    mon_set_avail(r, m, false);
}

static void mon_forget_readers(mon_state *m)
{
    free(m->names);
    m->names = NULL;
    m->names_len = 0;
    m->n = 0;
}

static void mon_release(pcsc_reader *r, mon_state *m)
{
    if (!m->have_ctx)
        return;
    pthread_mutex_lock(&r->mu);
    r->mon_ctx_valid = false;
    pthread_mutex_unlock(&r->mu);
    (void)SCardReleaseContext(m->ctx);
    m->have_ctx = false;
    mon_forget_readers(m);
}

static void mon_log_once(mon_state *m, const char *what, LONG rv)
{
    if (rv == m->last_err)
        return;
    m->last_err = rv;
    log_warn(WHERE, "%s: %s", what, pcsc_stringify_error(rv));
}

static pe_class mon_establish(pcsc_reader *r, mon_state *m)
{
    LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &m->ctx);

    if (rv != SCARD_S_SUCCESS) {
        mon_log_once(m, "SCardEstablishContext", rv);
        return PE_SERVICE;
    }
    m->have_ctx = true;
    pthread_mutex_lock(&r->mu);
    r->mon_ctx = m->ctx;
    r->mon_ctx_valid = true;
    r->service_epoch++;
    pthread_mutex_unlock(&r->mu);
    return PE_OK;
}

static const SCARD_READERSTATE *mon_find(const mon_state *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->st[i].szReader, name) == 0)
            return &m->st[i];
    return NULL;
}

/* Lists the readers again; when the list changed, rebuilds the watch array,
 * keeping what was known of readers that stayed (their event counters). */
static pe_class mon_list(mon_state *m)
{
    pe_class cls = PE_OK;
    DWORD len = 0;
    char *buf = NULL;
    mon_state old;
    LONG rv;

    rv = SCardListReaders(m->ctx, NULL, NULL, &len);
    if (rv == SCARD_S_SUCCESS && (len == 0 || len > 64 * 1024))
        rv = SCARD_F_INTERNAL_ERROR;
    if (rv != SCARD_S_SUCCESS)
        goto fail;
    buf = malloc(len);
    if (buf == NULL) {
        cls = PE_OTHER;
        goto out;
    }
    rv = SCardListReaders(m->ctx, NULL, buf, &len);
    if (rv == SCARD_E_INSUFFICIENT_BUFFER) { /* a reader arrived between the calls */
        cls = PE_READER;
        goto out;
    }
    if (rv == SCARD_S_SUCCESS && (len == 0 || buf[len - 1] != '\0'))
        rv = SCARD_F_INTERNAL_ERROR;
    if (rv != SCARD_S_SUCCESS)
        goto fail;
    if (m->names != NULL && len == m->names_len && memcmp(buf, m->names, len) == 0)
        goto out; /* same readers: keep the states */

    old = *m;
    m->names = buf;
    m->names_len = len;
    m->n = 0;
    buf = NULL;
    for (const char *p = m->names; *p != '\0' && p < m->names + len; p += strlen(p) + 1) {
        const SCARD_READERSTATE *was;

        if (strlen(p) >= PCSC_READER_NAME_MAX)
            continue;
        if (m->n == PCSC_MAX_WATCHED) {
            log_warn(WHERE, "more than %d readers; watching the first ones", PCSC_MAX_WATCHED);
            break;
        }
        was = mon_find(&old, p);
        memset(&m->st[m->n], 0, sizeof m->st[m->n]);
        m->st[m->n].szReader = p;
        m->st[m->n].dwCurrentState = was ? was->dwCurrentState : SCARD_STATE_UNAWARE;
        m->n++;
    }
    memset(&m->st[m->n], 0, sizeof m->st[m->n]);
    m->st[m->n].szReader = PCSC_PNP_NAME;
    m->st[m->n].dwCurrentState = old.n > 0 ? old.st[old.n].dwCurrentState : SCARD_STATE_UNAWARE;
    free(old.names);
    goto out;

fail:
    cls = pcsc_classify(rv);
    if (cls != PE_SERVICE)
        cls = PE_OTHER;
    mon_log_once(m, "SCardListReaders", rv);
out:
    free(buf);
    return cls;
}

/* For the service screen: the readers pcscd lists, as one line. */
static void mon_note_all(pcsc_reader *r, const mon_state *m)
{
    char all[PCSC_READERS_TEXT_MAX] = "";
    size_t used = 0;
    for (size_t i = 0; i < m->n && used < sizeof all; i++) {
        int k = snprintf(all + used, sizeof all - used, "%s%s", i ? "; " : "", m->st[i].szReader);
        used += k > 0 ? (size_t)k : 0;
    }
    pthread_mutex_lock(&r->mu);
    memcpy(r->all, all, sizeof all);
    pthread_mutex_unlock(&r->mu);
}

/* Before a look: which reader is ours now. */
static void mon_choose(pcsc_reader *r, mon_state *m)
{
    const char *pick = "";

    if (r->filter[0] != '\0') {
        for (size_t i = 0; i < m->n; i++) {
            if (strstr(m->st[i].szReader, r->filter) != NULL) {
                pick = m->st[i].szReader;
                break;
            }
        }
    } else if (m->chosen[0] != '\0' && mon_find(m, m->chosen) != NULL) {
        pick = m->chosen; /* stay with the reader whose card we reported */
    }
    if (strcmp(pick, m->chosen) == 0)
        return;
    mon_card_out(r, m);
    mon_set_chosen(r, m, pick);
    m->counter = 0;
}

static bool st_usable(DWORD ev)
{
    return (ev & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE | SCARD_STATE_IGNORE)) == 0;
}

static bool st_card(DWORD ev)
{
    return st_usable(ev) && (ev & SCARD_STATE_PRESENT) != 0;
}

/* After a look: say what changed, in order (OUT before UNAVAILABLE, READY
 * before IN). */
static void mon_process(pcsc_reader *r, mon_state *m)
{
    const SCARD_READERSTATE *cur = m->chosen[0] != '\0' ? mon_find(m, m->chosen) : NULL;
    bool usable = false;

    if (r->filter[0] != '\0') {
        usable = cur != NULL && st_usable(cur->dwEventState);
    } else {
        for (size_t i = 0; i < m->n; i++)
            usable = usable || st_usable(m->st[i].dwEventState);
    }

    if (!usable) {
        mon_card_out(r, m);
        if (r->filter[0] == '\0' && m->chosen[0] != '\0')
            mon_set_chosen(r, m, "");
        mon_set_avail(r, m, false);
        goto out;
    }
    mon_set_avail(r, m, true);

    if (cur != NULL) {
        DWORD ev = cur->dwEventState;
        DWORD counter = ev >> 16;

        if (m->card && !st_card(ev)) {
            mon_card_out(r, m);
            if (r->filter[0] == '\0')
                mon_set_chosen(r, m, "");
        } else if (m->card && counter != m->counter) {
            /* Still a card, but pcscd counted removals and insertions since
             * the last look: it is not the session's card any more. */
            mon_card_out(r, m);
            mon_card_in(r, m);
        } else if (!m->card && st_card(ev)) {
            mon_card_in(r, m);
        }
        m->counter = counter;
    }

    if (r->filter[0] == '\0' && m->chosen[0] == '\0') {
        for (size_t i = 0; i < m->n; i++) {
            if (st_card(m->st[i].dwEventState)) {
                mon_set_chosen(r, m, m->st[i].szReader);
                m->counter = m->st[i].dwEventState >> 16;
                mon_card_in(r, m);
                break;
            }
        }
    }
out:
    for (size_t i = 0; i <= m->n; i++)
        m->st[i].dwCurrentState = m->st[i].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
}

static void mon_fail(pcsc_reader *r, mon_state *m)
{
    mon_lost(r, m);
    mon_release(r, m);
    nap(r, PCSC_RETRY_MS);
}

void *pcsc_monitor_main(void *arg)
{
    pcsc_reader *r = arg;
    mon_state m;

    memset(&m, 0, sizeof m);
    m.avail = -1;
    m.last_err = SCARD_S_SUCCESS;

    while (!is_stopping(r)) {
        pe_class cls;
        LONG rv;

        if (!m.have_ctx && mon_establish(r, &m) != PE_OK) {
            mon_fail(r, &m);
            continue;
        }
        cls = mon_list(&m);
        if (cls == PE_READER) {
            nap(r, PCSC_RELIST_MS);
            continue;
        }
        if (cls != PE_OK) {
            mon_fail(r, &m);
            continue;
        }
        mon_choose(r, &m);
        mon_note_all(r, &m);

        rv = SCardGetStatusChange(m.ctx, PCSC_WAIT_MS, m.st, (DWORD)m.n + 1);
        cls = pcsc_classify(rv);
        switch (cls) {
        case PE_OK:
        case PE_TIMEOUT:
            if (m.last_err != SCARD_S_SUCCESS)
                log_info(WHERE, "pcscd answers again");
            m.last_err = SCARD_S_SUCCESS;
            mon_process(r, &m);
            break;
        case PE_CANCELLED:
            break;
        case PE_READER:
            nap(r, PCSC_RELIST_MS);
            break;
        default:
            mon_log_once(&m, "SCardGetStatusChange", rv);
            mon_fail(r, &m);
            break;
        }
    }

    mon_release(r, &m);
    mon_forget_readers(&m);
    pthread_mutex_lock(&r->mu);
    r->finished = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

