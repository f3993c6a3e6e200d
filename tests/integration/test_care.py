"""test_care.py - issue 13 items 4-7 through the control socket: a card left
behind is reminded and its holder's name leaves the screen; "change unknown"
stays on IDLE for the citizen who pulled the card until they tap btn.done
(or the next card, or [ui] change_unknown_s); the station's counter and
12333 on a refusal; the sign of life of a wait keeps frames coming.

Run with tests/integration/run.py -k test_care.
"""

import time

from harness import slow
from test_journeys import NEW_PIN, KioskTest, TestCardPulled

COUNTER = "门诊楼一层 社保服务窗口"
HOURS = "周一至周五 8:00-17:00"


def texts(k):
    return [t["text"] for t in k.layout().get("texts", [])]


class TestCare(KioskTest):

    pulled = TestCardPulled.pulled  # its checks of a pull, not its tests

    def test_card_left_on_success_is_reminded_and_the_name_goes(self):
        k = self.kiosk(config={"ui": {"take_card_s": 5}},
                       statuses={"A71000001": {"status": "active", "holder": "张*明"}})
        k.to_confirm("A71000001", NEW_PIN)
        k.enter_pin(NEW_PIN)
        st = k.wait("SUCCESS")
        self.assertNotIn("card_left", st)
        self.assertTrue(any("*" in t and ("持卡人" in t or "Holder" in t) for t in texts(k)), texts(k))
        deadline = time.monotonic() + slow(8)
        while time.monotonic() < deadline and not k.state().get("card_left"):
            time.sleep(0.1)
        st = k.state()
        self.assertEqual((st["state"], st.get("card_left")), ("SUCCESS", True), st)
        shown = texts(k)
        self.assertIn("请取走您的卡", shown)
        self.assertFalse(any("持卡人" in t or "Holder" in t for t in shown), shown)
        self.assertTrue(any("A71***001" in t for t in shown), shown)  # the masked number stays
        st = self.pulled(k, None)
        self.assertNotIn("card_left", st)

    def test_change_unknown_waits_for_its_citizen_and_btn_done_clears_it(self):
        k = self.kiosk()
        k.to_confirm("A71000002", NEW_PIN, delay_ms=3000, delay_on="change")
        k.enter_pin(NEW_PIN)
        k.wait("CHANGING")
        self.pulled(k, "change_unknown")
        time.sleep(slow(9))  # past card_removed's 8 s: still said
        st = k.state()
        self.assertEqual((st["state"], st.get("notice")), ("IDLE", "change_unknown"), st)
        self.assertIn("btn.done", k.widgets())
        shown = " ".join(texts(k))
        self.assertIn("社保服务窗口查询", shown)
        self.assertNotIn("新密码试", shown)  # no advice that costs a try
        k.tap("btn.done")
        st = k.state()
        self.assertEqual((st["state"], st.get("notice")), ("IDLE", None), st)
        self.assertNotIn("btn.done", k.widgets())

    def test_change_unknown_never_reaches_the_next_card(self):
        k = self.kiosk()
        k.to_confirm("A71000003", NEW_PIN, delay_ms=3000, delay_on="change")
        k.enter_pin(NEW_PIN)
        k.wait("CHANGING")
        self.pulled(k, "change_unknown")
        k.insert("A71000004")
        st = k.wait("ENTER_OLD_PIN")
        self.assertIsNone(st.get("notice"), st)

    def test_change_unknown_goes_after_its_time(self):
        k = self.kiosk(config={"ui": {"change_unknown_s": 5}})
        k.to_confirm("A71000005", NEW_PIN, delay_ms=3000, delay_on="change")
        k.enter_pin(NEW_PIN)
        k.wait("CHANGING")
        self.pulled(k, "change_unknown")
        deadline = time.monotonic() + slow(8)
        while time.monotonic() < deadline and k.state().get("notice"):
            time.sleep(0.1)
        self.assertIsNone(k.state().get("notice"))

    def test_station_counter_and_12333_on_a_refusal(self):
        k = self.kiosk(statuses={"A71000006": {"status": "lost", "holder": "张*明"}},
                       config={"terminal": {"counter": COUNTER, "counter_hours": HOURS}})
        k.insert("A71000006")
        k.wait("CARD_REJECTED")
        shown = " ".join(texts(k))
        for want in (COUNTER, HOURS, "12333"):
            self.assertIn(want, shown)

    def test_a_wait_shows_a_sign_of_life(self):
        k = self.kiosk()
        k.to_confirm("A71000007", NEW_PIN, delay_ms=2000, delay_on="change")
        k.enter_pin(NEW_PIN)
        k.wait("CHANGING")
        f0 = k.state()["frames"]
        time.sleep(1.0)
        st = k.state()
        self.assertEqual(st["state"], "CHANGING", st)
        # about 8 a second; a loaded machine may drop some, never all
        self.assertGreaterEqual(st["frames"] - f0, 3, st)
        k.wait("SUCCESS")
        f1 = k.state()["frames"]
        time.sleep(0.6)
        self.assertLessEqual(k.state()["frames"] - f1, 1)  # and it stops
