/* sim_driver.c - src/card/sim.c behind a line protocol, so check_sim.py can
 * hold vcard.py's card logic against the in-process sim byte for byte.
 *
 * stdin, one command a line; stdout, one answer a line:
 *   I <profile ssse|iso7816> <number> <pin> <tries> <blocked 0|1> <locked 0|1>
 *     <expiry YYYYMMDD|-> <iso_ref hex> <iso_pad ascii|bcd>   -> "ok" | "fail"
 *   R                                                          -> "ok" | "fail"
 *   X <hex APDU>                  -> the reply in hex ("-" when empty), or "removed"
 *   S <number>                    -> "<pin> <tries> <blocked 0|1>" | "unknown"
 *   C <16 hex digits>|-           -> "ok": every GET CHALLENGE answers these
 *                                    bytes from now on ("-": random again)
 *   M <number> <16 hex digits>    -> sim_reset_command's 21 bytes in hex
 * A test tool: it prints PINs because its only reader is check_sim.py.
 */
#include "card/sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 2048

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes `hex` into `out` (at most `cap` bytes); -1 when malformed. */
static long unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex), k = 0;

    if (n % 2 != 0 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval((unsigned char)hex[i]), lo = hexval((unsigned char)hex[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[k++] = (uint8_t)(hi << 4 | lo);
    }
    return (long)k;
}

static void do_insert(sim_reader *r, char *args)
{
    sim_card_params p;
    char profile[16], number[32], pin[32], expiry[16], pad[16];
    int tries, blocked, locked;
    unsigned ref;

    memset(&p, 0, sizeof p);
    if (sscanf(args, "%15s %31s %31s %d %d %d %15s %x %15s", profile, number, pin, &tries,
               &blocked, &locked, expiry, &ref, pad) != 9 ||
        strlen(number) >= sizeof p.card_number || strlen(pin) >= sizeof p.pin) {
        puts("fail");
        return;
    }
    p.profile = strcmp(profile, "ssse") == 0 ? CARD_PROFILE_SSSE : CARD_PROFILE_ISO7816;
    memcpy(p.card_number, number, strlen(number) + 1);
    memcpy(p.pin, pin, strlen(pin) + 1);
    p.tries = tries;
    p.blocked = blocked != 0;
    p.locked = locked != 0;
    if (strcmp(expiry, "-") != 0 && strlen(expiry) < sizeof p.expiry)
        memcpy(p.expiry, expiry, strlen(expiry) + 1);
    p.iso_pin_ref = (uint8_t)ref;
    p.iso_padding = strcmp(pad, "bcd") == 0 ? ISO_PAD_BCD : ISO_PAD_ASCII_FF;
    puts(sim_reader_insert(r, &p) ? "ok" : "fail");
}

static void do_transmit(sim_reader *r, const char *hex)
{
    card_transport t = sim_reader_transport(r);
    uint8_t cmd[CARD_APDU_MAX + 64], rsp[CARD_REPLY_MAX];
    size_t rlen = 0;
    long n = unhex(hex, cmd, sizeof cmd);

    if (n < 0) {
        puts("badhex");
        return;
    }
    if (t.transmit(t.ctx, cmd, (size_t)n, rsp, sizeof rsp, &rlen) != CT_OK) {
        puts("removed");
        return;
    }
    if (rlen == 0)
        putchar('-');
    for (size_t i = 0; i < rlen && i < sizeof rsp; i++)
        printf("%02X", rsp[i]);
    putchar('\n');
}

static void do_challenge(sim_reader *r, const char *arg)
{
    uint8_t chal[CARD_CHALLENGE_LEN];

    if (strcmp(arg, "-") == 0) {
        sim_reader_fix_challenge(r, NULL);
    } else if (strlen(arg) != 2 * CARD_CHALLENGE_LEN || unhex(arg, chal, sizeof chal) < 0) {
        puts("badhex");
        return;
    } else {
        sim_reader_fix_challenge(r, chal);
    }
    puts("ok");
}

static void do_mac(const char *args)
{
    char number[32], hex[64];
    uint8_t chal[CARD_CHALLENGE_LEN], cmd[SIM_RESET_APDU_LEN];

    if (sscanf(args, "%31s %63s", number, hex) != 2 || strlen(hex) != 2 * CARD_CHALLENGE_LEN ||
        unhex(hex, chal, sizeof chal) < 0) {
        puts("badhex");
        return;
    }
    sim_reset_command(number, chal, cmd);
    for (size_t i = 0; i < sizeof cmd; i++)
        printf("%02X", cmd[i]);
    putchar('\n');
}

static void do_state(sim_reader *r, const char *number)
{
    char pin[17];
    int tries = 0;
    bool blocked = false;

    if (!sim_reader_card_state(r, number, pin, &tries, &blocked)) {
        puts("unknown");
        return;
    }
    printf("%s %d %d\n", pin, tries, blocked ? 1 : 0);
}

int main(void)
{
    sim_reader *r = sim_reader_new(NULL, NULL);
    char line[LINE_MAX_LEN];
    int rc = 0;

    if (r == NULL)
        return 1;
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == 'I' && line[1] == ' ')
            do_insert(r, line + 2);
        else if (strcmp(line, "R") == 0)
            puts(sim_reader_remove(r) ? "ok" : "fail");
        else if (line[0] == 'X' && line[1] == ' ')
            do_transmit(r, line + 2);
        else if (line[0] == 'S' && line[1] == ' ')
            do_state(r, line + 2);
        else if (line[0] == 'C' && line[1] == ' ')
            do_challenge(r, line + 2);
        else if (line[0] == 'M' && line[1] == ' ')
            do_mac(line + 2);
        else {
            puts("what");
            rc = 1;
        }
        fflush(stdout);
    }
    sim_reader_free(r);
    return rc;
}
