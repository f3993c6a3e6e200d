/* sim.h - a simulated reader with a simulated card in it, in process.
 *
 * The card answers the real command bytes of both profiles (profile.h), so
 * the profile code that runs here is the code that runs on PC/SC:
 *   ssse card:    SELECT AID (61 13, then GET RESPONSE gives the FCI; with an
 *                 Le it answers FCI + 9000 at once), SELECT EF05 (only after
 *                 the AID), READ RECORD, VERIFY 00 20 00 00 (BCD, needs the
 *                 AID selected), CHANGE 80 5E 01 00.
 *   iso7816 card: SELECT AID answers 6A82; SELECT EF05 at MF level; READ
 *                 RECORD; VERIFY 00 20 00 P2 and CHANGE 00 24 00 P2 with
 *                 8-byte PIN blocks (P2 and padding from the params).
 * Both profiles, for the bureau-made reset (bureau-api.md section 3, the
 * test keys): GET CHALLENGE 00 84 00 00 08 (ssse: needs the AID selected,
 * else 6985; Le 00 also gives 8 bytes, any other Le 6C08; P1/P2 not 00
 * 6A86; data or no Le 6700) -> 8 random bytes + 9000; RESET 84 2C 00 00 10
 * + 16-byte MAC (sim_reset_command) -> 9000, PIN back to SIM_INITIAL_PIN,
 * tries to the maximum, not blocked. The card accepts a reset only for the
 * challenge it gave last, and only if it came right before: any command in
 * between (a SELECT, a failed reset, a malformed APDU, GET RESPONSE) voids
 * the challenge. Stale or no challenge, or a wrong MAC -> 6988, nothing
 * changed. A locked card answers 9303 to both and stays locked.
 * Records of EF05 answer `rr len value`: 07 the card number (ASCII), 06 the
 * expiry (4 BCD bytes, the cn form of real cards), 05 issue date, 03 "3.00",
 * 01 a 16-byte identification code. Le 00 gives the whole record; any other
 * Le that is not the record's length draws 6Cxx, like a T=0 card.
 *
 * Status words: wrong PIN -> tries--, 63Cx, at 0 63C0 and blocked; blocked ->
 * 6983; a correct PIN resets tries to the maximum; a change checks the old
 * PIN like a verify; locked -> 9303 to everything but SELECT/GET RESPONSE;
 * unknown INS -> 6D00; known INS with another CLA -> 6E00; Lc not matching
 * the command (or not the size the command needs) -> 6700; bad P1/P2 ->
 * 6A86 (6A88 for an unknown PIN reference); a malformed PIN encoding ->
 * 6A80 (not counted); READ RECORD with no EF selected -> 6986; missing
 * record -> 6A83. An EMPTY VERIFY counts as a failed attempt, like the cards
 * card-facts.md warns about, so a test notices if anyone sends one.
 *
 * Thread safety: every function may be called from any thread; transmit
 * (through sim_reader_transport) runs on the card worker while insert and
 * remove come from the UI or control threads. on_presence is called with
 * the reader's lock held (so that events keep the order of the changes),
 * from the thread that caused the change (for a SIM_FAULT_PULL, the
 * transmitting thread): it must only post, never call the reader.
 */
#ifndef CARD_SIM_H
#define CARD_SIM_H

#include "card/card.h"

#include <stdbool.h>

typedef enum {
    SIM_FAULT_NONE,
    SIM_FAULT_PULL,      /* the card is pulled during that command (after it took it) */
    SIM_FAULT_GARBAGE,   /* the reply is random junk: under 2 bytes or no valid SW */
    SIM_FAULT_TRUNCATED, /* the reply is cut: data without SW, or 1 byte */
} sim_fault;

#define SIM_MAX_CARDS 64 /* distinct card numbers one reader remembers */
#define SIM_MAX_TRIES 15
#define SIM_INITIAL_PIN "123456" /* what a bureau-made reset puts back */
#define SIM_RESET_APDU_LEN 21    /* 84 2C 00 00 10 + 16-byte MAC */

typedef struct {
    char card_number[16]; /* 1..15 ASCII letters/digits */
    char pin[17];         /* 4..16 digits */
    int tries;            /* remaining, 1..15; the maximum is this at first insert */
    bool blocked;         /* starts blocked (tries become 0) */
    bool locked;          /* 9303 */
    card_profile profile; /* SSSE or ISO7816 (AUTO is refused) */
    char expiry[9];       /* YYYYMMDD; "" = 20991231 */
    /* Faults and delays belong to one insertion. The fault fires once, on the
     * first command of `fault_on` (READ: READ RECORD; VERIFY: 00 20; CHANGE:
     * 80 5E / 00 24; CHALLENGE: 00 84; RESET: 84 2C, so a fault on RESET is
     * "the card did reset the PIN, and the answer was lost"). The command is
     * carried out first: the answer is what
     * gets lost. The delay applies to every command of `delay_on`, before it
     * is carried out; a remove during the delay ends it with CT_REMOVED. */
    sim_fault fault;
    card_op fault_on;
    unsigned delay_ms;
    card_op delay_on;
    /* iso7816 cards only; zero values give the kiosk defaults. */
    uint8_t iso_pin_ref;         /* 0 means 0x80 */
    iso_pin_padding iso_padding; /* ISO_PAD_ASCII_FF by default */
} sim_card_params;

typedef struct sim_reader sim_reader;

/* `on_presence` may be NULL; `ud` stays the caller's. NULL on no memory. */
sim_reader *sim_reader_new(void (*on_presence)(void *ud, bool present), void *ud);

/* Stop every user of the transport first (card_worker_stop). Wipes the
 * remembered PINs. NULL is fine. */
void sim_reader_free(sim_reader *r);

/* Copies what it needs from `p`; the caller keeps `p` (and should wipe its pin).
 * False if a card is already in, the params are invalid, or the reader
 * already remembers SIM_MAX_CARDS other cards. A card number seen before
 * keeps its stored PIN/tries/blocked state and ignores those given.
 * Calls on_presence(true) on success. */
bool sim_reader_insert(sim_reader *r, const sim_card_params *p);

/* False if empty; calls on_presence(false) on success. */
bool sim_reader_remove(sim_reader *r);

bool sim_reader_present(sim_reader *r);

/* A transport whose ctx is `r`; valid while `r` lives. */
card_transport sim_reader_transport(sim_reader *r);

/* For tests: the stored state of a card seen by this reader; false if
 * unknown. Any out pointer may be NULL. */
bool sim_reader_card_state(sim_reader *r, const char *card_number, char pin_out[17],
                           int *tries, bool *blocked);

/* For tests that must know the challenge in advance (check_sim.py holds the
 * sim against vcard.py): from now on every GET CHALLENGE answers `chal`
 * instead of random bytes; NULL goes back to random. */
void sim_reader_fix_challenge(sim_reader *r, const uint8_t chal[CARD_CHALLENGE_LEN]);

/* The reset command that the bureau's stand-in makes for test cards
 * (bureau-api.md section 3): key = the first 16 bytes of
 * SHA-256("ssse-test-reset-key:" || card_number), and out_apdu =
 * 84 2C 00 00 10 || the first 16 bytes of HMAC-SHA256(key, challenge ||
 * card_number), card_number as ASCII without its NUL. The key and the full
 * MAC are wiped before returning. */
void sim_reset_command(const char *card_number, const uint8_t challenge[CARD_CHALLENGE_LEN],
                       uint8_t out_apdu[SIM_RESET_APDU_LEN]);

#endif
