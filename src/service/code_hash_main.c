/* kiosk-code-hash - makes the code_hash line of kiosk.conf's [service]
 * section from a technician code read on standard input.
 *
 * The code is read byte by byte with read(2), so it never sits in a stdio
 * buffer we cannot wipe; on a terminal echo is off (and the code asked for
 * twice, since a typo could not be seen), and any typed-ahead input is
 * flushed when echo comes back, so nothing of it reaches the shell. Only the
 * value goes to standard output; everything else goes to standard error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "service/tcode.h"
#include "util/secmem.h"
#include "util/secure.h"

#define PROG "kiosk-code-hash"
#define CODE_BUF (TCODE_CODE_MAX + 1)
#define ITER_DIGITS_MAX 8
#define EXIT_USAGE 2
#define ADVISED_DIGITS 8

static const char usage[] =
    "Usage: " PROG " [--iterations N]\n"
    "Reads a technician code (one line of 4 to 16 digits) from standard input and\n"
    "prints the line for the [service] section of kiosk.conf:\n"
    "  code_hash = pbkdf2-sha256$<iterations>$<salt>$<hash>\n"
    "The code itself is never shown, printed or stored. On a terminal it is asked\n"
    "for twice, without echo.\n\n"
    "  --iterations N   PBKDF2-HMAC-SHA256 iterations, %u..%u (default %u);\n"
    "                   one check on the kiosk costs one derivation\n"
    "  --help           show this and exit\n\n"
    "Exit status: 0 done, 1 code refused or failure, 2 bad usage.\n";

typedef enum read_status {
    RD_OK,
    RD_EMPTY,
    RD_SHORT,
    RD_LONG,
    RD_NOT_DIGIT,
    RD_EXTRA,
    RD_MISMATCH,
    RD_NO_QUIET,
    RD_IO,
} read_status;

static const char *const read_texts[] = {
    [RD_OK] = "ok",
    [RD_EMPTY] = "no code given: type 4 to 16 digits",
    [RD_SHORT] = "the code is too short: it must be 4 to 16 digits",
    [RD_LONG] = "the code is too long: it must be 4 to 16 digits",
    [RD_NOT_DIGIT] = "the code may hold only the digits 0-9 (no spaces, signs or letters)",
    [RD_EXTRA] = "more than one line on standard input: give exactly one code",
    [RD_MISMATCH] = "the two entries differ; nothing was written",
    [RD_NO_QUIET] = "cannot turn off echo on this terminal; pipe the code in instead",
    [RD_IO] = "cannot read standard input",
};

/* The terminal as found, for the signal handler to put back. */
static struct termios saved_tio;
static volatile sig_atomic_t tio_changed;

static void on_signal(int sig)
{
    static const char nl = '\n';

    if (tio_changed)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
    (void)!write(STDERR_FILENO, &nl, 1);
    _exit(128 + sig);
}

static void catch_signals(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
    /* Stopped with echo off, the shell would be left deaf. */
    signal(SIGTSTP, SIG_IGN);
}

static ssize_t read_byte(char *c)
{
    ssize_t r;

    do
        r = read(STDIN_FILENO, c, 1);
    while (r < 0 && errno == EINTR);
    return r;
}

/* One line into `buf` (CODE_BUF bytes), NUL-terminated. Stops at the first
 * byte that cannot belong to a code, so endless input cannot hang it. */
static read_status read_code_line(char buf[CODE_BUF])
{
    read_status st = RD_OK;
    size_t n = 0;
    char c = 0;
    ssize_t r;

    for (;;) {
        if ((r = read_byte(&c)) < 0) {
            st = RD_IO;
            goto out;
        }
        if (r == 0 || c == '\n')
            break;
        if (c < '0' || c > '9') {
            st = RD_NOT_DIGIT;
            goto out;
        }
        if (n == TCODE_CODE_MAX) {
            st = RD_LONG;
            goto out;
        }
        buf[n++] = c;
    }
    if (n == 0)
        st = RD_EMPTY;
    else if (n < TCODE_CODE_MIN)
        st = RD_SHORT;
out:
    buf[n] = '\0';
    secure_wipe(&c, sizeof c);
    if (st != RD_OK)
        secure_wipe(buf, CODE_BUF);
    return st;
}

/* From a pipe or file: one line, then nothing more. */
static read_status read_piped(char code[CODE_BUF])
{
    read_status st = read_code_line(code);
    char c = 0;
    ssize_t r;

    if (st == RD_OK && (r = read_byte(&c)) != 0)
        st = r < 0 ? RD_IO : RD_EXTRA;
    secure_wipe(&c, sizeof c);
    if (st != RD_OK)
        secure_wipe(code, CODE_BUF);
    return st;
}

/* From a terminal: twice, without echo. The terminal is put back (and
 * typed-ahead input dropped) on every path. */
static read_status read_interactive(char code[CODE_BUF], char again[CODE_BUF])
{
    struct termios quiet;
    read_status st;

    if (tcgetattr(STDIN_FILENO, &saved_tio) != 0)
        return RD_NO_QUIET; /* nothing changed yet */
    quiet = saved_tio;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL;
    tio_changed = 1;
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
        st = RD_NO_QUIET;
        goto out;
    }
    fprintf(stderr, "Technician code (%d to %d digits, not shown): ", TCODE_CODE_MIN, TCODE_CODE_MAX);
    st = read_code_line(code);
    if (st == RD_OK) {
        fputs("Once more: ", stderr);
        st = read_code_line(again);
    }
    if (st == RD_OK && strcmp(code, again) != 0)
        st = RD_MISMATCH;
out:
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
    tio_changed = 0;
    secure_wipe(again, CODE_BUF);
    if (st != RD_OK)
        secure_wipe(code, CODE_BUF);
    return st;
}

/* Strict: digits only, no sign or spaces, within the range tcode accepts. */
static bool parse_iterations(const char *s, unsigned *out)
{
    size_t n = strlen(s);
    unsigned v = 0;

    if (n == 0 || n > ITER_DIGITS_MAX || strspn(s, "0123456789") != n)
        return false;
    for (size_t i = 0; i < n; i++)
        v = v * 10u + (unsigned)(s[i] - '0');
    if (v < TCODE_ITER_MIN || v > TCODE_ITER_MAX)
        return false;
    *out = v;
    return true;
}

/* Says how long trying every code of the given length would take, in the
 * largest unit that keeps the figure at 1 or more. */
static void span_print(double seconds)
{
    static const struct { double s; const char *name; } units[] = {
        { 86400.0, "days" }, { 3600.0, "hours" }, { 60.0, "minutes" }, { 1.0, "seconds" },
    };
    size_t u = 0;

    while (u + 1 < sizeof units / sizeof units[0] && seconds < units[u].s)
        u++;
    fprintf(stderr, PROG ": note: every code of that length can be tried against a copied "
            "kiosk.conf in about %.0f %s on one such core; %d or more digits are advised\n",
            seconds / units[u].s, units[u].name, ADVISED_DIGITS);
}

static double elapsed_ms(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "iterations", required_argument, NULL, 'i' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char code[CODE_BUF] = { 0 }, again[CODE_BUF] = { 0 };
    char value[TCODE_TEXT_MAX];
    unsigned iterations = TCODE_ITER_DEFAULT;
    struct timespec t0, t1;
    read_status rs;
    tcode_status ts;
    int rc = EXIT_FAILURE, opt;
    double ms;

    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'i':
            if (!parse_iterations(optarg, &iterations)) {
                fprintf(stderr, PROG ": --iterations wants a whole number from %u to %u\n",
                        TCODE_ITER_MIN, TCODE_ITER_MAX);
                rc = EXIT_USAGE;
                goto out;
            }
            break;
        case 'h':
            printf(usage, TCODE_ITER_MIN, TCODE_ITER_MAX, TCODE_ITER_DEFAULT);
            rc = EXIT_SUCCESS;
            goto out;
        default:
            fprintf(stderr, "Try '" PROG " --help'.\n");
            rc = EXIT_USAGE;
            goto out;
        }
    }
    if (optind < argc) {
        /* A code on the command line would land in the shell's history. */
        fprintf(stderr, PROG ": takes no arguments; the code is read from standard input\n");
        rc = EXIT_USAGE;
        goto out;
    }

    secmem_no_dumps();
    catch_signals();
    rs = isatty(STDIN_FILENO) ? read_interactive(code, again) : read_piped(code);
    if (rs != RD_OK) {
        fprintf(stderr, PROG ": %s\n", read_texts[rs]);
        goto out;
    }

    clock_gettime(CLOCK_MONOTONIC, &t0);
    ts = tcode_make(code, iterations, value, sizeof value);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (ts != TCODE_OK) {
        fprintf(stderr, PROG ": %s\n", tcode_strerror(ts));
        goto out;
    }
    printf("code_hash = %s\n", value);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, PROG ": cannot write standard output\n");
        goto out;
    }
    /* A check on the kiosk costs the same one derivation. */
    ms = elapsed_ms(&t0, &t1);
    fprintf(stderr, PROG ": %u iterations, %.1f ms here for one check\n", iterations, ms);
    if (strlen(code) < ADVISED_DIGITS) {
        double all_s = ms / 1000.0;
        for (size_t i = 0; i < strlen(code); i++)
            all_s *= 10.0;
        span_print(all_s);
    }
    rc = EXIT_SUCCESS;
out:
    secure_wipe(code, sizeof code);
    secure_wipe(again, sizeof again);
    return rc;
}
