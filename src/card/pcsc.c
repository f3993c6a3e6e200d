/* pcsc.c - the PC/SC reader's shared object: start and stop, the public
 * accessors, and what a PC/SC error code means to us.
 *
 * Data flows in from the two threads that share a pcsc_reader (pcsc_int.h):
 * the monitor (pcsc_monitor.c) writes the reader names and the card state
 * under r->mu, the accessors here copy them out under r->mu for any thread;
 * the transport (pcsc_link.c) is handed out here and closed in stop.
 */
#include "card/pcsc_int.h"

#include "util/log.h"
#include "util/secure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCSC_CANCEL_EVERY_MS 50 /* SCardCancel is lost unless the monitor is inside the wait */

_Static_assert(PCSC_READER_NAME_MAX == MAX_READERNAME, "reader name size follows pcsc-lite");

/* ---- what an error code means to us --------------------------------------- */

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

pe_class pcsc_classify(LONG rv)
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

struct timespec pcsc_deadline_in(unsigned ms)
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
    if (pthread_create(&r->thread, NULL, pcsc_monitor_main, r) != 0)
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
        struct timespec dl = pcsc_deadline_in(PCSC_CANCEL_EVERY_MS);

        /* A cancel that arrives while the monitor is between two looks is
         * dropped by pcsc-lite, so keep sending until it has ended. */
        if (r->mon_ctx_valid)
            (void)SCardCancel(r->mon_ctx);
        (void)pthread_cond_timedwait(&r->cv, &r->mu, &dl);
    }
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);

    pcsc_link_close(&r->link);
    secure_wipe(r->link.rx, PCSC_RECV_MAX);
    free(r->link.rx);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
