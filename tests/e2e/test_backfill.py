"""End-to-end tests of `stripe-comptentra backfill` against the local Stripe and Comptentra.

scripts/stripe-sandbox serves generated (or hand-made) charges and writes exactly what it
serves to its data file (tests/e2e/stripe_sandbox.py); scripts/comptentra-sandbox holds the
books (tests/e2e/sandbox.py). The expected entries are computed in the test from that data
file: the bookable charges (status succeeded and captured) of the period, each turned into
its entry by `stripe-comptentra entry` from the charge object with its balance transaction
inlined, as Stripe's list with expand returns it. Every server listens on 127.0.0.1 with a
free port, every run has a timeout and every loop a bound. The longer runs print their
elapsed time on stderr (ctest -V shows it).
"""

import datetime
import json
import random
import re
import secrets
import signal
import subprocess
import sys
import time
import unittest
import zoneinfo
from collections import Counter
from fractions import Fraction

from harness import (BINARY, ERROR_PREFIX, HINT_PREFIX, BinaryTest, TempDir, clean_environment,
                     lines, run)
from sandbox import NO_PROXY, Listener, Sandbox
from stripe_sandbox import StripeSandbox

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
SINCE, UNTIL = "2026-11-01", "2026-11-30"
PERIOD = ("--since", SINCE, "--until", UNTIL)
MONTH_SEED = 2611  # the 1,000 charges of November 2026
CRASH_SEED = 75  # the 300 charges and the faults of the crash test
SMALL_SEED = 11  # the small sets of the refusal tests
RUN_TIMEOUT = 120  # seconds for one backfill run
FAILING_STRIPE_LIMIT = 120  # seconds within which a run against a failing Stripe gives up
MAX_RESUMES = 5  # runs to finish the crash test, each while the previous one exited 75
KILL_WINDOWS = ((0.15, 0.5), (0.1, 0.4), (0.02, 0.2))  # seconds after each start; each run
# has less left to post than the one before, so the later kills come sooner


def new_stripe_key():
    return "sk_test_bfsecret" + secrets.token_hex(12)


def new_comptentra_key():
    return "ct_test_bfsecret" + secrets.token_hex(12)


def bookable(charge):
    """The sale entry rule: a succeeded and captured charge is booked."""
    return charge.get("status") == "succeeded" and charge.get("captured") is True


def paris_start(day):
    """The unix time of the Paris midnight that starts `day` (YYYY-MM-DD)."""
    return int(datetime.datetime.fromisoformat(day).replace(tzinfo=PARIS).timestamp())


def in_period(charge, since=SINCE, until=UNTIL):
    """Whether the charge was created within the days since..until in Paris."""
    last = datetime.date.fromisoformat(until) + datetime.timedelta(days=1)
    return paris_start(since) <= charge["created"] < paris_start(last.isoformat())


def paris_day(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, PARIS).date().isoformat()


def libelle(charge_id):
    return f"Paiement Stripe {charge_id}"


def without_id(entry):
    return {key: value for key, value in entry.items() if key != "id"}


def json_results(stdout):
    """(items, summary line) of a --json run."""
    parsed = [json.loads(line) for line in lines(stdout) if line.strip()]
    if not parsed or "summary" not in parsed[-1]:
        raise AssertionError(f"no summary line at the end of the output:\n{stdout[-2000:]}")
    return parsed[:-1], parsed[-1]


def by_status(items):
    """{status: set of charge ids} of the items of a run."""
    grouped = {}
    for item in items:
        grouped.setdefault(item["status"], set()).add(item["id"])
    return grouped


def expected_entries(test, charges):
    """{libellé: entry} that `stripe-comptentra entry` prints for the bookable `charges`
    (each with its balance transaction inlined), given as JSON Lines on stdin."""
    chosen = [charge for charge in charges if bookable(charge)]
    if not chosen:
        return {}
    status, stdout, stderr = run(["entry", "-"], stdin="".join(json.dumps(charge) + "\n"
                                                               for charge in chosen))
    test.assertEqual(status, 0, stderr)
    printed = [json.loads(line) for line in lines(stdout)]
    test.assertEqual(len(printed), len(chosen), "entry printed one entry per bookable charge")
    entries = {entry["libelle"]: entry for entry in printed}
    test.assertEqual(set(entries), {libelle(charge["id"]) for charge in chosen})
    return entries


def settled_ttc(charge):
    """The amount booked in euro cents, computed here from the charge itself."""
    if charge["currency"] == "eur":
        return charge["amount_captured"] if charge["amount_captured"] > 0 else charge["amount"]
    transaction = charge["balance_transaction"]
    assert transaction["currency"] == "eur", transaction
    return transaction["amount"]


def vat_of(ttc, rate_text):
    """TVA = TTC x r / (100 + r), rounded half up to the cent."""
    rate = Fraction(rate_text.replace(",", "."))
    exact = Fraction(ttc) * rate / (100 + rate)
    return int(exact + Fraction(1, 2))


class BackfillTest(BinaryTest):
    """Runs backfill with the settings of a Stripe and a Comptentra sandbox; checks that no
    secret of either ever reaches stdout or stderr."""

    def backfill(self, stripe, books, *args, json_output=True, verbose=False, without=(),
                 timeout=RUN_TIMEOUT):
        """(status, stdout, stderr, seconds) of one run; `books` may be None (no Comptentra
        setting at all); the variables named in `without` are left out of the environment."""
        environment = {**stripe.env(), **(books.env() if books is not None else {})}
        for name in without:
            environment.pop(name)
        global_flags = (["--json"] if json_output else []) + (["-v"] if verbose else [])
        started = time.monotonic()
        status, stdout, stderr = run([*global_flags, "backfill", *args], env=environment,
                                     timeout=timeout)
        elapsed = time.monotonic() - started
        self.assert_no_crash(status, stdout, stderr)
        self.assert_no_secret(stdout, stderr, stripe.api_key,
                              books.api_key if books is not None else None)
        return status, stdout, stderr, elapsed

    def assert_no_secret(self, stdout, stderr, *keys):
        for key in keys:
            if key:
                self.assertNotIn(key, stdout, "a secret is in stdout")
                self.assertNotIn(key, stderr, "a secret is in stderr")

    def error_lines(self, stderr):
        return [line for line in lines(stderr) if line.startswith(ERROR_PREFIX)]

    def hint_lines(self, stderr):
        return [line for line in lines(stderr) if line.startswith(HINT_PREFIX)]

    def assert_books_match(self, books, expected):
        """The books hold exactly one entry per expected libellé, equal to it."""
        stored = books.entries()
        counts = Counter(entry["libelle"] for entry in stored)
        duplicates = sorted(name for name, count in counts.items() if count > 1)
        self.assertEqual(duplicates, [], "libellés booked more than once")
        self.assertEqual(set(counts) - set(expected), set(), "entries of no bookable charge")
        self.assertEqual(set(expected) - set(counts), set(), "bookable charges left unbooked")
        for entry in stored:
            self.assertEqual(without_id(entry), expected[entry["libelle"]], entry["libelle"])
        self.assertEqual(len({entry["id"] for entry in stored}), len(stored))


def log_time(label, seconds):
    print(f"\n[backfill] {label}: {seconds:.1f} s", file=sys.stderr, flush=True)


class _ClassOwner:
    """Lets sandbox.Sandbox (which takes a test case) live as long as a test class."""

    def __init__(self, cls):
        self.cls = cls

    def addCleanup(self, function, *args):
        self.cls.addClassCleanup(function, *args)

    def fail(self, message):
        raise AssertionError(message)


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


class CrashAndResume(BackfillTest):
    def test_killed_runs_then_completion_book_each_charge_once(self):
        tmp = TempDir(self)
        stripe = StripeSandbox(self, "--generate", 300, "--seed", CRASH_SEED,
                               "--since", SINCE, "--until", UNTIL, api_key=new_stripe_key())
        books = Sandbox(self, "--drop-rate", "0.1", "--seed", CRASH_SEED,
                        api_key=new_comptentra_key())
        charges = stripe.expanded_charges()
        expected = expected_entries(self, charges)
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
        log_time(f"300 charges, {len(delays)} killed runs and {len(statuses)} to finish",
                 time.monotonic() - started)
        self.assertEqual(statuses[-1], 0, f"exit statuses {statuses}\n{stderr[-3000:]}")
        self.assert_books_match(books, expected)
        items, summary = json_results(stdout)
        bookable_ids = {charge["id"] for charge in charges if bookable(charge)}
        grouped = by_status(items)
        self.assertEqual(grouped.get("posted", set()) | grouped.get("exists", set()),
                         bookable_ids)
        self.assertNotIn("failed", grouped)
        self.assertGreater(books.stats()["dropped"], 0, "no answer was dropped")


class VerboseOutput(BackfillTest):
    """-v traces every request on stderr while the workers print their results on stdout:
    each charge must still get exactly one result line."""

    ROUNDS = 4  # the runs are short; a mixed-up output shows in most of them

    def test_each_charge_gets_one_result_line_with_trace(self):
        stripe = StripeSandbox(self, "--generate", 300, "--seed", SMALL_SEED, "--since", SINCE,
                               "--until", UNTIL, api_key=new_stripe_key())
        charges = stripe.charges()
        all_ids = Counter(charge["id"] for charge in charges)
        bookable_ids = Counter(charge["id"] for charge in charges if bookable(charge))
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
                    self.assertEqual(sum(summary["summary"].values()), len(charges))
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
        expected = expected_entries(self, charges)
        would_post = {item["id"]: item["entry"] for item in items
                      if item["status"] == "would_post"}
        self.assertEqual({libelle(charge_id): entry for charge_id, entry in would_post.items()},
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
    """Charges one second on either side of the Paris midnights that bound November 2026
    (UTC+1 then): only those inside belong to the period."""

    EDGES = {
        "ch_BeforeStartAAAAAAAAAAAAA": ("2026-10-31T22:59:59Z", None),
        "ch_AtStartBBBBBBBBBBBBBBBBB": ("2026-10-31T23:00:00Z", "2026-11-01"),
        "ch_BeforeEndCCCCCCCCCCCCCCC": ("2026-11-30T22:59:59Z", "2026-11-30"),
        "ch_AtEndDDDDDDDDDDDDDDDDDDD": ("2026-11-30T23:00:00Z", None),
        "ch_MidOctoberEEEEEEEEEEEEEE": ("2026-10-15T12:00:00Z", None),
        "ch_MidDecemberFFFFFFFFFFFFF": ("2026-12-15T12:00:00Z", None),
    }

    def test_paris_midnights_bound_the_period(self):
        charges = []
        for index, (charge_id, (instant, _)) in enumerate(self.EDGES.items()):
            created = int(datetime.datetime.fromisoformat(instant).timestamp())
            charges.append(hand_made_charge(charge_id, created, 1000 + 100 * index))
        inside = {charge["id"] for charge in charges if in_period(charge)}
        self.assertEqual(inside, {charge_id for charge_id, (_, day) in self.EDGES.items() if day})
        stripe = StripeSandbox(self, charges=charges, api_key=new_stripe_key())
        books = Sandbox(self, api_key=new_comptentra_key())
        expected = expected_entries(self, [charge for charge in charges if charge["id"] in inside])

        # In UTC the same days start an hour later: the two charges of 30 November.
        status, stdout, stderr, _ = self.backfill(stripe, books, *PERIOD, "--dry-run",
                                                  "--timezone", "UTC")
        self.assertEqual(status, 0, stderr)
        items, _ = json_results(stdout)
        self.assertEqual({item["id"] for item in items},
                         {"ch_BeforeEndCCCCCCCCCCCCCCC", "ch_AtEndDDDDDDDDDDDDDDDDDDD"})
        self.assertEqual({item["entry"]["date"] for item in items}, {"2026-11-30"})

        status, stdout, stderr, _ = self.backfill(stripe, books, *PERIOD)
        self.assertEqual(status, 0, stderr)
        items, summary = json_results(stdout)
        self.assertEqual({item["id"] for item in items}, inside, "listed outside the period")
        self.assertEqual(summary, {"summary": {"posted": 2}, "exit_status": 0})
        self.assert_books_match(books, expected)
        dates = {entry["libelle"]: entry["date"] for entry in books.entries()}
        self.assertEqual(dates, {libelle(charge_id): day
                                 for charge_id, (_, day) in self.EDGES.items() if day})


if __name__ == "__main__":
    unittest.main()
