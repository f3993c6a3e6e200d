/* kiosk-sync - delivers the outbox to the bureau and answers the kiosk's
 * card-status questions (docs/sync-protocol.md). The only process of the
 * product that talks to the network; it never sees a PIN.
 *
 * main() is wiring only: options, config, the sync server thread, then the
 * delivery loop on the main thread, which also sends the heartbeat. SIGTERM/SIGINT arrive on a signalfd
 * (blocked before any thread starts, so no thread takes them), which every
 * wait polls: shutdown is prompt even in the middle of a long backoff.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "kiosk_build.h"
#include "syncd/backoff.h"
#include "syncd/delivery.h"
#include "syncd/dpass.h"
#include "syncd/heartbeat.h"
#include "syncd/sync_server.h"
#include "util/log.h"
#include "util/notify.h"
#include "util/wipealloc.h"

#define WHERE "kiosk-sync"

static const char usage[] =
    "Usage: kiosk-sync [OPTION]...\n"
    "Delivers the kiosk's outbox to the bureau and answers card-status questions.\n\n"
    "  --config FILE    read FILE (default /etc/kiosk/kiosk.conf)\n"
    "  --help           show this and exit\n"
    "  --version        show the version and exit\n";

typedef struct loop_state {
    const kiosk_config *cfg;
    dlv_client *dlv;
    int sig_fd;
    dpass pass;                /* the delivery passes and their state */
    sync_server *srv;          /* for the reader state the kiosk reports */
    hb_figures hb;             /* the last figures, kept when one cannot be read */
    long long next_hb_ms;      /* when the next heartbeat is due */
    long long wd_every_ms;     /* WATCHDOG=1 this often (half systemd's period); 0 none */
    long long next_wd_ms;
} loop_state;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends a heartbeat if one is due and schedules the next. A heartbeat the
 * bureau does not take is not retried early: the next one carries fresher
 * figures anyway, and a fleet retrying heartbeats would add to an outage. */
static void heartbeat_due(loop_state *st)
{
    long long now = now_ms();
    char *body;
    size_t len = 0;
    dlv_outcome o;

    if (now >= st->next_hb_ms) {
        hb_refresh(st->cfg->outbox_dir, dpass_unmovable(&st->pass), &st->hb);
        st->hb.reader = sync_server_reader(st->srv);
        if ((body = hb_body(&st->hb, KIOSK_VERSION, &len)) != NULL) {
            bool ok = dlv_send_heartbeat(st->dlv, body, len, &o);
            sync_server_note_bureau(st->srv, o.http_status != 0, ok ? "" : o.detail);
        } else
            log_err(WHERE, "out of memory for the heartbeat");
        cJSON_free(body);
        now = now_ms();
        st->next_hb_ms = now + hb_interval_ms((unsigned)st->cfg->heartbeat_s, backoff_rand_secure, NULL);
    }
}

/* Pings systemd's watchdog if due. Called from the loop and between two
 * events of a pass, never from a thread of its own: a transfer stuck past
 * curl's timeouts stops the pings (WatchdogSec must exceed
 * connect_timeout_s + timeout_s, twice: a heartbeat and an event). */
static void watchdog_due(loop_state *st)
{
    if (st->wd_every_ms && now_ms() >= st->next_wd_ms) {
        notify_send("WATCHDOG=1");
        st->next_wd_ms = now_ms() + st->wd_every_ms;
    }
}

/* Waits `ms` or until a stop signal; true if a stop signal came. */
static bool wait_or_stop(int sig_fd, unsigned ms)
{
    struct pollfd p = { sig_fd, POLLIN, 0 };
    struct signalfd_siginfo si;
    bool stop = false;
    if (poll(&p, 1, ms > (unsigned)INT32_MAX ? INT32_MAX : (int)ms) > 0 && (p.revents & POLLIN)) {
        stop = read(sig_fd, &si, sizeof si) == (ssize_t)sizeof si;
        if (stop)
            log_info(WHERE, "signal %u: stopping", si.ssi_signo);
    }
    return stop;
}

/* Between two events of a pass: a stop, the watchdog and the heartbeat are
 * not held up by a long backlog. True if a stop signal came. */
static bool between_events(void *ud)
{
    loop_state *st = ud;
    bool stop = wait_or_stop(st->sig_fd, 0);
    watchdog_due(st);
    heartbeat_due(st);
    return stop;
}

/* Two schedules on one thread: delivery passes (whose backoff a heartbeat
 * must not cut short) and heartbeats (which a backoff must not hold up). */
static int deliver_loop(loop_state *st)
{
    bool stop = false;
    long long next_pass = now_ms(), left;
    st->wd_every_ms = (long long)notify_watchdog_ms() / 2;
    st->next_wd_ms = now_ms();
    while (!stop) {
        watchdog_due(st);
        /* Heartbeat first: the one at start shows the backlog as it was. */
        heartbeat_due(st);
        if (now_ms() >= next_pass) {
            /* The wait counts from the last answer, not from the pass's
             * start (two calls in one expression run in no fixed order). */
            unsigned wait = dpass_run(&st->pass, &stop);
            next_pass = now_ms() + wait;
        }
        left = (next_pass < st->next_hb_ms ? next_pass : st->next_hb_ms);
        if (st->wd_every_ms && st->next_wd_ms < left)
            left = st->next_wd_ms;
        left -= now_ms();
        stop = stop || wait_or_stop(st->sig_fd, left > 0 ? (unsigned)left : 0);
    }
    notify_send("STOPPING=1");
    return 0;
}

/* Blocks the stop signals for every thread to come and returns a signalfd
 * for them, or -1. */
static int stop_signals_fd(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    return signalfd(-1, &set, SFD_CLOEXEC);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    static kiosk_config cfg;
    const char *config_path = "/etc/kiosk/kiosk.conf";
    char err[512];
    int ch, rc = 2;
    dlv_client *dlv = NULL;
    sync_server *srv = NULL;
    bool curl_up = false;
    loop_state st = { .pass.policy = BACKOFF_POLICY_DEFAULT, .sig_fd = -1 };

    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': config_path = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        case 'V': printf("kiosk-sync %s\n", KIOSK_VERSION); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kiosk-sync: unexpected argument '%s'\n%s", argv[optind], usage);
        return 2;
    }
    /* Every refusal from here on is one line with its priority, as the
     * kiosk says its own: "kiosk-sync: FILE:LINE: what is wrong" when a
     * line of the config explains it (the loader, delivery and the server
     * word theirs so). */
    config_defaults(&cfg);
    if (!config_load_file(&cfg, config_path, err, sizeof err)) {
        log_err(WHERE, "%s", err);
        goto out;
    }
    /* A reset's texted code passes through curl's buffers and cJSON's
     * strings: every block either frees is zeroed first (util/wipealloc.h). */
    cJSON_InitHooks(&(cJSON_Hooks){ .malloc_fn = malloc, .free_fn = wipe_free });
    if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, wipe_free, wipe_realloc, strdup, calloc) !=
        CURLE_OK) {
        log_err(WHERE, "curl_global_init failed");
        goto out;
    }
    curl_up = true;
    if (!(dlv = dlv_client_new(&cfg, err, sizeof err))) {
        log_err(WHERE, "%s", err);
        goto out;
    }
    signal(SIGPIPE, SIG_IGN); /* a kiosk that hangs up must not kill us */
    if ((st.sig_fd = stop_signals_fd()) < 0) {
        log_err(WHERE, "cannot set up signal handling");
        goto out;
    }
    if (!(srv = sync_server_start(&cfg, err, sizeof err))) {
        log_err(WHERE, "%s", err);
        goto out;
    }
    if (getenv("KIOSK_DEBUG"))
        log_set_level(LOG_LVL_DEBUG);
    log_info(WHERE, "kiosk-sync %s starting, terminal %s, outbox %s", KIOSK_VERSION,
             cfg.terminal_id, cfg.outbox_dir);
    st.cfg = &cfg;
    st.dlv = dlv;
    st.srv = srv;
    st.pass.cfg = &cfg;
    st.pass.dlv = dlv;
    st.pass.srv = srv;
    st.pass.policy.base_ms = (uint32_t)cfg.retry_base_ms;
    st.pass.policy.cap_ms = (uint32_t)cfg.retry_cap_s * 1000u;
    st.pass.between = between_events;
    st.pass.ud = &st;
    st.next_hb_ms = now_ms(); /* the first at start: the bureau sees a restart */
    /* Ready once the kiosk can ask (the socket listens) and the config is sound. */
    if (notify_init())
        notify_send("READY=1");
    rc = deliver_loop(&st);
    dpass_free(&st.pass);
    log_info(WHERE, "stopped");
out:
    notify_close();
    sync_server_stop(srv);
    dlv_client_free(dlv);
    if (st.sig_fd >= 0)
        close(st.sig_fd);
    if (curl_up)
        curl_global_cleanup();
    return rc;
}
