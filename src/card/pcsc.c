#include "card/pcsc.h"

#include "util/log.h"
#include "util/secure.h"

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WHERE "pcsc"

/* Bounded looks: pcsc-lite 1.9.9 flags the PnP reader only when the reader
 * count changes DURING a call, so a reader plugged between two looks is seen
 * by the re-list at the top of the next one; the bound keeps that gap short. */
#define PCSC_WAIT_MS 2000
#define PCSC_RETRY_MS 500       /* service gone: a new context this often */
#define PCSC_RELIST_MS 100      /* a reader vanished between list and look */
#define PCSC_CANCEL_EVERY_MS 50 /* SCardCancel is lost unless the monitor is inside the wait */
#define PCSC_GONE_WAIT_MS 800   /* after a failed transmit: how long to wait for the monitor
                                   to see the card leave (pcscd polls at 400 ms) */

/* SCardGetStatusChange refuses more than PCSCLITE_MAX_READERS_CONTEXTS
 * entries; one is the PnP reader. */
#define PCSC_MAX_WATCHED (PCSCLITE_MAX_READERS_CONTEXTS - 1)
#define PCSC_PNP_NAME "\\\\?PnP?\\Notification"
#define PCSC_RECV_MAX MAX_BUFFER_SIZE_EXTENDED

_Static_assert(PCSC_READER_NAME_MAX == MAX_READERNAME, "reader name size follows pcsc-lite");

/* ---- what an error code means to us --------------------------------------- */

typedef enum {
    PE_OK,
    PE_TIMEOUT,
    PE_CANCELLED,
    PE_REMOVED, /* the card left */
    PE_RESET,   /* someone reset the card: reconnect */
    PE_READER,  /* the reader vanished under us: list again */
    PE_SERVICE, /* the context is dead: release it, establish a new one */
    PE_OTHER,
} pe_class;

static const struct {
    LONG rv;
    pe_class cls;
} pe_table[] = {
    { SCARD_S_SUCCESS, PE_OK },
    { SCARD_E_TIMEOUT, PE_TIMEOUT },
    { SCARD_E_CANCELLED, PE_CANCELLED },
    { SCARD_W_REMOVED_CARD, PE_REMOVED },
    { SCARD_E_NO_SMARTCARD, PE_REMOVED },
    { SCARD_W_RESET_CARD, PE_RESET },
    { SCARD_E_UNKNOWN_READER, PE_READER },
    { SCARD_E_READER_UNAVAILABLE, PE_READER },
    { SCARD_E_NO_SERVICE, PE_SERVICE },
    { SCARD_E_SERVICE_STOPPED, PE_SERVICE },
    { SCARD_E_INVALID_HANDLE, PE_SERVICE },
    { SCARD_E_NO_READERS_AVAILABLE, PE_SERVICE },
    { SCARD_E_SYSTEM_CANCELLED, PE_SERVICE },
    { SCARD_P_SHUTDOWN, PE_SERVICE },
    { SCARD_F_INTERNAL_ERROR, PE_SERVICE },
    { SCARD_F_WAITED_TOO_LONG, PE_SERVICE },
    { SCARD_F_COMM_ERROR, PE_SERVICE },
    { SCARD_F_UNKNOWN_ERROR, PE_SERVICE },
};

static pe_class pe_classify(LONG rv)
{
    for (size_t i = 0; i < sizeof pe_table / sizeof pe_table[0]; i++)
        if (pe_table[i].rv == rv)
            return pe_table[i].cls;
    return PE_OTHER;
}

static const char *const event_names[] = {
    [PCSC_READY] = "ready",
    [PCSC_UNAVAILABLE] = "unavailable",
    [PCSC_CARD_IN] = "card_in",
    [PCSC_CARD_OUT] = "card_out",
};

const char *pcsc_event_name(pcsc_event ev)
{
    if ((unsigned)ev >= sizeof event_names / sizeof event_names[0])
        return "?";
    return event_names[ev];
}

/* ---- the shared object ----------------------------------------------------- */

/* The transport's PC/SC state: touched only by the transmitting thread, and
 * by pcsc_reader_stop once that thread is done. */
typedef struct {
    bool ctx_valid;
    SCARDCONTEXT ctx;
    unsigned ctx_epoch; /* service_epoch when ctx was made */
    bool connected;
    SCARDHANDLE h;
    DWORD proto;
    char reader[PCSC_READER_NAME_MAX]; /* what `h` is connected to */
    unsigned seq;                      /* the card_seq it was connected for */
    uint8_t *rx;                       /* PCSC_RECV_MAX bytes; wiped after each reply */
} pcsc_link;

struct pcsc_reader {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* wakes the monitor's retry sleep; tells stop the monitor ended;
                          tells the transport the card left */
    void (*on_event)(void *ud, pcsc_event ev);
    void *ud;
    char filter[PCSC_READER_NAME_MAX];

    /* Under mu. */
    bool stopping;
    bool finished;
    bool mon_ctx_valid;
    SCARDCONTEXT mon_ctx;
    char current[PCSC_READER_NAME_MAX]; /* the chosen reader, "" none */
    char all[PCSC_READERS_TEXT_MAX];    /* every reader listed, "; " between */
    bool card_in;                       /* the monitor said CARD_IN last */
    unsigned card_seq;                  /* bumped at every CARD_IN */
    unsigned service_epoch;             /* bumped at every new monitor context */

    pcsc_link link;
};

static bool is_stopping(pcsc_reader *r)
{
    pthread_mutex_lock(&r->mu);
    bool s = r->stopping;
    pthread_mutex_unlock(&r->mu);
    return s;
}

static struct timespec deadline_in(unsigned ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Sleeps `ms` unless stop comes first. */
static void nap(pcsc_reader *r, unsigned ms)
{
    struct timespec dl = deadline_in(ms);

    pthread_mutex_lock(&r->mu);
    while (!r->stopping && pthread_cond_timedwait(&r->cv, &r->mu, &dl) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&r->mu);
}

/* ---- monitor ---------------------------------------------------------------- */

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
    cls = pe_classify(rv);
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

static void *monitor_main(void *arg)
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
        cls = pe_classify(rv);
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

/* ---- transport -------------------------------------------------------------- */

static void link_log(const char *what, LONG rv)
{
    log_warn(WHERE, "%s: %s", what, pcsc_stringify_error(rv));
}

static void link_release_ctx(pcsc_link *l)
{
    if (!l->ctx_valid)
        return;
    (void)SCardReleaseContext(l->ctx);
    l->ctx_valid = false;
}

/* Ends the transaction and the connection. `disposition`: SCARD_RESET_CARD
 * when the card may still be in (a verified PIN must not outlive us),
 * SCARD_LEAVE_CARD when it is gone. */
static void link_drop(pcsc_link *l, DWORD disposition)
{
    if (!l->connected)
        return;
    (void)SCardEndTransaction(l->h, SCARD_LEAVE_CARD);
    (void)SCardDisconnect(l->h, disposition);
    l->connected = false;
    l->reader[0] = '\0';
}

/* After any failure: a dead service takes the context with it. */
static void link_fail(pcsc_link *l, pe_class cls, DWORD disposition)
{
    link_drop(l, disposition);
    if (cls == PE_SERVICE)
        link_release_ctx(l);
}

static const SCARD_IO_REQUEST *link_pci(DWORD proto)
{
    switch (proto) {
    case SCARD_PROTOCOL_T0: return SCARD_PCI_T0;
    case SCARD_PROTOCOL_T1: return SCARD_PCI_T1;
    default: return NULL;
    }
}

static ct_status link_connect(pcsc_link *l, const char *reader, unsigned seq, unsigned epoch)
{
    ct_status st = CT_ERROR;
    pe_class cls;
    LONG rv;

    if (!l->ctx_valid) {
        rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &l->ctx);
        if (rv != SCARD_S_SUCCESS) {
            link_log("SCardEstablishContext", rv);
            goto out;
        }
        l->ctx_valid = true;
        l->ctx_epoch = epoch;
    }
    rv = SCardConnect(l->ctx, reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                      &l->h, &l->proto);
    if (rv != SCARD_S_SUCCESS) {
        cls = pe_classify(rv);
        link_log("SCardConnect", rv);
        if (cls == PE_SERVICE)
            link_release_ctx(l);
        st = cls == PE_REMOVED ? CT_REMOVED : CT_ERROR;
        goto out;
    }
    l->connected = true;
    snprintf(l->reader, sizeof l->reader, "%s", reader);
    l->seq = seq;
    if (link_pci(l->proto) == NULL) {
        log_warn(WHERE, "the card speaks neither T=0 nor T=1 (protocol %lu)", (unsigned long)l->proto);
        link_drop(l, SCARD_LEAVE_CARD);
        goto out;
    }
    /* Blocks while another process holds a transaction on this card; a
     * removal ends the wait. */
    rv = SCardBeginTransaction(l->h);
    if (rv != SCARD_S_SUCCESS) {
        cls = pe_classify(rv);
        link_log("SCardBeginTransaction", rv);
        link_fail(l, cls, cls == PE_REMOVED ? SCARD_LEAVE_CARD : SCARD_RESET_CARD);
        st = cls == PE_REMOVED ? CT_REMOVED : CT_ERROR;
        goto out;
    }
    st = CT_OK;
out:
    return st;
}

/* A reset from outside: the handle comes back (the transaction with it, as
 * pcscd keys it on the handle; begin again anyway, nesting is undone by the
 * disconnect). The command is NOT sent again. */
static ct_status link_after_reset(pcsc_link *l)
{
    pe_class cls;
    LONG rv = SCardReconnect(l->h, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                             SCARD_LEAVE_CARD, &l->proto);

    if (rv == SCARD_S_SUCCESS && link_pci(l->proto) == NULL)
        rv = SCARD_E_PROTO_MISMATCH;
    if (rv == SCARD_S_SUCCESS)
        rv = SCardBeginTransaction(l->h);
    if (rv == SCARD_S_SUCCESS)
        return CT_ERROR;
    cls = pe_classify(rv);
    link_log("SCardReconnect", rv);
    link_fail(l, cls, cls == PE_REMOVED ? SCARD_LEAVE_CARD : SCARD_RESET_CARD);
    return cls == PE_REMOVED ? CT_REMOVED : CT_ERROR;
}

/* After an unexplained failure: has the card left? pcscd notices a removal
 * at its next poll, so give the monitor a moment before calling it a reader
 * error. The monitor's view, not SCardStatus: in pcsc-lite 1.9.9 SCardStatus
 * rewrites the library's global reader table without its lock, racing with
 * the monitor's SCardGetStatusChange. */
static bool link_card_gone(pcsc_reader *r, unsigned seq)
{
    struct timespec dl = deadline_in(PCSC_GONE_WAIT_MS);
    bool gone;

    pthread_mutex_lock(&r->mu);
    while (!r->stopping && r->card_in && r->card_seq == seq &&
           pthread_cond_timedwait(&r->cv, &r->mu, &dl) != ETIMEDOUT)
        ;
    gone = !r->card_in || r->card_seq != seq;
    pthread_mutex_unlock(&r->mu);
    return gone;
}

static ct_status pcsc_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                               size_t resp_cap, size_t *resp_len)
{
    pcsc_reader *r = ctx;
    pcsc_link *l;
    ct_status st = CT_ERROR;
    char reader[PCSC_READER_NAME_MAX];
    bool card, stopping;
    unsigned seq, epoch;
    DWORD rlen = PCSC_RECV_MAX;
    pe_class cls;
    LONG rv;

    if (resp_len != NULL)
        *resp_len = 0;
    if (r == NULL || cmd == NULL || cmd_len == 0 || cmd_len > MAX_BUFFER_SIZE_EXTENDED ||
        resp_len == NULL || (resp == NULL && resp_cap > 0)) {
        log_err(WHERE, "transmit: bad arguments");
        return CT_ERROR;
    }
    l = &r->link;

    pthread_mutex_lock(&r->mu);
    snprintf(reader, sizeof reader, "%s", r->current);
    card = r->card_in;
    seq = r->card_seq;
    epoch = r->service_epoch;
    stopping = r->stopping;
    pthread_mutex_unlock(&r->mu);

    if (stopping)
        goto out;
    /* The monitor lost the service since our context was made: pcsc-lite
     * would still call it valid (SCardIsValidContext does), but it is dead. */
    if (l->ctx_valid && l->ctx_epoch != epoch) {
        link_drop(l, SCARD_LEAVE_CARD);
        link_release_ctx(l);
    }
    if (!card || reader[0] == '\0') {
        link_drop(l, SCARD_LEAVE_CARD);
        st = CT_REMOVED;
        goto out;
    }
    /* The card we were talking to has left since (even if one is back). */
    if (l->connected && (l->seq != seq || strcmp(l->reader, reader) != 0))
        link_drop(l, SCARD_LEAVE_CARD);
    if (!l->connected) {
        st = link_connect(l, reader, seq, epoch);
        if (st != CT_OK)
            goto out;
    }

    rv = SCardTransmit(l->h, link_pci(l->proto), cmd, (DWORD)cmd_len, NULL, l->rx, &rlen);
    cls = pe_classify(rv);
    switch (cls) {
    case PE_OK:
        if (rlen > PCSC_RECV_MAX) { /* never from pcsc-lite; do not trust it blindly */
            st = CT_ERROR;
            break;
        }
        /* Some drivers (vpcd) answer "success, no bytes" when the card left
         * during the command. */
        if (rlen < 2 && link_card_gone(r, seq)) {
            link_drop(l, SCARD_LEAVE_CARD);
            st = CT_REMOVED;
            break;
        }
        if (resp_cap > 0)
            memcpy(resp, l->rx, rlen < resp_cap ? rlen : resp_cap);
        *resp_len = rlen;
        st = CT_OK;
        break;
    case PE_REMOVED:
        link_drop(l, SCARD_LEAVE_CARD);
        st = CT_REMOVED;
        break;
    case PE_RESET:
        link_log("SCardTransmit", rv);
        st = link_after_reset(l);
        break;
    case PE_SERVICE:
    case PE_READER:
        link_log("SCardTransmit", rv);
        link_fail(l, cls, SCARD_RESET_CARD);
        st = CT_ERROR;
        break;
    default:
        link_log("SCardTransmit", rv);
        if (rv == SCARD_E_INSUFFICIENT_BUFFER && rlen > resp_cap) {
            *resp_len = rlen; /* the contract's "cut": the caller sees garbage */
            st = CT_OK;
            break;
        }
        if (link_card_gone(r, seq)) {
            link_drop(l, SCARD_LEAVE_CARD);
            st = CT_REMOVED;
        } else {
            link_drop(l, SCARD_RESET_CARD); /* unknown card state: start clean */
            st = CT_ERROR;
        }
        break;
    }
    /* The reply may hold card data; a PIN never comes back, but be tidy. */
    secure_wipe(l->rx, PCSC_RECV_MAX < (size_t)rlen ? PCSC_RECV_MAX : (size_t)rlen);
out:
    return st;
}

/* ---- public ----------------------------------------------------------------- */

pcsc_reader *pcsc_reader_start(const char *filter, void (*on_event)(void *ud, pcsc_event ev),
                               void *ud)
{
    pcsc_reader *r = NULL;
    pthread_condattr_t ca;
    bool mu_ok = false, cv_ok = false;

    if (filter == NULL)
        filter = "";
    if (strlen(filter) >= PCSC_READER_NAME_MAX) {
        log_err(WHERE, "reader filter longer than %d characters", PCSC_READER_NAME_MAX - 1);
        goto fail;
    }
    r = calloc(1, sizeof *r);
    if (r == NULL)
        goto fail;
    r->link.rx = malloc(PCSC_RECV_MAX);
    if (r->link.rx == NULL)
        goto fail;
    snprintf(r->filter, sizeof r->filter, "%s", filter);
    r->on_event = on_event;
    r->ud = ud;

    if (pthread_mutex_init(&r->mu, NULL) != 0)
        goto fail;
    mu_ok = true;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    cv_ok = pthread_cond_init(&r->cv, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!cv_ok)
        goto fail;
    if (pthread_create(&r->thread, NULL, monitor_main, r) != 0)
        goto fail;
    return r;

fail:
    if (r != NULL) {
        if (cv_ok)
            pthread_cond_destroy(&r->cv);
        if (mu_ok)
            pthread_mutex_destroy(&r->mu);
        free(r->link.rx);
        free(r);
    }
    return NULL;
}

card_transport pcsc_reader_transport(pcsc_reader *r)
{
    card_transport t = { pcsc_transmit, r };
    return t;
}

/* Copies a string the monitor keeps under r->mu. */
static void copy_locked(pcsc_reader *r, const char *field, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return;
    buf[0] = '\0';
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    snprintf(buf, len, "%s", field);
    pthread_mutex_unlock(&r->mu);
}

void pcsc_reader_current(pcsc_reader *r, char *buf, size_t len)
{
    copy_locked(r, r ? r->current : "", buf, len);
}

void pcsc_reader_all(pcsc_reader *r, char *buf, size_t len)
{
    copy_locked(r, r ? r->all : "", buf, len);
}

void pcsc_reader_stop(pcsc_reader *r)
{
    if (r == NULL)
        return;

    pthread_mutex_lock(&r->mu);
    r->stopping = true;
    pthread_cond_broadcast(&r->cv);
    while (!r->finished) {
        struct timespec dl = deadline_in(PCSC_CANCEL_EVERY_MS);

        /* A cancel that arrives while the monitor is between two looks is
         * dropped by pcsc-lite, so keep sending until it has ended. */
        if (r->mon_ctx_valid)
            (void)SCardCancel(r->mon_ctx);
        (void)pthread_cond_timedwait(&r->cv, &r->mu, &dl);
    }
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);

    link_drop(&r->link, SCARD_RESET_CARD);
    link_release_ctx(&r->link);
    secure_wipe(r->link.rx, PCSC_RECV_MAX);
    free(r->link.rx);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
