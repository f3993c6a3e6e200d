#include "t.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control/ctl_server.h"

/* ---- the application side: records requests, answers from the callback ---- */

typedef struct {
    pthread_mutex_t mu;
    ctl_server *s;
    int calls;
    uint64_t last_client;
    ctl_cmd last_cmd;
    bool defer;             /* keep requests unanswered (in flight) */
    int n_deferred;
    int deferred_ids[64];   /* the "id" of each, in arrival order */
    uint64_t deferred_client;
} t_app;

static t_app app = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void on_req(void *ud, uint64_t client, ctl_request *req)
{
    t_app *a = ud;
    ctl_server *s;
    cJSON *f = cJSON_CreateObject();
    char *line;

    pthread_mutex_lock(&a->mu);
    a->calls++;
    a->last_client = client;
    a->last_cmd = req->cmd;
    s = a->s;
    if (a->defer && a->n_deferred < 64) {
        a->deferred_ids[a->n_deferred++] = req->id_json ? atoi(req->id_json) : -1;
        a->deferred_client = client;
        pthread_mutex_unlock(&a->mu);
        cJSON_Delete(f);
        ctl_request_clear(req);
        free(req);
        return;
    }
    pthread_mutex_unlock(&a->mu);
    if (req->cmd == CTL_SUBSCRIBE)
        ctl_server_mark_subscribed(s, client);
    cJSON_AddStringToObject(f, "cmd", ctl_cmd_name(req->cmd));
    cJSON_AddNumberToObject(f, "client", (double)client);
    if (req->cmd == CTL_TYPE)
        cJSON_AddNumberToObject(f, "pin_length", (double)strlen(req->digits));
    line = ctl_reply_ok(req->id_json, f);
    ctl_server_send(s, client, line);
    free(line);
    ctl_request_clear(req);
    free(req);
}

static int app_calls(void)
{
    int n;
    pthread_mutex_lock(&app.mu);
    n = app.calls;
    pthread_mutex_unlock(&app.mu);
    return n;
}

static char t_dir[64];
static char t_path[100];

static ctl_server *start(void)
{
    char err[256] = "";
    ctl_server *s;

    snprintf(t_dir, sizeof t_dir, "/tmp/ctl-test.XXXXXX");
    if (mkdtemp(t_dir) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
    snprintf(t_path, sizeof t_path, "%s/ctl.sock", t_dir);
    s = ctl_server_start(t_path, on_req, &app, err, sizeof err);
    if (s == NULL)
        fprintf(stderr, "  start: %s\n", err);
    pthread_mutex_lock(&app.mu);
    app.s = s;
    app.calls = 0;
    app.defer = false;
    app.n_deferred = 0;
    pthread_mutex_unlock(&app.mu);
    return s;
}

static void stop(ctl_server *s)
{
    struct stat st;

    ctl_server_stop(s);
    T_CHECK(stat(t_path, &st) < 0 && errno == ENOENT); /* unlinked */
    rmdir(t_dir);
}

/* ---- the client side -------------------------------------------------- */

static int t_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct timeval tv = { .tv_sec = 5 };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    /* No test may hang: every read gives up after 5 s. */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static bool t_send(int fd, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        data += w;
        n -= (size_t)w;
    }
    return true;
}

static bool t_sends(int fd, const char *s)
{
    return t_send(fd, s, strlen(s));
}

/* One line without its newline, or NULL on EOF, error or timeout. The
   caller frees. Byte by byte: simple, and never eats the next line. */
static char *t_line(int fd)
{
    size_t cap = 256, n = 0;
    char *buf = malloc(cap);

    for (;;) {
        char ch;
        ssize_t r = recv(fd, &ch, 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(buf);
            return NULL;
        }
        if (ch == '\n')
            break;
        if (n + 2 > cap)
            buf = realloc(buf, cap *= 2);
        buf[n++] = ch;
    }
    buf[n] = '\0';
    return buf;
}

static cJSON *t_reply(int fd)
{
    char *line = t_line(fd);
    cJSON *j = line ? cJSON_Parse(line) : NULL;

    T_CHECK(line != NULL);
    T_CHECK(cJSON_IsObject(j));
    free(line);
    return j;
}

static const char *j_str(const cJSON *j, const char *name)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, name));
}

static double j_num(const cJSON *j, const char *name)
{
    return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, name));
}

static bool j_ok(const cJSON *j)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok"));
}

/* True when the server has closed fd (EOF or reset) within 5 s. */
static bool t_closed(int fd)
{
    char buf[4096];
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return true;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return false; /* timeout */
    }
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---- tests ----------------------------------------------------------- */

T_TEST(socket_has_mode_0600)
{
    ctl_server *s = start();
    struct stat st;

    T_CHECK(s != NULL);
    T_EQ_INT(stat(t_path, &st), 0);
    T_CHECK(S_ISSOCK(st.st_mode));
    T_EQ_INT(st.st_mode & 07777, 0600);
    stop(s);
}

T_TEST(stale_socket_is_replaced_live_one_and_files_are_not)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char err[256] = "";
    ctl_server *s, *s2;
    int fd;
    FILE *f;

    snprintf(t_dir, sizeof t_dir, "/tmp/ctl-test.XXXXXX");
    T_CHECK(mkdtemp(t_dir) != NULL);
    snprintf(t_path, sizeof t_path, "%s/ctl.sock", t_dir);

    /* a socket left by a dead process */
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", t_path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    T_EQ_INT(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    close(fd);
    s = ctl_server_start(t_path, on_req, &app, err, sizeof err);
    T_CHECK(s != NULL);

    /* a live one: a second server must not steal it */
    s2 = ctl_server_start(t_path, on_req, &app, err, sizeof err);
    T_CHECK(s2 == NULL);
    T_CHECK(strstr(err, "in use") != NULL);
    ctl_server_stop(s);

    /* a regular file is never deleted */
    f = fopen(t_path, "w");
    T_CHECK(f != NULL);
    if (f)
        fclose(f);
    s = ctl_server_start(t_path, on_req, &app, err, sizeof err);
    T_CHECK(s == NULL);
    T_CHECK(strstr(err, "not a socket") != NULL);
    T_EQ_INT(access(t_path, F_OK), 0);
    unlink(t_path);

    /* a path too long for sun_path */
    {
        char longp[200];
        memset(longp, 'a', sizeof longp - 1);
        longp[0] = '/';
        longp[sizeof longp - 1] = '\0';
        T_CHECK(ctl_server_start(longp, on_req, &app, err, sizeof err) == NULL);
        T_CHECK(strstr(err, "longer") != NULL);
    }
    T_CHECK(ctl_server_start(t_path, NULL, &app, err, sizeof err) == NULL);
    rmdir(t_dir);
}

T_TEST(garbage_gets_an_error_and_the_connection_stays)
{
    ctl_server *s = start();
    int fd = t_connect(t_path);
    cJSON *j;

    T_CHECK(fd >= 0);
    T_CHECK(t_sends(fd, "garbage\n"));
    j = t_reply(fd);
    T_CHECK(!j_ok(j));
    T_EQ_STR(j_str(j, "error"), "malformed");
    cJSON_Delete(j);

    T_CHECK(t_sends(fd, "{\"cmd\":\"nope\",\"id\":[7]}\r\n"));
    j = t_reply(fd);
    T_EQ_STR(j_str(j, "error"), "unknown_command");
    T_CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "id")));
    cJSON_Delete(j);

    T_CHECK(t_sends(fd, "\n"));
    j = t_reply(fd);
    T_EQ_STR(j_str(j, "error"), "malformed");
    cJSON_Delete(j);

    T_CHECK(t_sends(fd, "{\"cmd\":\"state\",\"id\":1}\n"));
    j = t_reply(fd);
    T_CHECK(j_ok(j));
    T_EQ_STR(j_str(j, "cmd"), "state");
    T_EQ_INT(j_num(j, "id"), 1);
    cJSON_Delete(j);
    T_EQ_INT(app_calls(), 1); /* only the well-formed one reached the app */
    close(fd);
    stop(s);
}

T_TEST(request_reaches_callback_with_its_client_id)
{
    ctl_server *s = start();
    int a = t_connect(t_path), b = t_connect(t_path);
    double ida, idb, idc;
    cJSON *j;
    int c;

    T_CHECK(a >= 0 && b >= 0);
    /* two lines in one write, and one line split over two writes */
    T_CHECK(t_sends(a, "{\"cmd\":\"layout\",\"id\":\"a1\"}\n{\"cmd\":\"type\",\"digits\":\"1234\",\"id\":\"a2\"}\n"));
    T_CHECK(t_sends(b, "{\"cmd\":\"qu"));
    sleep_ms(50);
    T_CHECK(t_sends(b, "it\",\"id\":\"b1\"}\n"));

    j = t_reply(a);
    T_EQ_STR(j_str(j, "id"), "a1");
    T_EQ_STR(j_str(j, "cmd"), "layout");
    ida = j_num(j, "client");
    cJSON_Delete(j);
    j = t_reply(a);
    T_EQ_STR(j_str(j, "id"), "a2");
    T_EQ_INT(j_num(j, "pin_length"), 4);
    T_EQ_INT(j_num(j, "client"), ida);
    cJSON_Delete(j);
    j = t_reply(b);
    T_EQ_STR(j_str(j, "id"), "b1");
    T_EQ_STR(j_str(j, "cmd"), "quit");
    idb = j_num(j, "client");
    cJSON_Delete(j);
    T_CHECK(ida >= 1 && idb >= 1 && ida != idb);
    pthread_mutex_lock(&app.mu);
    T_EQ_INT(app.last_client, idb);
    T_EQ_INT(app.last_cmd, CTL_QUIT);
    pthread_mutex_unlock(&app.mu);

    /* ids are never reused: a newcomer after a leaver gets a fresh one */
    close(a);
    sleep_ms(50);
    c = t_connect(t_path);
    T_CHECK(t_sends(c, "{\"cmd\":\"state\"}\n"));
    j = t_reply(c);
    idc = j_num(j, "client");
    T_CHECK(idc > ida && idc > idb);
    cJSON_Delete(j);

    /* a reply for a client that is gone goes nowhere, quietly */
    ctl_server_send(s, (uint64_t)ida, "{\"late\":true}\n");
    ctl_server_send(s, 0, "{\"late\":true}\n");
    ctl_server_send(s, 999999, "{\"late\":true}\n");
    ctl_server_mark_subscribed(s, 999999);
    T_CHECK(t_sends(c, "{\"cmd\":\"state\",\"id\":2}\n"));
    j = t_reply(c);
    T_EQ_INT(j_num(j, "id"), 2);
    cJSON_Delete(j);
    close(b);
    close(c);
    stop(s);
}

T_TEST(overlong_line_gets_an_error_then_is_closed)
{
    ctl_server *s = start();
    int fd = t_connect(t_path), ok_fd = t_connect(t_path);
    size_t n = 70 * 1024;
    char *big = malloc(n + 1);
    cJSON *j;

    T_CHECK(fd >= 0 && ok_fd >= 0);
    memset(big, '1', n);
    big[n] = '\n';
    /* The server may close before all of it is sent: that is the point. */
    t_send(fd, big, n + 1);
    j = t_reply(fd);
    T_CHECK(!j_ok(j));
    T_EQ_STR(j_str(j, "error"), "line_too_long");
    cJSON_Delete(j);
    T_CHECK(t_closed(fd));
    close(fd);

    /* exactly the limit is still a line (malformed here, but served) */
    fd = t_connect(t_path);
    memset(big, ' ', CTL_SERVER_MAX_LINE);
    memcpy(big, "{\"cmd\":\"state\"}", 15);
    big[CTL_SERVER_MAX_LINE] = '\n';
    T_CHECK(t_send(fd, big, CTL_SERVER_MAX_LINE + 1));
    j = t_reply(fd);
    T_CHECK(j_ok(j));
    cJSON_Delete(j);
    /* one byte more is not */
    memset(big, ' ', CTL_SERVER_MAX_LINE + 1);
    big[CTL_SERVER_MAX_LINE + 1] = '\n';
    t_send(fd, big, CTL_SERVER_MAX_LINE + 2);
    j = t_reply(fd);
    T_EQ_STR(j_str(j, "error"), "line_too_long");
    cJSON_Delete(j);
    T_CHECK(t_closed(fd));
    close(fd);

    /* the bystander is untouched */
    T_CHECK(t_sends(ok_fd, "{\"cmd\":\"state\",\"id\":5}\n"));
    j = t_reply(ok_fd);
    T_EQ_INT(j_num(j, "id"), 5);
    cJSON_Delete(j);
    close(ok_fd);
    free(big);
    stop(s);
}

T_TEST(many_clients_at_once_and_one_too_many)
{
    ctl_server *s = start();
    int fds[CTL_SERVER_MAX_CLIENTS], extra;
    char line[128];
    cJSON *j;

    for (int i = 0; i < CTL_SERVER_MAX_CLIENTS; i++) {
        fds[i] = t_connect(t_path);
        T_CHECK(fds[i] >= 0);
    }
    for (int i = 0; i < CTL_SERVER_MAX_CLIENTS; i++) {
        snprintf(line, sizeof line, "{\"cmd\":\"state\",\"id\":%d}\n", i);
        T_CHECK(t_sends(fds[i], line));
    }
    for (int i = CTL_SERVER_MAX_CLIENTS - 1; i >= 0; i--) {
        j = t_reply(fds[i]);
        T_EQ_INT(j_num(j, "id"), i);
        cJSON_Delete(j);
    }
    extra = t_connect(t_path);
    T_CHECK(extra >= 0);
    j = t_reply(extra);
    T_EQ_STR(j_str(j, "error"), "too_many_clients");
    cJSON_Delete(j);
    T_CHECK(t_closed(extra));
    close(extra);

    /* a freed slot is usable again */
    close(fds[0]);
    sleep_ms(50);
    fds[0] = t_connect(t_path);
    T_CHECK(t_sends(fds[0], "{\"cmd\":\"state\",\"id\":\"again\"}\n"));
    j = t_reply(fds[0]);
    T_EQ_STR(j_str(j, "id"), "again");
    cJSON_Delete(j);
    for (int i = 0; i < CTL_SERVER_MAX_CLIENTS; i++)
        close(fds[i]);
    stop(s);
}

T_TEST(disconnect_mid_line_does_not_disturb_others)
{
    ctl_server *s = start();
    int a = t_connect(t_path), b = t_connect(t_path), c = t_connect(t_path);
    cJSON *j;

    T_CHECK(t_sends(a, "{\"cmd\":\"type\",\"digits\":\"1234"));
    T_CHECK(t_sends(c, "{\"cmd\":\"sta"));
    sleep_ms(50);
    close(a);
    sleep_ms(50);
    T_CHECK(t_sends(b, "{\"cmd\":\"state\",\"id\":\"b\"}\n"));
    j = t_reply(b);
    T_EQ_STR(j_str(j, "id"), "b");
    cJSON_Delete(j);
    /* c finishes its line later and is served */
    T_CHECK(t_sends(c, "te\",\"id\":\"c\"}\n"));
    j = t_reply(c);
    T_EQ_STR(j_str(j, "id"), "c");
    cJSON_Delete(j);
    T_EQ_INT(app_calls(), 2); /* a's fragment never became a request */
    close(b);
    close(c);
    stop(s);
}

T_TEST(half_closed_client_still_gets_its_reply)
{
    ctl_server *s = start();
    int fd = t_connect(t_path);
    cJSON *j;

    T_CHECK(t_sends(fd, "{\"cmd\":\"state\",\"id\":3}\n{\"cmd\":\"quit\"}"));
    shutdown(fd, SHUT_WR);
    j = t_reply(fd);
    T_EQ_INT(j_num(j, "id"), 3);
    cJSON_Delete(j);
    /* the unterminated fragment was not run */
    sleep_ms(50);
    T_EQ_INT(app_calls(), 1);
    close(fd);
    stop(s);
}

T_TEST(broadcast_reaches_only_subscribers)
{
    ctl_server *s = start();
    int a = t_connect(t_path), b = t_connect(t_path);
    cJSON *j;

    T_CHECK(t_sends(a, "{\"cmd\":\"subscribe\",\"id\":\"sub\"}\n"));
    j = t_reply(a);
    T_EQ_STR(j_str(j, "id"), "sub");
    cJSON_Delete(j);

    ctl_server_broadcast_subscribed(s, "{\"event\":\"state\",\"state\":\"IDLE\",\"at_ms\":12}\n");
    j = t_reply(a);
    T_EQ_STR(j_str(j, "event"), "state");
    T_EQ_STR(j_str(j, "state"), "IDLE");
    cJSON_Delete(j);

    /* b's next line is its own reply, not the event */
    T_CHECK(t_sends(b, "{\"cmd\":\"state\",\"id\":\"b\"}\n"));
    j = t_reply(b);
    T_EQ_STR(j_str(j, "id"), "b");
    T_CHECK(cJSON_GetObjectItemCaseSensitive(j, "event") == NULL);
    cJSON_Delete(j);
    close(a);
    close(b);
    stop(s);
}

T_TEST(client_that_does_not_read_is_dropped)
{
    ctl_server *s = start();
    int slow = t_connect(t_path), ok_fd = t_connect(t_path);
    size_t chunk = 1024 * 1024, total = 0;
    char *big = malloc(chunk + 1);
    uint64_t slow_id;
    char buf[65536];
    cJSON *j;

    /* learn the slow client's id */
    T_CHECK(t_sends(slow, "{\"cmd\":\"state\"}\n"));
    j = t_reply(slow);
    slow_id = (uint64_t)j_num(j, "client");
    cJSON_Delete(j);

    memset(big, 'x', chunk);
    big[chunk - 1] = '\n';
    big[chunk] = '\0';
    for (int i = 0; i < 8; i++)
        ctl_server_send(s, slow_id, big);
    /* it is cut off well before all 8 MiB arrive */
    for (;;) {
        ssize_t r = recv(slow, buf, sizeof buf, 0);
        if (r <= 0)
            break;
        total += (size_t)r;
    }
    T_CHECK(total < 8 * chunk);
    T_CHECK(total <= CTL_SERVER_MAX_OUT + 1024 * 1024);

    T_CHECK(t_sends(ok_fd, "{\"cmd\":\"state\",\"id\":\"alive\"}\n"));
    j = t_reply(ok_fd);
    T_EQ_STR(j_str(j, "id"), "alive");
    cJSON_Delete(j);
    close(slow);
    close(ok_fd);
    free(big);
    stop(s);
}

/* Waits up to 2 s for the callback count to reach n; returns the count. */
static int calls_reach(int n)
{
    for (int i = 0; i < 200 && app_calls() < n; i++)
        sleep_ms(10);
    return app_calls();
}

T_TEST(requests_in_flight_are_bounded_and_none_is_lost)
{
    ctl_server *s = start();
    int fd = t_connect(t_path);
    char req[64], *line;
    int answered = 0;

    pthread_mutex_lock(&app.mu);
    app.defer = true;
    pthread_mutex_unlock(&app.mu);
    for (int i = 0; i < 20; i++) {
        snprintf(req, sizeof req, "{\"cmd\":\"state\",\"id\":%d}\n", i);
        T_CHECK(t_sends(fd, req));
    }
    /* Only CTL_SERVER_MAX_IN_FLIGHT reach the app while none is answered. */
    T_EQ_INT(calls_reach(CTL_SERVER_MAX_IN_FLIGHT), CTL_SERVER_MAX_IN_FLIGHT);
    sleep_ms(200);
    T_EQ_INT(app_calls(), CTL_SERVER_MAX_IN_FLIGHT);
    /* Each answer lets one more in, in order, until all 20 have come. */
    while (answered < 20) {
        int n;
        uint64_t client;
        pthread_mutex_lock(&app.mu);
        n = app.n_deferred;
        client = app.deferred_client;
        pthread_mutex_unlock(&app.mu);
        T_CHECK(n > answered);
        if (n <= answered)
            break;
        snprintf(req, sizeof req, "{\"ok\":true,\"id\":%d}\n", app.deferred_ids[answered]);
        T_EQ_INT(app.deferred_ids[answered], answered);
        ctl_server_send(s, client, req);
        answered++;
        T_CHECK(calls_reach(answered + CTL_SERVER_MAX_IN_FLIGHT < 20 ? answered + CTL_SERVER_MAX_IN_FLIGHT
                                                                         : 20) >= answered);
    }
    T_EQ_INT(app_calls(), 20);
    for (int i = 0; i < 20; i++) {
        line = t_line(fd);
        T_CHECK(line != NULL);
        snprintf(req, sizeof req, "{\"ok\":true,\"id\":%d}", i);
        T_EQ_STR(line, req);
        free(line);
    }
    close(fd);
    stop(s);
}

T_TEST(a_silent_client_makes_room_for_a_newcomer)
{
    ctl_server *s = start();
    int fds[CTL_SERVER_MAX_CLIENTS], late;
    cJSON *j;

    for (int i = 0; i < CTL_SERVER_MAX_CLIENTS; i++) {
        fds[i] = t_connect(t_path);
        T_CHECK(fds[i] >= 0);
        sleep_ms(5); /* fds[0] is the one silent longest */
    }
    /* Not yet: silent for less than the bound, so the newcomer is refused. */
    late = t_connect(t_path);
    j = t_reply(late);
    T_EQ_STR(j_str(j, "error"), "too_many_clients");
    cJSON_Delete(j);
    close(late);
    /* The last one speaks, so it is not the idlest. */
    T_CHECK(t_sends(fds[CTL_SERVER_MAX_CLIENTS - 1], "{\"cmd\":\"subscribe\"}\n"));
    cJSON_Delete(t_reply(fds[CTL_SERVER_MAX_CLIENTS - 1]));
    sleep_ms(CTL_SERVER_IDLE_EVICT_MS + 200);
    late = t_connect(t_path);
    T_CHECK(t_sends(late, "{\"cmd\":\"state\",\"id\":\"late\"}\n"));
    j = t_reply(late);
    T_EQ_STR(j_str(j, "id"), "late");
    cJSON_Delete(j);
    T_CHECK(t_closed(fds[0]));
    for (int i = 0; i < CTL_SERVER_MAX_CLIENTS; i++)
        close(fds[i]);
    close(late);
    stop(s);
}

T_TEST(random_bytes_never_hurt_it)
{
    ctl_server *s = start();
    int fd = t_connect(t_path), lines = 0;
    unsigned seed = 12345;
    char buf[4096];
    cJSON *j;

    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < sizeof buf; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (char)(seed >> 16);
            if (buf[i] == '\n')
                lines++;
        }
        T_CHECK(t_send(fd, buf, sizeof buf));
        /* read the error replies as they come, so nothing backs up */
        while (lines > 0) {
            char *l = t_line(fd);
            T_CHECK(l != NULL);
            if (l == NULL)
                break;
            T_CHECK(strstr(l, "\"ok\":false") != NULL);
            free(l);
            lines--;
        }
    }
    T_CHECK(t_sends(fd, "\n{\"cmd\":\"state\",\"id\":\"after\"}\n"));
    free(t_line(fd)); /* the end of the last random line */
    j = t_reply(fd);
    T_EQ_STR(j_str(j, "id"), "after");
    cJSON_Delete(j);
    close(fd);
    stop(s);
}

T_TEST(stop_with_clients_connected)
{
    ctl_server *s = start();
    int a = t_connect(t_path), b = t_connect(t_path);

    T_CHECK(t_sends(a, "{\"cmd\":\"sta"));
    sleep_ms(20);
    stop(s);
    T_CHECK(t_closed(a));
    T_CHECK(t_closed(b));
    close(a);
    close(b);
    ctl_server_stop(NULL);
}

T_MAIN(T_CASE(socket_has_mode_0600), T_CASE(stale_socket_is_replaced_live_one_and_files_are_not),
       T_CASE(garbage_gets_an_error_and_the_connection_stays),
       T_CASE(request_reaches_callback_with_its_client_id),
       T_CASE(overlong_line_gets_an_error_then_is_closed),
       T_CASE(many_clients_at_once_and_one_too_many),
       T_CASE(disconnect_mid_line_does_not_disturb_others),
       T_CASE(half_closed_client_still_gets_its_reply), T_CASE(broadcast_reaches_only_subscribers),
       T_CASE(client_that_does_not_read_is_dropped),
       T_CASE(requests_in_flight_are_bounded_and_none_is_lost),
       T_CASE(a_silent_client_makes_room_for_a_newcomer), T_CASE(random_bytes_never_hurt_it),
       T_CASE(stop_with_clients_connected))
