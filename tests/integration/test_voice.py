"""test_voice.py - the kiosk's voice, heard through SDL's disk audio driver.

The kiosk runs with SDL_AUDIODRIVER=disk (harness.Kiosk(audio="disk")):
every sample the callback produces lands in a file, silence included,
faster than real time. A prompt is found there by its exact samples (its
clips' WAVs decoded as SDL decodes them, back to back, at volume 100); a
tone is a run of non-zero samples between silences. `stats` says what was
queued (prompts by their clips, tones by name), so each test knows what to
look for and waits until nothing plays before it taps again (a click over
a prompt would mix with it).
"""

import os
import re
import shutil
import struct
import tempfile
import unittest

from harness import INITIAL_PIN, REPO, Kiosk, wav_pcm

NEW_PIN = "582039"
SIMPLE_PIN = "111111"
CARD = "A12345678"
# Samples of silence that end a sound: more than the refusal tone's own
# 40 ms pause (441), less than the 120 ms between a tone and its prompt.
GAP = 1000


def runs(pcm):
    """The sounds in S16LE samples: (start byte, bytes) of each stretch
    between silences of GAP samples or more."""
    s = struct.unpack("<%dh" % (len(pcm) // 2), pcm[:len(pcm) // 2 * 2])
    out, start, zeros = [], None, 0
    for i, v in enumerate(s):
        if v != 0:
            if start is None:
                start = i
            zeros = 0
        elif start is not None:
            zeros += 1
            if zeros >= GAP:
                out.append((start * 2, pcm[start * 2:(i - zeros + 1) * 2]))
                start, zeros = None, 0
    if start is not None:
        end = len(s) - zeros
        out.append((start * 2, pcm[start * 2:end * 2]))
    return out


class VoiceTest(unittest.TestCase):

    def kiosk(self, **kw):
        k = Kiosk(self, **kw)
        self.addCleanup(k.close)
        return k

    def sounds_after(self, k, seq):
        return [s for s in k.audio_stats()["sounds"] if s["seq"] > seq]

    def last_seq(self, k):
        st = k.audio_stats()
        return st["queued"]

    def heard(self, k, sound, after=0):
        """Where the prompt `sound` was played in the disk file (after byte
        `after`); fails if it was not, whole."""
        pcm = k.prompt_pcm(sound)
        self.assertGreater(len(pcm), 11025, "a prompt of less than half a second: %r" % sound)
        data = k.audio_pcm()
        at = data.find(pcm, after)
        while at >= 0 and at % 2:
            at = data.find(pcm, at + 1)
        self.assertGreaterEqual(at, 0, "prompt %r not heard after byte %d" % (sound["clips"], after))
        return at

    def prompt_for(self, k, seq, heading, lang):
        """The one prompt queued after `seq` for that heading and language
        (a screen passing by, READING_CARD, may have had its own)."""
        prompts = [s for s in self.sounds_after(k, seq)
                   if s["kind"] in ("prompt", "repeat") and s["clips"][0] == heading]
        self.assertEqual(len(prompts), 1, prompts)
        self.assertEqual(prompts[0]["lang"], lang)
        self.assertIn(heading, prompts[0]["clips"])
        return prompts[0]

    # ---- the tests -------------------------------------------------------------------

    def test_each_screen_is_said_when_it_appears_in_its_language(self):
        k = self.kiosk(audio="disk")
        k.wait_audio_quiet()
        st = k.audio_stats()
        self.assertEqual((st["state"], st["driver"], st["rate"]), ("open", "disk", 11025))
        idle = self.prompt_for(k, 0, "heading.IDLE", "zh")
        self.heard(k, idle)

        seq = self.last_seq(k)
        k.to_old_pin(CARD)
        k.wait_audio_quiet()
        zh = self.prompt_for(k, seq, "heading.ENTER_OLD_PIN", "zh")
        # The sentence under the heading, with the PIN's length as a count.
        self.assertEqual(zh["clips"], ["heading.ENTER_OLD_PIN", "s.pin_hint_old.1", "num.6", "s.pin_hint_old.2"])
        at_zh = self.heard(k, zh)

        seq = self.last_seq(k)
        k.tap("btn.lang")
        k.wait_audio_quiet()
        en = self.prompt_for(k, seq, "heading.ENTER_OLD_PIN", "en")
        self.assertEqual(en["clips"], zh["clips"])
        self.assertNotEqual(k.prompt_pcm(en), k.prompt_pcm(zh), "the English clips are other files")
        at_en = self.heard(k, en, at_zh + len(k.prompt_pcm(zh)))
        self.assertGreater(at_en, at_zh)

        # Back in Chinese, the next screens: each said once, as it appears.
        k.tap("btn.lang")
        k.wait_audio_quiet()
        seq = self.last_seq(k)
        k.enter_pin(INITIAL_PIN)
        k.wait("ENTER_NEW_PIN")
        k.wait_audio_quiet()
        new = [s for s in self.sounds_after(k, seq) if s["kind"] == "prompt" and s["clips"][0] != "heading.VERIFYING"]
        self.assertEqual(len(new), 1, new)
        # The card is on the initial PIN: the box's title says the old PIN
        # was right, its text that the card is on the initial PIN, then the rule.
        self.assertEqual(new[0]["clips"][:2], ["s.old_pin_ok", "notice.on_initial_pin"])
        self.heard(k, new[0])

    def test_a_clip_that_ends_just_past_a_piece_is_followed_at_once(self):
        """Every clip two pieces and 5 samples (clip.h's CLIP_PIECE_SAMPLES a
        piece): each clip's last piece is five samples, which the callback
        plays and ends within one buffer; the next clip must follow at the
        next sample, not after the buffer's rest of silence."""
        d = tempfile.mkdtemp(prefix="kiosk-voice-", dir="/tmp")
        self.addCleanup(shutil.rmtree, d, True)
        os.symlink(os.path.join(REPO, "fonts"), os.path.join(d, "fonts"))
        os.makedirs(os.path.join(d, "assets"))
        for f in os.listdir(os.path.join(REPO, "assets")):
            if f != "voice":
                os.symlink(os.path.join(REPO, "assets", f), os.path.join(d, "assets", f))
        with open(os.path.join(REPO, "src", "app", "clip.h")) as f:
            piece = int(re.search(r"#define CLIP_PIECE_SAMPLES (\d+)u?\b", f.read()).group(1))
        n = 2 * piece + 5
        for lang in ("zh", "en"):
            src, dst = os.path.join(REPO, "assets", "voice", lang), os.path.join(d, "assets", "voice", lang)
            os.makedirs(dst)
            for i, name in enumerate(sorted(os.listdir(src))):
                # mu-law bytes that never decode to 0 (0xFF and 0x7F do),
                # different from clip to clip.
                body = bytes(0x10 + (j * 7 + i) % 0x60 for j in range(n))
                fmt = struct.pack("<HHIIHH", 7, 1, 11025, 11025, 1, 8)
                data = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", n) + body
                with open(os.path.join(dst, name), "wb") as f:
                    f.write(b"RIFF" + struct.pack("<I", len(data)) + data + b"\0")
        k = Kiosk(self, audio="disk", start=False)
        self.addCleanup(k.close)
        k.env_extra["KIOSK_DATADIR"] = d
        k.start()
        k.wait_audio_quiet()
        seq = self.last_seq(k)
        k.to_old_pin(CARD)
        k.wait_audio_quiet()
        sound = self.prompt_for(k, seq, "heading.ENTER_OLD_PIN", "zh")
        self.assertGreaterEqual(len(sound["clips"]), 3, sound)
        pcm = b"".join(wav_pcm(os.path.join(d, "assets", "voice", "zh", c + ".wav")) for c in sound["clips"])
        data = k.audio_pcm()
        at = data.find(pcm)
        while at >= 0 and at % 2:
            at = data.find(pcm, at + 1)
        self.assertGreaterEqual(at, 0, "the prompt %r with a gap between clips" % sound["clips"])

    def test_every_key_clicks_the_same_and_nothing_else(self):
        k = self.kiosk(audio="disk")
        k.to_old_pin(CARD)
        k.wait_audio_quiet()
        seq, mark = self.last_seq(k), len(k.audio_pcm())
        keys = ["key.%d" % d for d in range(10)] + ["key.back"] * 6
        for key in keys:
            k.tap(key)
            k.wait_audio_quiet()
        queued = self.sounds_after(k, seq)
        self.assertEqual([s["kind"] for s in queued], ["click"] * len(keys), queued)
        heard = runs(k.audio_pcm()[mark:])
        self.assertEqual(len(heard), len(keys), "one sound per key, and nothing else")
        click = heard[0][1]
        for key, (_, pcm) in zip(keys, heard):
            self.assertEqual(pcm, click, "%s sounds unlike key.0" % key)
        self.assertLess(len(click), 11025 // 20, "a click is short")
        self.assertEqual(k.state()["state"], "ENTER_OLD_PIN")

        # OK clicks the same; with nothing typed the screen refuses, with
        # its tone, then says why.
        seq, mark = self.last_seq(k), len(k.audio_pcm())
        k.tap("key.ok")
        k.wait_audio_quiet()
        kinds = [s["kind"] for s in self.sounds_after(k, seq)]
        self.assertEqual(kinds, ["click", "refusal", "prompt"])
        heard = runs(k.audio_pcm()[mark:])
        self.assertEqual(heard[0][1][:len(click)], click, "OK's click is the digits' click")

    def test_refusal_and_success_have_their_tones(self):
        k = self.kiosk(audio="disk")
        k.to_new_pin(CARD)
        k.wait_audio_quiet()
        k.note_pin(SIMPLE_PIN)
        k.type(SIMPLE_PIN)
        k.wait_audio_quiet()
        seq, mark = self.last_seq(k), len(k.audio_pcm())
        k.tap("key.ok")
        k.wait_audio_quiet()
        queued = self.sounds_after(k, seq)
        self.assertEqual([s["kind"] for s in queued], ["click", "refusal", "prompt"])
        # The refusal names the kinds refused; its examples (%s) are not said.
        self.assertEqual(queued[2]["clips"][0], "s.too_simple.1")
        refusal_clips = queued[2]["clips"][:queued[2]["clips"].index("s.pin_hint_new.1")]
        self.assertFalse([c for c in refusal_clips if c.startswith("num.")], queued[2]["clips"])
        data = k.audio_pcm()
        at = self.heard(k, queued[2], mark)
        # OK's click, then the refusal tone (one run, or two when the click
        # ended before the screen changed: the disk driver runs ahead of
        # the clock, so a few ms of the loop can be a silence here), then
        # the prompt.
        tones = runs(data[mark:at])
        self.assertIn(len(tones), (1, 2), "a click and a tone before the prompt")
        if len(tones) == 2:
            self.assertLess(len(tones[0][1]), 11025 // 20, "the first is OK's click")
        refusal = tones[-1][1]
        self.assertGreater(len(refusal), 2 * 11025 * 4 // 10, "the refusal tone is ~0.46 s")

        k.type(NEW_PIN)
        k.note_pin(NEW_PIN)
        k.tap("key.ok")
        k.wait("CONFIRM_NEW_PIN")
        k.wait_audio_quiet()
        k.type(NEW_PIN)
        k.wait_audio_quiet()
        seq, mark = self.last_seq(k), len(k.audio_pcm())
        k.tap("key.ok")
        k.wait("SUCCESS")
        k.wait_audio_quiet()
        queued = self.sounds_after(k, seq)
        kinds = [s["kind"] for s in queued]
        self.assertEqual(kinds[0], "click")
        self.assertIn("success", kinds)
        self.assertNotIn("refusal", kinds)
        success_prompt = [s for s in queued if s["kind"] == "prompt" and s["clips"][0] == "heading.SUCCESS"]
        self.assertEqual(len(success_prompt), 1, queued)
        at = self.heard(k, success_prompt[0], mark)
        # The success tone is the sound just before its prompt, and unlike the refusal.
        before = runs(k.audio_pcm()[mark:at])
        self.assertTrue(before)
        success = before[-1][1]
        self.assertNotEqual(success, refusal)
        self.assertGreater(len(success), 2 * 11025 * 4 // 10)

    def test_repeat_says_the_screen_again(self):
        k = self.kiosk(audio="disk")
        k.to_old_pin(CARD)
        k.wait_audio_quiet()
        first = [s for s in k.audio_stats()["sounds"] if s["kind"] == "prompt"][-1]
        seq, mark = self.last_seq(k), len(k.audio_pcm())
        k.tap("btn.repeat")
        k.wait_audio_quiet()
        again = self.sounds_after(k, seq)
        self.assertEqual([s["kind"] for s in again], ["repeat"])
        self.assertEqual(again[0]["clips"], first["clips"])
        self.heard(k, again[0], mark)
        self.assertEqual(k.state()["state"], "ENTER_OLD_PIN")

    def test_enabled_false_plays_nothing(self):
        k = self.kiosk(audio="disk", config={"audio": {"enabled": False}})
        k.change_pin(CARD, INITIAL_PIN, NEW_PIN)
        st = k.audio_stats()
        self.assertEqual(st["state"], "off")
        self.assertEqual(st["sounds"], [])
        self.assertEqual(k.audio_pcm().strip(b"\0"), b"", "nothing was written but silence")
        self.assertIn("sound off", k.log_text())

    def test_no_sound_device_changes_nothing_else(self):
        k = self.kiosk(audio="nonexistent")
        k.change_pin(CARD, INITIAL_PIN, NEW_PIN)
        self.assertEqual(k.kinds(), [("pin_changed", CARD)])
        st = k.audio_stats()
        self.assertEqual(st["state"], "silent")
        lines = [l for l in k.log_text().splitlines() if "audio:" in l]
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("no sound device", lines[0])


if __name__ == "__main__":
    unittest.main()
