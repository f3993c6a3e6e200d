#include "t.h"

#include <stdbool.h>

#include "control/ctl_proto.h"

static char t_msg[256];
static const char *t_code;

static bool parse(const char *line, ctl_request *r)
{
    return ctl_parse(line, strlen(line), r, &t_code, t_msg, sizeof t_msg);
}

/* Expects `line` to fail with `code` and a message that names `field`. */
#define T_PARSE_FAILS(line, code, field) do { \
    ctl_request r_; \
    T_CHECK(!parse(line, &r_)); \
    T_EQ_STR(t_code, code); \
    T_CHECK(strstr(t_msg, field) != NULL); \
    ctl_request_clear(&r_); } while (0)

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

T_TEST(wiping_free_hooks_install_once)
{
    /* Everything after this test parses and frees through the wiping hooks,
       so ASan and valgrind check that path too. */
    ctl_json_wipe_on_free();
    ctl_json_wipe_on_free();
    {
        cJSON *j = cJSON_Parse("{\"a\":[\"123456\",{\"b\":1}]}");
        char *p = cJSON_PrintUnformatted(j);
        T_EQ_STR(p, "{\"a\":[\"123456\",{\"b\":1}]}");
        cJSON_free(p);
        cJSON_Delete(j);
    }
}

T_TEST(every_command_parses)
{
    static const struct { const char *line; ctl_cmd cmd; } rows[] = {
        { "{\"cmd\":\"state\"}", CTL_STATE },
        { "{\"cmd\":\"layout\"}", CTL_LAYOUT },
        { "{\"cmd\":\"tap\",\"id\":\"key.5\"}", CTL_TAP },
        { "{\"cmd\":\"type\",\"digits\":\"123456\"}", CTL_TYPE },
        { "{\"cmd\":\"key\",\"name\":\"Return\"}", CTL_KEY },
        { "{\"cmd\":\"wait\",\"state\":\"SUCCESS\"}", CTL_WAIT },
        { "{\"cmd\":\"screenshot\",\"path\":\"/tmp/shot.png\"}", CTL_SCREENSHOT },
        { "{\"cmd\":\"card\",\"action\":\"remove\"}", CTL_CARD },
        { "{\"cmd\":\"subscribe\"}", CTL_SUBSCRIBE },
        { "{\"cmd\":\"quit\"}", CTL_QUIT },
        { "{\"cmd\":\"stats\"}", CTL_STATS },
    };
    T_EQ_INT(sizeof rows / sizeof rows[0], CTL__LAST);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ctl_request r;
        bool ok = parse(rows[i].line, &r);
        if (!ok)
            fprintf(stderr, "  line %s: %s (%s)\n", rows[i].line, t_code, t_msg);
        T_CHECK(ok);
        T_EQ_INT(r.cmd, rows[i].cmd);
        T_EQ_STR(ctl_cmd_name(r.cmd), ctl_cmd_name(rows[i].cmd));
        ctl_request_clear(&r);
    }
    T_EQ_STR(ctl_cmd_name(CTL_SCREENSHOT), "screenshot");
    T_EQ_STR(ctl_cmd_name(CTL_STATS), "stats");
    T_EQ_STR(ctl_cmd_name(CTL__LAST), "?");
    T_EQ_STR(ctl_cmd_name((ctl_cmd)-1), "?");
}

T_TEST(fields_are_read)
{
    ctl_request r;

    T_CHECK(parse("{\"cmd\":\"type\",\"digits\":\"0123456789\"}", &r));
    T_EQ_STR(r.digits, "0123456789");
    ctl_request_clear(&r);

    T_CHECK(parse("{\"cmd\":\"key\",\"name\":\"F12\"}", &r));
    T_EQ_STR(r.key, "F12");
    ctl_request_clear(&r);
    T_CHECK(parse("{\"cmd\":\"key\",\"name\":\"7\"}", &r));
    T_EQ_STR(r.key, "7");
    ctl_request_clear(&r);

    T_CHECK(parse("{\"cmd\":\"wait\",\"state\":\"ENTER_OLD_PIN\"}", &r));
    T_EQ_STR(r.state, "ENTER_OLD_PIN");
    T_EQ_INT(r.timeout_ms, 5000);
    ctl_request_clear(&r);
    T_CHECK(parse("{\"cmd\":\"wait\",\"state\":\"IDLE\",\"timeout_ms\":0}", &r));
    T_EQ_INT(r.timeout_ms, 0);
    ctl_request_clear(&r);
    T_CHECK(parse("{\"cmd\":\"wait\",\"state\":\"IDLE\",\"timeout_ms\":600000}", &r));
    T_EQ_INT(r.timeout_ms, 600000);
    ctl_request_clear(&r);
    /* null means "use the default" */
    T_CHECK(parse("{\"cmd\":\"wait\",\"state\":\"IDLE\",\"timeout_ms\":null}", &r));
    T_EQ_INT(r.timeout_ms, 5000);
    ctl_request_clear(&r);

    T_CHECK(parse("{\"cmd\":\"screenshot\",\"path\":\"/tmp/a b/\\u5f20.png\"}", &r));
    T_EQ_STR(r.path, "/tmp/a b/\xe5\xbc\xa0.png");
    ctl_request_clear(&r);

    /* unknown fields are allowed: the contract may grow */
    T_CHECK(parse(" {\"cmd\":\"state\",\"future\":[1,{\"x\":2}]} \r", &r));
    T_EQ_INT(r.cmd, CTL_STATE);
    ctl_request_clear(&r);
}

T_TEST(tap_forms)
{
    ctl_request r;

    T_CHECK(parse("{\"cmd\":\"tap\",\"id\":\"key.ok\"}", &r));
    T_EQ_STR(r.widget, "key.ok");
    T_CHECK(!r.has_xy);
    T_EQ_STR(r.id_json, "\"key.ok\"");
    ctl_request_clear(&r);

    T_CHECK(parse("{\"cmd\":\"tap\",\"widget\":\"btn.cancel\",\"id\":17}", &r));
    T_EQ_STR(r.widget, "btn.cancel");
    T_EQ_STR(r.id_json, "17");
    ctl_request_clear(&r);

    T_CHECK(parse("{\"cmd\":\"tap\",\"x\":960,\"y\":540,\"id\":\"req-1\"}", &r));
    T_CHECK(r.has_xy);
    T_EQ_INT(r.x, 960);
    T_EQ_INT(r.y, 540);
    T_EQ_STR(r.widget, "");
    T_EQ_STR(r.id_json, "\"req-1\"");
    ctl_request_clear(&r);

    T_CHECK(parse("{\"cmd\":\"tap\",\"x\":0,\"y\":32767}", &r));
    T_EQ_INT(r.y, 32767);
    ctl_request_clear(&r);

    T_PARSE_FAILS("{\"cmd\":\"tap\"}", "missing_field", "\"id\"");
    T_PARSE_FAILS("{\"cmd\":\"tap\",\"id\":5}", "missing_field", "\"id\"");
    T_PARSE_FAILS("{\"cmd\":\"tap\",\"x\":5}", "missing_field", "\"y\"");
    T_PARSE_FAILS("{\"cmd\":\"tap\",\"y\":5}", "missing_field", "\"x\"");
    T_PARSE_FAILS("{\"cmd\":\"tap\",\"widget\":\"key.1\",\"x\":1,\"y\":2}", "bad_field", "not both");
    T_PARSE_FAILS("{\"cmd\":\"tap\",\"id\":\"key 5\"}", "bad_field", "\"id\"");
    T_PARSE_FAILS("{\"cmd\":\"tap\",\"id\":\"\"}", "bad_field", "\"id\"");
    T_PARSE_FAILS("{\"cmd\":\"tap\",\"id\":\"k123456789012345678901234567890123456789012345678\"}",
                  "bad_field", "\"id\"");
    T_PARSE_FAILS("{\"cmd\":\"tap\",\"x\":\"5\",\"y\":5}", "bad_field", "\"x\"");
    T_PARSE_FAILS("{\"cmd\":\"tap\",\"x\":1.5,\"y\":5}", "bad_field", "\"x\"");
    T_PARSE_FAILS("{\"cmd\":\"tap\",\"x\":-1,\"y\":5}", "bad_field", "\"x\"");
    T_PARSE_FAILS("{\"cmd\":\"tap\",\"x\":1,\"y\":32768}", "bad_field", "\"y\"");
    T_PARSE_FAILS("{\"cmd\":\"tap\",\"x\":1,\"y\":1e300}", "bad_field", "\"y\"");
    T_PARSE_FAILS("{\"cmd\":\"tap\",\"x\":true,\"y\":1}", "bad_field", "\"x\"");
}

T_TEST(card_insert_defaults_and_all_fields)
{
    ctl_request r;

    T_CHECK(parse("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A12345678\"}", &r));
    T_EQ_INT(r.action, CTL_CARD_INSERT);
    T_EQ_STR(r.card_number, "A12345678");
    T_EQ_STR(r.pin, "123456");
    T_EQ_INT(r.tries, 3);
    T_CHECK(!r.blocked);
    T_CHECK(!r.locked);
    T_EQ_STR(r.profile, "");
    T_EQ_STR(r.fault, "none");
    T_EQ_STR(r.fault_on, "");
    T_EQ_INT(r.delay_ms, 0);
    T_EQ_STR(r.delay_on, "");
    T_EQ_STR(r.expiry, "");
    ctl_request_clear(&r);

    T_CHECK(parse("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"B1\",\"pin\":\"0000111122223333\","
                  "\"tries\":15,\"blocked\":true,\"profile\":\"iso7816\",\"fault\":\"garbage\","
                  "\"fault_on\":\"verify\",\"delay_ms\":60000,\"delay_on\":\"change\","
                  "\"expiry\":\"20240229\",\"locked\":true}", &r));
    T_EQ_STR(r.card_number, "B1");
    T_EQ_STR(r.pin, "0000111122223333");
    T_EQ_INT(r.tries, 15);
    T_CHECK(r.blocked);
    T_CHECK(r.locked);
    T_EQ_STR(r.profile, "iso7816");
    T_EQ_STR(r.fault, "garbage");
    T_EQ_STR(r.fault_on, "verify");
    T_EQ_INT(r.delay_ms, 60000);
    T_EQ_STR(r.delay_on, "change");
    T_EQ_STR(r.expiry, "20240229");
    ctl_request_clear(&r);

    /* The operations of a bureau-made reset (issue 12). */
    T_CHECK(parse("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"C1\",\"fault\":\"truncated\","
                  "\"fault_on\":\"challenge\",\"delay_ms\":5,\"delay_on\":\"reset\"}", &r));
    T_EQ_STR(r.fault_on, "challenge");
    T_EQ_STR(r.delay_on, "reset");
    ctl_request_clear(&r);
    T_CHECK(parse("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"C1\",\"fault\":\"pull\","
                  "\"fault_on\":\"reset\",\"delay_ms\":5,\"delay_on\":\"challenge\"}", &r));
    T_EQ_STR(r.fault_on, "reset");
    T_EQ_STR(r.delay_on, "challenge");
    ctl_request_clear(&r);

    /* remove needs nothing else, and ignores insert's fields */
    T_CHECK(parse("{\"cmd\":\"card\",\"action\":\"remove\",\"tries\":\"x\"}", &r));
    T_EQ_INT(r.action, CTL_CARD_REMOVE);
    ctl_request_clear(&r);
}

T_TEST(missing_fields)
{
    T_PARSE_FAILS("{\"id\":1}", "missing_field", "\"cmd\"");
    T_PARSE_FAILS("{\"cmd\":null}", "missing_field", "\"cmd\"");
    T_PARSE_FAILS("{\"cmd\":\"type\"}", "missing_field", "\"digits\"");
    T_PARSE_FAILS("{\"cmd\":\"key\"}", "missing_field", "\"name\"");
    T_PARSE_FAILS("{\"cmd\":\"wait\",\"timeout_ms\":5}", "missing_field", "\"state\"");
    T_PARSE_FAILS("{\"cmd\":\"screenshot\"}", "missing_field", "\"path\"");
    T_PARSE_FAILS("{\"cmd\":\"card\"}", "missing_field", "\"action\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\"}", "missing_field", "\"card_number\"");
}

T_TEST(bad_types_and_ranges)
{
    T_PARSE_FAILS("{\"cmd\":5}", "bad_field", "\"cmd\"");
    T_PARSE_FAILS("{\"cmd\":\"type\",\"digits\":123456}", "bad_field", "\"digits\"");
    T_PARSE_FAILS("{\"cmd\":\"type\",\"digits\":\"12a456\"}", "bad_field", "\"digits\"");
    T_PARSE_FAILS("{\"cmd\":\"type\",\"digits\":\"\"}", "bad_field", "\"digits\"");
    T_PARSE_FAILS("{\"cmd\":\"type\",\"digits\":\" 123\"}", "bad_field", "\"digits\"");
    T_PARSE_FAILS("{\"cmd\":\"type\",\"digits\":"
                  "\"12345678901234567890123456789012345678901234567890123456789012345\"}",
                  "bad_field", "\"digits\"");
    T_PARSE_FAILS("{\"cmd\":\"key\",\"name\":\"Enter\"}", "bad_field", "\"name\"");
    T_PARSE_FAILS("{\"cmd\":\"key\",\"name\":\"F13\"}", "bad_field", "\"name\"");
    T_PARSE_FAILS("{\"cmd\":\"key\",\"name\":13}", "bad_field", "\"name\"");
    T_PARSE_FAILS("{\"cmd\":\"wait\",\"state\":\"IDLE\",\"timeout_ms\":\"5000\"}", "bad_field", "\"timeout_ms\"");
    T_PARSE_FAILS("{\"cmd\":\"wait\",\"state\":\"IDLE\",\"timeout_ms\":600001}", "bad_field", "\"timeout_ms\"");
    T_PARSE_FAILS("{\"cmd\":\"wait\",\"state\":\"IDLE\",\"timeout_ms\":-1}", "bad_field", "\"timeout_ms\"");
    T_PARSE_FAILS("{\"cmd\":\"wait\",\"state\":\"NOT A STATE\"}", "bad_field", "\"state\"");
    T_PARSE_FAILS("{\"cmd\":\"wait\",\"state\":[\"IDLE\"]}", "bad_field", "\"state\"");
    T_PARSE_FAILS("{\"cmd\":\"screenshot\",\"path\":\"shot.png\"}", "bad_field", "\"path\"");
    T_PARSE_FAILS("{\"cmd\":\"screenshot\",\"path\":\"/tmp/a\\nb.png\"}", "bad_field", "\"path\"");
    T_PARSE_FAILS("{\"cmd\":\"screenshot\",\"path\":{}}", "bad_field", "\"path\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"eject\"}", "bad_field", "\"action\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A12-345\"}", "bad_field", "\"card_number\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A123456789012345\"}", "bad_field", "\"card_number\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":12345}", "bad_field", "\"card_number\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"pin\":\"12ab56\"}", "bad_field", "\"pin\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"pin\":\"123\"}", "bad_field", "\"pin\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"pin\":123456}", "bad_field", "\"pin\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"tries\":0}", "bad_field", "\"tries\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"tries\":16}", "bad_field", "\"tries\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"blocked\":1}", "bad_field", "\"blocked\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"locked\":\"true\"}", "bad_field", "\"locked\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"profile\":\"piv\"}", "bad_field", "\"profile\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"fault\":\"fire\",\"fault_on\":\"read\"}", "bad_field", "\"fault\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"fault\":\"pull\",\"fault_on\":\"write\"}", "bad_field", "\"fault_on\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"fault\":\"pull\",\"fault_on\":\"Reset\"}", "bad_field", "\"fault_on\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"delay_ms\":9,\"delay_on\":\"challenges\"}", "bad_field", "\"delay_on\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"delay_ms\":60001,\"delay_on\":\"read\"}", "bad_field", "\"delay_ms\"");
    /* a fault or a delay must say which operation it hits */
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"fault\":\"pull\"}", "missing_field", "\"fault_on\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"delay_ms\":100}", "missing_field", "\"delay_on\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"expiry\":\"20230229\"}", "bad_field", "\"expiry\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"expiry\":\"20241301\"}", "bad_field", "\"expiry\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"expiry\":\"2024011\"}", "bad_field", "\"expiry\"");
    T_PARSE_FAILS("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"expiry\":\"2024-1-1\"}", "bad_field", "\"expiry\"");
}

T_TEST(pin_values_are_never_echoed)
{
    ctl_request r;

    T_CHECK(!parse("{\"cmd\":\"type\",\"digits\":\"987654x\"}", &r));
    T_CHECK(strstr(t_msg, "987654") == NULL);
    ctl_request_clear(&r);
    T_CHECK(!parse("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"pin\":\"55aa\"}", &r));
    T_CHECK(strstr(t_msg, "55aa") == NULL);
    ctl_request_clear(&r);
}

T_TEST(malformed_lines)
{
    static const char *lines[] = {
        "", "   ", "not json", "[1,2]", "[{\"cmd\":\"state\"}]", "\"state\"", "42", "null",
        "{\"cmd\":\"state\"} junk", "{\"cmd\":\"state\"}{\"cmd\":\"quit\"}",
        "{\"cmd\":\"state\"", "{\"cmd\":\"state\",}", "{'cmd':'state'}",
        "{\"cmd\":\"type\",\"digits\":\"12\\u00003\"}",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        ctl_request r;
        T_CHECK(!parse(lines[i], &r));
        T_EQ_STR(t_code, "malformed");
        T_CHECK(r.id_json == NULL);
        ctl_request_clear(&r);
    }
    /* a NUL byte inside the line, before and after a valid object */
    {
        static const char a[] = "{\"cmd\":\"st\0ate\"}";
        static const char b[] = "{\"cmd\":\"state\"}\0";
        ctl_request r;
        T_CHECK(!ctl_parse(a, sizeof a - 1, &r, &t_code, t_msg, sizeof t_msg));
        T_EQ_STR(t_code, "malformed");
        ctl_request_clear(&r);
        T_CHECK(!ctl_parse(b, sizeof b - 1, &r, &t_code, t_msg, sizeof t_msg));
        T_EQ_STR(t_code, "malformed");
        ctl_request_clear(&r);
    }
    /* an escaped backslash before "u0000" is not a NUL escape */
    {
        ctl_request r;
        T_CHECK(parse("{\"cmd\":\"state\",\"note\":\"\\\\u0000\"}", &r));
        ctl_request_clear(&r);
    }
}

T_TEST(every_prefix_of_a_request_is_malformed)
{
    static const char line[] =
        "{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A12345678\",\"pin\":\"654321\",\"id\":[1]}";
    for (size_t n = 0; n < sizeof line - 1; n++) {
        /* An exact-size heap copy without a NUL, so ASan sees any over-read. */
        char *buf = malloc(n ? n : 1);
        ctl_request r;
        memcpy(buf, line, n);
        T_CHECK(!ctl_parse(buf, n, &r, &t_code, t_msg, sizeof t_msg));
        T_EQ_STR(t_code, "malformed");
        ctl_request_clear(&r);
        free(buf);
    }
    {
        char *buf = malloc(sizeof line - 1);
        ctl_request r;
        memcpy(buf, line, sizeof line - 1);
        T_CHECK(ctl_parse(buf, sizeof line - 1, &r, &t_code, t_msg, sizeof t_msg));
        T_EQ_STR(r.pin, "654321");
        T_EQ_STR(r.id_json, "[1]");
        ctl_request_clear(&r);
        free(buf);
    }
}

T_TEST(deep_nesting_is_bounded)
{
    size_t n = 60000;
    char *deep = malloc(n + 64);
    ctl_request r;
    int k;

    /* far past cJSON's nesting limit: refused, not a stack overflow */
    memset(deep, '[', n);
    T_CHECK(!ctl_parse(deep, n, &r, &t_code, t_msg, sizeof t_msg));
    T_EQ_STR(t_code, "malformed");
    ctl_request_clear(&r);

    /* a deep but legal id is echoed whole */
    k = snprintf(deep, 64, "{\"cmd\":\"state\",\"id\":");
    memset(deep + k, '[', 500);
    memset(deep + k + 500, ']', 500);
    memcpy(deep + k + 1000, "}", 1);
    T_CHECK(ctl_parse(deep, (size_t)k + 1001, &r, &t_code, t_msg, sizeof t_msg));
    T_EQ_INT(strlen(r.id_json), 1000);
    ctl_request_clear(&r);
    free(deep);
}

T_TEST(unknown_command_keeps_id)
{
    ctl_request r;

    T_CHECK(!parse("{\"cmd\":\"reboot\",\"id\":\"x1\"}", &r));
    T_EQ_STR(t_code, "unknown_command");
    T_EQ_STR(r.id_json, "\"x1\"");
    ctl_request_clear(&r);
    T_CHECK(r.id_json == NULL);
    T_CHECK(!parse("{\"cmd\":\"STATE\"}", &r));
    T_EQ_STR(t_code, "unknown_command");
    ctl_request_clear(&r);
}

static cJSON *reply_json(char *line)
{
    cJSON *j;
    size_t n;

    T_CHECK(line != NULL);
    if (line == NULL)
        return NULL;
    n = strlen(line);
    T_CHECK(n > 0 && line[n - 1] == '\n');
    T_CHECK(memchr(line, '\n', n - 1) == NULL);
    j = cJSON_Parse(line);
    T_CHECK(cJSON_IsObject(j));
    free(line);
    return j;
}

T_TEST(ids_of_every_type_are_echoed)
{
    static const char *ids[] = {
        "7", "-2.5", "\"abc\"", "\"\\u5f20\"", "true", "false", "null", "[1,\"a\",null]",
        "{\"k\":{\"n\":[]}}", "\"\"",
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char line[256];
        ctl_request r;
        cJSON *want, *got;

        snprintf(line, sizeof line, "{\"id\":%s,\"cmd\":\"state\"}", ids[i]);
        T_CHECK(parse(line, &r));
        T_CHECK(r.id_json != NULL);
        want = cJSON_Parse(ids[i]);
        got = reply_json(ctl_reply_ok(r.id_json, NULL));
        T_CHECK(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(got, "id"), want, 1));
        T_CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(got, "ok")));
        cJSON_Delete(got);
        ctl_request_clear(&r);
        /* and on the error path */
        snprintf(line, sizeof line, "{\"id\":%s,\"cmd\":\"type\"}", ids[i]);
        T_CHECK(!parse(line, &r));
        got = reply_json(ctl_reply_error(r.id_json, t_code, t_msg));
        T_CHECK(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(got, "id"), want, 1));
        cJSON_Delete(got);
        cJSON_Delete(want);
        ctl_request_clear(&r);
    }
    {
        ctl_request r;
        cJSON *got;
        T_CHECK(parse("{\"cmd\":\"quit\"}", &r));
        T_CHECK(r.id_json == NULL);
        got = reply_json(ctl_reply_ok(r.id_json, NULL));
        T_CHECK(cJSON_GetObjectItemCaseSensitive(got, "id") == NULL);
        cJSON_Delete(got);
        ctl_request_clear(&r);
    }
}

T_TEST(error_replies_are_json)
{
    cJSON *j = reply_json(ctl_reply_error("41", "bad_field", "field \"x\" must be an integer"));
    T_CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "ok")));
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error")), "bad_field");
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "message")),
             "field \"x\" must be an integer");
    T_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "id")), 41);
    cJSON_Delete(j);

    j = reply_json(ctl_reply_error(NULL, "line_too_long", NULL));
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error")), "line_too_long");
    T_CHECK(cJSON_GetObjectItemCaseSensitive(j, "message") == NULL);
    T_CHECK(cJSON_GetObjectItemCaseSensitive(j, "id") == NULL);
    cJSON_Delete(j);

    /* a message with a newline still gives one line */
    j = reply_json(ctl_reply_error("\"a\"", "x", "two\nlines"));
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "message")), "two\nlines");
    cJSON_Delete(j);

    /* a broken id (a caller's bug) is left out, not sent broken */
    j = reply_json(ctl_reply_error("{oops", "x", NULL));
    T_CHECK(cJSON_GetObjectItemCaseSensitive(j, "id") == NULL);
    cJSON_Delete(j);

    {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "state", "ENTER_OLD_PIN");
        j = reply_json(ctl_reply_error_fields("3", "timeout", NULL, f));
        T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error")), "timeout");
        T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "state")), "ENTER_OLD_PIN");
        T_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "id")), 3);
        cJSON_Delete(j);
    }
}

T_TEST(ok_reply_takes_fields_but_not_reserved_ones)
{
    cJSON *f = cJSON_CreateObject(), *j, *it;
    int n = 0;

    cJSON_AddStringToObject(f, "state", "IDLE");
    cJSON_AddNumberToObject(f, "frames", 41);
    cJSON_AddFalseToObject(f, "ok");
    cJSON_AddStringToObject(f, "id", "forged");
    cJSON_AddStringToObject(f, "error", "forged");
    j = reply_json(ctl_reply_ok("\"r1\"", f));
    T_CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")));
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "state")), "IDLE");
    T_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "frames")), 41);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "id")), "r1");
    T_CHECK(cJSON_GetObjectItemCaseSensitive(j, "error") == NULL);
    cJSON_ArrayForEach(it, j) n++;
    T_EQ_INT(n, 4);
    /* "ok" comes first, as in the contract's examples */
    T_EQ_STR(j->child->string, "ok");
    cJSON_Delete(j);

    /* not an object: consumed, ignored */
    j = reply_json(ctl_reply_ok(NULL, cJSON_CreateArray()));
    n = 0;
    cJSON_ArrayForEach(it, j) n++;
    T_EQ_INT(n, 1);
    cJSON_Delete(j);
}

T_TEST(clear_wipes_pins)
{
    ctl_request r;

    T_CHECK(parse("{\"cmd\":\"type\",\"digits\":\"246810\",\"id\":9}", &r));
    T_EQ_STR(r.digits, "246810");
    ctl_request_clear(&r);
    T_CHECK(all_zero(&r, sizeof r));

    T_CHECK(parse("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"pin\":\"13579\"}", &r));
    T_EQ_STR(r.pin, "13579");
    ctl_request_clear(&r);
    T_CHECK(all_zero(&r, sizeof r));

    /* a failed parse leaves nothing but the id */
    T_CHECK(!parse("{\"cmd\":\"card\",\"action\":\"insert\",\"card_number\":\"A1\",\"pin\":\"13579\",\"tries\":99,\"id\":2}", &r));
    T_EQ_STR(r.id_json, "2");
    T_EQ_STR(r.pin, "");
    T_EQ_STR(r.card_number, "");
    ctl_request_clear(&r);
    ctl_request_clear(&r); /* twice is fine */
    ctl_request_clear(NULL);
}

T_TEST(json_wipe_blanks_every_string)
{
    cJSON *j = cJSON_Parse("{\"pin\":\"123456\",\"a\":[\"777\",{\"b\":\"888\"}],\"n\":5}");
    cJSON *a;

    T_CHECK(j != NULL);
    ctl_json_wipe(j);
    T_EQ_INT(strlen(cJSON_GetArrayItem(j, 0)->valuestring), 0);
    a = cJSON_GetArrayItem(j, 1);
    T_EQ_INT(strlen(cJSON_GetArrayItem(a, 0)->valuestring), 0);
    T_EQ_INT(strlen(cJSON_GetArrayItem(cJSON_GetArrayItem(a, 1), 0)->valuestring), 0);
    T_EQ_INT(strlen(cJSON_GetArrayItem(j, 0)->string), 0); /* keys too */
    cJSON_Delete(j);
    ctl_json_wipe(NULL);
}

T_MAIN(T_CASE(wiping_free_hooks_install_once), T_CASE(every_command_parses), T_CASE(fields_are_read), T_CASE(tap_forms),
       T_CASE(card_insert_defaults_and_all_fields), T_CASE(missing_fields),
       T_CASE(bad_types_and_ranges), T_CASE(pin_values_are_never_echoed), T_CASE(malformed_lines),
       T_CASE(every_prefix_of_a_request_is_malformed), T_CASE(deep_nesting_is_bounded), T_CASE(unknown_command_keeps_id),
       T_CASE(ids_of_every_type_are_echoed), T_CASE(error_replies_are_json),
       T_CASE(ok_reply_takes_fields_but_not_reserved_ones), T_CASE(clear_wipes_pins),
       T_CASE(json_wipe_blanks_every_string))
