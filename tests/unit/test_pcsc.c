/* test_pcsc.c - the PC/SC reader module against whatever pcscd the machine has.
 *
 * The first tests need no reader and no pcscd: a filter no reader matches
 * gives exactly one UNAVAILABLE whether pcscd runs or not, and the transport
 * then says "no card". The last test plays a card on vpcd's first reader
 * ("Virtual PCD 00 00", TCP 35963); it runs only when KIOSK_TEST_VPCD=1 is set
 * and pcscd lists that reader empty (another user of the reader would fight
 * with it), and prints a skip otherwise.
 */
#include "card/pcsc.h"

#include "t.h"

#include <PCSC/winscard.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define VPCD_READER "Virtual PCD 00 00"
#define VPCD_PORT 35963

/* ---- event collector ------------------------------------------------------- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pcsc_event ev[64];
    size_t n;
} events;

static void events_init(events *e)
{
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    e->n = 0;
}

static void events_destroy(events *e)
{
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
}

static void on_event(void *ud, pcsc_event ev)
{
    events *e = ud;

    pthread_mutex_lock(&e->mu);
    if (e->n < sizeof e->ev / sizeof e->ev[0])
        e->ev[e->n] = ev;
    e->n++;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

/* Waits until at least `count` events arrived or `ms` passed; the count. */
static size_t events_wait(events *e, size_t count, int ms)
{
    struct timespec dl;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&e->mu);
    while (e->n < count && pthread_cond_timedwait(&e->cv, &e->mu, &dl) == 0)
        ;
    n = e->n;
    pthread_mutex_unlock(&e->mu);
    return n;
}

static pcsc_event events_at(events *e, size_t i)
{
    pthread_mutex_lock(&e->mu);
    pcsc_event ev = i < e->n && i < sizeof e->ev / sizeof e->ev[0] ? e->ev[i] : (pcsc_event)-1;
    pthread_mutex_unlock(&e->mu);
    return ev;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* ---- tests without a reader ------------------------------------------------ */

T_TEST(names_and_bad_arguments)
{
    char longf[PCSC_READER_NAME_MAX + 1];
    char buf[8] = "junk";

    T_EQ_STR(pcsc_event_name(PCSC_READY), "ready");
    T_EQ_STR(pcsc_event_name(PCSC_UNAVAILABLE), "unavailable");
    T_EQ_STR(pcsc_event_name(PCSC_CARD_IN), "card_in");
    T_EQ_STR(pcsc_event_name(PCSC_CARD_OUT), "card_out");
    T_EQ_STR(pcsc_event_name((pcsc_event)42), "?");

    memset(longf, 'x', sizeof longf - 1);
    longf[sizeof longf - 1] = '\0';
    T_CHECK(pcsc_reader_start(longf, on_event, NULL) == NULL);

    pcsc_reader_current(NULL, buf, sizeof buf);
    T_EQ_STR(buf, "");
    pcsc_reader_current(NULL, NULL, 0); /* must not crash */
    pcsc_reader_stop(NULL);
}

T_TEST(no_matching_reader_is_unavailable)
{
    events e;
    pcsc_reader *r;
    card_transport t;
    const uint8_t cmd[] = { 0x00, 0xA4, 0x04, 0x00, 0x00 };
    uint8_t resp[16];
    size_t rl = 99;
    char cur[PCSC_READER_NAME_MAX] = "junk";
    struct timespec t0;

    events_init(&e);
    r = pcsc_reader_start("no reader is called this \x7f", on_event, &e);
    T_CHECK(r != NULL);
    if (r == NULL)
        goto out;

    T_EQ_INT(events_wait(&e, 1, 3000), 1);
    T_EQ_INT(events_at(&e, 0), PCSC_UNAVAILABLE);
    /* The monitor keeps retrying (or watching), but says nothing new. */
    T_EQ_INT(events_wait(&e, 2, 2500), 1);

    pcsc_reader_current(r, cur, sizeof cur);
    T_EQ_STR(cur, "");

    t = pcsc_reader_transport(r);
    T_CHECK(t.ctx == r);
    T_EQ_INT(t.transmit(t.ctx, cmd, sizeof cmd, resp, sizeof resp, &rl), CT_REMOVED);
    T_EQ_INT(rl, 0);
    rl = 99;
    T_EQ_INT(t.transmit(t.ctx, NULL, 5, resp, sizeof resp, &rl), CT_ERROR);
    T_EQ_INT(rl, 0);
    T_EQ_INT(t.transmit(t.ctx, cmd, 0, resp, sizeof resp, &rl), CT_ERROR);
    T_EQ_INT(t.transmit(t.ctx, cmd, sizeof cmd, NULL, sizeof resp, &rl), CT_ERROR);
    T_EQ_INT(t.transmit(t.ctx, cmd, sizeof cmd, resp, sizeof resp, NULL), CT_ERROR);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    pcsc_reader_stop(r);
    T_CHECK(ms_since(&t0) < 1000);
    T_EQ_INT(events_wait(&e, 2, 200), 1);
out:
    events_destroy(&e);
}

/* ---- a card on vpcd ---------------------------------------------------------- */

typedef struct {
    int fd;
    pthread_t th;
} vcard;

static bool send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static bool recv_all(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t g = recv(fd, p, n, 0);
        if (g <= 0)
            return false;
        p += g;
        n -= (size_t)g;
    }
    return true;
}

static bool vcard_reply(int fd, const uint8_t *p, size_t n)
{
    uint8_t hdr[2] = { (uint8_t)(n >> 8), (uint8_t)n };
    return send_all(fd, hdr, 2) && send_all(fd, p, n);
}

/* ATR on request; INS EE echoes its data; everything else gets 9000. */
static void *vcard_main(void *arg)
{
    vcard *c = arg;
    static const uint8_t atr[] = { 0x3B, 0x80, 0x80, 0x01, 0x01 };
    uint8_t hdr[2], msg[600], out[600];

    for (;;) {
        size_t n, k = 0;

        if (!recv_all(c->fd, hdr, 2))
            break;
        n = (size_t)hdr[0] << 8 | hdr[1];
        if (n > sizeof msg || !recv_all(c->fd, msg, n))
            break;
        if (n == 1) {
            if (msg[0] == 0x04 && !vcard_reply(c->fd, atr, sizeof atr))
                break;
            continue;
        }
        if (n >= 5 && msg[1] == 0xEE && (size_t)msg[4] + 5 <= n) {
            memcpy(out, msg + 5, msg[4]);
            k = msg[4];
        }
        out[k++] = 0x90;
        out[k++] = 0x00;
        if (!vcard_reply(c->fd, out, k))
            break;
    }
    return NULL;
}

static bool vcard_insert(vcard *c)
{
    struct sockaddr_in a;

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(VPCD_PORT);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return false;
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        pthread_create(&c->th, NULL, vcard_main, c) != 0) {
        close(c->fd);
        c->fd = -1;
        return false;
    }
    return true;
}

static void vcard_pull(vcard *c)
{
    if (c->fd < 0)
        return;
    shutdown(c->fd, SHUT_RDWR);
    pthread_join(c->th, NULL);
    close(c->fd);
    c->fd = -1;
}

/* Why the vpcd test cannot run here, or NULL when it can. */
static const char *vpcd_unusable(void)
{
    const char *why = NULL;
    const char *opt = getenv("KIOSK_TEST_VPCD");
    SCARDCONTEXT ctx;
    SCARD_READERSTATE st;

    if (opt == NULL || strcmp(opt, "1") != 0)
        return "KIOSK_TEST_VPCD=1 not set";
    if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS)
        return "no pcscd reachable";
    memset(&st, 0, sizeof st);
    st.szReader = VPCD_READER;
    st.dwCurrentState = SCARD_STATE_UNAWARE;
    if (SCardGetStatusChange(ctx, 0, &st, 1) != SCARD_S_SUCCESS)
        why = "pcscd lists no " VPCD_READER;
    else if (!(st.dwEventState & SCARD_STATE_EMPTY))
        why = VPCD_READER " is not empty";
    SCardReleaseContext(ctx);
    return why;
}

T_TEST(vpcd_card_in_transmit_out)
{
    const char *why = vpcd_unusable();
    events e;
    pcsc_reader *r = NULL;
    vcard c = { -1, 0 };
    card_transport t;
    const uint8_t echo[] = { 0x00, 0xEE, 0x00, 0x00, 0x03, 0xDE, 0xAD, 0x42 };
    const uint8_t want[] = { 0xDE, 0xAD, 0x42, 0x90, 0x00 };
    uint8_t resp[16];
    size_t rl = 0;
    char cur[PCSC_READER_NAME_MAX];

    if (why != NULL) {
        printf("# skip vpcd_card_in_transmit_out: %s\n", why);
        return;
    }
    events_init(&e);
    r = pcsc_reader_start(VPCD_READER, on_event, &e);
    T_CHECK(r != NULL);
    if (r == NULL)
        goto out;
    T_EQ_INT(events_wait(&e, 1, 3000), 1);
    T_EQ_INT(events_at(&e, 0), PCSC_READY);
    pcsc_reader_current(r, cur, sizeof cur);
    T_EQ_STR(cur, VPCD_READER);

    T_CHECK(vcard_insert(&c));
    T_EQ_INT(events_wait(&e, 2, 4000), 2);
    T_EQ_INT(events_at(&e, 1), PCSC_CARD_IN);

    t = pcsc_reader_transport(r);
    T_EQ_INT(t.transmit(t.ctx, echo, sizeof echo, resp, sizeof resp, &rl), CT_OK);
    T_EQ_INT(rl, sizeof want);
    T_EQ_MEM(resp, want, sizeof want);
    /* A reply longer than the buffer: only resp_cap bytes written, the real length told. */
    memset(resp, 0xAA, sizeof resp);
    T_EQ_INT(t.transmit(t.ctx, echo, sizeof echo, resp, 2, &rl), CT_OK);
    T_EQ_INT(rl, sizeof want);
    T_EQ_MEM(resp, want, 2);
    T_EQ_INT(resp[2], 0xAA);

    vcard_pull(&c);
    T_EQ_INT(events_wait(&e, 3, 4000), 3);
    T_EQ_INT(events_at(&e, 2), PCSC_CARD_OUT);
    T_EQ_INT(t.transmit(t.ctx, echo, sizeof echo, resp, sizeof resp, &rl), CT_REMOVED);
    T_EQ_INT(events_wait(&e, 4, 500), 3);
out:
    vcard_pull(&c);
    pcsc_reader_stop(r);
    events_destroy(&e);
}

T_MAIN(T_CASE(names_and_bad_arguments), T_CASE(no_matching_reader_is_unavailable),
       T_CASE(vpcd_card_in_transmit_out))
