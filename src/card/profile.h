/* profile.h - what the kiosk does with a card: read it, verify a PIN, change
 * a PIN, and the two steps of a bureau-made PIN reset (a challenge, then the
 * bureau's command), in the two profiles of /work/shared/card-facts.md.
 *
 * Profile ssse (third-generation Chinese social security card):
 *   read   = SELECT AID  00 A4 04 00 0F 7378312E73682EC9E7BBE1B1A3D5CF
 *            SELECT EF05 00 A4 02 00 02 EF 05
 *            READ RECORD 00 B2 07 04 00  (card number)
 *            READ RECORD 00 B2 06 04 00  (expiry)
 *   verify = SELECT AID, then 00 20 00 00 Lc <PIN BCD, odd count padded F>
 *   change = SELECT AID, then 80 5E 01 00 Lc <old BCD> FF <new BCD>, Lc binary
 *   (the AID is selected again before a PIN command because a card reset
 *   between read and verify would otherwise send the PIN to the MF).
 *
 * Profile iso7816 (generic card). No card-number file is standardised, so by
 * the project's decision the iso7816 profile reads the same EF05 layout at MF
 * level, without the SSSE AID:
 *   read   = 00 A4 02 00 02 EF 05, 00 B2 07 04 00, 00 B2 06 04 00
 *   verify = 00 20 00 P2 08 <PIN padded to 8 bytes>
 *   change = 00 24 00 P2 10 <old padded to 8> <new padded to 8>
 *   P2 = cfg->iso_pin_ref. Padding ISO_PAD_ASCII_FF: ASCII digits then FF
 *   (so at most 8 digits); ISO_PAD_BCD: BCD digits then F nibbles to 8 bytes.
 *
 * Auto: ssse when the SSSE AID SELECT answers 9000 (or 61xx, fetched below
 * the profile), CARD_RES_LOCKED on ssse when it answers 9303 (the application
 * is there but locked), iso7816 when it answers any other status word.
 *
 * Records answer `rr len value`; a reply that does not frame that way is
 * CARD_RES_GARBAGE. Record 07 must be 1..19 ASCII letters/digits (9 on a
 * real card), else CARD_RES_UNREADABLE. Record 06 is YYYYMMDD, accepted as 8
 * ASCII digits or 4 BCD bytes (the MoHRSS "cn" form); a card that answers it
 * with an error status has no expiry (expiry ""), which is not "expired".
 * An expiry before `today` is CARD_RES_EXPIRED, with number and expiry filled.
 *
 * PINs: 4..16 ASCII digits, checked before anything is built (else
 * CARD_RES_REFUSED, nothing sent). VERIFY and CHANGE are sent exactly once,
 * never empty; a 6Cxx to them is CARD_RES_REFUSED. Every buffer that held
 * PIN bytes is wiped on every path. The PIN strings stay the caller's.
 *
 * The bureau-made reset (bureau-api.md section 3), both profiles:
 *   challenge = [ssse: SELECT AID, then] GET CHALLENGE 00 84 00 00 08
 *   reset     = the bureau's command, sent as given, once, and nothing before
 *               it: any other command (a SELECT too) voids the challenge.
 * See card_challenge() and card_reset_pin() for what their answers mean.
 *
 * All functions are blocking and fill every field of *out (gen is left 0;
 * the worker sets it). `cfg` may be NULL for the defaults (card_cfg_default).
 */
#ifndef CARD_PROFILE_H
#define CARD_PROFILE_H

#include "card/card.h"

#define CARD_PIN_MIN 4
#define CARD_PIN_MAX 16

/* `today_yyyymmdd`: 8 digits; NULL or malformed skips the expiry check. */
void card_read(const card_transport *t, const card_cfg *cfg, const char *today_yyyymmdd,
               card_result *out);

/* `used`: the profile the read found (card_result.profile); AUTO means
 * "use cfg->profile, and detect if that is AUTO too". */
void card_verify(const card_transport *t, const card_cfg *cfg, card_profile used,
                 const char *pin, card_result *out);

void card_change(const card_transport *t, const card_cfg *cfg, card_profile used,
                 const char *old_pin, const char *new_pin, card_result *out);

/* Asks the card for the challenge of a bureau-made reset. `used` as for
 * card_verify (AUTO detects, with the SSSE SELECT). CARD_RES_OK only for
 * exactly 8 data bytes + 9000 (through any 61xx chain), then in
 * out->challenge; 9000 with another length is CARD_RES_GARBAGE; 9303 is
 * CARD_RES_LOCKED; any other status word CARD_RES_REFUSED (6Cxx is not
 * resent); a failed SELECT reads as in card_read. out->sent: GET CHALLENGE
 * went out. */
void card_challenge(const card_transport *t, const card_cfg *cfg, card_profile used,
                    card_result *out);

/* Sends the bureau's reset command `apdu` (`len` bytes, the caller's; not
 * kept) exactly once, with no command before it (CARD_X_NO_RESEND; only a
 * 61xx chain's GET RESPONSE may follow). Nothing is sent, CARD_RES_REFUSED
 * and sent false, unless card_apdu_well_formed(apdu, len). Outcome: 9000
 * CARD_RES_OK (PIN back to the initial one, counter full); 9303
 * CARD_RES_LOCKED; 65xx CARD_RES_GARBAGE (memory failure: unknown); any
 * other status word CARD_RES_REFUSED (definite: nothing changed); a reply
 * lost or malformed CARD_RES_GARBAGE / REMOVED / IO (outcome unknown once
 * sent is true). out->profile is `used` (cfg->profile when AUTO), never
 * detected. */
void card_reset_pin(const card_transport *t, const card_cfg *cfg, card_profile used,
                    const uint8_t *apdu, size_t len, card_result *out);

/* True when `pin` is 4..16 ASCII digits. */
bool card_pin_valid(const char *pin);

#endif
