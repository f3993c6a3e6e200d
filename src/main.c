/* kiosk - the social security card PIN terminal. main() is wiring only:
 * options, config, then the app. */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "config/config.h"
#include "control/ctl_proto.h"
#include "kiosk_build.h"
#include "util/log.h"
#include "util/secmem.h"

/* The core's state, the card worker (its queue, its stack and guard page),
 * the technician code's checker (the same) and the sync client's secrets:
 * 64 KiB used (141 KiB under ASan, whose frames need the threads' 64 KiB
 * stacks), with room to spare; and the main thread's frames down to the
 * core: a digit is put into the entry 4.7 KB below main()'s frame
 * (measured over make bench's journeys), so 64 KiB is a wide margin (128
 * KiB cost 64 KiB more of resident memory for nothing, issue 14). Locked,
 * so all of it is resident: the unit's LimitMEMLOCK covers both. */
#ifdef SECMEM_ASAN
#define MAIN_SECRETS_BYTES (192u * 1024u)
#else
#define MAIN_SECRETS_BYTES (96u * 1024u)
#endif
#define MAIN_STACK_LOCKED (64u * 1024u)

static const char usage[] =
    "Usage: kiosk [OPTION]...\n"
    "The social security card PIN terminal.\n\n"
    "  --config FILE    read FILE (default /etc/kiosk/kiosk.conf)\n"
    "  --windowed       a window with the technician's debug overlay, not full screen\n"
    "  --size WxH       window size in pixels (default: [display] width and height)\n"
    "  --control PATH   open the automation socket at PATH ([control] socket)\n"
    "  --help           show this and exit\n"
    "  --version        show the version and exit\n\n"
    "Keys in a window: digits, Backspace, Return (OK), Escape (cancel),\n"
    "F1/F2 insert/pull the simulated card, F3 language, F12 overlay.\n";

/* Fonts and assets: $KIOSK_DATADIR, else the installed tree, else the
 * source tree (running from a build directory). */
static const char *main_datadir(void)
{
    const char *env = getenv("KIOSK_DATADIR");

    if (env && env[0])
        return env;
    if (access(KIOSK_DATADIR "/fonts/NotoSansSC-Kiosk-Regular.otf", R_OK) == 0)
        return KIOSK_DATADIR;
    return KIOSK_SOURCE_ROOT;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' }, { "windowed", no_argument, NULL, 'w' },
        { "size", required_argument, NULL, 's' },   { "control", required_argument, NULL, 'C' },
        { "help", no_argument, NULL, 'h' },         { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    static kiosk_config cfg;
    app_options opt = { 0 };
    const char *config_path = "/etc/kiosk/kiosk.conf";
    char err[512], junk;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': config_path = optarg; break;
        case 'w': opt.windowed = true; break;
        case 'C': opt.control = optarg; break;
        case 's':
            if (sscanf(optarg, "%dx%d%c", &opt.width, &opt.height, &junk) != 2 || opt.width < 320 ||
                opt.height < 240 || opt.width > 8192 || opt.height > 8192) {
                fprintf(stderr, "kiosk: --size wants WIDTHxHEIGHT, e.g. 1280x720, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h': fputs(usage, stdout); return 0;
        case 'V': printf("kiosk %s\n", KIOSK_VERSION); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kiosk: unexpected argument '%s'\n%s", argv[optind], usage);
        return 2;
    }
    /* A refusal is one line with its priority, in the form kiosk-sync
     * uses for the same file: "kiosk: FILE:LINE: what is wrong". */
    config_defaults(&cfg);
    if (!config_load_file(&cfg, config_path, err, sizeof err)) {
        log_err("kiosk", "%s", err);
        return 2;
    }
    /* cJSON frees strings it parsed (PINs among them) on its error paths
     * without wiping; this makes every cJSON free wipe first. Before any
     * thread starts, as it swaps a process-wide hook. */
    ctl_json_wipe_on_free();
    /* Text surfaces and textures are large and short-lived; mapped on their
     * own, they go back to the kernel when freed instead of leaving the heap
     * at its high-water mark (glibc's adaptive threshold would otherwise
     * grow past them after the first free). */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    /* One heap for all the threads: each worker (card, sync, voice, the
     * picture and the first words) would otherwise get an arena of its own
     * and keep its free pages; they allocate little and seldom, so a
     * shared lock costs nothing a frame can see, and it saved 0.5 MB of
     * peak RSS over ten journeys. */
    mallopt(M_ARENA_MAX, 1);
    /* A control client that goes away must not kill the kiosk. */
    signal(SIGPIPE, SIG_IGN);
    opt.datadir = main_datadir();
    if (getenv("KIOSK_DEBUG"))
        log_set_level(LOG_LVL_DEBUG);
    log_info("main", "kiosk %s starting, terminal %s", KIOSK_VERSION, cfg.terminal_id);
    /* Before any thread and any PIN: no core dump and no ptrace by our own
     * user; an arena for the objects that hold PINs; the top of this stack,
     * where the PIN-handling frames of the main loop live, locked. */
    secmem_no_dumps();
    secmem_init(MAIN_SECRETS_BYTES);
    secmem_lock_stack(MAIN_STACK_LOCKED);
    rc = app_run(&cfg, &opt);
    secmem_shutdown();
    return rc;
}
