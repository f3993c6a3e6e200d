#!/usr/bin/python3
"""soak.py - thousands of journeys in a row on one kiosk: nothing leaks,
nothing is lost (issue 10).

One kiosk (headless, simulated card, fake_sync for the card status) is
driven through its control socket, journey after journey, as fast as it
answers: a card in, the old PIN, a new one twice, SUCCESS, the card out.
The same card each time, its PIN going back and forth between two values,
so the simulated card holds one card whatever the count. Every --every
journeys it reads from /proc: resident memory, open descriptors, threads;
and from the outbox: one pin_changed record per journey, seq rising by one.

The reference is the same kiosk in the same run: its figures after the
first --warm journeys (caches full, allocator settled) against the last.
It fails (exit 1) when a record is missing or doubled, when descriptors or
threads grew (the voice clip a prompt is being read from is counted apart:
more than one open is a failure too), or when memory grew by more than --rss-slack-kb from the
warm figure to the end; a leak of even 100 bytes a journey shows as 500 kB
over 5000. It ends with the harness's audit: no PIN in any file or log.

Usage: soak.py [--kiosk build/kiosk] [--journeys 5000] [--every 250] [--warm 250]
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

PINS = ("582039", "730164")


def proc_figures(pid):
    """RSS (kB), descriptors, threads, and the voice clips open among the
    descriptors: the clip a prompt is being read from (app/clip.c) is open
    while the prompt plays, so it is counted apart; more than one is a leak."""
    with open("/proc/%d/status" % pid) as f:
        status = f.read()
    rss = int(next(l.split()[1] for l in status.splitlines() if l.startswith("VmRSS:")))
    threads = int(next(l.split()[1] for l in status.splitlines() if l.startswith("Threads:")))
    fds = clips = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue  # closed meanwhile
        if "/assets/voice/" in target and target.endswith(".wav"):
            clips += 1
        else:
            fds += 1
    return rss, fds, threads, clips


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kiosk", default=os.environ.get("KIOSK_BIN", "build/kiosk"))
    ap.add_argument("--journeys", type=int, default=5000)
    ap.add_argument("--every", type=int, default=250)
    ap.add_argument("--warm", type=int, default=250)
    ap.add_argument("--rss-slack-kb", type=int, default=1024)
    ap.add_argument("--json")
    args = ap.parse_args()
    os.environ["KIOSK_BIN"] = os.path.abspath(args.kiosk)

    from harness import INITIAL_PIN, Kiosk  # after KIOSK_BIN is set

    k = Kiosk(None)
    pid = k.proc.pid
    card = "A55000001"
    old = INITIAL_PIN
    rows = []
    t0 = time.monotonic()
    failures = []
    try:
        for i in range(1, args.journeys + 1):
            new = PINS[i % 2]
            k.change_pin(card, old, new)
            old = new
            if i % args.every == 0 or i == args.warm or i == args.journeys:
                rss, fds, threads, clips = proc_figures(pid)
                n_records = len([n for n in os.listdir(k.outbox) if n.startswith("evt-")])
                rows.append({"journeys": i, "rss_kb": rss, "fds": fds, "threads": threads,
                             "clips": clips, "records": n_records,
                             "seconds": round(time.monotonic() - t0, 1)})
                print("  %5d journeys  %6.1f s  RSS %6d kB  fds %3d (+%d clip)  threads %2d  records %5d"
                      % (i, time.monotonic() - t0, rss, fds, clips, threads, n_records), flush=True)
                if clips > 1:
                    failures.append("%d voice clips open after %d journeys" % (clips, i))
        # Once the last prompt has played, no clip may be left open.
        deadline = time.monotonic() + 60
        while k.audio_stats().get("playing") and time.monotonic() < deadline:
            time.sleep(0.2)
        clips_left = proc_figures(pid)[3]
        if clips_left:
            failures.append("%d voice clips open with nothing playing" % clips_left)
        records = k.records()   # parsed and checked against the contract, by seq
        kinds = {r["kind"] for r in records}
        seqs = [r["seq"] for r in records]
        if len(records) != args.journeys or kinds != {"pin_changed"}:
            failures.append("%d journeys but %d records (%s)" % (args.journeys, len(records), sorted(kinds)))
        if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
            failures.append("seq does not rise by one")
        if not k.pin_accepted(card, old):
            failures.append("the card does not take the last PIN")
    finally:
        k.close(audit=True)

    warm = next(r for r in rows if r["journeys"] == args.warm)
    last = rows[-1]
    print("soak: %d journeys in %.0f s (%.1f ms each)" % (
        args.journeys, last["seconds"], 1000.0 * last["seconds"] / args.journeys))
    print("  %-22s %12s %12s" % ("", "after %d" % args.warm, "after %d" % args.journeys))
    for key, unit in (("rss_kb", "kB"), ("fds", ""), ("threads", ""), ("records", "")):
        print("  %-22s %12s %12s" % (key.replace("_kb", "") + (" (%s)" % unit if unit else ""),
                                     warm[key], last[key]))
    if last["rss_kb"] - warm["rss_kb"] > args.rss_slack_kb:
        failures.append("RSS grew by %d kB after warm-up (slack %d)" % (
            last["rss_kb"] - warm["rss_kb"], args.rss_slack_kb))
    if last["fds"] > warm["fds"]:
        failures.append("descriptors grew from %d to %d" % (warm["fds"], last["fds"]))
    if last["threads"] > warm["threads"]:
        failures.append("threads grew from %d to %d" % (warm["threads"], last["threads"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "failures": failures}, f, indent=1)
    for msg in failures:
        print("soak: FAILED: " + msg)
    if not failures:
        print("soak: ok (records, descriptors, threads, memory)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
