"""test_disk.py - a full or failing disk under the outbox (issue 5, "Disk"):
the kiosk refuses to change a PIN it could not record, says why (screen
and log), and recovers when the disk does.

The disk is made to fail by tests/fault/faultfs.c, an LD_PRELOAD library
(built as <build>/tests/libfaultfs.so) that fails write()/fsync() on files
in the outbox with ENOSPC or EIO while a flag file exists. A real full
file system (a small tmpfs) needs mount privileges and a private mount
namespace shared by the kiosk and the test; the preload gives the same
errno at the same calls, switchable mid-journey, without them.
"""

import os
import time
import unittest
from unittest import mock

from harness import INITIAL_PIN, Kiosk, kiosk_bin, slow

NEW_PIN = "582039"
OTHER_PIN = "730164"


def faultfs_path():
    return os.path.join(os.path.dirname(kiosk_bin()), "tests", "libfaultfs.so")


class TestDisk(unittest.TestCase):

    def setUp(self):
        lib = faultfs_path()
        self.assertTrue(os.path.exists(lib), "%s is missing (ninja builds it)" % lib)
        self.flag_dir = self.enterContext_dir()
        self.flag = os.path.join(self.flag_dir, "disk-fails")
        env = {"LD_PRELOAD": lib, "FAULTFS_FLAG": self.flag,
               # faultfs comes before the ASan runtime in the load order.
               "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
        with mock.patch.dict(os.environ, env):
            # FAULTFS_DIR must name the kiosk's outbox: known once the
            # harness has made its temp dir, so the kiosk starts after.
            self.k = Kiosk(self, start=False)
            self.addCleanup(self.k.close)
            os.environ["FAULTFS_DIR"] = self.k.outbox
            self.k.start()

    def enterContext_dir(self):
        import tempfile
        import shutil
        d = tempfile.mkdtemp(prefix="disk-", dir="/tmp")
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def disk(self, mode):
        """None: healthy; "ENOSPC", "EIO" or "EIO fsync": failing so."""
        if mode is None:
            os.unlink(self.flag)
        else:
            with open(self.flag, "w") as f:
                f.write(mode + "\n")

    def assertOutOfService(self, notice="storage_down"):
        """storage_down: no journey is taken; storage_failed: this one's
        record could not be written, so its PIN was not changed."""
        st = self.k.wait("OUT_OF_SERVICE", timeout_ms=int(slow(8) * 1000))
        deadline = time.monotonic() + slow(3)
        while st.get("notice") != notice and time.monotonic() < deadline:
            time.sleep(0.05)
            st = self.k.state()
        self.assertEqual(st.get("notice"), notice, st)
        return st

    def test_full_disk_stops_at_the_card_and_recovers(self):
        k = self.k
        k.note_pin(NEW_PIN)
        self.disk("ENOSPC")
        k.insert("A12345678")
        self.assertOutOfService()
        self.assertIn("No space left on device", k.log_text())
        self.assertIn("PIN changes stopped", k.log_text())
        # Nothing is asked of the card: the journey does not start.
        time.sleep(0.3)
        self.assertEqual(k.state()["state"], "OUT_OF_SERVICE")
        k.remove()
        self.assertOutOfService()
        self.assertEqual([r["seq"] for r in k.records()], [])

        # Space returns: within the 5 s look, back to IDLE, and a change works.
        self.disk(None)
        st = k.wait("IDLE", timeout_ms=int(slow(8) * 1000))
        self.assertIsNone(st.get("notice"), st)
        self.assertIn("PIN changes resume", k.log_text())
        k.change_pin("A12345678", INITIAL_PIN, NEW_PIN)
        self.assertEqual([r["kind"] for r in k.records()], ["pin_changed"])

    def test_disk_fails_mid_journey_and_the_pin_is_not_changed(self):
        k = self.k
        k.note_pin(OTHER_PIN)
        k.to_confirm("B12345678", OTHER_PIN)
        self.disk("ENOSPC")
        k.enter_pin(OTHER_PIN)   # the intent cannot be written: no change command
        self.assertOutOfService("storage_failed")
        self.assertEqual(k.intents(), [])
        self.assertEqual(k.records(), [])
        k.remove()
        self.assertOutOfService()
        self.disk(None)
        k.wait("IDLE", timeout_ms=int(slow(8) * 1000))
        # The card still takes the old PIN, not the new one.
        self.assertTrue(k.pin_accepted("B12345678", INITIAL_PIN))

    def test_fsync_fails_with_eio(self):
        # A disk that takes the data but cannot make it durable is as bad.
        k = self.k
        self.disk("EIO fsync")
        k.insert("C12345678")
        self.assertOutOfService()
        self.assertIn("fsync", k.log_text())
        self.assertIn("Input/output error", k.log_text())
        k.remove()
        self.disk(None)
        k.wait("IDLE", timeout_ms=int(slow(8) * 1000))

    def test_disk_fails_while_idle(self):
        # Noticed by the periodic look too (every minute when healthy; the
        # card insert is what makes it immediate): here the insert is after
        # the disk failed, and the screen is out of service before any PIN.
        k = self.k
        self.disk("EIO")
        k.insert("D12345678")
        self.assertOutOfService()
        self.assertIn("Input/output error", k.log_text())
        k.remove()
        self.disk(None)
        k.wait("IDLE", timeout_ms=int(slow(8) * 1000))
        k.insert("D12345678")
        k.wait("ENTER_OLD_PIN")


if __name__ == "__main__":
    unittest.main()
