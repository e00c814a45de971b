"""Load tests of `listen`: 1,000 distinct deliveries from 8 concurrent clients (each over its
own kept-alive connection) while 16 workers book into books that take 50 ms per call. A
delivery is answered once it is on disk, never after its booking: the answers stay fast
(p99 under 100 ms) however slow the books, and then every payment is booked exactly once.
Then a SIGTERM in the middle of such a stream: what was acknowledged is kept, and booked
once by the next start. The latencies and timings are printed on stderr (ctest -V)."""

import statistics
import sys
import time
import unittest

from crash_support import duplicates, wait_until
from harness import TempDir, lines
from listen_support import BackgroundSender, ListenTest, archive_state, delivery, send_concurrently
from post_support import charge_id, event
from sandbox import Sandbox

COUNT = 1000
CLIENTS = 8
WORKERS = 16
P99_LIMIT = 0.100  # seconds
BOOK_LIMIT = 120  # seconds for the inbox to empty once every delivery is answered
PREFIX = "ch_e2elload"


def log(text):
    print(f"\n[listen load] {text}", file=sys.stderr, flush=True)


def percentile(ordered, fraction):
    """The value below which `fraction` of the sorted `ordered` values lie (nearest rank)."""
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


class Load(ListenTest):
    def test_thousand_deliveries_answered_fast_and_booked_once(self):
        tmp = TempDir(self)
        sandbox = Sandbox(self, "--latency-ms", "50")
        listener = self.listen(tmp, sandbox, "--concurrency", WORKERS)
        documents = [event(index, PREFIX) for index in range(COUNT)]
        items = [(d["id"], *delivery(d)) for d in documents]
        started = time.monotonic()
        results = send_concurrently(listener.port, items, CLIENTS)
        sending = time.monotonic() - started
        answers = [status for _, status, _, _ in results]
        wrong = [(key, status, text) for key, status, text, _ in results
                 if (status, text) != (200, f"{key} stored\n")]
        latencies = sorted(seconds for _, _, _, seconds in results)
        p50, p99 = statistics.median(latencies), percentile(latencies, 0.99)
        log(f"{COUNT} deliveries from {CLIENTS} clients in {sending:.1f} s: "
            f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms")
        self.assertEqual(wrong, [], f"{len(wrong)} wrong answers")
        self.assertEqual(answers.count(200), COUNT)
        self.assertLess(p99, P99_LIMIT)

        booked = listener.wait_booked(BOOK_LIMIT)
        seconds = time.monotonic() - started
        log(f"booked in {seconds:.1f} s from the first delivery; health {listener.health()}; "
            f"books {sandbox.stats()}")
        self.assertTrue(booked, listener.stderr()[-3000:])
        stored = sandbox.entries()
        self.assertEqual(duplicates(stored), [])
        self.assertEqual(len(stored), COUNT)
        self.assert_booked_once(sandbox, [charge_id(index, PREFIX) for index in range(COUNT)])
        self.assertEqual(archive_state(listener.archive), {
            "inbox": [], "done": sorted(d["id"] for d in documents), "failed": []})
        self.assertEqual(self.assert_stopped(listener, *listener.stop()), 0)
        self.assertEqual(len(lines(listener.stdout())), COUNT + 1)

    def test_sigterm_under_load_keeps_every_acknowledged_delivery(self):
        tmp = TempDir(self)
        sandbox = Sandbox(self, "--latency-ms", "20")
        first = self.listen(tmp, sandbox, "--concurrency", WORKERS, name="first")
        documents = [event(index, "ch_e2elterm") for index in range(400)]
        items = [(d["id"], *delivery(d)) for d in documents]
        sender = BackgroundSender(first.port, items, CLIENTS)
        self.assertTrue(wait_until(lambda: sender.acknowledged() >= 150, 30, step=0.002))
        status, seconds = first.stop()
        results = sender.results()
        left = self.assert_stopped(first, status, seconds, limit=5)
        self.assertEqual([r for r in results if r[1] not in (200, None)], [])
        acknowledged = {key for key, answer, _, _ in results if answer == 200}
        state = archive_state(first.archive)
        log(f"SIGTERM after {len(acknowledged)} acknowledged: exit {status} in {seconds:.2f} s, "
            f"{left} left in the inbox, {len(state['done'])} in done/")
        self.assertEqual(left, len(state["inbox"]))
        self.assertLessEqual(acknowledged, set(state["inbox"]) | set(state["done"]))
        self.assertLess(len(acknowledged), len(items), "all answered before the stop")

        second = self.listen(tmp, sandbox, "--concurrency", WORKERS, name="second")
        again = [(key, body, delivery(body)[1]) for key, body, _ in items
                 if key not in acknowledged]  # as Stripe sends again
        self.assertEqual({answer for _, answer, _, _ in send_concurrently(
            second.port, again, CLIENTS)}, {200})
        self.assertTrue(second.wait_booked(BOOK_LIMIT), second.stderr()[-3000:])
        self.assertEqual(duplicates(sandbox.entries()), [])
        self.assert_booked_once(sandbox, [charge_id(index, "ch_e2elterm") for index in range(400)])
        self.assertEqual(self.assert_stopped(second, *second.stop()), 0)


if __name__ == "__main__":
    unittest.main()
