"""End-to-end test of `post` killed (SIGKILL, no chance to clean up) at seeded random moments
while the books fail and drop connections, each killed run followed by the next one, then runs
to completion: every charge is booked exactly once and no libellé is in the books twice, as
test_backfill_resilience checks for backfill.

A kill may land between the books storing an entry and the binary reading the answer: the
next run must find that entry (idempotency key, or a look-up by libellé) instead of posting it
again. The elapsed times are printed on stderr.
"""

import json
import random
import signal
import sys
import time
import unittest

from crash_support import Background, complete_json_lines, duplicates, wait_until
from harness import TempDir, lines, run
from post_support import PostTest, charge_id, json_results, libelle, write_event_lines
from sandbox import Sandbox

COUNT = 150
SEED = 4127  # the kill moments and the faults of the books
FAULTS = ("--fail-rate", "0.1", "--drop-rate", "0.1", "--latency-ms", 10, "--seed", SEED)
KILL_WINDOWS = ((0.5, 2.5), (0.5, 2.5), (0.5, 2.5), (0.5, 2.5))  # seconds after each start
RUN_TIMEOUT = 60  # seconds for one run to completion
MAX_FINISHING_RUNS = 4  # runs to finish, each while the one before exited 75
TOTAL_LIMIT = 90  # seconds for the whole test


def log(text):
    print(f"\n[post crash] {text}", file=sys.stderr, flush=True)


class KilledPost(PostTest):
    def test_killed_runs_then_completion_book_each_charge_once(self):
        started = time.monotonic()
        tmp = TempDir(self)
        events = write_event_lines(tmp, range(COUNT), prefix="ch_crashpost")
        status, stdout, stderr = run(["entry", events])
        self.assertEqual(status, 0, stderr)
        expected = {entry["libelle"]: entry for entry in map(json.loads, lines(stdout))}
        self.assertEqual(len(expected), COUNT)
        books = Sandbox(self, *FAULTS, api_key="ct_test_crash" + str(SEED))
        rng = random.Random(SEED)
        delays = [rng.uniform(low, high) for low, high in KILL_WINDOWS]
        killed = 0
        for number, delay in enumerate(delays, 1):
            process = Background(self, tmp.path, ["--json", "post", events], books.env(),
                                 f"round{number}")
            finished = wait_until(lambda: not process.running(), delay, step=0.01)
            if not finished and process.send(signal.SIGKILL):
                killed += 1
            status = process.wait(RUN_TIMEOUT)
            stored = books.entries()
            log(f"round {number}: killed after {delay:.2f} s: exit {status}, "
                f"{len(stored)} of {COUNT} booked")
            self.assertIsNotNone(status, "the killed run did not end")
            self.assertNotIn(books.api_key, process.stdout() + process.stderr())
            self.assertEqual(duplicates(stored), [], f"a libellé booked twice by round {number}")
            self.assertLessEqual({entry["libelle"] for entry in stored}, set(expected))
            ids = {entry["id"]: entry["libelle"] for entry in stored}
            for item in complete_json_lines(process.stdout()):
                if item.get("status") in ("posted", "exists"):
                    # What a run reported before it was killed is in the books.
                    self.assertEqual(ids.get(item["entry_id"]), libelle(item["id"]), item)
        self.assertGreater(killed, 1, "the runs finished before their kill: nothing tested")

        statuses = []
        for _ in range(MAX_FINISHING_RUNS):
            status, stdout, stderr = self.json_post(books, events, timeout=RUN_TIMEOUT)
            statuses.append(status)
            if status != 75:
                break
        seconds = time.monotonic() - started
        log(f"{COUNT} charges, {killed} killed runs and {len(statuses)} to finish "
            f"(exit {statuses}): {seconds:.1f} s")
        self.assertEqual(statuses[-1], 0, f"exit statuses {statuses}\n{stderr[-3000:]}")
        stored = books.entries()
        self.assertEqual(duplicates(stored), [], "libellés booked more than once")
        self.assertEqual(sorted(entry["libelle"] for entry in stored),
                         sorted(libelle(charge_id(index, "ch_crashpost"))
                                for index in range(COUNT)))
        for entry in stored:
            self.assertEqual({key: value for key, value in entry.items() if key != "id"},
                             expected[entry["libelle"]])
        items, summary = json_results(stdout)
        self.assertEqual(summary["exit_status"], 0)
        self.assertEqual(len(items), COUNT)
        self.assertLessEqual({item["status"] for item in items}, {"posted", "exists"})
        ids = {entry["libelle"]: entry["id"] for entry in stored}
        for item in items:
            self.assertEqual(item["entry_id"], ids[libelle(item["id"])], item)
        stats = books.stats()
        self.assertGreater(stats["failed"], 0, stats)
        self.assertGreater(stats["dropped"], 0, stats)
        self.assertLess(seconds, TOTAL_LIMIT)


if __name__ == "__main__":
    unittest.main()
