/* sim_int.h - what the simulated reader's two files share; private to
 * sim.c and sim_card.c (everyone else uses sim.h).
 *
 *   sim.c       the reader: insert, remove, presence, the transport with its
 *               faults and delays, the stored state of each card
 *   sim_card.c  the card's logic: one command APDU in, the reply out
 *
 * Commands flow sim.c -> sim_exec -> a handler, always under r->mu with a
 * card present; the handlers read and change the card and the session state
 * in the struct below.
 */
#ifndef CARD_SIM_INT_H
#define CARD_SIM_INT_H

#include "card/sim.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char number[16];
    char pin[17];
    int tries;
    int max_tries;
    bool blocked;
} sim_card;

struct sim_reader {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled on remove, so a delayed command ends at once */
    void (*on_presence)(void *ud, bool present);
    void *ud;

    sim_card cards[SIM_MAX_CARDS];
    size_t ncards;

    /* The card in the reader (valid while present). */
    bool present;
    unsigned insertion; /* bumped on every insert and remove */
    sim_card *cur;
    bool locked;
    card_profile profile;
    char expiry[9];
    sim_fault fault;
    card_op fault_on;
    bool fault_done;
    unsigned delay_ms;
    card_op delay_on;
    uint8_t iso_ref;
    iso_pin_padding iso_pad;

    /* Card-side session state, reset at insertion. */
    bool app_selected;
    bool ef_selected;
    uint8_t pending[CARD_REPLY_MAX]; /* what GET RESPONSE will hand out */
    size_t pending_len;
    /* The last GET CHALLENGE's answer. sim_exec moves `chal_live` into
     * `chal_prev` and clears it before each command, so only the command
     * right after the challenge (chal_prev) can use it, and only once. */
    uint8_t chal[CARD_CHALLENGE_LEN];
    bool chal_live;
    bool chal_prev;

    /* Reader-wide (survives insertions): sim_reader_fix_challenge. */
    bool chal_fixed;
    uint8_t chal_fixed_val[CARD_CHALLENGE_LEN];
};

/* Here rather than in sim_card.c: sim.c answers a NULL command itself. */
static inline size_t put_sw(uint8_t *rsp, size_t at, uint16_t sw)
{
    rsp[at] = (uint8_t)(sw >> 8);
    rsp[at + 1] = (uint8_t)sw;
    return at + 2;
}

/* Runs one command on the card in the reader; returns the reply length.
 * Called with r->mu held and a card present; `rsp` holds CARD_REPLY_MAX. */
size_t sim_exec(sim_reader *r, const uint8_t *cmd, size_t len, uint8_t *rsp);

#endif
