/* test_delivery.c - kiosk-sync's delivery side without a network:
 * the verdict table, the bureau's error body, start-up refusals, and the
 * outbox scan (listing, reading, dead letters, deletion) in a temp dir. */
#include "t.h"

#include "syncd/delivery.h"
#include "syncd/outbox_scan.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- verdicts ---------------------------------------------------------- */

T_TEST(classify_table)
{
    static const struct { int curl; long status; dlv_result want; } rows[] = {
        { CURLE_OK, 200, DLV_DELIVERED },
        { CURLE_OK, 201, DLV_DELIVERED },
        { CURLE_OK, 204, DLV_RETRY },       /* not what the contract promises: keep the file */
        { CURLE_OK, 301, DLV_RETRY },       /* redirects are never followed nor trusted */
        { CURLE_OK, 302, DLV_RETRY },
        { CURLE_OK, 400, DLV_DEAD },
        { CURLE_OK, 401, DLV_AUTH },
        { CURLE_OK, 403, DLV_AUTH },
        { CURLE_OK, 404, DLV_DEAD },
        { CURLE_OK, 408, DLV_RETRY },
        { CURLE_OK, 409, DLV_DEAD },
        { CURLE_OK, 413, DLV_DEAD },
        { CURLE_OK, 422, DLV_DEAD },
        { CURLE_OK, 429, DLV_RETRY },
        { CURLE_OK, 499, DLV_DEAD },
        { CURLE_OK, 500, DLV_RETRY },
        { CURLE_OK, 502, DLV_RETRY },
        { CURLE_OK, 503, DLV_RETRY },
        { CURLE_OK, 504, DLV_RETRY },
        { CURLE_OK, 599, DLV_RETRY },
        { CURLE_OK, 600, DLV_RETRY },
        { CURLE_OK, 0, DLV_RETRY },
        { CURLE_OK, 100, DLV_RETRY },
        { CURLE_COULDNT_CONNECT, 0, DLV_RETRY },
        { CURLE_COULDNT_RESOLVE_HOST, 0, DLV_RETRY },
        { CURLE_OPERATION_TIMEDOUT, 0, DLV_RETRY },
        { CURLE_GOT_NOTHING, 0, DLV_RETRY },
        { CURLE_RECV_ERROR, 0, DLV_RETRY },
        { CURLE_SEND_ERROR, 0, DLV_RETRY },
        { CURLE_SSL_CONNECT_ERROR, 0, DLV_RETRY },
        { CURLE_WRITE_ERROR, 200, DLV_RETRY },     /* answer over 64 KiB: even a 200 is not trusted */
        { CURLE_FILESIZE_EXCEEDED, 0, DLV_RETRY },
        { CURLE_PEER_FAILED_VERIFICATION, 0, DLV_CERT_FAIL },
        { CURLE_SSL_PINNEDPUBKEYNOTMATCH, 0, DLV_CERT_FAIL },
        { CURLE_SSL_CERTPROBLEM, 0, DLV_CERT_FAIL },
        { CURLE_SSL_CACERT_BADFILE, 0, DLV_CERT_FAIL },
        { CURLE_SSL_ISSUER_ERROR, 0, DLV_CERT_FAIL },
        /* a transfer error wins over a status from an earlier response */
        { CURLE_PEER_FAILED_VERIFICATION, 201, DLV_CERT_FAIL },
        { CURLE_OPERATION_TIMEDOUT, 201, DLV_RETRY },
        { CURLE_OPERATION_TIMEDOUT, 422, DLV_RETRY },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        dlv_result got = dlv_classify(rows[i].curl, rows[i].status);
        if (got != rows[i].want)
            fprintf(stderr, "  row %zu: curl %d status %ld: %s, want %s\n", i, rows[i].curl,
                    rows[i].status, dlv_result_name(got), dlv_result_name(rows[i].want));
        T_EQ_INT(got, rows[i].want);
    }
    T_EQ_STR(dlv_result_name(DLV_CERT_FAIL), "cert_fail");
    T_EQ_STR(dlv_result_name((dlv_result)99), "?");
}

T_TEST(error_code_untrusted_json)
{
    static const struct { const char *body; const char *want; } rows[] = {
        { "{\"error\":{\"code\":\"IDEMPOTENCY_CONFLICT\",\"message\":\"x\"}}", "IDEMPOTENCY_CONFLICT" },
        { "{\"error\":{\"code\":42}}", "" },
        { "{\"error\":\"VALIDATION_FAILED\"}", "" },
        { "{\"error\":{\"code\":\"two words\"}}", "" },
        { "{\"error\":{\"code\":\"EVIL\\n<3>fake log\"}}", "" },
        { "{\"error\":{\"code\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}}", "" },
        { "[1,2,3]", "" },
        { "{\"error\":{\"code\":\"X\"", "" },
        { "", "" },
        { "not json", "" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[DLV_CODE_MAX] = "junk";
        dlv_error_code(rows[i].body, strlen(rows[i].body), out);
        T_EQ_STR(out, rows[i].want);
    }
    /* explicit length: what follows the given bytes is never read */
    const char *cut = "{\"error\":{\"code\":\"OK_CODE\"}}trailing";
    char out[DLV_CODE_MAX];
    dlv_error_code(cut, strlen(cut) - strlen("trailing"), out);
    T_EQ_STR(out, "OK_CODE");
}

static kiosk_config good_config(void)
{
    kiosk_config c;
    config_defaults(&c);
    snprintf(c.terminal_id, sizeof c.terminal_id, "GZ-TEST-0001");
    snprintf(c.bureau_url, sizeof c.bureau_url, "https://localhost:8443/");
    snprintf(c.ca_file, sizeof c.ca_file, "/nonexistent/ca.pem");
    snprintf(c.client_cert, sizeof c.client_cert, "/nonexistent/client.pem");
    snprintf(c.client_key, sizeof c.client_key, "/nonexistent/client.key");
    c.connect_timeout_s = 1;
    c.timeout_s = 2;
    return c;
}

T_TEST(client_refuses_bad_settings)
{
    char err[256];
    kiosk_config c = good_config();
    dlv_client *d = dlv_client_new(&c, err, sizeof err);
    T_CHECK(d != NULL);
    dlv_client_free(d);

    static const char *const bad_urls[] = {
        "http://localhost:8443", "HTTP://x", "ftp://x", "localhost:8443", "", "https://", "https:///",
    };
    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        c = good_config();
        snprintf(c.bureau_url, sizeof c.bureau_url, "%s", bad_urls[i]);
        err[0] = '\0';
        T_CHECK(dlv_client_new(&c, err, sizeof err) == NULL);
        T_EQ_STR(err, "[bureau] url: must start with https:// (the bureau is only spoken to over TLS)");
    }
    c = good_config();
    c.client_key[0] = '\0';
    T_CHECK(dlv_client_new(&c, err, sizeof err) == NULL);
    T_EQ_STR(err, "[bureau] client_key: must be set: ca_file, client_cert and client_key are all "
                  "required (mutual TLS)");
    /* A config made by hand, past the loader's rule for the id: refused
     * in the loader's words all the same. */
    c = good_config();
    snprintf(c.terminal_id, sizeof c.terminal_id, "GZ\r\nX-Evil: 1");
    T_CHECK(dlv_client_new(&c, err, sizeof err) == NULL);
    T_EQ_STR(err, "[terminal] id: byte 3 is a control character (0x0d): an id is printable ASCII "
                  "without spaces, e.g. GZ-YX-0042 (it is sent as X-Terminal-Id and in URLs)");
    T_CHECK(dlv_client_new(&c, NULL, 0) == NULL); /* err may be NULL */
}

/* From a file, a refusal names the line that set the value, or the file
 * alone for a key left out (its default). */
T_TEST(client_refusals_name_the_line)
{
    char err[512];
    kiosk_config c;

    config_defaults(&c);
    T_CHECK(config_load_string(&c, "[bureau]\n; the bureau\nurl = http://bureau.example\n"
                               "ca_file = /ca.pem\nclient_cert = /c.pem\nclient_key = /k.pem\n",
                               "k.conf", err, sizeof err));
    T_CHECK(dlv_client_new(&c, err, sizeof err) == NULL);
    T_EQ_STR(err, "k.conf:3: [bureau] url: must start with https:// (the bureau is only spoken to over TLS)");
    config_defaults(&c);
    T_CHECK(config_load_string(&c, "[bureau]\nurl = https://bureau.example\n", "k.conf", err, sizeof err));
    T_CHECK(dlv_client_new(&c, err, sizeof err) == NULL);
    T_EQ_STR(err, "k.conf: [bureau] ca_file: must be set: ca_file, client_cert and client_key are all "
                  "required (mutual TLS)");
}

/* Nothing listens on port 1: a network failure must come back as RETRY,
 * quickly, with no Retry-After. An unreadable CA file is CERT_FAIL. */
T_TEST(send_without_server)
{
    char err[256];
    kiosk_config c = good_config();
    snprintf(c.bureau_url, sizeof c.bureau_url, "https://127.0.0.1:1");
    dlv_client *d = dlv_client_new(&c, err, sizeof err);
    T_CHECK(d != NULL);
    if (d) {
        dlv_outcome o;
        const char body[] = "{\"event_id\":\"0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a10\"}";
        dlv_send_event(d, body, sizeof body - 1, "0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a10", &o);
        T_CHECK(o.result == DLV_RETRY || o.result == DLV_CERT_FAIL);
        T_CHECK(o.curl_code != CURLE_OK);
        T_EQ_INT(o.http_status, 0);
        T_EQ_INT(o.retry_after_s, -1);
        dlv_send_event(d, body, sizeof body - 1, "bad\r\nid", &o);
        T_EQ_INT(o.curl_code, CURLE_BAD_FUNCTION_ARGUMENT);
        T_EQ_INT(o.result, DLV_RETRY);
        dlv_client_free(d);
    }
}

/* ---- the outbox scan --------------------------------------------------- */

static char tmpdir[64];

static void put(const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static bool exists(const char *dir, const char *name)
{
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return lstat(path, &st) == 0;
}

#define EVT(id) "{\"event_id\":\"" id "\",\"terminal_id\":\"GZ-TEST-0001\",\"seq\":1," \
                "\"card_number\":\"A12345678\",\"kind\":\"pin_changed\",\"occurred_at\":\"2026-11-27T08:30:12Z\"}"
#define ID1 "0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a10"

static void fresh_dir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_delivery.XXXXXX");
    T_CHECK(mkdtemp(tmpdir) != NULL);
}

static void rm_rf(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.dead'", tmpdir, tmpdir);
    T_EQ_INT(system(cmd), 0);
}

T_TEST(parse_names)
{
    static const struct { const char *name; bool ok; uint64_t seq; } rows[] = {
        { "evt-000000001834.json", true, 1834 },
        { "evt-000000000000.json", true, 0 },
        { "evt-999999999999.json", true, 999999999999ULL },
        { "intent-000000001834.json", false, 0 },
        { ".tmp-evt-000000001834.json", false, 0 },
        { "evt-00000001834.json", false, 0 },
        { "evt-0000000001834.json", false, 0 },
        { "evt-00000000183a.json", false, 0 },
        { "evt-000000001834.json~", false, 0 },
        { "evt-000000001834.jso", false, 0 },
        { "evt--00000001834.json", false, 0 },
        { "seq", false, 0 },
        { "", false, 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint64_t seq = 7777;
        T_EQ_INT(oscan_parse_name(rows[i].name, &seq), rows[i].ok);
        T_EQ_INT(seq, rows[i].ok ? rows[i].seq : 7777);
    }
}

T_TEST(list_sorted_and_filtered)
{
    fresh_dir();
    put("evt-000000000010.json", EVT(ID1));
    put("evt-000000000002.json", EVT(ID1));
    put("evt-000000001000.json", EVT(ID1));
    put("evt-000000000001.json", EVT(ID1));
    put("intent-000000000003.json", EVT(ID1));
    put(".tmp-evt-000000000004.json", EVT(ID1));
    put("seq", "1000\n");
    put("README", "x");
    oscan_entry *v = NULL;
    size_t n = 99;
    T_CHECK(oscan_list(tmpdir, &v, &n));
    T_EQ_INT(n, 4);
    if (n == 4) {
        T_EQ_INT(v[0].seq, 1);
        T_EQ_INT(v[1].seq, 2);
        T_EQ_INT(v[2].seq, 10);
        T_EQ_INT(v[3].seq, 1000);
        T_EQ_STR(v[3].name, "evt-000000001000.json");
    }
    free(v);
    T_EQ_INT(oscan_count(tmpdir), 4);
    rm_rf();

    fresh_dir();
    T_CHECK(oscan_list(tmpdir, &v, &n));
    T_EQ_INT(n, 0);
    T_CHECK(v == NULL);
    rm_rf();
    T_CHECK(!oscan_list("/nonexistent/outbox", &v, &n));
    T_EQ_INT(n, 0);
    T_CHECK(v == NULL);
    T_EQ_INT(oscan_count("/nonexistent/outbox"), -1);
}

T_TEST(read_takes_regular_files_only)
{
    char buf[OSCAN_FILE_MAX], why[160];
    size_t len = 123;
    fresh_dir();
    put("evt-000000000001.json", EVT(ID1));
    T_EQ_INT(oscan_read(tmpdir, "evt-000000000001.json", buf, sizeof buf, &len, why, sizeof why),
             OSCAN_READ_OK);
    T_EQ_INT(len, strlen(EVT(ID1)));
    T_EQ_MEM(buf, EVT(ID1), strlen(EVT(ID1)));
    /* Whatever the bytes: whether they are an event is evcheck's question. */
    put("evt-000000000002.json", "not json");
    T_EQ_INT(oscan_read(tmpdir, "evt-000000000002.json", buf, sizeof buf, &len, why, sizeof why),
             OSCAN_READ_OK);
    T_EQ_INT(len, 8);

    /* exactly the cap is read; one byte more is too big */
    char *big = malloc(OSCAN_FILE_MAX + 2);
    T_CHECK(big != NULL);
    if (big) {
        memset(big, 'x', OSCAN_FILE_MAX);
        big[OSCAN_FILE_MAX] = '\0';
        put("evt-000000000003.json", big);
        T_EQ_INT(oscan_read(tmpdir, "evt-000000000003.json", buf, sizeof buf, &len, why, sizeof why),
                 OSCAN_READ_OK);
        T_EQ_INT(len, OSCAN_FILE_MAX);
        memcpy(big + OSCAN_FILE_MAX, "y", 2);
        put("evt-000000000003.json", big);
        T_EQ_INT(oscan_read(tmpdir, "evt-000000000003.json", buf, sizeof buf, &len, why, sizeof why),
                 OSCAN_READ_BAD);
        T_EQ_STR(why, "larger than 4096 bytes");
        free(big);
    }
    /* a smaller caller buffer is a smaller cap */
    T_EQ_INT(oscan_read(tmpdir, "evt-000000000001.json", buf, 20, &len, why, sizeof why), OSCAN_READ_BAD);
    T_EQ_INT(oscan_read(tmpdir, "evt-000000000009.json", buf, sizeof buf, &len, why, sizeof why),
             OSCAN_READ_GONE);

    /* A symlink, FIFO, directory or socket with an event's name: unreadable
     * (retried, then set aside by the caller), never followed, never opened,
     * no hang. */
    static const struct { const char *name, *why; } odd[] = {
        { "evt-000000000004.json", "a symbolic link, not a regular file" },
        { "evt-000000000005.json", "a FIFO, not a regular file" },
        { "evt-000000000006.json", "a directory, not a regular file" },
        { "evt-000000000007.json", "a socket, not a regular file" },
    };
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmpdir, odd[0].name);
    T_EQ_INT(symlink("/etc/passwd", path), 0);
    snprintf(path, sizeof path, "%s/%s", tmpdir, odd[1].name);
    T_EQ_INT(mkfifo(path, 0600), 0);
    snprintf(path, sizeof path, "%s/%s", tmpdir, odd[2].name);
    T_EQ_INT(mkdir(path, 0700), 0);
    int sfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s/%s", tmpdir, odd[3].name);
    T_EQ_INT(bind(sfd, (struct sockaddr *)&a, sizeof a), 0);
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        T_EQ_INT(oscan_read(tmpdir, odd[i].name, buf, sizeof buf, &len, why, sizeof why),
                 OSCAN_READ_UNREADABLE);
        T_EQ_STR(why, odd[i].why);
    }
    close(sfd);
    /* a file we may not open (mode bits do not stop root) */
    if (geteuid() != 0) {
        put("evt-000000000008.json", EVT(ID1));
        snprintf(path, sizeof path, "%s/evt-000000000008.json", tmpdir);
        T_EQ_INT(chmod(path, 0), 0);
        T_EQ_INT(oscan_read(tmpdir, "evt-000000000008.json", buf, sizeof buf, &len, why, sizeof why),
                 OSCAN_READ_UNREADABLE);
        T_EQ_STR(why, "cannot open: Permission denied");
    }
    rm_rf();
}

T_TEST(dead_letters_and_delete)
{
    char dead[OSCAN_PATH_MAX], dest[EVNAME_DEAD_LEN], why[300];
    T_CHECK(oscan_dead_dir("/var/lib/kiosk/outbox", dead, sizeof dead));
    T_EQ_STR(dead, "/var/lib/kiosk/outbox.dead");
    T_CHECK(oscan_dead_dir("/var/lib/kiosk/outbox//", dead, sizeof dead));
    T_EQ_STR(dead, "/var/lib/kiosk/outbox.dead");
    T_CHECK(oscan_dead_dir("outbox", dead, sizeof dead));
    T_EQ_STR(dead, "outbox.dead");
    T_CHECK(!oscan_dead_dir("/", dead, sizeof dead));
    T_CHECK(!oscan_dead_dir("", dead, sizeof dead));
    T_CHECK(!oscan_dead_dir("/var/lib/kiosk/outbox", dead, 10));

    fresh_dir();
    T_EQ_INT(oscan_dead_count(tmpdir), 0); /* no folder yet */
    T_CHECK(oscan_dead_dir(tmpdir, dead, sizeof dead));
    put("evt-000000000001.json", EVT(ID1));
    put("evt-000000000002.json", EVT(ID1));
    T_CHECK(oscan_dead_letter(tmpdir, "evt-000000000001.json", dest, why, sizeof why));
    T_EQ_STR(dest, "evt-000000000001.json");
    T_CHECK(!exists(tmpdir, "evt-000000000001.json"));
    T_CHECK(exists(dead, "evt-000000000001.json"));
    struct stat st;
    T_EQ_INT(stat(dead, &st), 0);
    T_EQ_INT(st.st_mode & 0777, 0700);
    /* the listing no longer shows it: it is never retried */
    T_EQ_INT(oscan_count(tmpdir), 1);
    T_EQ_INT(oscan_dead_count(tmpdir), 1);

    /* an older dead letter of the same name is never overwritten: the
     * newcomer takes the first free copy name, and both count */
    put("evt-000000000001.json", "{\"second\":1}");
    T_CHECK(oscan_dead_letter(tmpdir, "evt-000000000001.json", dest, why, sizeof why));
    T_EQ_STR(dest, "evt-000000000001.1.json");
    put("evt-000000000001.json", "{\"third\":1}");
    T_CHECK(oscan_dead_letter(tmpdir, "evt-000000000001.json", dest, why, sizeof why));
    T_EQ_STR(dest, "evt-000000000001.2.json");
    T_CHECK(!exists(tmpdir, "evt-000000000001.json"));
    char buf[OSCAN_FILE_MAX];
    size_t len;
    T_EQ_INT(oscan_read(dead, "evt-000000000001.json", buf, sizeof buf, &len, why, sizeof why), OSCAN_READ_OK);
    T_EQ_MEM(buf, EVT(ID1), strlen(EVT(ID1)));
    T_EQ_INT(oscan_read(dead, "evt-000000000001.1.json", buf, sizeof buf, &len, why, sizeof why), OSCAN_READ_OK);
    T_EQ_MEM(buf, "{\"second\":1}", len);
    T_EQ_INT(oscan_dead_count(tmpdir), 3);
    put("notes.txt", "x");
    T_EQ_INT(oscan_count(tmpdir), 1);

    T_CHECK(!oscan_dead_letter(tmpdir, "evt-000000000077.json", dest, why, sizeof why)); /* nothing to move */
    T_CHECK(strstr(why, "No such file") != NULL);
    T_EQ_STR(dest, "");
    T_CHECK(!oscan_dead_letter(tmpdir, "notes.txt", dest, why, sizeof why)); /* not an event's name */

    T_CHECK(oscan_delete(tmpdir, "evt-000000000002.json"));
    T_CHECK(!exists(tmpdir, "evt-000000000002.json"));
    T_CHECK(oscan_delete(tmpdir, "evt-000000000002.json")); /* already gone: fine */
    T_CHECK(!oscan_delete("/nonexistent/outbox", "evt-000000000002.json"));
    rm_rf();

    /* a file where the dead-letter folder should be: refused, file kept */
    fresh_dir();
    T_CHECK(oscan_dead_dir(tmpdir, dead, sizeof dead));
    FILE *f = fopen(dead, "w");
    T_CHECK(f != NULL);
    if (f)
        fclose(f);
    put("evt-000000000001.json", EVT(ID1));
    T_CHECK(!oscan_dead_letter(tmpdir, "evt-000000000001.json", dest, why, sizeof why));
    T_CHECK(strstr(why, "not a folder") != NULL);
    T_CHECK(exists(tmpdir, "evt-000000000001.json"));
    T_EQ_INT(oscan_dead_count(tmpdir), 0);
    rm_rf();
}

int main(void)
{
    static const t_case cases[] = {
        T_CASE(classify_table), T_CASE(error_code_untrusted_json),
        T_CASE(client_refuses_bad_settings), T_CASE(client_refusals_name_the_line), T_CASE(send_without_server),
        T_CASE(parse_names), T_CASE(list_sorted_and_filtered),
        T_CASE(read_takes_regular_files_only), T_CASE(dead_letters_and_delete),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = t_run(cases, sizeof cases / sizeof cases[0]);
    curl_global_cleanup();
    return rc;
}
