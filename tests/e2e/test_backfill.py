"""End-to-end tests of `backfill` over a generated month of 1,000 charges and their refunds:
exactly the bookable charges (as sales) and the period's succeeded refunds (as credit notes)
are booked, each as `entry` computes it, and a second run posts nothing."""

import json
import re
import sys
import time
import unittest
from collections import Counter
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

from backfill_support import (SINCE, UNTIL, BackfillTest, MONTH_SEED, PERIOD, RUN_TIMEOUT,
                              _ClassOwner, bookable, by_status, credit_note_libelle,
                              customer_email, expected_entries, in_period, json_results, libelle,
                              libelle_of, list_pages, log_time, new_comptentra_key,
                              new_stripe_key, paris_day, paris_start, period_refunds,
                              refunded_ttc, settled_ttc, succeeded, vat_of)
from harness import lines, run
from sandbox import Sandbox, serve_in_thread
from stripe_sandbox import StripeSandbox


class MonthOfCharges(BackfillTest):
    """1,000 generated charges over November 2026, in Paris, and the refunds of some of them.
    The class runs, once, a dry run on empty books and then the real backfill with -v and
    --concurrency 4; the tests check what these runs did, and run backfill again over the
    same period. Each listed object (charge or refund) gets one result."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stripe = StripeSandbox(cls, "--generate", 1000, "--seed", MONTH_SEED,
                                   "--since", SINCE, "--until", UNTIL, api_key=new_stripe_key())
        cls.books = Sandbox(_ClassOwner(cls), api_key=new_comptentra_key())
        cls.charges = cls.stripe.expanded_charges()
        cls.refunds = period_refunds(cls.stripe)
        cls.env = {**cls.stripe.env(), **cls.books.env()}

        cls.dry = cls.timed_run(["--json", "backfill", *PERIOD, "--dry-run"])
        cls.books_after_dry = cls.books.entries()
        cls.stats_after_dry = (cls.stripe.stats(), cls.books.stats())

        cls.first = cls.timed_run(["--json", "-v", "backfill", *PERIOD, "--concurrency", "4"])
        cls.stats_after_first = (cls.stripe.stats(), cls.books.stats())
        log_time("1,000 charges and their refunds, dry run on empty books", cls.dry[3])
        log_time("1,000 charges and their refunds, first run", cls.first[3])

    @classmethod
    def timed_run(cls, args):
        started = time.monotonic()
        status, stdout, stderr = run(args, env=cls.env, timeout=RUN_TIMEOUT)
        return status, stdout, stderr, time.monotonic() - started

    def setUp(self):
        self.expected = expected_entries(self, self.charges, self.refunds)
        self.sale_ids = {charge["id"] for charge in self.charges if bookable(charge)}
        self.credit_note_ids = {refund["id"] for refund in self.refunds if succeeded(refund)}
        # What each run books (a sale per charge, a credit note per refund) and what it skips.
        self.bookable_ids = self.sale_ids | self.credit_note_ids
        self.other_ids = ({charge["id"] for charge in self.charges if not bookable(charge)}
                          | {refund["id"] for refund in self.refunds if not succeeded(refund)})
        self.listed = len(self.charges) + len(self.refunds)  # one result each
        self.libelles = {document["id"]: libelle_of(document)
                         for document in self.charges + self.refunds}

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
        # Refunds: some in full, some in part, one at least in another currency and one of a
        # charge with its own VAT rate; every one of them is listed in the period.
        self.assertEqual(len(self.refunds), len(self.stripe.refunds()),
                         "the sandbox generated a refund outside the period")
        self.assertTrue(self.credit_note_ids, "no succeeded refund to book")
        captured = {charge["id"]: charge["amount_captured"] for charge in self.charges}
        in_full = Counter(refund["amount"] == captured[refund["charge"]["id"]]
                          for refund in self.refunds)
        self.assertGreater(in_full[True], 0, "no refund in full")
        self.assertGreater(in_full[False], 0, "no partial refund")
        self.assertTrue(any(refund["currency"] != "eur" for refund in self.refunds),
                        "no non-EUR refund")
        self.assertTrue(any((refund["charge"].get("metadata") or {}).get("tva_rate")
                            for refund in self.refunds), "no refund of a charge with a tva_rate")

    def test_books_hold_one_entry_per_bookable_charge_and_refund(self):
        status, stdout, stderr, _ = self.first
        self.assertEqual(status, 0, stderr[-3000:])
        self.assert_books_match(self.books, self.expected)
        self.assertEqual(len(self.books.entries()),
                         len(self.sale_ids) + len(self.credit_note_ids))
        stored = {entry["libelle"] for entry in self.books.entries()}
        for object_id in self.other_ids:
            self.assertNotIn(self.libelles[object_id], stored, "a skipped object was booked")

        items, summary = json_results(stdout)
        self.assertEqual(summary, {"summary": {"posted": len(self.bookable_ids),
                                               "skipped": len(self.other_ids)},
                                   "exit_status": 0})
        printed = Counter(item["id"] for item in items)
        repeated = {charge_id: count for charge_id, count in printed.items() if count > 1}
        self.assertEqual(repeated, {}, "results printed more than once (a -v run)")
        self.assertEqual(len(items), self.listed, "one result per charge and per refund")
        grouped = by_status(items)
        self.assertEqual(grouped.get("posted"), self.bookable_ids)
        self.assertEqual(grouped.get("skipped"), self.other_ids)
        entry_ids = {entry["libelle"]: entry["id"] for entry in self.books.entries()}
        for item in items:
            self.assertTrue(item["input"].startswith("stripe"), item)
            if item["status"] == "posted":
                self.assertEqual(item.get("entry_id"), entry_ids[self.libelles[item["id"]]], item)
            else:
                self.assertTrue(item.get("reason"), f"a skipped object without reason: {item}")
            self.assertNotIn("note", item, "every refund came with its charge")

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

    def test_credit_notes_follow_the_refund_rules(self):
        """Independent of `entry`: libellé, journal, Paris date of the refund, TTC (the
        settlement amount for another currency), VAT at the refunded charge's rate, lines in
        order (sales and VAT debited, the customer credited with the charge's email)."""
        by_libelle = {entry["libelle"]: entry for entry in self.books.entries()}
        for refund in self.refunds:
            charge = refund["charge"]
            entry = by_libelle.get(credit_note_libelle(refund["id"], charge["id"]))
            if not succeeded(refund):
                self.assertIsNone(entry, refund["id"])
                continue
            self.assertIsNotNone(entry, refund["id"])
            self.assertEqual(entry["journal"], "VTE")
            self.assertEqual(entry["date"], paris_day(refund["created"]), refund["id"])
            ttc = refunded_ttc(refund)
            vat = vat_of(ttc, (charge.get("metadata") or {}).get("tva_rate", "20"))
            customer = {"compte": "411000", "debit_cents": 0, "credit_cents": ttc}
            if customer_email(charge):
                customer = {"compte": "411000", "tiers_email": customer_email(charge),
                            "debit_cents": 0, "credit_cents": ttc}
            wanted = [{"compte": "707000", "debit_cents": ttc - vat, "credit_cents": 0}]
            if vat:
                wanted.append({"compte": "445712", "debit_cents": vat, "credit_cents": 0})
            wanted.append(customer)
            self.assertEqual(entry["lignes"], wanted, refund["id"])

    def test_second_run_posts_nothing_and_finds_every_charge_and_refund(self):
        before = self.books.stats()["posts"]
        stored = self.books.entries()
        status, stdout, stderr, seconds = self.backfill(self.stripe, self.books, *PERIOD)
        log_time("1,000 charges and their refunds, second run", seconds)
        self.assertEqual(status, 0, stderr[-3000:])
        self.assertEqual(self.books.stats()["posts"], before, "the second run posted")
        self.assertEqual(self.books.entries(), stored, "the second run changed the books")
        items, summary = json_results(stdout)
        self.assertEqual(summary, {"summary": {"exists": len(self.bookable_ids),
                                               "skipped": len(self.other_ids)},
                                   "exit_status": 0})
        self.assertEqual(len(items), self.listed, "one result per charge and per refund")
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
        self.assertEqual(len(items), self.listed, "one result per charge and per refund")
        would_post = [item for item in items if item["status"] == "would_post"]
        self.assertEqual({item["id"] for item in would_post}, self.bookable_ids)
        for item in would_post:
            self.assertEqual(item.get("entry"), self.expected[self.libelles[item["id"]]],
                             item["id"])
            self.assertNotIn("entry_id", item)

    def test_dry_run_text_shows_each_entry(self):
        status, stdout, stderr, _ = self.backfill(self.stripe, None, *PERIOD, "--dry-run",
                                                  json_output=False)
        # Without a Comptentra key the dry run cannot read the books: it warns and lists
        # every bookable charge and succeeded refund.
        self.assertEqual(status, 0, stderr[-3000:])
        self.assertIn("warning", stderr)
        shown = [line for line in lines(stdout) if "would_post" in line]
        self.assertEqual(len(shown), len(self.bookable_ids), stdout[-2000:])
        shown_ids = Counter()
        for line in shown:
            match = re.search(r"((?:ch|re)_[0-9A-Za-z]+) (\{.*\})$", line)
            self.assertIsNotNone(match, line)
            shown_ids[match.group(1)] += 1
            self.assertEqual(json.loads(match.group(2)),
                             self.expected[self.libelles[match.group(1)]])
        self.assertEqual(shown_ids, Counter(self.bookable_ids), "each entry shown once")
        self.assertIn(f"{self.listed} items: {len(self.other_ids)} skipped, "
                      f"{len(self.bookable_ids)} would_post", stderr)

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
        self.assertEqual(stripe_after["list_requests"] - stripe_before["list_requests"],
                         list_pages(len(self.charges)) + list_pages(len(self.refunds)),
                         "1,000 charges are 10 pages of 100, then the refunds' pages")

    def test_no_secret_in_any_output(self):
        for name, (status, stdout, stderr, _) in (("dry run", self.dry), ("first run", self.first)):
            with self.subTest(name):
                self.assert_no_secret(stdout, stderr, self.stripe.api_key, self.books.api_key)
        self.assertIn("GET", self.first[2], "the -v run traced no request")
        status, stdout, stderr, _ = self.backfill(self.stripe, self.books, *PERIOD, verbose=True,
                                                  json_output=False)
        self.assertEqual(status, 0, stderr[-3000:])
        self.assertIn("GET", stderr, "the -v run traced no request")
        # In text, objects found in the books or skipped only count in the summary, which
        # counts the results (one per charge and per refund).
        self.assertEqual(stdout, "")
        self.assertNotIn("\r", stderr, "a progress line on a stderr that is no terminal")
        self.assertIn(f"{self.listed} items: {len(self.bookable_ids)} exists, "
                      f"{len(self.other_ids)} skipped", stderr)


class RepeatingList(BackfillTest):
    """A Stripe list that gives one charge twice (its second page starts with the last charge
    of the first): the charge is booked once, and its second listing is looked up first."""

    CHARGES = [{"id": f"ch_repeat{index}", "object": "charge", "amount": 1200, "amount_captured": 1200,
                "currency": "eur", "created": 1_763_000_000 + index, "status": "succeeded",
                "captured": True, "receipt_email": "repeat@example.fr", "metadata": {}}
               for index in range(3)]

    def serve_repeating_list(self):
        charges = self.CHARGES

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                query = parse_qs(urlparse(self.path).query)
                if self.path.startswith("/v1/charges"):
                    after = query.get("starting_after", [None])[0]
                    page = ({"data": charges[:2], "has_more": True} if after is None
                            else {"data": charges[1:], "has_more": False})
                else:
                    page = {"data": [], "has_more": False}
                body = json.dumps({"object": "list", "url": self.path.split("?")[0], **page}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return serve_in_thread(self, Handler)[1]

    def test_a_charge_listed_twice_is_booked_once(self):
        books = Sandbox(self, api_key=new_comptentra_key())
        env = {**books.env(), "STRIPE_API_BASE": self.serve_repeating_list(),
               "STRIPE_API_KEY": new_stripe_key()}
        status, stdout, stderr = run(["--json", "backfill", *PERIOD, "--concurrency", "1"],
                                     env=env, timeout=RUN_TIMEOUT)
        self.assertEqual(status, 0, stderr)
        items, summary = json_results(stdout)
        self.assertEqual([(item["id"], item["status"]) for item in items], [
            ("ch_repeat0", "posted"), ("ch_repeat1", "posted"), ("ch_repeat1", "exists"),
            ("ch_repeat2", "posted")])
        self.assertEqual(items[2]["entry_id"], items[1]["entry_id"])
        self.assertEqual(sorted(entry["libelle"] for entry in books.entries()),
                         [libelle(charge["id"]) for charge in self.CHARGES])


if __name__ == "__main__":
    unittest.main()

