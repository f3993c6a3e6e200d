/* sim.c - the simulated reader: a card goes in and out (insert, remove,
 * presence), and the transport hands the card worker's commands to the
 * card's logic in sim_card.c.
 *
 * Commands flow from the card worker through sim_transmit, which adds the
 * insertion's delay and fault around sim_exec; presence changes flow out
 * through on_presence. The cards the reader has seen stay here, with their
 * PINs, until sim_reader_free.
 */
#include "card/sim_int.h"

#include "util/secure.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIM_DEFAULT_EXPIRY "20991231"

/* Which kiosk operation a command belongs to, for faults and delays. */
static bool op_of(const uint8_t *cmd, size_t len, card_op *op)
{
    if (len < 4)
        return false;
    switch (cmd[1]) {
    case 0xB2: *op = CARD_OP_READ; return true;
    case 0x20: *op = CARD_OP_VERIFY; return true;
    case 0x5E:
    case 0x24: *op = CARD_OP_CHANGE; return true;
    case 0x84: *op = CARD_OP_CHALLENGE; return true;
    case 0x2C: *op = CARD_OP_RESET; return true;
    default: return false;
    }
}

/* Junk that no reader of ours may take for an answer: under 2 bytes, or an
 * SW1 outside 6x/9x. */
static size_t sim_junk(uint8_t *rsp)
{
    uint32_t n = 0;

    if (!secure_random_below(6, &n) || !secure_random(rsp, n)) {
        rsp[0] = 0x00;
        return 1;
    }
    if (n >= 2)
        rsp[n - 2] &= 0x3F;
    return n;
}

/* ---- transport ---------------------------------------------------------- */

static ct_status sim_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len,
                              uint8_t *resp, size_t resp_cap, size_t *resp_len)
{
    sim_reader *r = ctx;
    uint8_t out[CARD_REPLY_MAX];
    size_t n = 0;
    card_op op = CARD_OP_READ;
    bool has_op = cmd != NULL && op_of(cmd, cmd_len, &op);
    bool pulled = false;
    ct_status st = CT_REMOVED;
    unsigned ins;

    *resp_len = 0;
    pthread_mutex_lock(&r->mu);
    if (!r->present)
        goto unlock;
    ins = r->insertion;

    if (has_op && r->delay_ms > 0 && op == r->delay_on) {
        struct timespec dl;

        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_sec += r->delay_ms / 1000;
        dl.tv_nsec += (long)(r->delay_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        while (r->present && r->insertion == ins) {
            if (pthread_cond_timedwait(&r->cv, &r->mu, &dl) == ETIMEDOUT)
                break;
        }
        if (!r->present || r->insertion != ins)
            goto unlock;
    }

    n = cmd == NULL ? put_sw(out, 0, 0x6700) : sim_exec(r, cmd, cmd_len, out);

    if (has_op && r->fault != SIM_FAULT_NONE && op == r->fault_on && !r->fault_done) {
        r->fault_done = true;
        switch (r->fault) {
        case SIM_FAULT_PULL:
            r->present = false;
            r->insertion++;
            r->cur = NULL;
            pthread_cond_broadcast(&r->cv);
            pulled = true;
            goto unlock;
        case SIM_FAULT_GARBAGE:
            n = sim_junk(out);
            break;
        case SIM_FAULT_TRUNCATED:
            n = n > 2 ? n - 2 : 1;
            break;
        case SIM_FAULT_NONE:
            break;
        }
    }
    memcpy(resp, out, n < resp_cap ? n : resp_cap);
    *resp_len = n;
    st = CT_OK;
unlock:
    /* Told under the lock, so that "pulled" here and an insert on another
     * thread reach the app in the order they happened. on_presence only
     * posts an event; it never calls back into the reader. */
    if (pulled && r->on_presence)
        r->on_presence(r->ud, false);
    pthread_mutex_unlock(&r->mu);
    secure_wipe(out, sizeof out);
    return st;
}

card_transport sim_reader_transport(sim_reader *r)
{
    card_transport t = { sim_transmit, r };
    return t;
}

/* ---- reader ------------------------------------------------------------- */

sim_reader *sim_reader_new(void (*on_presence)(void *ud, bool present), void *ud)
{
    sim_reader *r = calloc(1, sizeof *r);
    pthread_condattr_t ca;

    if (r == NULL)
        return NULL;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        pthread_condattr_destroy(&ca);
        free(r);
        return NULL;
    }
    if (pthread_cond_init(&r->cv, &ca) != 0) {
        pthread_condattr_destroy(&ca);
        pthread_mutex_destroy(&r->mu);
        free(r);
        return NULL;
    }
    pthread_condattr_destroy(&ca);
    r->on_presence = on_presence;
    r->ud = ud;
    return r;
}

void sim_reader_free(sim_reader *r)
{
    if (r == NULL)
        return;
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    secure_wipe(r, sizeof *r);
    free(r);
}

static sim_card *find_card(sim_reader *r, const char *number)
{
    for (size_t i = 0; i < r->ncards; i++)
        if (strcmp(r->cards[i].number, number) == 0)
            return &r->cards[i];
    return NULL;
}

static bool digits_only(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool valid_number(const char *s)
{
    size_t n = strnlen(s, sizeof ((sim_card_params *)0)->card_number);

    if (n == 0 || n >= sizeof ((sim_card_params *)0)->card_number)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
            return false;
    }
    return true;
}

static bool valid_date(const char *s)
{
    size_t n = strnlen(s, 9);
    int m, d;

    if (n == 0)
        return true;
    if (n != 8 || !digits_only(s, 8))
        return false;
    m = (s[4] - '0') * 10 + (s[5] - '0');
    d = (s[6] - '0') * 10 + (s[7] - '0');
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static bool valid_new_card(const sim_card_params *p)
{
    size_t n = strnlen(p->pin, sizeof p->pin);

    return n >= 4 && n <= 16 && digits_only(p->pin, n) &&
           p->tries >= 1 && p->tries <= SIM_MAX_TRIES;
}

bool sim_reader_insert(sim_reader *r, const sim_card_params *p)
{
    sim_card *c;
    bool ok = false;

    if (r == NULL || p == NULL || !valid_number(p->card_number) || !valid_date(p->expiry) ||
        (p->profile != CARD_PROFILE_SSSE && p->profile != CARD_PROFILE_ISO7816))
        return false;

    pthread_mutex_lock(&r->mu);
    if (r->present)
        goto unlock;
    c = find_card(r, p->card_number);
    if (c == NULL) {
        if (r->ncards == SIM_MAX_CARDS || !valid_new_card(p))
            goto unlock;
        c = &r->cards[r->ncards++];
        memset(c, 0, sizeof *c);
        memcpy(c->number, p->card_number, strlen(p->card_number) + 1);
        memcpy(c->pin, p->pin, strnlen(p->pin, sizeof p->pin));
        c->max_tries = p->tries;
        c->tries = p->blocked ? 0 : p->tries;
        c->blocked = p->blocked;
    }
    r->cur = c;
    r->locked = p->locked;
    r->profile = p->profile;
    memcpy(r->expiry, p->expiry[0] ? p->expiry : SIM_DEFAULT_EXPIRY, 9);
    r->fault = p->fault;
    r->fault_on = p->fault_on;
    r->fault_done = false;
    r->delay_ms = p->delay_ms;
    r->delay_on = p->delay_on;
    r->iso_ref = p->iso_pin_ref ? p->iso_pin_ref : 0x80;
    r->iso_pad = p->iso_padding;
    r->app_selected = false;
    r->ef_selected = false;
    r->pending_len = 0;
    r->chal_live = false; /* a challenge does not survive a power-up */
    r->chal_prev = false;
    r->present = true;
    r->insertion++;
    ok = true;
unlock:
    if (ok && r->on_presence)
        r->on_presence(r->ud, true);
    pthread_mutex_unlock(&r->mu);
    return ok;
}

bool sim_reader_remove(sim_reader *r)
{
    bool ok = false;

    if (r == NULL)
        return false;
    pthread_mutex_lock(&r->mu);
    if (r->present) {
        r->present = false;
        r->insertion++;
        r->cur = NULL;
        pthread_cond_broadcast(&r->cv);
        ok = true;
    }
    if (ok && r->on_presence)
        r->on_presence(r->ud, false);
    pthread_mutex_unlock(&r->mu);
    return ok;
}

bool sim_reader_present(sim_reader *r)
{
    bool p;

    pthread_mutex_lock(&r->mu);
    p = r->present;
    pthread_mutex_unlock(&r->mu);
    return p;
}

bool sim_reader_card_state(sim_reader *r, const char *card_number, char pin_out[17],
                           int *tries, bool *blocked)
{
    sim_card *c;
    bool found = false;

    if (r == NULL || card_number == NULL)
        return false;
    pthread_mutex_lock(&r->mu);
    c = find_card(r, card_number);
    if (c) {
        if (pin_out)
            memcpy(pin_out, c->pin, sizeof c->pin);
        if (tries)
            *tries = c->tries;
        if (blocked)
            *blocked = c->blocked;
        found = true;
    }
    pthread_mutex_unlock(&r->mu);
    return found;
}

void sim_reader_fix_challenge(sim_reader *r, const uint8_t chal[CARD_CHALLENGE_LEN])
{
    pthread_mutex_lock(&r->mu);
    r->chal_fixed = chal != NULL;
    if (chal)
        memcpy(r->chal_fixed_val, chal, CARD_CHALLENGE_LEN);
    pthread_mutex_unlock(&r->mu);
}
