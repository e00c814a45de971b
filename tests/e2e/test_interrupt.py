"""End-to-end tests of SIGINT and SIGTERM sent to `post`, `backfill` and `reconcile --fix` while
they write to the books: the run stops between two requests (the one in flight finishes, a
retry wait is cut), reports what it did, says `stopped: interrupted` with a hint and exits 130;
a second signal ends it at once; the same command run again books the rest, each entry once.

The books answer slowly (comptentra-sandbox --latency-ms) so that the signal comes in the
middle of the run; the re-runs go to a sandbox started again on the same books without the
latency (crash_support.reopen), so that they stay quick.
"""

import json
import re
import signal
import sys
import time
import unittest

from backfill_support import (PERIOD, BackfillTest, bookable, by_status, expected_entries,
                              json_results, new_comptentra_key, new_stripe_key, period_refunds,
                              succeeded)
from crash_support import (EXIT_INTERRUPTED, STOP_LIMIT, Background, duplicates, hint_lines,
                           reopen, signal_name, stopped_lines, wait_until)
from harness import TempDir, lines, run
from post_support import charge_id, libelle, write_event_files
from sandbox import Sandbox
from stripe_sandbox import StripeSandbox

LATENCY_MS = 50  # per request of the books: a run of a few hundred entries lasts seconds
POST_COUNT = 200
STORED_BEFORE_SIGNAL = 15  # entries in the books when the signal is sent
FIRST_ENTRIES_LIMIT = 30  # seconds to wait for them
BACKFILL_SEED = 31
RECONCILE_SEED = 32
RUN_TIMEOUT = 60  # seconds for one re-run
FAILURES_BEFORE_SIGNAL = 5  # failed attempts; the wait before the 6th is 2 to 4 s
BACKOFF_LIMIT = 20  # seconds to reach them
CUT_LIMIT = 1.0  # seconds from the signal to the exit when the run was waiting to retry
IN_FLIGHT_MS = 1500  # latency of the in-flight tests


def log(label, text):
    print(f"\n[interrupt] {label}: {text}", file=sys.stderr, flush=True)


class InterruptTest(BackfillTest):
    def setUp(self):
        self.tmp = TempDir(self)

    def start(self, args, env, name="run"):
        return Background(self, self.tmp.path, args, env, name)

    def interrupt_when_stored(self, process, books, signum, stored=STORED_BEFORE_SIGNAL):
        """Sends `signum` once `stored` entries are in the books; checks the exit (130, soon),
        the stopped line and the hint; returns (stdout, stderr)."""
        self.assertTrue(wait_until(lambda: books.stats()["entries"] >= stored or
                                   not process.running(), FIRST_ENTRIES_LIMIT),
                        f"fewer than {stored} entries after {FIRST_ENTRIES_LIMIT} s")
        self.assertTrue(process.send(signum), "the run ended before the signal: nothing tested\n"
                        + process.stderr()[-2000:])
        status = process.wait(STOP_LIMIT + 5)
        seconds = process.since_signal()
        stdout, stderr = process.stdout(), process.stderr()
        log(f"{signal_name(signum)} after {books.stats()['entries']} entries",
            f"exit {status} {seconds:.2f} s after the signal")
        self.assertEqual(status, EXIT_INTERRUPTED, stderr[-3000:])
        self.assertLess(seconds, STOP_LIMIT, "the run did not stop soon after the signal")
        self.assertEqual(len(stopped_lines(stderr)), 1, stderr[-3000:])
        self.assertTrue(any("again" in line for line in hint_lines(stderr)), stderr[-3000:])
        self.assertNotIn("internal error", stderr)
        return stdout, stderr

    def assert_reported_are_stored(self, books, posted):
        """`posted` ({entry id: libellé}) is exactly what the books hold, each libellé once."""
        stored = books.entries()
        self.assertEqual(duplicates(stored), [], "a libellé is in the books twice")
        self.assertGreater(len(posted), 0, "nothing reported as posted")
        self.assertEqual({entry["id"]: entry["libelle"] for entry in stored}, posted,
                         "the entries reported as posted are not those stored")


class InterruptPost(InterruptTest):
    def post_scenario(self, signum, json_output):
        events = write_event_files(self.tmp, range(POST_COUNT))
        expected = {entry["libelle"]: entry for entry in self.printed(events)}
        self.assertEqual(len(expected), POST_COUNT)
        books = Sandbox(self, "--latency-ms", LATENCY_MS, api_key=new_comptentra_key())
        flags = ["--json"] if json_output else []
        process = self.start([*flags, "post", events], books.env())
        stdout, stderr = self.interrupt_when_stored(process, books, signum)
        self.assert_no_secret(stdout, stderr, books.api_key)
        if json_output:
            items, summary = json_results(stdout)
            self.assertEqual(summary["exit_status"], EXIT_INTERRUPTED)
            self.assertEqual({item["status"] for item in items}, {"posted"}, summary)
            self.assertEqual(summary["summary"], {"posted": len(items)})
            posted = {item["entry_id"]: libelle(item["id"]) for item in items}
        else:
            found = [re.fullmatch(r"\S+: posted (ch_\w+) (ECR-[0-9]+)", line)
                     for line in lines(stdout)]
            self.assertTrue(all(found), stdout[-2000:])
            posted = {match.group(2): libelle(match.group(1)) for match in found}
            self.assertIn(f"{len(found)} inputs: {len(found)} posted", lines(stderr))
        self.assertLess(len(posted), POST_COUNT, "the run posted everything: it did not stop")
        self.assertTrue(stopped_lines(stderr)[0].endswith(".json"),
                        "the stopped line names the next input")
        self.assert_reported_are_stored(books, posted)

        again = reopen(self, books)
        status, stdout, stderr = run(["--json", "post", events], env=again.env(),
                                     timeout=RUN_TIMEOUT)
        self.assert_no_crash(status, stdout, stderr)
        self.assertEqual(status, 0, stderr[-3000:])
        _, summary = json_results(stdout)
        self.assertEqual(summary["summary"], {"exists": len(posted),
                                              "posted": POST_COUNT - len(posted)})
        stored = again.entries()
        self.assertEqual(duplicates(stored), [])
        self.assertEqual(sorted(entry["libelle"] for entry in stored),
                         sorted(libelle(charge_id(index)) for index in range(POST_COUNT)))
        for entry in stored:
            self.assertEqual({k: v for k, v in entry.items() if k != "id"},
                             expected[entry["libelle"]])
            if entry["id"] in posted:
                self.assertEqual(entry["libelle"], posted[entry["id"]])

    def printed(self, path):
        status, stdout, stderr = run(["entry", path])
        self.assertEqual(status, 0, stderr)
        return [json.loads(line) for line in lines(stdout)]

    def test_sigint_stops_post_before_its_next_input(self):
        self.post_scenario(signal.SIGINT, json_output=True)

    def test_sigterm_stops_post_in_text_output(self):
        self.post_scenario(signal.SIGTERM, json_output=False)


class InterruptBackfill(InterruptTest):
    def test_sigint_stops_backfill_workers_before_their_next_post(self):
        stripe = StripeSandbox(self, "--generate", 300, "--seed", BACKFILL_SEED, "--since",
                               PERIOD[1], "--until", PERIOD[3], api_key=new_stripe_key())
        books = Sandbox(self, "--latency-ms", LATENCY_MS, api_key=new_comptentra_key())
        charges = stripe.expanded_charges()
        refunds = period_refunds(stripe)
        expected = expected_entries(self, charges, refunds)
        process = self.start(["--json", "backfill", *PERIOD], {**stripe.env(), **books.env()})
        stdout, stderr = self.interrupt_when_stored(process, books, signal.SIGINT)
        self.assert_no_secret(stdout, stderr, stripe.api_key, books.api_key)
        items, summary = json_results(stdout)
        self.assertEqual(summary["exit_status"], EXIT_INTERRUPTED)
        grouped = by_status(items)
        # A job not yet posted at the signal is left for the next run, unreported.
        self.assertLessEqual(set(grouped), {"posted", "skipped"}, summary)
        stored = {entry["id"]: entry["libelle"] for entry in books.entries()}
        posted = {}
        for item in items:
            if item["status"] == "posted":
                self.assertIn(item["id"], stored.get(item["entry_id"], ""), item)
                posted[item["entry_id"]] = stored.get(item["entry_id"])
        self.assertLess(len(posted), len(expected), "the run posted everything")
        self.assert_reported_are_stored(books, posted)

        again = reopen(self, books)
        status, stdout, stderr = run(["--json", "backfill", *PERIOD],
                                     env={**stripe.env(), **again.env()}, timeout=RUN_TIMEOUT)
        self.assert_no_crash(status, stdout, stderr)
        self.assertEqual(status, 0, stderr[-3000:])
        self.assert_books_match(again, expected)
        grouped = by_status(json_results(stdout)[0])
        self.assertEqual(grouped.get("posted", set()) | grouped.get("exists", set()),
                         {charge["id"] for charge in charges if bookable(charge)}
                         | {refund["id"] for refund in refunds if succeeded(refund)})
        self.assertEqual(len(grouped.get("exists", ())), len(posted))


class InterruptReconcile(InterruptTest):
    def test_sigint_stops_reconcile_fix_between_posts(self):
        stripe = StripeSandbox(self, "--generate", 200, "--seed", RECONCILE_SEED, "--since",
                               PERIOD[1], "--until", PERIOD[3], api_key=new_stripe_key())
        books = Sandbox(self, "--latency-ms", LATENCY_MS, api_key=new_comptentra_key())
        expected = expected_entries(self, stripe.expanded_charges(), period_refunds(stripe))
        lock = self.tmp.path / "reconcile.lock"
        args = ["--json", "reconcile", *PERIOD, "--fix", "--lock", lock]
        process = self.start(args, {**stripe.env(), **books.env()})
        stdout, stderr = self.interrupt_when_stored(process, books, signal.SIGINT)
        self.assert_no_secret(stdout, stderr, stripe.api_key, books.api_key)
        self.assertIn("while posting", stopped_lines(stderr)[0])
        items, summary = json_results(stdout)
        self.assertEqual(summary["exit_status"], EXIT_INTERRUPTED)
        self.assertEqual({item["kind"] for item in items}, {"missing"})
        self.assertLessEqual({item.get("status") for item in items}, {"posted", None})
        posted = {}
        for item in items:
            if item.get("status") == "posted":
                self.assertEqual(len(item["entry_ids"]), 1, item)
                posted[item["entry_ids"][0]] = item["expected"]["libelle"]
        self.assertEqual(summary["summary"]["fixed"], len(posted))
        self.assertLess(len(posted), len(expected), "the run posted everything")
        self.assert_reported_are_stored(books, posted)

        again = reopen(self, books)
        status, stdout, stderr = run(args, env={**stripe.env(), **again.env()},
                                     timeout=RUN_TIMEOUT)
        self.assert_no_crash(status, stdout, stderr)
        self.assertEqual(status, 0, stderr[-3000:])
        self.assertEqual(json_results(stdout)[1]["summary"]["fixed"], len(expected) - len(posted))
        self.assert_books_match(again, expected)
        status, stdout, stderr = run(["reconcile", *PERIOD, "-q", "--lock", lock],
                                     env={**stripe.env(), **again.env()}, timeout=RUN_TIMEOUT)
        self.assertEqual((status, stdout, stderr), (0, "", ""))

    def test_sigterm_stops_reconcile_fix_while_listing_stripe(self):
        stripe = StripeSandbox(self, "--generate", 300, "--seed", RECONCILE_SEED, "--since",
                               PERIOD[1], "--until", PERIOD[3], "--latency-ms", 400,
                               api_key=new_stripe_key())
        books = Sandbox(self, api_key=new_comptentra_key())
        process = self.start(["reconcile", *PERIOD, "--fix", "--lock",
                              self.tmp.path / "reconcile.lock"], {**stripe.env(), **books.env()})
        self.assertTrue(wait_until(lambda: stripe.stats()["list_requests"] >= 2
                                   or not process.running(), FIRST_ENTRIES_LIMIT))
        self.assertTrue(process.send(signal.SIGTERM), process.stderr())
        status = process.wait(STOP_LIMIT + 5)
        stdout, stderr = process.stdout(), process.stderr()
        self.assertEqual(status, EXIT_INTERRUPTED, stderr)
        self.assertLess(process.since_signal(), STOP_LIMIT)
        self.assertEqual(len(stopped_lines(stderr)), 1, stderr)
        self.assertIn("while listing Stripe", stopped_lines(stderr)[0])
        self.assertIn("stopped before the end", stdout + stderr)
        self.assertLessEqual(stripe.stats()["list_requests"], 3, "listing went on")
        self.assertEqual(books.stats()["posts"], 0, "--fix posted after the signal")


class InterruptWaits(InterruptTest):
    """A signal while the run waits to retry ends it within a slice of the wait, long before
    the retry budget (6 attempts, 60 s) would."""

    def assert_wait_cut(self, process, counter, counted, signum=signal.SIGINT):
        """Signals once `counted()` reached FAILURES_BEFORE_SIGNAL; checks a quick 130."""
        self.assertTrue(wait_until(lambda: counted() >= FAILURES_BEFORE_SIGNAL
                                   or not process.running(), BACKOFF_LIMIT), counter)
        before = counted()
        self.assertTrue(process.send(signum), "the run gave up before the signal\n"
                        + process.stderr()[-2000:])
        status = process.wait(CUT_LIMIT + 5)
        seconds = process.since_signal()
        stderr = process.stderr()
        log(f"{counter} {before}", f"exit {status} {seconds:.2f} s after the signal, "
            f"{time.monotonic() - process.started:.1f} s in all")
        self.assertEqual(status, EXIT_INTERRUPTED, stderr[-3000:])
        self.assertLess(seconds, CUT_LIMIT, "the retry wait was not cut")
        self.assertLess(time.monotonic() - process.started, BACKOFF_LIMIT + CUT_LIMIT)
        self.assertEqual(counted(), before, "another attempt after the signal")
        self.assertEqual(len(stopped_lines(stderr)), 1, stderr[-3000:])
        self.assertTrue(hint_lines(stderr), stderr)
        return stderr

    def test_post_waiting_after_5xx(self):
        books = Sandbox(self, "--fail-rate", "1.0", api_key=new_comptentra_key())
        events = write_event_files(self.tmp, range(3))
        # One worker: every attempt is made while the run is waiting or failing, none in flight.
        process = self.start(["-v", "post", "--concurrency", "1", events], books.env())
        stderr = self.assert_wait_cut(process, "failed", lambda: books.stats()["failed"])
        self.assertIn("waiting to retry", stopped_lines(stderr)[0])
        self.assertEqual(books.entries(), [])

    def test_backfill_waiting_after_5xx_from_the_books(self):
        stripe = StripeSandbox(self, "--generate", 20, "--seed", BACKFILL_SEED, "--since",
                               PERIOD[1], "--until", PERIOD[3], api_key=new_stripe_key())
        books = Sandbox(self, "--fail-rate", "1.0", api_key=new_comptentra_key())
        process = self.start(["backfill", *PERIOD], {**stripe.env(), **books.env()})
        self.assert_wait_cut(process, "failed", lambda: books.stats()["failed"], signal.SIGTERM)
        self.assertEqual(books.entries(), [])

    def test_reconcile_waiting_after_5xx_from_stripe(self):
        stripe = StripeSandbox(self, "--generate", 20, "--seed", RECONCILE_SEED, "--since",
                               PERIOD[1], "--until", PERIOD[3], "--fail-rate", "1.0",
                               api_key=new_stripe_key())
        books = Sandbox(self, api_key=new_comptentra_key())
        process = self.start(["reconcile", *PERIOD, "--fix", "--lock",
                              self.tmp.path / "reconcile.lock"],
                             {**stripe.env(), **books.env()})
        self.assert_wait_cut(process, "failed", lambda: stripe.stats()["failed"])
        self.assertEqual(books.stats()["posts"], 0)

    def test_post_waiting_for_a_rate_limit(self):
        books = Sandbox(self, "--rate-limit", "1", api_key=new_comptentra_key())
        events = write_event_files(self.tmp, range(20))
        process = self.start(["--json", "post", events], books.env())
        self.assertTrue(wait_until(lambda: books.stats()["rate_limited"] >= 2, BACKOFF_LIMIT))
        time.sleep(0.2)  # into the second's wait that Retry-After asks for
        self.assertTrue(process.send(signal.SIGINT))
        status = process.wait(CUT_LIMIT + 5)
        seconds = process.since_signal()
        self.assertEqual(status, EXIT_INTERRUPTED, process.stderr()[-3000:])
        self.assertLess(seconds, CUT_LIMIT)
        self.assertEqual(len(stopped_lines(process.stderr())), 1, process.stderr())
        items, summary = json_results(process.stdout())
        self.assertEqual(summary["exit_status"], EXIT_INTERRUPTED)
        posted = {item["entry_id"]: libelle(item["id"]) for item in items
                  if item["status"] == "posted"}
        self.assertEqual({entry["id"]: entry["libelle"] for entry in books.entries()}, posted)


class InFlight(InterruptTest):
    """The books take IN_FLIGHT_MS to answer: the signal comes while the one POST of a run with
    one worker is in flight."""

    def start_slow_post(self):
        books = Sandbox(self, "--latency-ms", IN_FLIGHT_MS, api_key=new_comptentra_key())
        events = write_event_files(self.tmp, range(3))
        process = self.start(["--json", "post", "--concurrency", "1", events], books.env())
        self.assertTrue(wait_until(lambda: books.stats()["posts"] >= 1 or not process.running(),
                                   FIRST_ENTRIES_LIMIT), "no POST")
        return books, events, process

    def test_the_request_in_flight_finishes_and_is_reported(self):
        books, _, process = self.start_slow_post()
        self.assertTrue(process.send(signal.SIGINT))
        self.assertIsNone(process.wait(0.3), "the run did not let its POST finish")
        status = process.wait(IN_FLIGHT_MS / 1000 + STOP_LIMIT)
        self.assertEqual(status, EXIT_INTERRUPTED, process.stderr())
        items, summary = json_results(process.stdout())
        self.assertEqual([(item["id"], item["status"]) for item in items],
                         [(charge_id(0), "posted")])
        self.assertEqual([(entry["id"], entry["libelle"]) for entry in books.entries()],
                         [(items[0]["entry_id"], libelle(charge_id(0)))])
        self.assertTrue(stopped_lines(process.stderr())[0].endswith("00001.json"),
                        "the stopped line names the next input")

    def test_a_second_signal_ends_the_run_at_once(self):
        books, events, process = self.start_slow_post()
        self.assertTrue(process.send(signal.SIGINT))
        self.assertIsNone(process.wait(0.3), "the first signal ended the run at once")
        self.assertTrue(process.send(signal.SIGINT))
        status = process.wait(2)
        self.assertEqual(status, -signal.SIGINT, process.stderr())
        self.assertLess(process.since_signal(), 1.0)
        # The POST in flight may still be stored by the books: the next run finds it.
        time.sleep(IN_FLIGHT_MS / 1000 + 0.3)
        self.assertLessEqual(len(books.entries()), 1)
        again = reopen(self, books)
        status, stdout, stderr = run(["--json", "post", events], env=again.env(),
                                     timeout=RUN_TIMEOUT)
        self.assertEqual(status, 0, stderr)
        self.assertEqual(duplicates(again.entries()), [])
        self.assertEqual(sorted(entry["libelle"] for entry in again.entries()),
                         [libelle(charge_id(index)) for index in range(3)])


if __name__ == "__main__":
    unittest.main()
