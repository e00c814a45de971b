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
import secrets
import sys
import time
import zoneinfo
from collections import Counter
from fractions import Fraction

from harness import ERROR_PREFIX, HINT_PREFIX, BinaryTest, lines, run

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
