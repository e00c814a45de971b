"""End-to-end tests of `stripe-comptentra backfill` against the local Stripe and Comptentra.

scripts/stripe-sandbox serves generated (or hand-made) charges and writes exactly what it
serves to its data file (tests/e2e/stripe_sandbox.py); scripts/comptentra-sandbox holds the
books (tests/e2e/sandbox.py). The expected entries are computed in the test from that data
file: the bookable charges (status succeeded and captured) of the period and the succeeded
refunds created in the period, each turned into its entry (a sale, a credit note) by
`stripe-comptentra entry` from the object with its balance transaction (and, for a refund,
its charge) inlined, as Stripe's lists with expand return them. Every server listens on
127.0.0.1 with a free port, every run has a timeout and every loop a bound. The longer runs
print their elapsed time on stderr (ctest -V shows it).
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
PAGE_SIZE = 100  # objects per page of a Stripe list, as the binary asks for them


def new_stripe_key():
    return "sk_test_bfsecret" + secrets.token_hex(12)


def new_comptentra_key():
    return "ct_test_bfsecret" + secrets.token_hex(12)


def bookable(charge):
    """The sale entry rule: a succeeded and captured charge is booked."""
    return charge.get("status") == "succeeded" and charge.get("captured") is True


def succeeded(refund):
    """The credit note rule: a succeeded refund is booked."""
    return refund.get("status") == "succeeded"


def paris_start(day):
    """The unix time of the Paris midnight that starts `day` (YYYY-MM-DD)."""
    return int(datetime.datetime.fromisoformat(day).replace(tzinfo=PARIS).timestamp())


def in_period(charge, since=SINCE, until=UNTIL):
    """Whether the charge (or refund) was created within the days since..until in Paris."""
    last = datetime.date.fromisoformat(until) + datetime.timedelta(days=1)
    return paris_start(since) <= charge["created"] < paris_start(last.isoformat())


def period_refunds(stripe, since=SINCE, until=UNTIL):
    """The refunds that backfill lists for the period: those created in it, with their
    balance transaction and charge inlined (stripe_sandbox.StripeSandbox.expanded_refunds)."""
    return [refund for refund in stripe.expanded_refunds() if in_period(refund, since, until)]


def list_pages(count):
    """The pages of a Stripe list of `count` objects (an empty list is one page too)."""
    return max(1, -(-count // PAGE_SIZE))


def paris_day(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, PARIS).date().isoformat()


def libelle(charge_id):
    return f"Paiement Stripe {charge_id}"


def credit_note_libelle(refund_id, charge_id):
    return f"Remboursement Stripe {refund_id} ({charge_id})"


def refunded_charge_id(refund):
    """The id of a refund's charge, given as an id or expanded."""
    charge = refund["charge"]
    return charge if isinstance(charge, str) else charge["id"]


def libelle_of(document):
    """The libellé of the entry of a charge (its sale) or of a refund (its credit note)."""
    if document.get("object") == "refund":
        return credit_note_libelle(document["id"], refunded_charge_id(document))
    return libelle(document["id"])


def without_id(entry):
    return {key: value for key, value in entry.items() if key != "id"}


def json_results(stdout):
    """(items, summary line) of a --json run."""
    parsed = [json.loads(line) for line in lines(stdout) if line.strip()]
    if not parsed or "summary" not in parsed[-1]:
        raise AssertionError(f"no summary line at the end of the output:\n{stdout[-2000:]}")
    return parsed[:-1], parsed[-1]


def by_status(items):
    """{status: set of object ids (charges, refunds)} of the items of a run."""
    grouped = {}
    for item in items:
        grouped.setdefault(item["status"], set()).add(item["id"])
    return grouped


def expected_entries(test, charges, refunds=()):
    """{libellé: entry} that `stripe-comptentra entry` prints for the bookable `charges`
    (each with its balance transaction inlined) and the succeeded `refunds` (each with its
    balance transaction and charge inlined, see period_refunds), given as JSON Lines on
    stdin: a sale per charge, a credit note per refund."""
    chosen = [charge for charge in charges if bookable(charge)]
    chosen += [refund for refund in refunds if succeeded(refund)]
    if not chosen:
        return {}
    status, stdout, stderr = run(["entry", "-"], stdin="".join(json.dumps(document) + "\n"
                                                               for document in chosen))
    test.assertEqual(status, 0, stderr)
    printed = [json.loads(line) for line in lines(stdout)]
    test.assertEqual(len(printed), len(chosen),
                     "entry printed one entry per bookable charge and succeeded refund")
    entries = {entry["libelle"]: entry for entry in printed}
    test.assertEqual(set(entries), {libelle_of(document) for document in chosen})
    return entries


def settled_ttc(charge):
    """The amount booked in euro cents, computed here from the charge itself."""
    if charge["currency"] == "eur":
        return charge["amount_captured"] if charge["amount_captured"] > 0 else charge["amount"]
    transaction = charge["balance_transaction"]
    assert transaction["currency"] == "eur", transaction
    return transaction["amount"]


def refunded_ttc(refund):
    """The amount of a credit note in euro cents, computed here from the refund itself: the
    refund amount in euros, else what its balance transaction (negative) settled in euros."""
    if refund["currency"] == "eur":
        return refund["amount"]
    transaction = refund["balance_transaction"]
    assert transaction["currency"] == "eur", transaction
    return abs(transaction["amount"])


def customer_email(charge):
    """The tiers of a charge's customer line: receipt_email, else the billing email."""
    for email in (charge.get("receipt_email"), (charge.get("billing_details") or {}).get("email")):
        if email:
            return email
    return None


def hand_made_refund(refund_id, charge, created, amount):
    """(refund, its balance transaction): a succeeded EUR refund of `amount` on `charge`."""
    transaction_id = "txn_" + refund_id[3:]
    refund = {
        "id": refund_id, "object": "refund", "amount": amount,
        "balance_transaction": transaction_id, "charge": charge["id"], "created": created,
        "currency": "eur", "metadata": {}, "reason": "requested_by_customer",
        "receipt_number": None, "status": "succeeded",
    }
    transaction = {
        "id": transaction_id, "object": "balance_transaction", "amount": -amount,
        "currency": "eur", "exchange_rate": None, "fee": 0, "net": -amount,
        "status": "available", "type": "refund", "created": created, "available_on": created,
        "source": refund_id,
    }
    return refund, transaction


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
        self.assertEqual(set(counts) - set(expected), set(),
                         "entries of no bookable charge or succeeded refund")
        self.assertEqual(set(expected) - set(counts), set(),
                         "bookable charges or succeeded refunds left unbooked")
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
