"""End-to-end tests of `backfill` when things go wrong or are at their edges: a run killed and
run again, verbose output under concurrency, a Comptentra without filters, Stripe refusing or
failing, usage errors, and the period boundaries in the books' time zone."""

import datetime
import random
import signal
import subprocess
import sys
import time
import unittest
from collections import Counter

from backfill_support import (SINCE, UNTIL, BackfillTest, CRASH_SEED, FAILING_STRIPE_LIMIT,
                              KILL_WINDOWS, MAX_RESUMES, PERIOD, RUN_TIMEOUT, SMALL_SEED, bookable,
                              by_status, credit_note_libelle, expected_entries, hand_made_refund,
                              in_period, json_results, libelle, libelle_of, log_time,
                              new_comptentra_key, new_stripe_key, period_refunds, succeeded)
from harness import BINARY, TempDir, clean_environment, lines, run
from sandbox import Listener, NO_PROXY, Sandbox
from stripe_sandbox import StripeSandbox


class CrashAndResume(BackfillTest):
    def test_killed_runs_then_completion_book_each_charge_and_refund_once(self):
        tmp = TempDir(self)
        stripe = StripeSandbox(self, "--generate", 300, "--seed", CRASH_SEED,
                               "--since", SINCE, "--until", UNTIL, api_key=new_stripe_key())
        books = Sandbox(self, "--drop-rate", "0.1", "--seed", CRASH_SEED,
                        api_key=new_comptentra_key())
        charges = stripe.expanded_charges()
        refunds = period_refunds(stripe)
        self.assertTrue(any(succeeded(refund) for refund in refunds), "no refund to book")
        expected = expected_entries(self, charges, refunds)
        environment = clean_environment({**stripe.env(), **books.env()})
        rng = random.Random(CRASH_SEED)
        delays = [rng.uniform(low, high) for low, high in KILL_WINDOWS]
        self.assertEqual(len(set(delays)), len(delays))
        started = time.monotonic()
        killed = 0
        for round_number, delay in enumerate(delays, 1):
            out = tmp.path / f"round{round_number}.out"
            err = tmp.path / f"round{round_number}.err"
            with open(out, "wb") as stdout, open(err, "wb") as stderr:
                process = subprocess.Popen(
                    [str(BINARY), "--json", "backfill", *PERIOD],
                    stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                    env=environment, cwd=tmp.path)
                try:
                    time.sleep(delay)
                    if process.poll() is None:
                        process.send_signal(signal.SIGKILL)
                        killed += 1
                    process.wait(timeout=RUN_TIMEOUT)
                finally:
                    if process.poll() is None:
                        process.kill()
                        process.wait(timeout=10)
            counts = Counter(entry["libelle"] for entry in books.entries())
            print(f"\n[backfill] round {round_number}: after {delay:.2f} s, exit "
                  f"{process.returncode}, {sum(counts.values())} of {len(expected)} booked",
                  file=sys.stderr)
            self.assert_no_secret(out.read_text(errors="replace"),
                                  err.read_text(errors="replace"),
                                  stripe.api_key, books.api_key)
            self.assertEqual([name for name, count in counts.items() if count > 1], [],
                             f"a libellé booked twice by round {round_number}")
            self.assertLessEqual(set(counts), set(expected))
        self.assertGreater(killed, 0, "every run finished before its kill: nothing was tested")

        statuses = []
        for _ in range(MAX_RESUMES):
            status, stdout, stderr, _ = self.backfill(stripe, books, *PERIOD)
            statuses.append(status)
            if status != 75:
                break
        log_time(f"300 charges and their refunds, {len(delays)} killed runs and "
                 f"{len(statuses)} to finish", time.monotonic() - started)
        self.assertEqual(statuses[-1], 0, f"exit statuses {statuses}\n{stderr[-3000:]}")
        self.assert_books_match(books, expected)
        items, summary = json_results(stdout)
        bookable_ids = ({charge["id"] for charge in charges if bookable(charge)}
                        | {refund["id"] for refund in refunds if succeeded(refund)})
        grouped = by_status(items)
        self.assertEqual(grouped.get("posted", set()) | grouped.get("exists", set()),
                         bookable_ids)
        self.assertEqual(len(items), len(charges) + len(refunds),
                         "one result per charge and per refund")
        self.assertNotIn("failed", grouped)
        self.assertGreater(books.stats()["dropped"], 0, "no answer was dropped")


class VerboseOutput(BackfillTest):
    """-v traces every request on stderr while the workers print their results on stdout:
    each charge and each refund must still get exactly one result line."""

    ROUNDS = 4  # the runs are short; a mixed-up output shows in most of them

    def test_each_charge_and_refund_gets_one_result_line_with_trace(self):
        stripe = StripeSandbox(self, "--generate", 300, "--seed", SMALL_SEED, "--since", SINCE,
                               "--until", UNTIL, api_key=new_stripe_key())
        charges = stripe.charges()
        refunds = period_refunds(stripe)
        self.assertTrue(any(succeeded(refund) for refund in refunds), "no refund to book")
        all_ids = Counter([charge["id"] for charge in charges]
                          + [refund["id"] for refund in refunds])
        bookable_ids = Counter([charge["id"] for charge in charges if bookable(charge)]
                               + [refund["id"] for refund in refunds if succeeded(refund)])
        for round_number in range(1, self.ROUNDS + 1):
            json_output = round_number % 2 == 1
            with self.subTest(round=round_number, json=json_output):
                books = Sandbox(self, api_key=new_comptentra_key())
                status, stdout, stderr, _ = self.backfill(stripe, books, *PERIOD, "--concurrency",
                                                          "4", verbose=True,
                                                          json_output=json_output)
                self.assertEqual(status, 0, stderr[-3000:])
                self.assertIn("POST", stderr, "no request traced")
                if json_output:
                    items, summary = json_results(stdout)
                    printed = Counter(item["id"] for item in items)
                    self.assertEqual(sum(summary["summary"].values()),
                                     len(charges) + len(refunds))
                    expected = all_ids
                else:
                    printed = Counter(line.split()[2] for line in lines(stdout)
                                      if line.startswith("stripe: posted "))
                    self.assertEqual(len(lines(stdout)), sum(printed.values()), stdout[-2000:])
                    expected = bookable_ids
                repeated = {charge_id: count for charge_id, count in printed.items() if count > 1}
                self.assertEqual(repeated, {}, "results printed more than once")
                self.assertEqual(printed, expected)
                self.assertEqual(books.stats()["posts"], sum(bookable_ids.values()))
                books.stop()


class MinimalComptentra(BackfillTest):
    """A Comptentra that ignores the list filters, holding entries of earlier months and of
    another journal, as real books do."""

    EARLIER = [
        {"id": "ECR-000001", "date": "2026-09-14", "journal": "VTE",
         "libelle": "Paiement Stripe ch_SeptemberPaymentXXXXXXXXX",
         "lignes": [{"compte": "411000", "debit_cents": 1200, "credit_cents": 0},
                    {"compte": "707000", "debit_cents": 0, "credit_cents": 1000},
                    {"compte": "445712", "debit_cents": 0, "credit_cents": 200}]},
        {"id": "ECR-000002", "date": "2026-11-10", "journal": "ACH",
         "libelle": "Facture fournisseur 2026-118",
         "lignes": [{"compte": "606000", "debit_cents": 5000, "credit_cents": 0},
                    {"compte": "401000", "debit_cents": 0, "credit_cents": 5000}]},
    ]

    def setUp(self):
        self.stripe = StripeSandbox(self, "--generate", 60, "--seed", SMALL_SEED,
                                    "--since", SINCE, "--until", UNTIL, api_key=new_stripe_key())
        self.books = Sandbox(self, "--minimal", api_key=new_comptentra_key(),
                             entries=self.EARLIER)

    def test_backfill_refuses_when_the_books_cannot_be_read(self):
        status, stdout, stderr, _ = self.backfill(self.stripe, self.books, *PERIOD,
                                                  json_output=False)
        self.assertEqual(status, 69, stderr)
        errors = self.error_lines(stderr)
        self.assertEqual(len(errors), 1, stderr)
        self.assertRegex(errors[0], r"can(not|'t) (be )?read")
        self.assertIn("period", errors[0])
        self.assertEqual(self.books.stats()["posts"], 0)
        self.assertEqual(self.books.entries(), self.EARLIER)

        status, stdout, stderr, _ = self.backfill(self.stripe, self.books, *PERIOD)
        self.assertEqual(status, 69, stderr)
        self.assertEqual(json_results(stdout)[1]["exit_status"], 69)
        self.assertEqual(self.books.stats()["posts"], 0)

    def test_dry_run_still_works_with_a_warning(self):
        status, stdout, stderr, _ = self.backfill(self.stripe, self.books, *PERIOD, "--dry-run")
        self.assertEqual(status, 0, stderr)
        self.assertTrue(any(line.startswith("stripe-comptentra: warning:")
                            for line in lines(stderr)), stderr)
        self.assertEqual(self.error_lines(stderr), [])
        items, summary = json_results(stdout)
        charges = self.stripe.expanded_charges()
        refunds = period_refunds(self.stripe)
        expected = expected_entries(self, charges, refunds)
        libelles = {document["id"]: libelle_of(document) for document in charges + refunds}
        would_post = {item["id"]: item["entry"] for item in items
                      if item["status"] == "would_post"}
        self.assertEqual(len(would_post), len(expected))
        self.assertEqual({libelles[object_id]: entry for object_id, entry in would_post.items()},
                         expected)
        self.assertEqual(self.books.entries(), self.EARLIER)
        self.assertEqual(self.books.stats()["posts"], 0)


class StripeRefusesOrFails(BackfillTest):
    def test_refused_stripe_key_exits_77_with_a_hint(self):
        accepted = new_stripe_key()
        stripe = StripeSandbox(self, "--generate", 20, "--seed", SMALL_SEED, "--since", SINCE,
                               "--until", UNTIL, "--api-key", accepted, api_key=new_stripe_key())
        books = Sandbox(self, api_key=new_comptentra_key())
        for verbose in (False, True):
            with self.subTest(verbose=verbose):
                status, stdout, stderr, _ = self.backfill(stripe, books, *PERIOD,
                                                          json_output=False, verbose=verbose)
                self.assertEqual(status, 77, stderr)
                self.assertEqual(len(self.error_lines(stderr)), 1, stderr)
                self.assertTrue(any("STRIPE_API_KEY" in line
                                    for line in self.hint_lines(stderr)), stderr)
                self.assert_no_secret(stdout, stderr, accepted)
        self.assertEqual(books.entries(), [])
        self.assertEqual(books.stats()["posts"], 0)

    def test_no_stripe_key_exits_78_before_any_request(self):
        stripe = StripeSandbox(self, "--generate", 20, "--seed", SMALL_SEED, "--since", SINCE,
                               "--until", UNTIL)
        books = Sandbox(self, api_key=new_comptentra_key())
        for dry_run in ((), ("--dry-run",)):
            with self.subTest(dry_run=dry_run):
                status, stdout, stderr, _ = self.backfill(stripe, books, *PERIOD, *dry_run,
                                                          without=["STRIPE_API_KEY"])
                self.assertEqual(status, 78, stderr)
                self.assertIn("STRIPE_API_KEY", stderr)
        self.assertEqual(stripe.stats()["requests"], 0)
        self.assertEqual(books.stats()["requests"], 0)

    def test_no_comptentra_key_exits_78_unless_dry_run(self):
        stripe = StripeSandbox(self, "--generate", 20, "--seed", SMALL_SEED, "--since", SINCE,
                               "--until", UNTIL, api_key=new_stripe_key())
        books = Sandbox(self, api_key=new_comptentra_key())
        status, stdout, stderr, _ = self.backfill(stripe, books, *PERIOD,
                                                  without=["COMPTENTRA_API_KEY"])
        self.assertEqual(status, 78, stderr)
        self.assertIn("COMPTENTRA_API_KEY", stderr)
        self.assertEqual(stripe.stats()["requests"], 0)
        self.assertEqual(books.stats()["requests"], 0)

    def test_failing_stripe_exits_75_in_bounded_time_quoting_a_request_id(self):
        stripe = StripeSandbox(self, "--generate", 20, "--seed", SMALL_SEED, "--since", SINCE,
                               "--until", UNTIL, "--fail-rate", "1.0", api_key=new_stripe_key())
        books = Sandbox(self, api_key=new_comptentra_key())
        status, stdout, stderr, seconds = self.backfill(stripe, books, *PERIOD, verbose=True,
                                                        timeout=FAILING_STRIPE_LIMIT + 30)
        log_time("Stripe failing every request", seconds)
        self.assertEqual(status, 75, stderr[-3000:])
        self.assertLess(seconds, FAILING_STRIPE_LIMIT)
        errors = self.error_lines(stderr)
        self.assertEqual(len(errors), 1, stderr[-3000:])
        self.assertRegex(errors[0], r"Request-Id:? req_[0-9A-Za-z]+")
        self.assertEqual(json_results(stdout)[1]["exit_status"], 75)
        stats = stripe.stats()
        self.assertGreater(stats["failed"], 1, "no retry")
        self.assertLessEqual(stats["requests"], 10, "too many attempts")
        self.assertEqual(books.stats()["posts"], 0)
        self.assertEqual(books.entries(), [])


class UsageErrors(BackfillTest):
    def test_bad_period_or_concurrency_exits_2_without_contact(self):
        stripe_listener = Listener(self)
        books_listener = Listener(self)
        env = {"STRIPE_API_BASE": stripe_listener.url, "STRIPE_API_KEY": new_stripe_key(),
               "COMPTENTRA_URL": books_listener.url, "COMPTENTRA_API_KEY": new_comptentra_key(),
               **NO_PROXY}
        cases = {
            "since after until": (["--since", "2026-12-01", "--until", "2026-11-30"], "--until"),
            "bad since": (["--since", "2026-02-30", "--until", "2026-03-31"], "--since"),
            "bad until": (["--since", "2026-11-01", "--until", "2026-11-31"], "--until"),
            "month 13": (["--since", "2026-13-01"], "--since"),
            "not a date": (["--since", "yesterday"], "--since"),
            "concurrency 0": ([*PERIOD, "--concurrency", "0"], "--concurrency"),
            "no since": (["--until", "2026-11-30"], "--since"),
        }
        for name, (args, option) in cases.items():
            with self.subTest(name):
                status, stdout, stderr = run(["backfill", *args], env=env)
                self.assertEqual(status, 2, stderr)
                self.assertEqual(stdout, "")
                self.assert_error_lines(stderr, option)
                self.assert_no_secret(stdout, stderr, env["STRIPE_API_KEY"],
                                      env["COMPTENTRA_API_KEY"])
        time.sleep(0.2)
        self.assertEqual(stripe_listener.accepted, 0, "a usage error reached Stripe")
        self.assertEqual(books_listener.accepted, 0, "a usage error reached Comptentra")


def hand_made_charge(charge_id, created, amount):
    """A captured EUR card charge with its balance transaction inlined."""
    return {
        "id": charge_id, "object": "charge", "amount": amount, "amount_captured": amount,
        "amount_refunded": 0, "captured": True, "created": created, "currency": "eur",
        "livemode": False, "paid": True, "refunded": False, "status": "succeeded",
        "receipt_email": f"{charge_id[3:].lower()}@example.org",
        "billing_details": {"email": None, "name": "Client Test"},
        "metadata": {}, "description": None,
        "balance_transaction": {
            "id": "txn_" + charge_id[3:], "object": "balance_transaction", "amount": amount,
            "currency": "eur", "exchange_rate": None, "fee": 25, "net": amount - 25,
            "status": "available", "type": "charge", "created": created,
            "available_on": created + 7 * 86400, "source": charge_id,
        },
    }


class PeriodBoundaries(BackfillTest):
    """Charges and refunds one second on either side of the Paris midnights that bound
    November 2026 (UTC+1 then): only those created inside belong to the period, a refund by
    its own creation, whenever its charge was created."""

    EDGES = {
        "ch_BeforeStartAAAAAAAAAAAAA": ("2026-10-31T22:59:59Z", None),
        "ch_AtStartBBBBBBBBBBBBBBBBB": ("2026-10-31T23:00:00Z", "2026-11-01"),
        "ch_BeforeEndCCCCCCCCCCCCCCC": ("2026-11-30T22:59:59Z", "2026-11-30"),
        "ch_AtEndDDDDDDDDDDDDDDDDDDD": ("2026-11-30T23:00:00Z", None),
        "ch_MidOctoberEEEEEEEEEEEEEE": ("2026-10-15T12:00:00Z", None),
        "ch_MidDecemberFFFFFFFFFFFFF": ("2026-12-15T12:00:00Z", None),
    }
    # refund id: (its charge, created, day of its credit note or None when outside, amount)
    REFUND_EDGES = {
        "re_BeforeStartGGGGGGGGGGGGG": ("ch_MidOctoberEEEEEEEEEEEEEE", "2026-10-31T22:59:59Z",
                                        None, 300),
        "re_AtStartHHHHHHHHHHHHHHHHH": ("ch_MidOctoberEEEEEEEEEEEEEE", "2026-10-31T23:00:00Z",
                                        "2026-11-01", 500),
        "re_BeforeEndJJJJJJJJJJJJJJJ": ("ch_AtStartBBBBBBBBBBBBBBBBB", "2026-11-30T22:59:59Z",
                                        "2026-11-30", 1100),
        "re_AtEndKKKKKKKKKKKKKKKKKKK": ("ch_BeforeEndCCCCCCCCCCCCCCC", "2026-11-30T23:00:00Z",
                                        None, 700),
    }

    def test_paris_midnights_bound_the_period(self):
        charges = []
        for index, (charge_id, (instant, _)) in enumerate(self.EDGES.items()):
            created = int(datetime.datetime.fromisoformat(instant).timestamp())
            charges.append(hand_made_charge(charge_id, created, 1000 + 100 * index))
        by_id = {charge["id"]: charge for charge in charges}
        refunds, transactions = [], []
        for refund_id, (charge_id, instant, _, amount) in self.REFUND_EDGES.items():
            created = int(datetime.datetime.fromisoformat(instant).timestamp())
            refund, transaction = hand_made_refund(refund_id, by_id[charge_id], created, amount)
            refunds.append(refund)
            transactions.append(transaction)
        inside = {charge["id"] for charge in charges if in_period(charge)}
        self.assertEqual(inside, {charge_id for charge_id, (_, day) in self.EDGES.items() if day})
        refunds_inside = {refund["id"] for refund in refunds if in_period(refund)}
        self.assertEqual(refunds_inside, {refund_id for refund_id, (_, _, day, _)
                                          in self.REFUND_EDGES.items() if day})
        stripe = StripeSandbox(self, charges=charges, refunds=refunds, transactions=transactions,
                               api_key=new_stripe_key())
        books = Sandbox(self, api_key=new_comptentra_key())
        listed_refunds = period_refunds(stripe)
        self.assertEqual({refund["id"] for refund in listed_refunds}, refunds_inside)
        expected = expected_entries(
            self, [charge for charge in charges if charge["id"] in inside], listed_refunds)

        # In UTC the same days start an hour later: the two charges and the two refunds of
        # 30 November.
        status, stdout, stderr, _ = self.backfill(stripe, books, *PERIOD, "--dry-run",
                                                  "--timezone", "UTC")
        self.assertEqual(status, 0, stderr)
        items, _ = json_results(stdout)
        self.assertEqual({item["id"] for item in items},
                         {"ch_BeforeEndCCCCCCCCCCCCCCC", "ch_AtEndDDDDDDDDDDDDDDDDDDD",
                          "re_BeforeEndJJJJJJJJJJJJJJJ", "re_AtEndKKKKKKKKKKKKKKKKKKK"})
        self.assertEqual({item["entry"]["date"] for item in items}, {"2026-11-30"})

        status, stdout, stderr, _ = self.backfill(stripe, books, *PERIOD)
        self.assertEqual(status, 0, stderr)
        items, summary = json_results(stdout)
        self.assertEqual(Counter(item["id"] for item in items),
                         Counter(inside | refunds_inside), "listed outside the period")
        self.assertEqual(summary, {"summary": {"posted": len(inside) + len(refunds_inside)},
                                   "exit_status": 0})
        self.assert_books_match(books, expected)
        dates = {entry["libelle"]: entry["date"] for entry in books.entries()}
        wanted = {libelle(charge_id): day for charge_id, (_, day) in self.EDGES.items() if day}
        wanted.update({credit_note_libelle(refund_id, charge_id): day for refund_id, (
            charge_id, _, day, _) in self.REFUND_EDGES.items() if day})
        self.assertEqual(dates, wanted)


if __name__ == "__main__":
    unittest.main()

