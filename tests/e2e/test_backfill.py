"""End-to-end tests of `backfill` over a generated month of 1,000 charges: exactly the
bookable charges are booked, each as `entry` computes it, and a second run posts nothing."""

import json
import re
import sys
import time
import unittest
from collections import Counter

from backfill_support import (SINCE, UNTIL, BackfillTest, MONTH_SEED, PERIOD, RUN_TIMEOUT,
                              _ClassOwner, bookable, by_status, expected_entries, in_period,
                              json_results, libelle, log_time, new_comptentra_key, new_stripe_key,
                              paris_day, paris_start, settled_ttc, vat_of)
from harness import lines, run
from sandbox import Sandbox
from stripe_sandbox import StripeSandbox


class MonthOfCharges(BackfillTest):
    """1,000 generated charges over November 2026, in Paris. The class runs, once, a dry run
    on empty books and then the real backfill with -v and --concurrency 4; the tests check
    what these runs did, and run backfill again over the same period."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stripe = StripeSandbox(cls, "--generate", 1000, "--seed", MONTH_SEED,
                                   "--since", SINCE, "--until", UNTIL, api_key=new_stripe_key())
        cls.books = Sandbox(_ClassOwner(cls), api_key=new_comptentra_key())
        cls.charges = cls.stripe.expanded_charges()
        cls.env = {**cls.stripe.env(), **cls.books.env()}

        cls.dry = cls.timed_run(["--json", "backfill", *PERIOD, "--dry-run"])
        cls.books_after_dry = cls.books.entries()
        cls.stats_after_dry = (cls.stripe.stats(), cls.books.stats())

        cls.first = cls.timed_run(["--json", "-v", "backfill", *PERIOD, "--concurrency", "4"])
        cls.stats_after_first = (cls.stripe.stats(), cls.books.stats())
        log_time("1,000 charges, dry run on empty books", cls.dry[3])
        log_time("1,000 charges, first run", cls.first[3])

    @classmethod
    def timed_run(cls, args):
        started = time.monotonic()
        status, stdout, stderr = run(args, env=cls.env, timeout=RUN_TIMEOUT)
        return status, stdout, stderr, time.monotonic() - started

    def setUp(self):
        self.expected = expected_entries(self, self.charges)
        self.bookable_ids = {charge["id"] for charge in self.charges if bookable(charge)}
        self.other_ids = {charge["id"] for charge in self.charges if not bookable(charge)}

    def test_generated_set_is_worth_testing(self):
        self.assertEqual(len(self.charges), 1000)
        self.assertTrue(all(in_period(charge) for charge in self.charges),
                        "the sandbox generated a charge outside the period")
        statuses = Counter((charge["status"], charge["captured"]) for charge in self.charges)
        for kind in (("failed", False), ("pending", True), ("succeeded", False)):
            self.assertGreater(statuses[kind], 0, f"no {kind} charge to skip")
        currencies = {charge["currency"] for charge in self.charges if bookable(charge)}
        self.assertGreater(len(currencies - {"eur"}), 2, "too few non-EUR bookable charges")
        edges = {charge["created"] for charge in self.charges}
        self.assertIn(paris_start(SINCE), edges, "no charge at the first second of the period")
        self.assertIn(paris_start("2026-12-01") - 1, edges, "no charge at its last second")

    def test_books_hold_one_entry_per_bookable_charge(self):
        status, stdout, stderr, _ = self.first
        self.assertEqual(status, 0, stderr[-3000:])
        self.assert_books_match(self.books, self.expected)
        stored = {entry["libelle"] for entry in self.books.entries()}
        for charge_id in self.other_ids:
            self.assertNotIn(libelle(charge_id), stored, "a skipped charge was booked")

        items, summary = json_results(stdout)
        self.assertEqual(summary, {"summary": {"posted": len(self.bookable_ids),
                                               "skipped": len(self.other_ids)},
                                   "exit_status": 0})
        printed = Counter(item["id"] for item in items)
        repeated = {charge_id: count for charge_id, count in printed.items() if count > 1}
        self.assertEqual(repeated, {}, "results printed more than once (a -v run)")
        self.assertEqual(len(items), len(self.charges), "one result per charge")
        grouped = by_status(items)
        self.assertEqual(grouped.get("posted"), self.bookable_ids)
        self.assertEqual(grouped.get("skipped"), self.other_ids)
        entry_ids = {entry["libelle"]: entry["id"] for entry in self.books.entries()}
        for item in items:
            self.assertTrue(item["input"].startswith("stripe"), item)
            if item["status"] == "posted":
                self.assertEqual(item.get("entry_id"), entry_ids[libelle(item["id"])], item)
            else:
                self.assertTrue(item.get("reason"), f"a skipped charge without reason: {item}")

    def test_entries_follow_the_sale_rules(self):
        """Independent of `entry`: libellé, journal, Paris date, TTC (the settlement amount
        for another currency), VAT rate and balance."""
        by_libelle = {entry["libelle"]: entry for entry in self.books.entries()}
        for charge in self.charges:
            if not bookable(charge):
                continue
            entry = by_libelle.get(libelle(charge["id"]))
            self.assertIsNotNone(entry, charge["id"])
            self.assertEqual(entry["journal"], "VTE")
            self.assertEqual(entry["date"], paris_day(charge["created"]), charge["id"])
            ttc = settled_ttc(charge)
            vat = vat_of(ttc, (charge.get("metadata") or {}).get("tva_rate", "20"))
            lines_ = entry["lignes"]
            self.assertEqual(lines_[0]["compte"], "411000")
            self.assertEqual(lines_[0]["debit_cents"], ttc, charge["id"])
            self.assertEqual(lines_[1]["compte"], "707000")
            self.assertEqual(lines_[1]["credit_cents"], ttc - vat, charge["id"])
            if vat:
                self.assertEqual(lines_[2], {"compte": "445712", "debit_cents": 0,
                                             "credit_cents": vat}, charge["id"])
            self.assertEqual(len(lines_), 3 if vat else 2, charge["id"])

    def test_second_run_posts_nothing_and_finds_every_charge(self):
        before = self.books.stats()["posts"]
        stored = self.books.entries()
        status, stdout, stderr, seconds = self.backfill(self.stripe, self.books, *PERIOD)
        log_time("1,000 charges, second run", seconds)
        self.assertEqual(status, 0, stderr[-3000:])
        self.assertEqual(self.books.stats()["posts"], before, "the second run posted")
        self.assertEqual(self.books.entries(), stored, "the second run changed the books")
        items, summary = json_results(stdout)
        self.assertEqual(summary, {"summary": {"exists": len(self.bookable_ids),
                                               "skipped": len(self.other_ids)},
                                   "exit_status": 0})
        grouped = by_status(items)
        self.assertEqual(grouped.get("exists"), self.bookable_ids)
        self.assertEqual(grouped.get("skipped"), self.other_ids)

    def test_dry_run_on_empty_books_lists_entries_and_stores_nothing(self):
        status, stdout, stderr, _ = self.dry
        self.assertEqual(status, 0, stderr[-3000:])
        self.assertEqual(self.books_after_dry, [], "the dry run stored entries")
        self.assertEqual(self.stats_after_dry[1]["posts"], 0, "the dry run posted")
        items, summary = json_results(stdout)
        self.assertEqual(summary, {"summary": {"skipped": len(self.other_ids),
                                               "would_post": len(self.bookable_ids)},
                                   "exit_status": 0})
        would_post = [item for item in items if item["status"] == "would_post"]
        self.assertEqual({item["id"] for item in would_post}, self.bookable_ids)
        for item in would_post:
            self.assertEqual(item.get("entry"), self.expected[libelle(item["id"])], item["id"])
            self.assertNotIn("entry_id", item)

    def test_dry_run_text_shows_each_entry(self):
        status, stdout, stderr, _ = self.backfill(self.stripe, None, *PERIOD, "--dry-run",
                                                  json_output=False)
        # Without a Comptentra key the dry run cannot read the books: it warns and lists
        # every bookable charge.
        self.assertEqual(status, 0, stderr[-3000:])
        self.assertIn("warning", stderr)
        shown = [line for line in lines(stdout) if "would_post" in line]
        self.assertEqual(len(shown), len(self.bookable_ids), stdout[-2000:])
        for line in shown:
            match = re.search(r"(ch_[0-9A-Za-z]+) (\{.*\})$", line)
            self.assertIsNotNone(match, line)
            self.assertEqual(json.loads(match.group(2)), self.expected[libelle(match.group(1))])

    def test_dry_run_after_real_run_lists_nothing_to_post(self):
        before = self.books.stats()["posts"]
        status, stdout, stderr, _ = self.backfill(self.stripe, self.books, *PERIOD, "--dry-run")
        self.assertEqual(status, 0, stderr[-3000:])
        items, summary = json_results(stdout)
        self.assertNotIn("would_post", summary["summary"], summary)
        self.assertEqual(by_status(items).get("exists"), self.bookable_ids)
        self.assertEqual(self.books.stats()["posts"], before)

        status, stdout, stderr, _ = self.backfill(self.stripe, self.books, *PERIOD, "--dry-run",
                                                  json_output=False)
        self.assertEqual(status, 0, stderr[-3000:])
        self.assertNotIn("would_post", stdout)

    def test_connections_are_kept_alive(self):
        stripe_before, books_before = self.stats_after_dry
        stripe_after, books_after = self.stats_after_first
        books_connections = books_after["connections"] - books_before["connections"]
        stripe_connections = stripe_after["connections"] - stripe_before["connections"]
        print(f"\n[backfill] connections of the first run: Comptentra {books_connections} for "
              f"{books_after['requests'] - books_before['requests']} requests, Stripe "
              f"{stripe_connections} for {stripe_after['requests'] - stripe_before['requests']}",
              file=sys.stderr)
        self.assertLessEqual(books_connections, 4 + 2)
        self.assertGreaterEqual(books_connections, 1)
        self.assertLessEqual(stripe_connections, 2)
        self.assertGreaterEqual(stripe_connections, 1)
        self.assertEqual(stripe_after["list_requests"] - stripe_before["list_requests"], 10,
                         "1,000 charges are 10 pages of 100")

    def test_no_secret_in_any_output(self):
        for name, (status, stdout, stderr, _) in (("dry run", self.dry), ("first run", self.first)):
            with self.subTest(name):
                self.assert_no_secret(stdout, stderr, self.stripe.api_key, self.books.api_key)
        self.assertIn("GET", self.first[2], "the -v run traced no request")
        status, stdout, stderr, _ = self.backfill(self.stripe, self.books, *PERIOD, verbose=True,
                                                  json_output=False)
        self.assertEqual(status, 0, stderr[-3000:])
        self.assertIn("GET", stderr, "the -v run traced no request")
        # In text, charges found in the books or skipped only count in the summary.
        self.assertEqual(stdout, "")
        self.assertNotIn("\r", stderr, "a progress line on a stderr that is no terminal")
        self.assertIn(f"1000 charges: {len(self.bookable_ids)} exists, "
                      f"{len(self.other_ids)} skipped", stderr)


if __name__ == "__main__":
    unittest.main()

