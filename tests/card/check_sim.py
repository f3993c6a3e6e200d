#!/usr/bin/python3
"""check_sim.py - vcard.py's card logic held against src/card/sim_card.c, byte for byte.

Builds tests/card/sim_driver.c with src/card/sim.c and sim_card.c (gcc, the
project's flags), then plays the same random command sequences into both
cards: the kiosk's own commands (right and wrong PINs, every padding, GET
RESPONSE, wrong Le, GET CHALLENGE and the bureau's reset command, right,
stale and wrong) mixed with mutated and random APDUs, removals and
reinsertions. Both cards draw their challenges from the same fixed bytes
(sim_driver's C, Card.fixed_challenge), changed now and then, so their
replies can be compared; the reset MAC itself is held against Python's
hashlib/hmac (sim_driver's M) for every card. Every reply and the stored PIN/tries/blocked after every
command must be equal. No pcscd needed: this checks the card, vcard's tests
check the wire.

    /usr/bin/python3 tests/card/check_sim.py [--seed N] [--rounds N] [--cc gcc] [--sanitize]

Exit 0 when all rounds agree; 1 on the first difference (the sequence that
led to it is printed: test PINs only); 2 when the driver does not build.
Last line: "N passed, N failed" (rounds).
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import vcard  # noqa: E402

AID = vcard.SSSE_AID


def build_driver(cc, out, sanitize):
    cmd = [cc, "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-O1", "-g",
           "-I" + os.path.join(REPO, "src")]
    if sanitize:
        # The mutated APDUs double as a small fuzz of sim_card.c's parser.
        cmd += ["-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                "-fno-omit-frame-pointer"]
    cmd += [os.path.join(HERE, "sim_driver.c"),
            os.path.join(REPO, "src", "card", "sim.c"),
            os.path.join(REPO, "src", "card", "sim_card.c"),
            os.path.join(REPO, "src", "util", "secure.c"),
            os.path.join(REPO, "src", "service", "sha256.c"),
            "-pthread", "-o", out]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        sys.stderr.write("check_sim: building the sim driver failed:\n%s%s" % (r.stdout, r.stderr))
        return False
    return True


class Sim:
    """The C sim behind sim_driver's line protocol."""

    def __init__(self, exe):
        self.p = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, bufsize=1)

    def ask(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        ans = self.p.stdout.readline()
        if not ans:
            raise RuntimeError("sim_driver died")
        return ans.strip()

    def close(self):
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        self.p.wait(timeout=10)
        self.p.stdout.close()


# ---- generators -------------------------------------------------------------

def rand_pin(rng, lo=4, hi=16):
    return "".join(rng.choice("0123456789") for _ in range(rng.randint(lo, hi)))


def bcd(pin):
    s = pin + ("F" if len(pin) % 2 else "")
    return bytes.fromhex(s)


def block(pin, pad):
    if pad == "bcd":
        return bytes.fromhex((pin + "F" * 16)[:16])
    return (pin.encode() + b"\xFF" * 8)[:8]


def le_byte(rng):
    return rng.choice([0x00, 0x00, 0x00, rng.randint(1, 255), 0x0B, 0x06, 0x12, 0x11])


class Gen:
    """Random commands, biased toward what the kiosk sends and its near misses."""

    def __init__(self, rng, card):
        self.rng = rng
        # dict: profile, pin (current as far as the generator knows), ref,
        # pad, number, chal (the bytes GET CHALLENGE answers now)
        self.card = card
        self.queue = []  # commands that must come next (a reset after its challenge)

    def pin_guess(self):
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            return self.card["pin"]
        if r < 0.5:
            return self.card["pin"][:-1] or "1234"
        return rand_pin(rng, 4, 16 if rng.random() < 0.2 else 8)

    def verify(self):
        rng, c = self.rng, self.card
        pin = self.pin_guess()
        r = rng.random()
        if c["profile"] == "ssse" and r < 0.7:
            data = bcd(pin)
            return bytes((0x00, 0x20, 0x00, 0x00, len(data))) + data
        if r < 0.8:
            data = block(pin, c["pad"] if rng.random() < 0.8 else rng.choice(["bcd", "ascii"]))
            p2 = c["ref"] if rng.random() < 0.8 else rng.choice([0x80, 0x81, 0x00, 0x01])
            return bytes((0x00, 0x20, 0x00, p2, len(data))) + data
        if r < 0.85:
            return bytes((0x00, 0x20, 0x00, rng.choice([0x00, c["ref"]])))  # empty VERIFY
        data = rng.randbytes(rng.randint(1, 12)) if rng.random() < 0.5 else bcd(pin)[:rng.randint(1, 9)]
        return bytes((0x00, 0x20, rng.choice([0, 0, 1]), rng.choice([0x00, c["ref"]]),
                      len(data))) + data

    def change(self):
        rng, c = self.rng, self.card
        old, new = self.pin_guess(), rand_pin(rng, 4, 8 if rng.random() < 0.8 else 16)
        r = rng.random()
        if c["profile"] == "ssse" and r < 0.7:
            data = bcd(old) + b"\xFF" + bcd(new)
            if rng.random() < 0.1:
                data = bytes(rng.choice([b"\xFF" + bcd(new), bcd(old), bcd(old) + b"\xFF",
                                         bcd(old) + b"\xFF\xFF" + bcd(new), rng.randbytes(9)]))
            return bytes((0x80, 0x5E, 0x01, 0x00, len(data))) + data
        if r < 0.9:
            pad = c["pad"] if rng.random() < 0.85 else rng.choice(["bcd", "ascii"])
            data = block(old, pad) + block(new, pad)
            if rng.random() < 0.1:
                data = data[:rng.randint(1, 17)]
            p2 = c["ref"] if rng.random() < 0.85 else rng.choice([0x80, 0x81, 0x00])
            return bytes((rng.choice([0x00, 0x00, 0x80]), 0x24, 0x00, p2, len(data))) + data
        data = bcd(old) + b"\xFF" + bcd(new)
        return bytes((rng.choice([0x80, 0x00]), 0x5E, rng.choice([0, 1, 1]), 0x00,
                      len(data))) + data

    def select(self):
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            cmd = bytes((0x00, 0xA4, 0x04, 0x00, len(AID))) + AID
            return cmd + bytes((le_byte(rng),)) if rng.random() < 0.3 else cmd
        if r < 0.75:
            return bytes.fromhex("00A4020002EF05")
        choices = [
            bytes.fromhex("00A40000023F00"),
            bytes.fromhex("00A4020002EF06"),
            bytes.fromhex("00A402000" + "1EF"),
            bytes((0x00, 0xA4, 0x04, 0x00, 5)) + AID[:5],
            bytes.fromhex("00A4040C") + bytes((len(AID),)) + AID,
            bytes.fromhex("00A4020003EF0500"),
            bytes.fromhex("00A4020002EF0500"),
        ]
        return rng.choice(choices)

    def read(self):
        rng = self.rng
        rec = rng.choice([0x07, 0x07, 0x06, 0x06, 0x05, 0x03, 0x01, 0x02, 0x00, rng.randint(0, 255)])
        p2 = 0x04 if rng.random() < 0.9 else rng.choice([0x00, 0x0C, 0x05])
        cmd = bytes((0x00, 0xB2, rec, p2))
        r = rng.random()
        if r < 0.85:
            return cmd + bytes((le_byte(rng),))
        if r < 0.92:
            return cmd
        return cmd + b"\x01\x00"

    def get_response(self):
        rng = self.rng
        return bytes((0x00, 0xC0, rng.choice([0, 0, 0, 1]), 0x00,
                      rng.choice([0x13, 0x00, 0x05, 0x20, 0x0B, rng.randint(0, 255)])))

    def challenge(self):
        rng = self.rng
        r = rng.random()
        if r < 0.75:
            cmd = bytes.fromhex("0084000008")
        else:
            cmd = rng.choice([bytes.fromhex("0084000000"), bytes.fromhex("0084000010"),
                              bytes.fromhex("0084010008"), bytes.fromhex("00840000"),
                              bytes.fromhex("008400000100 08"), bytes.fromhex("8084000008")])
        if rng.random() < 0.6:
            self.queue.append(self.reset())  # usually right after it, as the kiosk does
        return cmd

    def reset(self):
        rng, c = self.rng, self.card
        good = vcard.reset_command(c["number"], c["chal"])
        r = rng.random()
        if r < 0.6:
            return good
        if r < 0.7:
            return good + b"\x00"  # with an Le
        if r < 0.8:
            return vcard.reset_command(c["number"] + "X", c["chal"])  # another card's
        return rng.choice([
            good[:5] + bytes(16),
            good[:5] + rng.randbytes(16),
            bytes.fromhex("842C00000F") + good[5:20],
            bytes.fromhex("842C010010") + good[5:],
            bytes.fromhex("002C000010") + good[5:],
            bytes.fromhex("842C0000"),
        ])

    def junk(self):
        rng = self.rng
        r = rng.random()
        if r < 0.4:
            return rng.randbytes(rng.randint(2, 12))
        if r < 0.7:
            return bytes((rng.choice([0x00, 0x80, 0x84, rng.randint(0, 255)]),
                          rng.choice([0xA4, 0xB2, 0x20, 0x5E, 0x24, 0xC0, 0x84, 0x2C, 0xCA]),
                          rng.randint(0, 255), rng.randint(0, 255))) + \
                rng.randbytes(rng.randint(0, 20))
        if r < 0.85:
            return bytes((0x00, 0xB2, 0x07, 0x04, 0x00, 0x00, 0x00))  # extended-looking
        return rng.randbytes(rng.choice([255, 259, 260, 261, 262, 270]))

    def next(self):
        rng = self.rng
        if self.queue:
            return self.queue.pop(0)
        fn = rng.choices([self.select, self.read, self.get_response, self.verify, self.change,
                          self.challenge, self.reset, self.junk],
                         weights=[25, 25, 8, 18, 14, 10, 3, 10])[0]
        return fn()


# ---- one round ---------------------------------------------------------------

def one_round(sim, rng, rnd, log):
    """A few insertions of one or two cards. Returns None or a difference."""
    cards = {}
    number = "R%08d" % rnd
    numbers = [number, number + "B"]
    # The reset MAC: the C code against Python's hashlib and hmac.
    for num in numbers:
        chal = rng.randbytes(vcard.CHALLENGE_LEN)
        want = vcard.reset_command(num, chal).hex().upper()
        got = sim.ask("M %s %s" % (num, chal.hex().upper()))
        if got != want:
            return "reset command differs for %s: sim %s, vcard %s" % (num, got, want)
    for ins in range(rng.randint(1, 4)):
        num = rng.choice(numbers)
        profile = rng.choice(vcard.PROFILES)
        locked = rng.random() < 0.08
        expiry = rng.choice(["-", "20991231", "20201231", "%04d%02d%02d" % (
            rng.randint(2000, 2099), rng.randint(1, 12), rng.randint(1, 31))])
        ref = rng.choice([0x80, 0x80, 0x81, 0x00, rng.randint(1, 255)])
        pad = rng.choice(["ascii", "bcd"])
        if num not in cards:
            pin = rand_pin(rng, 4, 8 if rng.random() < 0.85 else 16)
            tries = rng.randint(1, 15)
            blocked = rng.random() < 0.08
            cards[num] = {
                "card_number": num, "pin": pin, "tries": 0 if blocked else tries,
                "max_tries": tries, "blocked": blocked, "locked": locked,
            }
        else:
            pin, tries, blocked = "9999", 3, False  # ignored for a known card, like the sim
        st = cards[num]
        st["locked"] = locked
        line = "I %s %s %s %d %d %d %s %x %s" % (profile, num, pin, tries, 1 if blocked else 0,
                                                  1 if locked else 0, expiry, ref, pad)
        log.append(line)
        if sim.ask(line) != "ok":
            return "sim refused the insertion: " + line
        card = vcard.Card(st, profile=profile,
                          expiry=vcard.DEFAULT_EXPIRY if expiry == "-" else expiry,
                          iso_ref=ref or 0x80, iso_pad=pad)
        gen = Gen(rng, {"profile": profile, "pin": st["pin"], "ref": ref or 0x80, "pad": pad,
                        "number": num, "chal": b""})
        for i in range(rng.randint(5, 60)):
            if i == 0 or rng.random() < 0.05:
                # Both cards answer GET CHALLENGE with the same bytes from now on.
                chal = rng.randbytes(vcard.CHALLENGE_LEN)
                log.append("C " + chal.hex().upper())
                if sim.ask("C " + chal.hex().upper()) != "ok":
                    return "sim refused the challenge bytes"
                card.fixed_challenge = chal
                gen.card["chal"] = chal
            cmd = gen.next()
            if len(cmd) < 2:
                continue  # vpcd frames 1-byte messages as control, never as APDUs
            log.append("X " + cmd.hex().upper())
            want = sim.ask("X " + cmd.hex().upper())
            got = card.execute(cmd).hex().upper()
            if want != got:
                return "reply differs: sim %s, vcard %s" % (want, got)
            sim_state = sim.ask("S " + num)
            mine = "%s %d %d" % (st["pin"], st["tries"], 1 if st["blocked"] else 0)
            if sim_state != mine:
                return "state differs: sim %s, vcard %s" % (sim_state, mine)
            gen.card["pin"] = st["pin"]
        log.append("R")
        if sim.ask("R") != "ok":
            return "sim refused the removal"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=400)
    ap.add_argument("--cc", default=os.environ.get("CC", "gcc"))
    ap.add_argument("--sanitize", action="store_true", help="build the sim with ASan+UBSan")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    print("check_sim: seed %d" % seed)
    with tempfile.TemporaryDirectory(prefix="check-sim-") as d:
        exe = os.path.join(d, "sim_driver")
        if not build_driver(args.cc, exe, args.sanitize):
            print("0 passed, 1 failed")
            return 2
        passed = failed = 0
        # One driver per round: the sim remembers at most 64 cards per reader.
        for rnd in range(args.rounds):
            sim = Sim(exe)
            log = []
            try:
                diff = one_round(sim, rng, rnd, log)
            except (RuntimeError, BrokenPipeError) as e:
                diff = "%s (a sanitizer report above?)" % (e or "sim_driver died")
            finally:
                sim.close()
            if diff:
                failed += 1
                print("check_sim: round %d: %s\n  sequence:\n    %s"
                      % (rnd, diff, "\n    ".join(log[-40:])))
                break
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
