"""End-to-end tests of `stripe-comptentra reconcile`: Stripe (scripts/stripe-sandbox) against
the books (scripts/comptentra-sandbox) over November 2026 in Paris. Hand-made books hold one
or two differences of each kind, at the Paris midnights that bound the period too; credit
notes are matched by their refund; --fix posts the missing entries only, once; clean books
(sales and credit notes) match; two runs exclude each other; usage and configuration errors;
keys never printed; and 10,000 charges and their refunds with 20 ms of latency."""

import time
import unittest
from collections import Counter

from backfill_support import (PERIOD, SINCE, UNTIL, _ClassOwner, bookable, credit_note_libelle,
                              expected_entries, hand_made_refund, in_period, json_results, libelle,
                              list_pages, new_comptentra_key, new_stripe_key, paris_day,
                              period_refunds, succeeded)
from crash_support import wait_until
from harness import _HOME as HARNESS_HOME
from harness import ERROR_PREFIX, TempDir, lines, run
from reconcile_support import (ID, LEFT_AFTER_FIX, PURCHASE, RUN_TIMEOUT, HandMadeBooks,
                               MemoryBooks, ReconcileTest, charge, csv_rows, hand_made_charges,
                               json_report, log, paris_period, read_entries, sale_entry, scope,
                               table_rows, utc, with_ids)
from sandbox import Listener, NO_PROXY, Sandbox
from stripe_sandbox import StripeSandbox

SLOW_STRIPE_MS = 2000  # latency of the Stripe of the overlapping runs
SCALE_COUNT, SCALE_SEED = 10_000, 1011
SCALE_TIMEOUT = 300  # seconds for each run of the scale test
SCALE_RECONCILE_LIMIT = 60  # seconds; measured about 8 s on 2 cores


class BooksWithDifferences(HandMadeBooks):
    """Every kind of difference, reported once in each format; --fix; keys."""

    def test_setup_straddles_the_paris_midnights(self):
        inside = {item["id"] for item in self.charges if in_period(item)}
        for name in ("after_start", "before_end"):
            self.assertIn(ID[name], inside)
        for name in ("before_start", "after_end", "after_end_booked"):
            self.assertNotIn(ID[name], inside)
        created = {item["id"]: item["created"] for item in self.charges}
        self.assertEqual(paris_day(created[ID["after_start"]]), "2026-11-01")
        self.assertEqual(paris_day(created[ID["after_end"]]), "2026-12-01")
        self.assertEqual((self.charge_count, self.refund_count, self.entry_count), (10, 0, 12))

    def test_table_lists_each_difference_once(self):
        status, stdout, stderr = self.reconcile(self.stripe, self.books, *PERIOD)
        self.assertEqual(status, 1, stderr)
        self.assertEqual(stderr, "")
        rows, summary = table_rows(self, stdout)
        self.assertEqual(rows, self.as_table(self.expected_rows()))
        self.assertEqual(summary, self.summary(
            "10 differences (2 missing, 1 duplicate, 3 mismatch, 4 orphan)"))
        self.assertEqual(self.books.entries(), self.initial)
        self.assertEqual(self.books.stats()["posts"], 0)

    def test_json_lists_each_difference_once_with_entries(self):
        for args, json_output in ((PERIOD, True), ((*PERIOD, "--format", "json"), False)):
            with self.subTest(args=args):
                status, stdout, stderr = self.reconcile(self.stripe, self.books, *args,
                                                        json_output=json_output)
                self.assertEqual(status, 1, stderr)
                self.assertEqual(stderr, "")
                items, summary = json_report(self, stdout)
                self.assertEqual(summary, {"summary": {
                    "charges": self.charge_count, "refunds": self.refund_count,
                    "entries": self.entry_count, "missing": 2,
                    "duplicate": 1, "mismatch": 3, "orphan": 4, "invalid": 0, "fixed": 0},
                    "exit_status": 1})
                self.assertEqual([(item["kind"], item["charge"], item["date"], item["entry_ids"],
                                   item["reason"]) for item in items], self.expected_rows())
                stored = {entry["id"]: entry for entry in self.initial}
                for item in items:
                    wanted = self.expected.get(libelle(item["charge"]))
                    self.assertEqual(item["expected"],
                                     None if item["kind"] == "orphan" else wanted, item)
                    self.assertEqual(item["found"], [stored[i] for i in item["entry_ids"]], item)
                    self.assertNotIn("status", item)

    def test_csv_lists_each_difference_once(self):
        status, stdout, stderr = self.reconcile(self.stripe, self.books, *PERIOD, "--format", "csv")
        self.assertEqual(status, 1, stderr)
        self.assertEqual(csv_rows(self, stdout),
                         [(kind, charge_id, day, " ".join(ids), detail)
                          for kind, charge_id, day, ids, detail in self.expected_rows()])
        self.assertIn(f'mismatch,{ID["after_start"]},2026-11-01,{self.entry_ids["after_start"][0]},'
                      '"date 2026-11-01 expected, 2026-10-31 found"', lines(stdout))
        self.assertEqual(stderr, self.summary(
            "10 differences (2 missing, 1 duplicate, 3 mismatch, 4 orphan)") + "\n")

    def test_fix_posts_only_the_missing_entries_once(self):
        missing = [libelle(ID["missing"]), libelle(ID["before_end"])]
        status, stdout, stderr = self.reconcile(self.stripe, self.books, *PERIOD, "--fix",
                                                json_output=True)
        self.assertEqual(status, 1, stderr)
        self.assert_unchanged_books_plus([self.expected[name] for name in missing])
        self.assertEqual(self.books.stats()["posts"], 2)
        posted = self.posted_ids()
        items, summary = json_report(self, stdout)
        # The entries counted are those read plus those posted.
        self.assertEqual(summary, {"summary": {
            "charges": self.charge_count, "refunds": self.refund_count,
            "entries": self.entry_count + 2, "missing": 0,
            "duplicate": 1, "mismatch": 3, "orphan": 4, "invalid": 0, "fixed": 2},
            "exit_status": 1})
        rows = [(item["kind"], item["charge"], item["date"], item["entry_ids"]) for item in items]
        self.assertEqual(rows, [row[:4] for row in self.expected_rows(posted)])
        stored = {entry["id"]: entry for entry in self.books.entries()}
        for item in items:
            self.assertEqual(item["found"], [stored[i] for i in item["entry_ids"]], item)
            if item["kind"] == "missing":
                self.assertEqual(item["status"], "posted", item)
                self.assertNotIn("fix_reason", item)
                # The JSON reason is the detail, with or without ": posted now".
                self.assertRegex(item["reason"], r"^no entry for (9|59)\.90 EUR(: posted now)?$")
                self.assertEqual(item["expected"], self.expected[libelle(item["charge"])])
            else:
                self.assertNotIn("status", item)
        after_first = self.books.entries()

        # A plain run now sees the other kinds only; a second --fix posts nothing.
        status, stdout, stderr = self.reconcile(self.stripe, self.books, *PERIOD)
        self.assertEqual(status, 1, stderr)
        rows, summary = table_rows(self, stdout)
        self.assertEqual(rows, [row for row in self.as_table(self.expected_rows())
                                if row[0] != "missing"])
        self.assertEqual(summary, self.summary(LEFT_AFTER_FIX, self.entry_count + 2))
        status, stdout, stderr = self.reconcile(self.stripe, self.books, *PERIOD, "--fix",
                                                json_output=True)
        self.assertEqual(status, 1, stderr)
        items, summary = json_report(self, stdout)
        self.assertEqual([item["kind"] for item in items], ["duplicate"] + ["mismatch"] * 3
                         + ["orphan"] * 4)
        self.assertEqual((summary["summary"]["missing"], summary["summary"]["fixed"]), (0, 0))
        self.assertEqual(self.books.entries(), after_first, "the second --fix changed the books")
        self.assertEqual(self.books.stats()["posts"], 2, "the second --fix posted")
        counts = Counter(entry["libelle"] for entry in self.books.entries())
        self.assertEqual([counts[name] for name in missing], [1, 1])

    def test_fix_in_a_table_says_what_it_posted(self):
        status, stdout, stderr = self.reconcile(self.stripe, self.books, *PERIOD, "--fix",
                                                "--concurrency", "1")
        self.assertEqual(status, 1, stderr)
        self.assertEqual(stderr, "")
        posted = self.posted_ids()
        self.assertEqual(set(posted), {ID["missing"], ID["before_end"]})
        rows, summary = table_rows(self, stdout)
        self.assertEqual(rows, self.as_table(self.expected_rows(posted)))
        self.assertEqual(summary, self.summary(LEFT_AFTER_FIX, self.entry_count + 2, posted=2))

    def test_csv_defuses_formulas_in_entry_ids(self):
        hostile = self.initial + [{"id": "=HYPERLINK(\"http://x\",\"y\")", **sale_entry(
            "ch_FormulaUnknown0000001", "2026-11-21", 1000)}]
        books = Sandbox(self, api_key=new_comptentra_key(), entries=hostile)
        status, stdout, stderr = self.reconcile(self.stripe, books, *PERIOD, "--format", "csv")
        self.assertEqual(status, 1, stderr)
        row = [row for row in csv_rows(self, stdout) if row[1] == "ch_FormulaUnknown0000001"]
        self.assertEqual(row, [("orphan", "ch_FormulaUnknown0000001", "2026-11-21",
                                "'=HYPERLINK(\"http://x\",\"y\")", "Stripe has no such charge")])

    def test_keys_are_never_printed(self):
        keys = (self.stripe.api_key, self.books.api_key)
        fragments = [key[-16:] for key in keys]  # the random part, in case a key is cut
        as_flags = ("--stripe-key", keys[0], "--comptentra-key", keys[1])
        for via, args, without in (("environment", (), ()),
                                   ("flags", as_flags, ("STRIPE_API_KEY", "COMPTENTRA_API_KEY"))):
            for output in (("--format", "table"), ("--format", "json"), ("--format", "csv")):
                with self.subTest(via=via, output=output):
                    status, stdout, stderr = self.reconcile(
                        self.stripe, self.books, *PERIOD, "--fix", *output, *args,
                        global_flags=["-v"], without=without)
                    self.assertEqual(status, 1, stderr)
                    self.assertIn("GET", stderr, "the -v run traced no request")
                    self.assert_no_secret(stdout, stderr, *keys, *fragments)
        self.assertEqual(self.books.stats()["posts"], 2)


REFUNDED_SALE = "ch_RefundedSale0000000001"  # 2026-11-10, refunded twice in November
OCTOBER_SALE = "ch_OctoberSale00000000001"  # 2026-10-10, refunded on 20 October
UNKNOWN_REFUND = "re_UnknownToStripe0000001"  # a credit note of November names it
REFUNDS = {  # name: (id, charge, created, amount in cents)
    "matched": ("re_Matched000000000000001", REFUNDED_SALE, "2026-11-12T10:00:00Z", 1000),
    "missing": ("re_Missing000000000000001", REFUNDED_SALE, "2026-11-20T10:00:00Z", 500),
    "october": ("re_October000000000000001", OCTOBER_SALE, "2026-10-20T10:00:00Z", 3000),
}


class BooksWithCreditNotes(ReconcileTest):
    """Credit notes are matched by their refund id: one matches; one is missing, and --fix
    posts it once; one of a refund created before the period is dated inside it, so that
    refund is looked up (GET /v1/refunds/{id}) and the date differs; one names a refund that
    Stripe does not know: an orphan."""

    def setUp(self):
        charges = [charge(REFUNDED_SALE, "2026-11-10T10:00:00Z", 2500, email="sale@example.org"),
                   charge(OCTOBER_SALE, "2026-10-10T10:00:00Z", 3000, email="oct@example.org")]
        by_id = {item["id"]: item for item in charges}
        refunds, transactions = [], []
        for refund_id, charge_id, instant, amount in REFUNDS.values():
            refund, transaction = hand_made_refund(refund_id, by_id[charge_id], utc(instant),
                                                   amount)
            refunds.append(refund)
            transactions.append(transaction)
        self.stripe = StripeSandbox(self, charges=charges, refunds=refunds,
                                    transactions=transactions, api_key=new_stripe_key())
        self.expected = expected_entries(self, self.stripe.expanded_charges(),
                                         self.stripe.expanded_refunds())
        self.initial = with_ids([
            self.expected[libelle(REFUNDED_SALE)],  # its sale: matches
            self.note("matched"),
            {**self.note("october"), "date": "2026-11-05"},  # the refund is of 20 October
            {**self.note("matched"), "libelle": credit_note_libelle(UNKNOWN_REFUND, REFUNDED_SALE),
             "date": "2026-11-18"},
        ])
        self.books = Sandbox(self, api_key=new_comptentra_key(), entries=self.initial)
        # What the summary counts: the charges and refunds created in the period (the October
        # refund is only looked up) and the entries read.
        self.charge_count = sum(1 for item in charges if in_period(item))
        self.refund_count = len(period_refunds(self.stripe))
        self.entry_count = len(read_entries(self.initial))
        self.rows = [  # (kind, refund id, date, entry ids), in report order
            ("missing", REFUNDS["missing"][0], "2026-11-20", []),
            ("mismatch", REFUNDS["october"][0], "2026-10-20", [self.initial[2]["id"]]),
            ("orphan", UNKNOWN_REFUND, "2026-11-18", [self.initial[3]["id"]]),
        ]

    def note(self, name):
        """The credit note `entry` computes for the refund `name` of REFUNDS."""
        refund_id, charge_id, _, _ = REFUNDS[name]
        return self.expected[credit_note_libelle(refund_id, charge_id)]

    def test_setup_has_each_case(self):
        self.assertEqual(len(self.expected), 2 + len(REFUNDS))
        self.assertEqual((self.charge_count, self.refund_count, self.entry_count), (1, 2, 4))
        self.assertEqual(self.note("october")["date"], "2026-10-20")
        self.assertEqual(self.note("missing")["lignes"][-1],
                         {"compte": "411000", "tiers_email": "sale@example.org",
                          "debit_cents": 0, "credit_cents": 500})

    def test_credit_notes_are_matched_by_their_refund(self):
        status, stdout, stderr = self.reconcile(self.stripe, self.books, *PERIOD,
                                                json_output=True)
        self.assertEqual((status, stderr), (1, ""))
        items, summary = json_report(self, stdout)
        self.assertEqual([(item["kind"], item["charge"], item["date"], item["entry_ids"])
                          for item in items], self.rows)
        missing, mismatch, orphan = items
        self.assertEqual((missing["expected"], missing["found"]), (self.note("missing"), []))
        self.assertRegex(missing["reason"], r"^no entry for \d+\.\d\d EUR$")
        self.assertEqual((mismatch["expected"], mismatch["found"]),
                         (self.note("october"), [self.initial[2]]))
        self.assertEqual(mismatch["reason"], "date 2026-10-20 expected, 2026-11-05 found")
        self.assertEqual((orphan["expected"], orphan["found"]), (None, [self.initial[3]]))
        self.assertTrue(orphan["reason"], orphan)
        counts = dict(summary["summary"])
        for key in ("charges", "refunds"):  # see test_summary_counts_the_period_s_objects
            counts.pop(key)
        self.assertEqual(counts, {"entries": self.entry_count, "missing": 1, "duplicate": 0,
                                  "mismatch": 1, "orphan": 1, "invalid": 0, "fixed": 0})
        self.assertEqual(summary["exit_status"], 1)
        stats = self.stripe.stats()
        # One page of charges, one of refunds, then the two refunds of the unclaimed credit
        # notes looked up one by one.
        self.assertEqual(stats["list_requests"], list_pages(1) + list_pages(2))
        self.assertEqual(stats["requests"], stats["list_requests"] + 2)
        self.assertEqual(self.books.entries(), self.initial)
        self.assertEqual(self.books.stats()["posts"], 0)

    def test_summary_counts_the_period_s_objects(self):
        """The charges and the refunds created in the period; a refund looked up for an
        unclaimed credit note is not one of them."""
        with self.subTest("table"):
            status, stdout, stderr = self.reconcile(self.stripe, self.books, *PERIOD)
            self.assertEqual((status, stderr), (1, ""))
            rows, summary = table_rows(self, stdout)
            self.assertEqual([row[:4] for row in rows],
                             [(kind, object_id, day, ", ".join(ids) or "-")
                              for kind, object_id, day, ids in self.rows])
            self.assertEqual(summary, f"{SINCE} to {UNTIL}: 3 differences (1 missing, 1 mismatch, "
                                      "1 orphan) over " + scope(self.charge_count,
                                                                self.refund_count,
                                                                self.entry_count))
        with self.subTest("json"):
            status, stdout, stderr = self.reconcile(self.stripe, self.books, *PERIOD,
                                                    json_output=True)
            self.assertEqual(status, 1, stderr)
            summary = json_report(self, stdout)[1]["summary"]
            self.assertEqual((summary["charges"], summary["refunds"], summary["entries"]),
                             (self.charge_count, self.refund_count, self.entry_count))

    def test_fix_posts_the_missing_credit_note_once(self):
        status, stdout, stderr = self.reconcile(self.stripe, self.books, *PERIOD, "--fix",
                                                json_output=True)
        self.assertEqual(status, 1, stderr)
        stored = self.books.entries()
        self.assertEqual(stored[:len(self.initial)], self.initial, "an entry was edited or deleted")
        self.assertEqual([{key: value for key, value in entry.items() if key != "id"}
                          for entry in stored[len(self.initial):]], [self.note("missing")])
        self.assertEqual(self.books.stats()["posts"], 1)
        items, summary = json_report(self, stdout)
        posted = stored[-1]["id"]
        self.assertEqual([(item["kind"], item["charge"], item["entry_ids"], item.get("status"))
                          for item in items],
                         [(kind, object_id, [posted] if kind == "missing" else ids,
                           "posted" if kind == "missing" else None)
                          for kind, object_id, _, ids in self.rows])
        self.assertEqual((summary["summary"]["missing"], summary["summary"]["fixed"],
                          summary["summary"]["entries"]), (0, 1, self.entry_count + 1))
        after_first = self.books.entries()

        status, stdout, stderr = self.reconcile(self.stripe, self.books, *PERIOD, "--fix",
                                                json_output=True)
        self.assertEqual(status, 1, stderr)
        items, summary = json_report(self, stdout)
        self.assertEqual([item["kind"] for item in items], ["mismatch", "orphan"])
        self.assertEqual((summary["summary"]["missing"], summary["summary"]["fixed"]), (0, 0))
        self.assertEqual(self.books.entries(), after_first, "the second --fix changed the books")
        self.assertEqual(self.books.stats()["posts"], 1, "the second --fix posted")
        counts = Counter(entry["libelle"] for entry in self.books.entries())
        self.assertEqual(counts[self.note("missing")["libelle"]], 1)


class CleanBooks(ReconcileTest):
    """200 generated charges of November 2026 (every status, currency and VAT rate) and their
    refunds, booked once by backfill (sales and credit notes): the books match."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stripe = StripeSandbox(cls, "--generate", 200, "--seed", 2611, "--since", SINCE,
                                   "--until", UNTIL, api_key=new_stripe_key())
        cls.books = Sandbox(_ClassOwner(cls), api_key=new_comptentra_key())
        cls.backfill_result = run(["--json", "backfill", *PERIOD],
                                  env={**cls.stripe.env(), **cls.books.env()}, timeout=120)
        cls.charge_count = sum(1 for item in cls.stripe.charges() if in_period(item))
        cls.refunds = period_refunds(cls.stripe)
        cls.bookable = sum(1 for item in cls.stripe.charges() if bookable(item))
        cls.credit_notes = sum(1 for item in cls.refunds if succeeded(item))
        cls.entries = cls.bookable + cls.credit_notes  # a sale or a credit note each

    def match_line(self):
        return (f"{SINCE} to {UNTIL}: the books match Stripe "
                f"({scope(self.charge_count, len(self.refunds), self.entries)})\n")

    def test_backfilled_books_match(self):
        self.assertEqual(self.backfill_result[0], 0, self.backfill_result[2])
        self.assertEqual(self.charge_count, 200)
        self.assertGreater(self.credit_notes, 0, "no refund to reconcile")
        self.assert_books_match(self.books, expected_entries(
            self, self.stripe.expanded_charges(), self.refunds))
        self.assertEqual(len(self.books.entries()), self.entries)
        status, stdout, stderr = self.reconcile(self.stripe, self.books, *PERIOD)
        self.assertEqual((status, stderr), (0, ""))
        self.assertEqual(stdout, self.match_line())
        status, stdout, stderr = self.reconcile(self.stripe, self.books, *PERIOD, json_output=True)
        self.assertEqual((status, stderr), (0, ""))
        self.assertEqual(json_report(self, stdout), ([], {"summary": {
            "charges": self.charge_count, "refunds": len(self.refunds), "entries": self.entries,
            "missing": 0, "duplicate": 0, "mismatch": 0, "orphan": 0, "invalid": 0, "fixed": 0},
            "exit_status": 0}))
        status, stdout, stderr = self.reconcile(self.stripe, self.books, *PERIOD, "--format", "csv")
        self.assertEqual((status, stdout), (0, "kind,charge,date,entry_ids,detail\n"))
        self.assertEqual(stderr, self.match_line())

    def test_quiet_prints_nothing(self):
        for args, json_output in ((("-q",), False), (("-q",), True), (("--quiet",), False),
                                  (("-q", "--format", "csv"), False),
                                  (("-q", "--format", "json"), False)):
            with self.subTest(args=args, json_output=json_output):
                status, stdout, stderr = self.reconcile(self.stripe, self.books, *PERIOD, *args,
                                                        json_output=json_output)
                self.assertEqual((status, stdout, stderr), (0, "", ""))

    def test_fix_on_empty_books_books_what_backfill_booked(self):
        books = Sandbox(self, api_key=new_comptentra_key())
        status, stdout, stderr = self.reconcile(self.stripe, books, *PERIOD, "--fix",
                                                json_output=True)
        self.assertEqual(status, 0, stderr)
        items, summary = json_report(self, stdout)
        self.assertEqual(summary["summary"]["fixed"], self.entries)
        self.assertEqual({item["status"] for item in items}, {"posted"})
        self.assertEqual({item["kind"] for item in items}, {"missing"})
        self.assertEqual(Counter(item["charge"] for item in items),
                         Counter([item["id"] for item in self.stripe.charges() if bookable(item)]
                                 + [item["id"] for item in self.refunds if succeeded(item)]))
        strip = lambda entry: {k: v for k, v in entry.items() if k != "id"}  # noqa: E731
        self.assertCountEqual([strip(entry) for entry in books.entries()],
                              [strip(entry) for entry in self.books.entries()])
        status, stdout, stderr = self.reconcile(self.stripe, books, *PERIOD, "-q")
        self.assertEqual((status, stdout, stderr), (0, "", ""))


class OverlappingRuns(ReconcileTest):
    def setUp(self):
        self.tmp = TempDir(self)
        failed = [charge(f"ch_SlowFailed{index:013d}", f"2026-11-{10 + index}T10:00:00Z", 1000,
                         "failed") for index in range(2)]
        self.stripe = StripeSandbox(self, "--latency-ms", SLOW_STRIPE_MS, charges=failed,
                                    api_key=new_stripe_key())
        self.books = Sandbox(self, api_key=new_comptentra_key())
        self.match = f"{SINCE} to {UNTIL}: the books match Stripe ({scope(2, 0, 0)})\n"

    def test_second_run_exits_75_naming_the_first(self):
        lock = self.tmp.path / "reconcile.lock"
        first, out, err = self.start_reconcile(self.stripe, self.books, *PERIOD, "--lock", lock,
                                               directory=self.tmp.path)
        self.assertTrue(wait_until(lambda: lock.exists() and "pid" in lock.read_text(), 10),
                        "the first run wrote no lock")
        self.assertIn(f"pid {first.pid} ", lock.read_text())
        status, stdout, stderr = self.reconcile(self.stripe, self.books, *PERIOD, "--lock", lock)
        self.assertIsNone(first.poll(), "the first run ended before the second: nothing tested")
        self.assertEqual(status, 75, stderr)
        self.assertEqual(stdout, "")
        self.assert_error_lines(stderr, f"pid {first.pid} ")
        self.assertIn(str(lock), self.error_lines(stderr)[0])

        self.assertEqual(first.wait(timeout=RUN_TIMEOUT), 0, err.read_text())
        self.assertEqual((out.read_text(), err.read_text()), (self.match, ""))
        # The second run stopped before any request: one page of books, one of charges and
        # one of refunds (there are none), all from the first run.
        self.assertEqual(self.books.stats()["requests"], 1)
        self.assertEqual(self.stripe.stats()["requests"], list_pages(2) + list_pages(0))
        status, stdout, stderr = self.reconcile(self.stripe, self.books, *PERIOD, "--lock", lock)
        self.assertEqual((status, stdout, stderr), (0, self.match, ""), "the lock was kept")

    def test_default_lock_is_in_the_runtime_directory(self):
        runtime = self.tmp.path / "runtime"
        runtime.mkdir(mode=0o700)
        first, out, err = self.start_reconcile(self.stripe, self.books, *PERIOD,
                                               directory=self.tmp.path,
                                               env={"XDG_RUNTIME_DIR": str(runtime)})
        lock = runtime / "stripe-comptentra-reconcile.lock"
        self.assertTrue(wait_until(lambda: lock.exists() and "pid" in lock.read_text(), 10))
        self.assertRegex(lock.read_text(), rf"^pid {first.pid} on \S+, started "
                                           r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$")
        status, _, stderr = self.reconcile(self.stripe, self.books, *PERIOD,
                                           env={"XDG_RUNTIME_DIR": str(runtime)})
        self.assertEqual(status, 75, stderr)
        self.assert_error_lines(stderr, str(lock))
        # The harness's own runtime directory holds another lock: that run is not blocked.
        status, stdout, stderr = self.reconcile(self.stripe, self.books, *PERIOD)
        self.assertEqual((status, stdout, stderr), (0, self.match, ""))
        self.assertTrue((HARNESS_HOME / "runtime" / "stripe-comptentra-reconcile.lock").exists())
        self.assertEqual(first.wait(timeout=RUN_TIMEOUT), 0, err.read_text())


class UsageAndConfiguration(ReconcileTest):
    def test_bad_periods_and_options_exit_2_without_contact(self):
        stripe, books = Listener(self), Listener(self)
        env = {"STRIPE_API_BASE": stripe.url, "STRIPE_API_KEY": new_stripe_key(),
               "COMPTENTRA_URL": books.url, "COMPTENTRA_API_KEY": new_comptentra_key(), **NO_PROXY}
        cases = {
            "--last and --since": (["--last", "7d", "--since", SINCE], "--last"),
            "--last and --until": (["--last", "7d", "--until", UNTIL], "--last"),
            "no period": ([], "period"),
            "--last 7x": (["--last", "7x"], "7x"),
            "--last 0d": (["--last", "0d"], "0d"),
            "--last 7": (["--last", "7"], "--last"),
            "bad --since": (["--since", "2026-02-30"], "--since"),
            "--until before --since": (["--since", "2026-12-01", "--until", UNTIL], "--until"),
            "--format xml": ([*PERIOD, "--format", "xml"], "--format"),
            "--concurrency 0": ([*PERIOD, "--fix", "--concurrency", "0"], "--concurrency"),
        }
        for name, (args, named) in cases.items():
            with self.subTest(name):
                status, stdout, stderr = run(["reconcile", *args], env=env)
                self.assertEqual((status, stdout), (2, ""), stderr)
                self.assert_error_lines(stderr, named)
                self.assert_no_secret(stdout, stderr, env["STRIPE_API_KEY"],
                                      env["COMPTENTRA_API_KEY"])
        status, stdout, stderr = run(["--json", "reconcile", *PERIOD, "--format", "csv"], env=env)
        self.assertEqual(status, 2, stderr)
        for name in ("STRIPE_API_KEY", "COMPTENTRA_API_KEY"):
            with self.subTest(without=name):
                status, stdout, stderr = run(["reconcile", *PERIOD], env={
                    key: value for key, value in env.items() if key != name})
                self.assertEqual((status, stdout), (78, ""), stderr)
                self.assert_error_lines(stderr, "API key")
                self.assertIn(name, stderr)
        time.sleep(0.2)
        self.assertEqual((stripe.accepted, books.accepted), (0, 0), "a refused run made contact")

    def test_books_without_list_filters_exit_69(self):
        stripe = StripeSandbox(self, charges=hand_made_charges(), api_key=new_stripe_key())
        # Entries of another journal and date that a filtering server would not list.
        books = Sandbox(self, "--minimal", api_key=new_comptentra_key(), entries=with_ids(
            [sale_entry("ch_SeptemberPayment00001", "2026-09-14", 1200), PURCHASE]))
        for json_output in (False, True):
            with self.subTest(json_output=json_output):
                status, stdout, stderr = self.reconcile(stripe, books, *PERIOD, "--fix",
                                                        json_output=json_output)
                self.assertEqual(status, 69, stderr)
                self.assert_error_lines(stderr, "ignores the list filters")
                self.assertTrue(self.error_lines(stderr)[0].startswith(ERROR_PREFIX + "stopped: "))
                if json_output:
                    self.assertEqual(json_results(stdout)[1]["exit_status"], 69)
        self.assertEqual(books.stats()["posts"], 0)

    def test_refused_keys_exit_77(self):
        accepted = new_stripe_key()
        stripe = StripeSandbox(self, "--api-key", accepted, charges=hand_made_charges(),
                               api_key=new_stripe_key())
        good_stripe = StripeSandbox(self, charges=hand_made_charges(), api_key=accepted)
        books = Sandbox(self, api_key=new_comptentra_key())
        cases = {"Comptentra": (good_stripe, {"COMPTENTRA_API_KEY": new_comptentra_key()}),
                 "Stripe": (stripe, {})}
        for name, (server, env) in cases.items():
            with self.subTest(name):
                status, stdout, stderr = self.reconcile(server, books, *PERIOD, env=env,
                                                        global_flags=["-v"])
                self.assertEqual(status, 77, stderr)
                self.assert_error_lines(stderr, name)
                self.assertTrue(self.error_lines(stderr)[0].startswith(ERROR_PREFIX + "stopped: "))
                self.assert_no_secret(stdout, stderr, accepted, books.api_key)
        self.assertEqual(books.stats()["posts"], 0)

    def test_unreadable_charge_is_invalid_and_exits_65(self):
        bad = charge("ch_BadVatRate00000000001", "2026-11-09T10:00:00Z", 1000)
        bad["metadata"] = {"tva_rate": "=1+1"}
        missing = [item for item in hand_made_charges() if item["id"] == ID["missing"]]
        stripe = StripeSandbox(self, charges=[bad, *missing], api_key=new_stripe_key())
        books = Sandbox(self, api_key=new_comptentra_key())
        status, stdout, stderr = self.reconcile(stripe, books, *PERIOD, "--fix", "--format", "csv")
        self.assertEqual(status, 65, stderr)
        rows = csv_rows(self, stdout)
        self.assertEqual([row[:4] for row in rows], [
            ("missing", ID["missing"], "2026-11-15", "ECR-000001"),
            ("invalid", "ch_BadVatRate00000000001", "2026-11-09", "")])
        self.assertEqual(rows[0][4], "no entry for 9.90 EUR: posted now")
        self.assertIn("tva_rate '=1+1'", rows[1][4])
        self.assertRegex(stderr, rf"^{SINCE} to {UNTIL}: 1 difference \(1 invalid\) over 2 charges "
                                 r"and 1 entry; 1 missing entry posted\n$")
        self.assertEqual([entry["libelle"] for entry in books.entries()], [libelle(ID["missing"])])

    def test_unreadable_refund_from_stripe_stops_the_run_with_69(self):
        missing = [item for item in hand_made_charges() if item["id"] == ID["missing"]]
        bad, transaction = hand_made_refund("re_BadAmount000000000001", missing[0],
                                            utc("2026-11-16T10:00:00Z"), 500)
        bad["amount"] = "5.00"  # not an integer: Stripe's answer cannot be read
        stripe = StripeSandbox(self, charges=missing, refunds=[bad], transactions=[transaction],
                               api_key=new_stripe_key())
        books = Sandbox(self, api_key=new_comptentra_key())
        status, stdout, stderr = self.reconcile(stripe, books, *PERIOD, "--fix", "--format", "csv")
        self.assertEqual(status, 69, stderr)
        self.assertIn(f"{ERROR_PREFIX}stopped: Stripe {stripe.url} listed an object that cannot "
                      "be read", stderr)
        self.assertIn("'amount'", stderr)
        self.assertIn("stopped before the end, the books are not known to match", stderr)
        self.assertEqual(books.entries(), [], "a stopped comparison fixes nothing")

    def test_stopped_run_does_not_say_the_books_match(self):
        stripe = StripeSandbox(self, charges=hand_made_charges(), api_key=new_stripe_key())
        books = Sandbox(self, api_key=new_comptentra_key())
        status, stdout, stderr = self.reconcile(stripe, books, *PERIOD,
                                                env={"COMPTENTRA_API_KEY": new_comptentra_key()})
        self.assertEqual(status, 77, stderr)
        self.assertNotIn("the books match Stripe", stdout)
        self.assertEqual(stdout, f"{SINCE} to {UNTIL}: stopped before the end, the books are not "
                                 "known to match; 0 differences so far over 0 charges and 0 entries\n")

    def test_last_and_default_until_end_today_in_paris(self):
        stripe = StripeSandbox(self, charges=[], api_key=new_stripe_key())
        books = Sandbox(self, api_key=new_comptentra_key())
        for args in (("--last", "7d"), ("--last", "24h"), ("--last", "1d"), ("--since", SINCE)):
            with self.subTest(args=args):
                before = time.time()
                status, stdout, stderr = self.reconcile(stripe, books, *args)
                after = time.time()  # either side of a Paris midnight is accepted
                self.assertEqual((status, stderr), (0, ""))
                self.assertIn(stdout, {f"{first} to {last}: the books match Stripe (0 charges and "
                                       f"0 entries)\n" for first, last in (
                                           paris_period(args, before), paris_period(args, after))})


class TenThousandCharges(ReconcileTest):
    """10,000 generated charges and their refunds booked by one backfill (sales and credit
    notes), then reconciled, with 20 ms of latency
    on every request of both sandboxes (the books in memory: see MemoryBooks). The backfill
    runs with --max-rps 1000 to be quick, the reconcile with its defaults (20 Stripe requests
    a second with a test key). The elapsed time and the requests of the reconcile go to
    stderr (ctest -V shows them)."""

    def test_reconcile_of_a_backfilled_month(self):
        stripe = StripeSandbox(self, "--generate", SCALE_COUNT, "--seed", SCALE_SEED, "--since",
                               SINCE, "--until", UNTIL, "--latency-ms", 20,
                               api_key=new_stripe_key())
        books = MemoryBooks(self, new_comptentra_key(), "--latency-ms", "20")
        charges = stripe.charges()
        refunds = period_refunds(stripe)
        bookable_count = sum(1 for item in charges if bookable(item))
        entry_count = bookable_count + sum(1 for item in refunds if succeeded(item))
        self.assertEqual(len(charges), SCALE_COUNT)
        self.assertGreater(entry_count, bookable_count, "no refund to book")
        env = {**stripe.env(), **books.env()}
        started = time.monotonic()
        status, stdout, stderr = run(["--json", "backfill", *PERIOD, "--concurrency", "8",
                                      "--max-rps", "1000"], env=env, timeout=SCALE_TIMEOUT)
        log("10,000 charges, backfill before the reconcile", f"{time.monotonic() - started:.1f} s")
        self.assertEqual(status, 0, stderr[-3000:])
        self.assertEqual(json_results(stdout)[1]["summary"]["posted"], entry_count)
        self.assertEqual(books.stats()["entries"], entry_count)

        stripe_before, books_before = stripe.stats(), books.stats()
        started = time.monotonic()
        status, stdout, stderr = self.reconcile(stripe, books, *PERIOD, json_output=True,
                                                timeout=SCALE_TIMEOUT)
        seconds = time.monotonic() - started
        stripe_after, books_after = stripe.stats(), books.stats()
        stripe_requests, books_requests = (after["requests"] - before["requests"] for before, after
                                           in ((stripe_before, stripe_after),
                                               (books_before, books_after)))
        log("10,000 charges, reconcile with 20 ms of latency", f"{seconds:.2f} s; "
            f"{stripe_requests} Stripe requests, {books_requests} Comptentra requests")
        self.assertEqual((status, stderr), (0, ""), stdout[-3000:])
        self.assertEqual(json_report(self, stdout), ([], {"summary": {
            "charges": SCALE_COUNT, "refunds": len(refunds), "entries": entry_count,
            "missing": 0, "duplicate": 0, "mismatch": 0, "orphan": 0, "invalid": 0, "fixed": 0},
            "exit_status": 0}))
        self.assertEqual(stripe_requests, list_pages(SCALE_COUNT) + list_pages(len(refunds)),
                         "one list page per 100 charges, then per 100 refunds")
        self.assertEqual(books_requests, -(-entry_count // 100), "one page per 100 entries")
        self.assertEqual(books_after["posts"], books_before["posts"])
        self.assertLess(seconds, SCALE_RECONCILE_LIMIT)


if __name__ == "__main__":
    unittest.main()
