/* pcsc_link.c - the transport: the card worker's link to the card, on its
 * own PC/SC context (connect, transaction, transmit, reset).
 *
 * Data flows from the caller of transmit (the card worker) to the card and
 * back; which reader and which card to talk to come from the monitor's view
 * (r->current, r->card_in, r->card_seq, r->service_epoch under r->mu), never
 * from asking pcscd ourselves.
 */
#include "card/pcsc_int.h"

#include "util/log.h"
#include "util/secure.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PCSC_GONE_WAIT_MS 800   /* after a failed transmit: how long to wait for the monitor
                                   to see the card leave (pcscd polls at 400 ms) */

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
        cls = pcsc_classify(rv);
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
        cls = pcsc_classify(rv);
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
    cls = pcsc_classify(rv);
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
    struct timespec dl = pcsc_deadline_in(PCSC_GONE_WAIT_MS);
    bool gone;

    pthread_mutex_lock(&r->mu);
    while (!r->stopping && r->card_in && r->card_seq == seq &&
           pthread_cond_timedwait(&r->cv, &r->mu, &dl) != ETIMEDOUT)
        ;
    gone = !r->card_in || r->card_seq != seq;
    pthread_mutex_unlock(&r->mu);
    return gone;
}

ct_status pcsc_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
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
    cls = pcsc_classify(rv);
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

void pcsc_link_close(pcsc_link *l)
{
    link_drop(l, SCARD_RESET_CARD);
    link_release_ctx(l);
}
