#!/usr/bin/python3
"""make-voice.py - the kiosk's spoken prompts, from its own strings, with espeak-ng.

    scripts/make-voice.py [--list-bin build/src/ui/kiosk-voice-list] [--all] [--check]

kiosk-voice-list (built from src/ui/voice_list.c) prints every clip a screen
can say and its text, from the kiosk's string tables and views: "zh<TAB>
heading.IDLE<TAB>请插入社保卡". For each line this writes
assets/voice/<lang>/<name>.wav (espeak-ng, voice cmn or en; 11025 Hz mono,
8-bit G.711 mu-law: telephone-grade speech at 11 KB a second, which SDL_LoadWAV
decodes to the kiosk's own format, 16-bit at the same rate, with no
resampling, so a test can compute the exact samples the kiosk plays) and
assets/voice/manifest.tsv, the same lines: the unit test test_voice fails
when the kiosk's list and the manifest differ (a text changed and its clip
was not made again).

A clip whose text is unchanged since the manifest was written is left alone,
so a studio recording put in place of an espeak one (same name, any WAV
format SDL reads: the kiosk converts it at load) survives the next run;
--all makes every clip again. Clips no longer listed are removed.
--check only compares and exits 1 on a difference.

Python 3 standard library and espeak-ng (Debian 12: apt-get install espeak-ng).
"""

import argparse
import array
import os
import struct
import subprocess
import sys
import tempfile
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, ".."))
VOICE_DIR = os.path.join(REPO, "assets", "voice")
MANIFEST = os.path.join(VOICE_DIR, "manifest.tsv")
RATE = 11025
ESPEAK_VOICE = {"zh": "cmn", "en": "en"}
# Slower than espeak's 175 words a minute: many listeners are elderly.
ESPEAK_SPEED = "160"
TAIL_MS = 60          # silence kept after the words (clips are said back to back)
SILENT = 64           # |sample| at or under this counts as silence when trimming


def read_list(list_bin):
    out = subprocess.run([list_bin], check=True, stdout=subprocess.PIPE).stdout.decode("utf-8")
    rows = []
    for line in out.splitlines():
        lang, name, text = line.split("\t", 2)
        rows.append((lang, name, text))
    return rows


def read_manifest():
    try:
        with open(MANIFEST, encoding="utf-8") as f:
            return [tuple(line.rstrip("\n").split("\t", 2)) for line in f if line.strip() and not line.startswith("#")]
    except FileNotFoundError:
        return []


def resample(samples, src, dst):
    """Linear interpolation: espeak-ng speaks at 22050 Hz only."""
    if src == dst:
        return samples
    n = int(len(samples) * dst / src)
    out = array.array("h", bytes(2 * n))
    step = src / dst
    last = len(samples) - 1
    for i in range(n):
        x = i * step
        j = int(x)
        f = x - j
        a = samples[j]
        b = samples[j + 1] if j < last else a
        out[i] = int(round(a + (b - a) * f))
    return out


def trim(samples, rate):
    first = next((i for i, v in enumerate(samples) if abs(v) > SILENT), 0)
    last = next((i for i in range(len(samples) - 1, -1, -1) if abs(samples[i]) > SILENT), len(samples) - 1)
    end = min(len(samples), last + 1 + rate * TAIL_MS // 1000)
    return samples[first:end]


def ulaw(v):
    """G.711 mu-law of one 16-bit sample (the encoder of Sun's g711.c)."""
    sign = 0x80 if v < 0 else 0
    v = min(-v if v < 0 else v, 32635) + 0x84
    exp, mask = 7, 0x4000
    while exp > 0 and not v & mask:
        exp -= 1
        mask >>= 1
    return ~(sign | (exp << 4) | ((v >> (exp + 3)) & 0x0F)) & 0xFF


def write_ulaw_wav(path, samples, rate):
    data = bytes(ulaw(v) for v in samples)
    fmt = struct.pack("<HHIIHHH", 7, 1, rate, rate, 1, 8, 0)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"fact" + struct.pack("<II", 4, len(data))
            + b"data" + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b""))
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)
    os.rename(tmp, path)


def speak(lang, text, path):
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        subprocess.run(["espeak-ng", "-v", ESPEAK_VOICE[lang], "-s", ESPEAK_SPEED, "-w", tmp.name, "--", text],
                       check=True, stdout=subprocess.DEVNULL)
        with wave.open(tmp.name, "rb") as w:
            if w.getsampwidth() != 2 or w.getnchannels() != 1:
                raise SystemExit("espeak-ng gave %d channels of %d bytes" % (w.getnchannels(), w.getsampwidth()))
            rate = w.getframerate()
            samples = array.array("h", w.readframes(w.getnframes()))
    if sys.byteorder != "little":
        samples.byteswap()
    write_ulaw_wav(path, trim(resample(samples, rate, RATE), RATE), RATE)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--list-bin", default=os.path.join(REPO, "build", "src", "ui", "kiosk-voice-list"))
    ap.add_argument("--all", action="store_true", help="make every clip again, recordings included")
    ap.add_argument("--check", action="store_true", help="only compare the list with the manifest")
    args = ap.parse_args()

    rows = read_list(args.list_bin)
    old = {(lang, name): text for lang, name, text in read_manifest()}
    changed = [(l, n, t) for l, n, t in rows
               if args.all or old.get((l, n)) != t
               or not os.path.exists(os.path.join(VOICE_DIR, l, n + ".wav"))]
    wanted = {(l, n) for l, n, _ in rows}
    stale = [k for k in old if k not in wanted]
    if args.check:
        for l, n, t in changed:
            print("make-voice: %s/%s: %s" % (l, n, "text changed" if (l, n) in old else "new"))
        for l, n in stale:
            print("make-voice: %s/%s: no longer said" % (l, n))
        return 1 if changed or stale else 0
    for lang in ESPEAK_VOICE:
        os.makedirs(os.path.join(VOICE_DIR, lang), exist_ok=True)
    for i, (lang, name, text) in enumerate(changed):
        speak(lang, text, os.path.join(VOICE_DIR, lang, name + ".wav"))
        print("make-voice: [%d/%d] %s/%s" % (i + 1, len(changed), lang, name), file=sys.stderr)
    for lang, name in stale:
        try:
            os.unlink(os.path.join(VOICE_DIR, lang, name + ".wav"))
        except FileNotFoundError:
            pass
    with open(MANIFEST, "w", encoding="utf-8") as f:
        f.write("# lang\tclip\ttext: written by scripts/make-voice.py; checked by tests/unit/test_voice.c\n")
        for lang, name, text in rows:
            f.write("%s\t%s\t%s\n" % (lang, name, text))
    total = sum(os.path.getsize(os.path.join(VOICE_DIR, l, n + ".wav")) for l, n, _ in rows)
    print("make-voice: %d clips, %.2f MB" % (len(rows), total / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
