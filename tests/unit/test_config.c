#include "t.h"
#include "config/config.h"
#include "kiosk_build.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char err[512];

/* Loads `text` named "t.conf" and returns the result; the message is in err. */
static bool load(kiosk_config *c, const char *text)
{
    err[0] = '\0';
    return config_load_string(c, text, "t.conf", err, sizeof err);
}

/* Expects `text` to be refused with exactly `want`, leaving c untouched. */
#define T_BAD(text, want) do { kiosk_config c_; config_defaults(&c_); c_.width = 4242; \
    T_CHECK(!load(&c_, text)); T_EQ_STR(err, want); T_EQ_INT(c_.width, 4242); } while (0)

static void check_defaults(const kiosk_config *c)
{
    T_EQ_STR(c->terminal_id, "TEST-0001");
    T_CHECK(c->fullscreen);
    T_EQ_INT(c->width, 1920);
    T_EQ_INT(c->height, 1080);
    T_EQ_STR(c->language, "zh");
    T_EQ_INT(c->idle_timeout_s, 30);
    T_EQ_INT(c->warning_s, 15);
    T_CHECK(!c->scramble_keypad);
    T_EQ_INT(c->take_card_s, 15);
    T_EQ_INT(c->change_unknown_s, 30);
    T_EQ_STR(c->counter, "");
    T_EQ_STR(c->counter_hours, "");
    T_EQ_INT(c->pin_length, 6);
    T_EQ_INT(c->pin_initial_count, 1);
    T_EQ_STR(c->pin_initial[0], "123456");
    T_EQ_INT(c->card_backend, CFG_BACKEND_PCSC);
    T_EQ_STR(c->card_reader, "");
    T_EQ_INT(c->card_profile, CFG_PROFILE_AUTO);
    T_EQ_INT(c->iso_pin_ref, 0x80);
    T_CHECK(!c->iso_pin_bcd);
    T_EQ_STR(c->outbox_dir, "/var/lib/kiosk/outbox");
    T_EQ_STR(c->sync_socket, "/run/kiosk/sync.sock");
    T_EQ_INT(c->offline_policy, CFG_OFFLINE_ALLOW);
    T_EQ_INT(c->heartbeat_s, 300);
    T_EQ_INT(c->status_timeout_ms, 3000);
    T_EQ_INT(c->retry_base_ms, 1000);
    T_EQ_INT(c->retry_cap_s, 300);
    T_EQ_INT(c->dead_after_s, 3600);
    T_EQ_STR(c->bureau_url, "");
    T_EQ_STR(c->ca_file, "");
    T_EQ_STR(c->client_cert, "");
    T_EQ_STR(c->client_key, "");
    T_EQ_STR(c->pinned_pubkey, "");
    T_EQ_INT(c->connect_timeout_s, 5);
    T_EQ_INT(c->timeout_s, 10);
    T_EQ_STR(c->control_socket, "");
    T_CHECK(c->audio_enabled);
    T_EQ_INT(c->audio_volume, 100);
    T_EQ_INT(c->audio_night_volume, 50);
    T_EQ_INT(c->audio_night_from, 0);
    T_EQ_INT(c->audio_night_to, 0);
}

T_TEST(defaults_are_documented_values)
{
    kiosk_config c;

    memset(&c, 0x5a, sizeof c);
    config_defaults(&c);
    check_defaults(&c);
}

T_TEST(empty_text_gives_defaults)
{
    kiosk_config c;

    memset(&c, 0x5a, sizeof c);
    T_CHECK(load(&c, ""));
    check_defaults(&c);
    T_CHECK(load(&c, "; only a comment\n# and another\n\n"));
    check_defaults(&c);
}

T_TEST(shipped_kiosk_conf_loads_with_defaults)
{
    const char *root = getenv("KIOSK_SOURCE_ROOT");
    char path[4096];
    kiosk_config c;

    snprintf(path, sizeof path, "%s/kiosk.conf", root ? root : KIOSK_SOURCE_ROOT);
    memset(&c, 0x5a, sizeof c);
    err[0] = '\0';
    T_CHECK(config_load_file(&c, path, err, sizeof err));
    T_EQ_STR(err, "");
    check_defaults(&c);
}

T_TEST(all_keys_are_read)
{
    kiosk_config c;

    T_CHECK(load(&c,
        "[terminal]\nid = GZ-YX-0042\n"
        "[display]\nfullscreen = no\nwidth = 1024\nheight = 768\n"
        "[ui]\nlanguage = EN\nidle_timeout_s = 60\nwarning_s = 10\nscramble_keypad = yes\n"
        "[pin]\nlength = 4\ninitial = 1234\n"
        "[card]\nbackend = sim\nreader = \"ACS ACR38U [CCID] 00 00\"\nprofile = iso7816\n"
        "iso_pin_ref = 129\niso_pin_padding = bcd\n"
        "[outbox]\ndir = /tmp/ob\n"
        "[sync]\nsocket = /tmp/s.sock\noffline_policy = deny\nheartbeat_s = 60\nstatus_timeout_ms = 500\n"
        "[bureau]\nurl = https://bureau.example/api\nca_file = /etc/ca.pem\nclient_cert = /etc/c.pem\n"
        "client_key = /etc/k.pem\npinned_pubkey = sha256//AAA=;sha256//BBB=\n"
        "connect_timeout_s = 3\ntimeout_s = 20\n"
        "[control]\nsocket = /tmp/ctl.sock\n"));
    T_EQ_STR(err, "");
    T_EQ_STR(c.terminal_id, "GZ-YX-0042");
    T_CHECK(!c.fullscreen);
    T_EQ_INT(c.width, 1024);
    T_EQ_INT(c.height, 768);
    T_EQ_STR(c.language, "en");
    T_EQ_INT(c.idle_timeout_s, 60);
    T_EQ_INT(c.warning_s, 10);
    T_CHECK(c.scramble_keypad);
    T_EQ_INT(c.pin_length, 4);
    T_EQ_STR(c.pin_initial[0], "1234");
    T_EQ_INT(c.card_backend, CFG_BACKEND_SIM);
    T_EQ_STR(c.card_reader, "ACS ACR38U [CCID] 00 00");
    T_EQ_INT(c.card_profile, CFG_PROFILE_ISO7816);
    T_EQ_INT(c.iso_pin_ref, 129);
    T_CHECK(c.iso_pin_bcd);
    T_EQ_STR(c.outbox_dir, "/tmp/ob");
    T_EQ_STR(c.sync_socket, "/tmp/s.sock");
    T_EQ_INT(c.offline_policy, CFG_OFFLINE_DENY);
    T_EQ_INT(c.heartbeat_s, 60);
    T_EQ_INT(c.status_timeout_ms, 500);
    T_EQ_STR(c.bureau_url, "https://bureau.example/api");
    T_EQ_STR(c.ca_file, "/etc/ca.pem");
    T_EQ_STR(c.client_cert, "/etc/c.pem");
    T_EQ_STR(c.client_key, "/etc/k.pem");
    T_EQ_STR(c.pinned_pubkey, "sha256//AAA=;sha256//BBB=");
    T_EQ_INT(c.connect_timeout_s, 3);
    T_EQ_INT(c.timeout_s, 20);
    T_EQ_STR(c.control_socket, "/tmp/ctl.sock");
}

T_TEST(layout_details_are_tolerated)
{
    kiosk_config c;

    /* Indented keys are keys, not inih continuations; inline "; comment",
     * CRLF, a BOM and "name: value" are all accepted. */
    T_CHECK(load(&c, "\xEF\xBB\xBF[display]\r\n   width = 800 ; narrow\r\n\theight: 600\r\n"));
    T_EQ_STR(err, "");
    T_EQ_INT(c.width, 800);
    T_EQ_INT(c.height, 600);
    T_CHECK(load(&c, "[ui]\nlanguage = en\n  idle_timeout_s = 45\n"));
    T_EQ_STR(c.language, "en");
    T_EQ_INT(c.idle_timeout_s, 45);
}

T_TEST(syntax_errors_name_the_line)
{
    T_BAD("[ui]\nlanguage = en\nthis line has no equals sign\n",
          "t.conf:3: expected 'name = value', '[section]' or a comment");
    T_BAD("; c\n[ui\nlanguage = en\n", "t.conf:2: '[' without a closing ']'");
    /* inih finds this one itself (the ';' starts a comment): still its line. */
    T_BAD("[ui]\n\nwarning_s ; = 3\n[display]\nwidth = x\n",
          "t.conf:3: expected 'name = value', '[section]' or a comment");
}

T_TEST(unknown_section_and_key)
{
    T_BAD("[ui]\nlanguage = en\n\n[screen]\nwidth = 3\n", "t.conf:4: unknown section [screen]");
    T_BAD("[ui]\nlanguage = en\n[display]\nwidht = 800\n", "t.conf:4: unknown key 'widht' in [display]");
    T_BAD("width = 800\n", "t.conf:1: 'width' is outside any section; put it under its [section]");
    /* An unknown section is refused on its header, even when empty. */
    T_BAD("[display]\n[bogus]\n", "t.conf:2: unknown section [bogus]");
}

T_TEST(bad_values)
{
    T_BAD("[display]\nwidth = 12px\n", "t.conf:2: width: '12px' is not a whole number");
    T_BAD("[display]\nwidth =\n", "t.conf:2: width: '' is not a whole number");
    T_BAD("[display]\nfullscreen = maybe\n",
          "t.conf:2: fullscreen: 'maybe' is not one of true, false, yes, no, 1, 0");
    T_BAD("[card]\nbackend = usb\n", "t.conf:2: backend: 'usb' is not one of pcsc, sim");
    T_BAD("[card]\nprofile = emv\n", "t.conf:2: profile: 'emv' is not one of auto, ssse, iso7816");
    T_BAD("[card]\niso_pin_padding = ebcdic\n",
          "t.conf:2: iso_pin_padding: 'ebcdic' is not one of ascii, bcd");
    T_BAD("[sync]\noffline_policy = maybe\n",
          "t.conf:2: offline_policy: 'maybe' is not one of allow, deny");
    T_BAD("[ui]\nlanguage = fr\n", "t.conf:2: language: 'fr' is not one of zh, en");
    T_BAD("[card]\niso_pin_ref = 0xZZ\n",
          "t.conf:2: iso_pin_ref: '0xZZ' is not a number (decimal or 0x hex)");
    T_BAD("[card]\niso_pin_ref = 0x\n",
          "t.conf:2: iso_pin_ref: '0x' is not a number (decimal or 0x hex)");
    T_BAD("[display]\nwidth = 99999999999999999999999\n",
          "t.conf:2: width: 99999999999999999999999 is out of range 0..16384");
}

T_TEST(ranges_have_inclusive_bounds)
{
    kiosk_config c;

    T_CHECK(load(&c, "[ui]\nidle_timeout_s = 5\nwarning_s = 3\n"));
    T_EQ_INT(c.idle_timeout_s, 5);
    T_EQ_INT(c.warning_s, 3);
    T_CHECK(load(&c, "[ui]\nidle_timeout_s = 600\nwarning_s = 120\n"));
    T_EQ_INT(c.idle_timeout_s, 600);
    T_EQ_INT(c.warning_s, 120);
    T_BAD("[ui]\nidle_timeout_s = 4\n", "t.conf:2: idle_timeout_s: 4 is out of range 5..600");
    T_BAD("[ui]\nidle_timeout_s = 601\n", "t.conf:2: idle_timeout_s: 601 is out of range 5..600");
    T_BAD("[ui]\nwarning_s = 2\n", "t.conf:2: warning_s: 2 is out of range 3..120");
    T_BAD("[ui]\nwarning_s = 121\n", "t.conf:2: warning_s: 121 is out of range 3..120");
    T_BAD("[ui]\nwarning_s = -5\n", "t.conf:2: warning_s: -5 is out of range 3..120");

    T_CHECK(load(&c, "[sync]\nstatus_timeout_ms = 100\n"));
    T_EQ_INT(c.status_timeout_ms, 100);
    T_CHECK(load(&c, "[sync]\nstatus_timeout_ms = 30000\n"));
    T_EQ_INT(c.status_timeout_ms, 30000);
    T_BAD("[sync]\nstatus_timeout_ms = 99\n",
          "t.conf:2: status_timeout_ms: 99 is out of range 100..30000");
    T_BAD("[sync]\nstatus_timeout_ms = 30001\n",
          "t.conf:2: status_timeout_ms: 30001 is out of range 100..30000");
    T_CHECK(load(&c, "[sync]\nretry_base_ms = 200\nretry_cap_s = 2\n"));
    T_EQ_INT(c.retry_base_ms, 200);
    T_EQ_INT(c.retry_cap_s, 2);
    T_BAD("[sync]\nretry_base_ms = 99\n", "t.conf:2: retry_base_ms: 99 is out of range 100..60000");
    T_BAD("[sync]\nretry_cap_s = 0\n", "t.conf:2: retry_cap_s: 0 is out of range 1..3600");
    T_CHECK(load(&c, "[sync]\ndead_after_s = 2\n"));
    T_EQ_INT(c.dead_after_s, 2);
    T_BAD("[sync]\ndead_after_s = 0\n", "t.conf:2: dead_after_s: 0 is out of range 1..604800");
    T_BAD("[sync]\ndead_after_s = 604801\n", "t.conf:2: dead_after_s: 604801 is out of range 1..604800");

    /* The technician code's hash: checked at load, never echoed back. */
    T_EQ_STR(c.service_code_hash, "");
    T_EQ_INT(c.service_idle_s, 60);
    static const char good[] = "pbkdf2-sha256$150000$00112233445566778899aabbccddeeff$"
                               "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char text[400];
    snprintf(text, sizeof text, "[service]\ncode_hash = %s\nidle_s = 5\n", good);
    T_CHECK(load(&c, text));
    T_EQ_STR(c.service_code_hash, good);
    T_EQ_INT(c.service_idle_s, 5);
    kiosk_config bad;
    config_defaults(&bad);
    snprintf(text, sizeof text, "[service]\ncode_hash = pbkdf2-sha256$150000$00112233445566778899aabbccddeeff$"
             "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\n");
    T_CHECK(!load(&bad, text));
    T_CHECK(strncmp(err, "t.conf:2: code_hash: ", 21) == 0);
    T_CHECK(strstr(err, "0123456789") == NULL); /* the hash is not repeated */
    T_EQ_STR(bad.service_code_hash, "");
    /* Dearer than a check may cost on the kiosk's main thread: refused at
     * load, on its line (10,000,000 iterations used to load, and a check
     * then took seconds). */
    T_BAD("[service]\n\ncode_hash = pbkdf2-sha256$10000000$00112233445566778899aabbccddeeff$"
          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
          "t.conf:3: code_hash: code_hash iterations must be a decimal number from 1000 to 250000, "
          "followed by '$'");
    T_CHECK(!load(&bad, "[service]\ncode_hash = 1234\n"));
    T_CHECK(strncmp(err, "t.conf:2: code_hash: ", 21) == 0);
    T_BAD("[service]\nidle_s = 4\n", "t.conf:2: idle_s: 4 is out of range 5..600");

    T_CHECK(load(&c, "[pin]\nlength = 4\ninitial = 0000\n"));
    T_EQ_INT(c.pin_length, 4);
    T_CHECK(load(&c, "[pin]\nlength = 12\ninitial = 123456789012\n"));
    T_EQ_INT(c.pin_length, 12);
    T_BAD("[pin]\nlength = 3\n", "t.conf:2: length: 3 is out of range 4..12");
    T_BAD("[pin]\nlength = 13\n", "t.conf:2: length: 13 is out of range 4..12");

    T_CHECK(load(&c, "[card]\niso_pin_ref = 0\n"));
    T_EQ_INT(c.iso_pin_ref, 0);
    T_CHECK(load(&c, "[card]\niso_pin_ref = 255\n"));
    T_EQ_INT(c.iso_pin_ref, 255);
    T_BAD("[card]\niso_pin_ref = 256\n", "t.conf:2: iso_pin_ref: 256 is out of range 0..255");
    T_BAD("[card]\niso_pin_ref = 0x100\n", "t.conf:2: iso_pin_ref: 0x100 is out of range 0..255");
}

T_TEST(hex_iso_pin_ref)
{
    kiosk_config c;

    T_CHECK(load(&c, "[card]\niso_pin_ref = 0x81\n"));
    T_EQ_INT(c.iso_pin_ref, 0x81);
    T_CHECK(load(&c, "[card]\niso_pin_ref = 0XfF\n"));
    T_EQ_INT(c.iso_pin_ref, 255);
    T_CHECK(load(&c, "[card]\niso_pin_ref = 0x00\n"));
    T_EQ_INT(c.iso_pin_ref, 0);
    /* A leading zero is decimal, not octal. */
    T_CHECK(load(&c, "[card]\niso_pin_ref = 010\n"));
    T_EQ_INT(c.iso_pin_ref, 10);
    /* Hex is for iso_pin_ref only. */
    T_BAD("[display]\nwidth = 0x10\n", "t.conf:2: width: '0x10' is not a whole number");
}

T_TEST(strings_fit_their_fields)
{
    char text[300];
    kiosk_config c;

    /* terminal_id holds 63 characters and its NUL. */
    snprintf(text, sizeof text, "[terminal]\nid = %063d\n", 7);
    T_CHECK(load(&c, text));
    T_EQ_INT(strlen(c.terminal_id), 63);
    snprintf(text, sizeof text, "[terminal]\nid = %064d\n", 7);
    T_BAD(text, "t.conf:2: id: value is 64 characters long, at most 63 fit");
    snprintf(text, sizeof text, "[ui]\n[sync]\nsocket = /run/%0110d\n", 7);
    T_BAD(text, "t.conf:3: socket: value is 115 characters long, at most 107 fit");
    snprintf(text, sizeof text, "[sync]\nsocket = /%0106d\n", 7);
    T_CHECK(load(&c, text));
    T_EQ_INT(strlen(c.sync_socket), 107);
    /* Quotes are not counted. */
    snprintf(text, sizeof text, "[terminal]\nid = \"%063d\"\n", 7);
    T_CHECK(load(&c, text));
    T_EQ_INT(strlen(c.terminal_id), 63);
    T_CHECK(load(&c, "[card]\nreader = \"\"\n"));
    T_EQ_STR(c.card_reader, "");
    /* A lone quote is literal. */
    T_CHECK(load(&c, "[card]\nreader = \"\n"));
    T_EQ_STR(c.card_reader, "\"");

    /* inih reads lines of up to 198 characters. */
    snprintf(text, sizeof text, "[bureau]\nurl = https://x/%0180d\n", 1);
    T_CHECK(load(&c, text));
    T_EQ_INT(strlen(c.bureau_url), 190);
    snprintf(text, sizeof text, "[bureau]\nurl = https://x/%0200d\n", 1);
    T_BAD(text, "t.conf:2: line is longer than 198 characters");
}

T_TEST(duplicate_keys)
{
    T_BAD("[ui]\nlanguage = en\nwarning_s = 5\nlanguage = zh\n",
          "t.conf:4: duplicate key 'language' in [ui] (first set on line 2)");
    /* Also across two headers of the same section. */
    T_BAD("[display]\nwidth = 800\n[ui]\nwarning_s = 5\n[display]\nwidth = 900\n",
          "t.conf:6: duplicate key 'width' in [display] (first set on line 2)");
    /* The same name in two sections is two keys. */
    kiosk_config c;
    T_CHECK(load(&c, "[sync]\nsocket = /a\n[control]\nsocket = /b\n"));
    T_EQ_STR(c.sync_socket, "/a");
    T_EQ_STR(c.control_socket, "/b");
}

T_TEST(initial_pin_list)
{
    kiosk_config c;

    T_CHECK(load(&c, "[pin]\ninitial = 123456, 000000 ,888888,654321\n"));
    T_EQ_STR(err, "");
    T_EQ_INT(c.pin_initial_count, 4);
    T_EQ_STR(c.pin_initial[0], "123456");
    T_EQ_STR(c.pin_initial[1], "000000");
    T_EQ_STR(c.pin_initial[2], "888888");
    T_EQ_STR(c.pin_initial[3], "654321");

    T_CHECK(load(&c, "[pin]\ninitial = 111111,222222\n"));
    T_EQ_INT(c.pin_initial_count, 2);
    T_EQ_STR(c.pin_initial[1], "222222");
    T_EQ_STR(c.pin_initial[2], "");

    /* length may follow initial. */
    T_CHECK(load(&c, "[pin]\ninitial = 1234,9999\nlength = 4\n"));
    T_EQ_INT(c.pin_initial_count, 2);

    T_BAD("[pin]\ninitial = 123456,1234567\n", "t.conf:2: initial PIN #2 has 7 digits but [pin] length is 6");
    T_BAD("[pin]\ninitial = 12345\n", "t.conf:2: initial PIN #1 has 5 digits but [pin] length is 6");
    T_BAD("[pin]\ninitial = 1234\n\nlength = 5\n", "t.conf:4: initial PIN #1 has 4 digits but [pin] length is 5");
    /* Only the default initial PIN is there to disagree with. */
    T_BAD("[pin]\nlength = 8\n", "t.conf:2: initial PIN #1 has 6 digits but [pin] length is 8");
    T_BAD("[pin]\ninitial = 123456,12a456\n", "t.conf:2: initial: initial PIN #2 has a character that is not a digit");
    T_BAD("[pin]\ninitial = 123456,,654321\n", "t.conf:2: initial: initial PIN #2 is empty");
    T_BAD("[pin]\ninitial =\n", "t.conf:2: initial: initial PIN #1 is empty");
    T_BAD("[pin]\ninitial = 123456,\n", "t.conf:2: initial: initial PIN #2 is empty");
    T_BAD("[pin]\nlength = 4\ninitial = 1111,2222,3333,4444,5555\n", "t.conf:3: initial: more than 4 initial PINs");
    T_BAD("[pin]\ninitial = 12345678901234567890\n",
          "t.conf:2: initial: initial PIN #1 has 20 digits, a PIN has 4..12");
    T_BAD("[pin]\ninitial = 123\n", "t.conf:2: initial: initial PIN #1 has 3 digits, a PIN has 4..12");
}

T_TEST(display_size_zero_needs_fullscreen)
{
    kiosk_config c;

    T_CHECK(load(&c, "[display]\nwidth = 0\nheight = 0\n"));
    T_EQ_INT(c.width, 0);
    T_BAD("[display]\nwidth = 0\nheight = 0\nfullscreen = false\n",
          "t.conf:4: width and height must not be 0 when fullscreen is false");
}

T_TEST(required_strings_may_not_be_empty)
{
    T_BAD("[terminal]\nid = \"\"\n", "t.conf:2: [terminal] id must not be empty");
    T_BAD("\n[outbox]\ndir =\n", "t.conf:3: [outbox] dir must not be empty");
    T_BAD("[sync]\nsocket = \"\"\n", "t.conf:2: [sync] socket must not be empty");
}

T_TEST(stops_at_the_first_problem)
{
    T_BAD("[ui]\nwarning_s = 1\nlanguage = xx\n[nope]\n",
          "t.conf:2: warning_s: 1 is out of range 3..120");
    T_BAD("[ui]\nno equals here\nlanguage = xx\n",
          "t.conf:2: expected 'name = value', '[section]' or a comment");
}

/* ---- [terminal] id ----------------------------------------------------- */

#define ID_RULE "an id is printable ASCII without spaces, e.g. GZ-YX-0042 " \
                "(it is sent as X-Terminal-Id and in URLs)"

T_TEST(terminal_id_rules)
{
    /* `why` NULL: accepted; `stored` is what the kiosk keeps (NULL: as given). */
    static const struct {
        const char *value, *why, *stored;
    } ids[] = {
        { "GZ-YX-0042", NULL, NULL },
        { "TEST-0001", NULL, NULL },
        { "gz_yx.0042~#!/?%", NULL, NULL },          /* signs are printable ASCII */
        { "\"GZ-YX-0042\"", NULL, "GZ-YX-0042" },     /* quotes are not part of it */
        { "GZ-YX-\xE7\xBB\x88\xE7\xAB\xAF", "byte 7 is not ASCII (0xe7)", NULL }, /* UTF-8 */
        { "\xC3\xA9t\xC3\xA9", "byte 1 is not ASCII (0xc3)", NULL },
        { "GZ\x01YX", "byte 3 is a control character (0x01)", NULL },
        { "GZ\tYX", "byte 3 is a control character (0x09)", NULL },
        { "GZ\rX-Evil: 1", "byte 3 is a control character (0x0d)", NULL },
        { "GZ\x1b[31mYX", "byte 3 is a control character (0x1b)", NULL },
        { "GZ\x7fYX", "byte 3 is a control character (0x7f)", NULL },
        { "GZ YX", "byte 3 is a space", NULL },
        { "\"GZ YX\"", "byte 3 is a space", NULL },
    };
    char text[256], want[512], longest[64];

    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        kiosk_config c;
        bool ok;

        config_defaults(&c);
        snprintf(text, sizeof text, "[terminal]\n; the bureau's id\nid = %s\n", ids[i].value);
        ok = load(&c, text);
        if (ids[i].why == NULL) {
            T_CHECK(ok);
            T_EQ_STR(err, "");
            T_EQ_STR(c.terminal_id, ids[i].stored ? ids[i].stored : ids[i].value);
        } else {
            T_CHECK(!ok);
            snprintf(want, sizeof want, "t.conf:3: id: %s: " ID_RULE, ids[i].why);
            T_EQ_STR(err, want);
            T_EQ_STR(c.terminal_id, "TEST-0001"); /* untouched */
        }
    }
    T_BAD("[terminal]\nid = \"\"\n", "t.conf:2: [terminal] id must not be empty");
    /* Bounded: 63 characters fit the field (and the outbox's records). */
    memset(longest, 'A', 63);
    longest[63] = '\0';
    snprintf(text, sizeof text, "[terminal]\nid = %s\n", longest);
    {
        kiosk_config c;
        T_CHECK(load(&c, text));
        T_EQ_STR(c.terminal_id, longest);
    }
    snprintf(text, sizeof text, "[terminal]\nid = %sA\n", longest);
    T_BAD(text, "t.conf:2: id: value is 64 characters long, at most 63 fit");
}

/* Outside the loader: kiosk-sync's defensive check asks the same rule. */
T_TEST(terminal_id_rule_for_other_callers)
{
    char why[256], id[80];

    T_CHECK(config_terminal_id_valid("GZ-YX-0042", NULL, 0));
    T_CHECK(!config_terminal_id_valid("GZ YX", why, sizeof why));
    T_EQ_STR(why, "byte 3 is a space: " ID_RULE);
    T_CHECK(!config_terminal_id_valid("GZ\r\nX-Evil: 1", why, sizeof why));
    T_EQ_STR(why, "byte 3 is a control character (0x0d): " ID_RULE);
    T_CHECK(!config_terminal_id_valid("", why, sizeof why));
    T_EQ_STR(why, "must not be empty");
    T_CHECK(!config_terminal_id_valid(NULL, NULL, 0));
    memset(id, 'A', 64);
    id[64] = '\0';
    T_CHECK(!config_terminal_id_valid(id, why, sizeof why));
    T_EQ_STR(why, "more than 63 characters");
    id[63] = '\0';
    T_CHECK(config_terminal_id_valid(id, why, sizeof why));
}

/* ---- where a value came from ------------------------------------------- */

T_TEST(values_remember_their_line)
{
    char e[256];
    kiosk_config c;

    T_CHECK(load(&c, "; x\n[outbox]\n\ndir = /nowhere/outbox\n[terminal]\nid = GZ-1\n"));
    T_EQ_STR(c.source, "t.conf");
    T_EQ_INT(config_line(&c, "outbox", "dir"), 4);
    T_EQ_INT(config_line(&c, "terminal", "id"), 6);
    T_EQ_INT(config_line(&c, "sync", "socket"), 0);   /* kept its default */
    T_EQ_INT(config_line(&c, "outbox", "nope"), 0);
    T_EQ_INT(config_line(NULL, "outbox", "dir"), 0);

    config_errf(&c, "outbox", "dir", e, sizeof e, "cannot create %s: %s", c.outbox_dir, "Not a directory");
    T_EQ_STR(e, "t.conf:4: [outbox] dir: cannot create /nowhere/outbox: Not a directory");
    config_errf(&c, "sync", "socket", e, sizeof e, "in use");
    T_EQ_STR(e, "t.conf: [sync] socket: in use");
    /* The message may be built from the buffer it is written to. */
    snprintf(e, sizeof e, "cannot lock %.100s", c.outbox_dir);
    config_errf(&c, "outbox", "dir", e, sizeof e, "%s", e);
    T_EQ_STR(e, "t.conf:4: [outbox] dir: cannot lock /nowhere/outbox");
    /* Nothing loaded: no file to name. */
    {
        kiosk_config d;
        config_defaults(&d);
        config_errf(&d, "outbox", "dir", e, sizeof e, "x");
        T_EQ_STR(e, "[outbox] dir: x");
    }
    /* A refused load changes neither the values nor where they came from. */
    T_CHECK(!load(&c, "[outbox]\ndir = /a\nbogus = 1\n"));
    T_EQ_INT(config_line(&c, "outbox", "dir"), 4);
    T_EQ_STR(c.outbox_dir, "/nowhere/outbox");
}

/* [terminal] counter and counter_hours: the station's own words, on a
 * citizen's screen as written: UTF-8, no control characters, 40
 * characters (not bytes) at most. */
T_TEST(station_texts)
{
    kiosk_config c;
    char line[512];

    config_defaults(&c);
    T_CHECK(load(&c, "[terminal]\ncounter = 门诊楼一层 社保服务窗口\ncounter_hours = 周一至周五 8:00-17:00\n"));
    T_EQ_STR(c.counter, "门诊楼一层 社保服务窗口");
    T_EQ_STR(c.counter_hours, "周一至周五 8:00-17:00");
    T_CHECK(load(&c, "[terminal]\ncounter = \"\"\n"));
    T_EQ_STR(c.counter, "");
    /* 40 Chinese characters (120 bytes) fit; 41 do not, nor 41 ASCII ones. */
    strcpy(line, "[terminal]\ncounter = ");
    for (int i = 0; i < 40; i++)
        strcat(line, "窗");
    T_CHECK(load(&c, line));
    T_EQ_INT((int)strlen(c.counter), 120);
    strcat(line, "口");
    T_BAD(line, "t.conf:2: counter: 41 characters, at most 40 fit on the screen");
    T_BAD("[terminal]\ncounter_hours = 12345678901234567890123456789012345678901\n",
          "t.conf:2: counter_hours: 41 characters, at most 40 fit on the screen");
    /* Not UTF-8: a Latin-1 byte, a cut character, an overlong slash, a surrogate. */
    T_BAD("[terminal]\ncounter = caf\xe9\n", "t.conf:2: counter: byte 4 is not UTF-8 (save the file as UTF-8)");
    T_BAD("[terminal]\ncounter = ab\xe7\xaa\n", "t.conf:2: counter: byte 3 is not UTF-8 (save the file as UTF-8)");
    T_BAD("[terminal]\ncounter = \xc0\xaf\n", "t.conf:2: counter: byte 1 is not UTF-8 (save the file as UTF-8)");
    T_BAD("[terminal]\ncounter = \xed\xa0\x80\n", "t.conf:2: counter: byte 1 is not UTF-8 (save the file as UTF-8)");
    /* Control characters: a tab, an escape, a C1 control in UTF-8. */
    T_BAD("[terminal]\ncounter = a\tb\n", "t.conf:2: counter: character 2 is a control character");
    T_BAD("[terminal]\ncounter = \x1b[2J\n", "t.conf:2: counter: character 1 is a control character");
    T_BAD("[terminal]\ncounter_hours = x\xc2\x85\n",
          "t.conf:2: counter_hours: character 2 is a control character");
}

T_TEST(reminder_timers)
{
    kiosk_config c;

    config_defaults(&c);
    T_CHECK(load(&c, "[ui]\ntake_card_s = 5\nchange_unknown_s = 300\n"));
    T_EQ_INT(c.take_card_s, 5);
    T_EQ_INT(c.change_unknown_s, 300);
    T_BAD("[ui]\ntake_card_s = 4\n", "t.conf:2: take_card_s: 4 is out of range 5..300");
    T_BAD("[ui]\nchange_unknown_s = 301\n", "t.conf:2: change_unknown_s: 301 is out of range 5..300");
}


/* Issue 13's voice: on by default, levels 0..100, hours 0..23. */
T_TEST(audio_keys)
{
    kiosk_config c;

    T_CHECK(load(&c, "[audio]\nenabled = false\nvolume = 0\nnight_volume = 100\nnight_from = 23\nnight_to = 6\n"));
    T_EQ_STR(err, "");
    T_CHECK(!c.audio_enabled);
    T_EQ_INT(c.audio_volume, 0);
    T_EQ_INT(c.audio_night_volume, 100);
    T_EQ_INT(c.audio_night_from, 23);
    T_EQ_INT(c.audio_night_to, 6);
    T_EQ_INT(config_line(&c, "audio", "night_to"), 6);
    T_BAD("[audio]\nvolume = 101\n", "t.conf:2: volume: 101 is out of range 0..100");
    T_BAD("[audio]\nnight_volume = -1\n", "t.conf:2: night_volume: -1 is out of range 0..100");
    T_BAD("[audio]\nnight_from = 24\n", "t.conf:2: night_from: 24 is out of range 0..23");
    T_BAD("[audio]\nnight_to = 7pm\n", "t.conf:2: night_to: '7pm' is not a whole number");
    T_BAD("[audio]\nenabled = loud\n",
          "t.conf:2: enabled: 'loud' is not one of true, false, yes, no, 1, 0");
    T_BAD("[audio]\nmute = yes\n", "t.conf:2: unknown key 'mute' in [audio]");
}

T_MAIN(T_CASE(station_texts), T_CASE(reminder_timers), T_CASE(audio_keys),
       T_CASE(defaults_are_documented_values), T_CASE(required_strings_may_not_be_empty), T_CASE(empty_text_gives_defaults),
       T_CASE(shipped_kiosk_conf_loads_with_defaults), T_CASE(all_keys_are_read),
       T_CASE(layout_details_are_tolerated), T_CASE(syntax_errors_name_the_line),
       T_CASE(unknown_section_and_key), T_CASE(bad_values), T_CASE(ranges_have_inclusive_bounds),
       T_CASE(hex_iso_pin_ref), T_CASE(strings_fit_their_fields), T_CASE(duplicate_keys),
       T_CASE(initial_pin_list), T_CASE(display_size_zero_needs_fullscreen),
       T_CASE(stops_at_the_first_problem), T_CASE(terminal_id_rules),
       T_CASE(terminal_id_rule_for_other_callers), T_CASE(values_remember_their_line))
