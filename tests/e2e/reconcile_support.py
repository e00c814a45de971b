"""Helpers of the end-to-end tests of `stripe-comptentra reconcile` (test_reconcile.py).

The books of the difference tests are hand-made around November 2026 in Paris (UTC+1): a
few Stripe charges and refunds (stripe_sandbox.StripeSandbox serves them from its data file)
and the entries written into the data file of a comptentra-sandbox (sandbox.Sandbox) before
it starts, so that every kind of difference is there exactly once or twice, on purpose. The
expected entries come from `stripe-comptentra entry`, as in the backfill tests.
"""

import csv
import datetime
import io
import re
import subprocess
import sys
import time

from backfill_support import (PARIS, SINCE, UNTIL, BackfillTest, expected_entries, in_period,
                              json_results, libelle, new_comptentra_key, new_stripe_key)
from harness import BINARY, clean_environment, lines, run
from sandbox import NO_PROXY, SCRIPT, Sandbox, ScriptProcess, get_json
from stripe_sandbox import StripeSandbox

RUN_TIMEOUT = 120  # seconds for one reconcile run
SALE_LIBELLE = re.compile(r"Paiement Stripe [A-Za-z0-9_]+")
CREDIT_NOTE_LIBELLE = re.compile(r"Remboursement Stripe [A-Za-z0-9_]+ \([A-Za-z0-9_]+\)")
MARGIN = datetime.timedelta(days=3)  # entries read around the period
JSON_ITEM_KEYS = ["kind", "charge", "date", "entry_ids", "expected", "found", "reason"]
SUMMARY_KEYS = ["charges", "refunds", "entries", "missing", "duplicate", "mismatch", "orphan",
                "invalid", "fixed"]


def utc(instant):
    """Unix seconds of an ISO instant such as 2026-11-30T23:30:00Z."""
    return int(datetime.datetime.fromisoformat(instant).timestamp())


def charge(charge_id, instant, amount, state="captured", email="client@example.org"):
    """A EUR card charge created at `instant`; `state` is captured, uncaptured, failed or
    pending. Captured and pending ones carry their balance transaction inlined."""
    created = utc(instant)
    captured = state in ("captured", "pending")
    document = {
        "id": charge_id, "object": "charge", "amount": amount,
        "amount_captured": amount if captured else 0, "amount_refunded": 0,
        "captured": captured, "created": created, "currency": "eur", "livemode": False,
        "paid": state in ("captured", "uncaptured"), "refunded": False,
        "status": {"failed": "failed", "pending": "pending"}.get(state, "succeeded"),
        "receipt_email": email, "billing_details": {"email": None, "name": "Client Test"},
        "metadata": {}, "description": None, "balance_transaction": None,
    }
    if state == "failed":
        document["failure_code"] = "card_declined"
    if captured:
        document["balance_transaction"] = {
            "id": "txn_" + charge_id[3:], "object": "balance_transaction", "amount": amount,
            "currency": "eur", "exchange_rate": None, "fee": 25, "net": amount - 25,
            "status": "pending" if state == "pending" else "available", "type": "charge",
            "created": created, "available_on": created + 7 * 86400, "source": charge_id}
    return document


def sale_entry(charge_id, day, ttc, email=None):
    """An entry such as a sale of `ttc` cents at 20 % VAT would be booked (for orphans)."""
    vat = (ttc * 20 * 2 + 120) // 240  # TTC x 20 / 120, half up
    customer = {"compte": "411000", "debit_cents": ttc, "credit_cents": 0}
    if email:
        customer["tiers_email"] = email
    return {"date": day, "journal": "VTE", "libelle": libelle(charge_id),
            "lignes": [customer, {"compte": "707000", "debit_cents": 0, "credit_cents": ttc - vat},
                       {"compte": "445712", "debit_cents": 0, "credit_cents": vat}]}


def counted(count, singular, plural):
    return f"{count} {singular if count == 1 else plural}"


def scope(charges, refunds, entries):
    """What a summary line says was compared: 'N charges, N refunds and N entries', the
    refunds named only when there are some."""
    objects = counted(charges, "charge", "charges")
    if refunds:
        objects += ", " + counted(refunds, "refund", "refunds")
    return f"{objects} and {counted(entries, 'entry', 'entries')}"


def with_ids(entries, first=1):
    """The entries numbered as the sandbox numbers them: ECR-000001, ..."""
    return [{"id": f"ECR-{number:06d}", **entry} for number, entry in enumerate(entries, first)]


def read_entries(books, first=SINCE, last=UNTIL):
    """The entries of the books that reconcile reads: journal VTE, dated within the period
    and its margin, with a libellé 'Paiement Stripe <charge id>' (a sale) or 'Remboursement
    Stripe <refund id> (<charge id>)' (a credit note)."""
    low = (datetime.date.fromisoformat(first) - MARGIN).isoformat()
    high = (datetime.date.fromisoformat(last) + MARGIN).isoformat()
    return [entry for entry in books if entry["journal"] == "VTE" and low <= entry["date"] <= high
            and (SALE_LIBELLE.fullmatch(entry["libelle"])
                 or CREDIT_NOTE_LIBELLE.fullmatch(entry["libelle"]))]


def table_rows(test, stdout):
    """(rows as 5-tuples, summary line) of a table report; checks header and alignment."""
    out = lines(stdout)
    test.assertGreaterEqual(len(out), 2, stdout)
    header, summary = out[0], out[-1]
    test.assertEqual(header.split(), ["KIND", "CHARGE", "DATE", "ENTRIES", "DETAIL"], stdout)
    test.assertRegex(header, r"^KIND {2,}CHARGE {2,}DATE {2,}ENTRIES {2,}DETAIL$")
    starts = [header.index(name) for name in ("CHARGE", "DATE", "ENTRIES", "DETAIL")]
    rows = []
    for row in out[1:-1]:
        cells, previous = [], 0
        for start in starts:
            test.assertTrue(row[start - 2:start] == "  " and row[start] != " ",
                            f"column not aligned at {start}:\n{header}\n{row}")
            cells.append(row[previous:start].strip())
            previous = start
        cells.append(row[previous:])
        rows.append(tuple(cells))
    return rows, summary


def csv_rows(test, stdout):
    """The records of a --format csv report after its header."""
    records = list(csv.reader(io.StringIO(stdout, newline="")))
    test.assertTrue(records, "no CSV header")
    test.assertEqual(records[0], ["kind", "charge", "date", "entry_ids", "detail"])
    return [tuple(record) for record in records[1:]]


def json_report(test, stdout):
    """(items, summary line) of a --json report; checks the key order of both."""
    items, summary = json_results(stdout)
    test.assertEqual(list(summary), ["summary", "exit_status"])
    test.assertEqual(list(summary["summary"]), SUMMARY_KEYS)
    for item in items:
        keys = JSON_ITEM_KEYS + [key for key in ("status", "fix_reason") if key in item]
        test.assertEqual(list(item), keys, item)
    return items, summary


class MemoryBooks:
    """A comptentra-sandbox that keeps its entries in memory only (no data file: rewriting a
    file of thousands of entries after each post makes a large backfill quadratic)."""

    def __init__(self, test, api_key, *flags):
        self.api_key = api_key
        self.process = ScriptProcess(test, SCRIPT, "--api-key", api_key, *flags)
        test.addCleanup(self.process.stop)
        self.url = f"http://127.0.0.1:{self.process.port}"

    def env(self):
        return {"COMPTENTRA_URL": self.url, "COMPTENTRA_API_KEY": self.api_key, **NO_PROXY}

    def stats(self):
        status, body = get_json(self.url + "/_sandbox/stats")
        if status != 200:
            raise AssertionError(f"/_sandbox/stats answered {status}: {body}")
        return body


class ReconcileTest(BackfillTest):
    """Runs reconcile against a Stripe and a Comptentra sandbox; every run is checked for a
    crash and for the keys of both in its output."""

    def reconcile(self, stripe, books, *args, json_output=False, global_flags=(), without=(),
                  env=None, timeout=RUN_TIMEOUT):
        """(status, stdout, stderr) of one run with the settings of both sandboxes (plus `env`,
        less the variables named in `without`)."""
        environment = {**stripe.env(), **books.env(), **(env or {})}
        for name in without:
            environment.pop(name)
        flags = [*(["--json"] if json_output else []), *global_flags]
        status, stdout, stderr = run([*flags, "reconcile", *args], env=environment,
                                     timeout=timeout)
        self.assert_no_crash(status, stdout, stderr)
        self.assert_no_secret(stdout, stderr, stripe.api_key, books.api_key,
                              environment.get("STRIPE_API_KEY"),
                              environment.get("COMPTENTRA_API_KEY"))
        return status, stdout, stderr

    def start_reconcile(self, stripe, books, *args, directory, env=None):
        """A reconcile run in the background, killed at the end of the test if still running:
        (process, path of its stdout, path of its stderr)."""
        name = f"run{time.monotonic_ns()}"
        out, err = directory / f"{name}.out", directory / f"{name}.err"
        with open(out, "wb") as stdout, open(err, "wb") as stderr:
            process = subprocess.Popen(
                [str(BINARY), "reconcile", *args], stdin=subprocess.DEVNULL, stdout=stdout,
                stderr=stderr, cwd=directory,
                env=clean_environment({**stripe.env(), **books.env(), **(env or {})}))

        def reap():
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
        self.addCleanup(reap)
        return process, out, err


def paris_period(args, now):
    """(first, last day) in Paris of `--last Nd`, `--last Nh` or `--since D` run at `now`."""
    today = datetime.datetime.fromtimestamp(now, PARIS).date()
    option, value = args
    if option == "--since":
        return datetime.date.fromisoformat(value), today
    if value.endswith("h"):
        return datetime.datetime.fromtimestamp(now - int(value[:-1]) * 3600, PARIS).date(), today
    return today - datetime.timedelta(days=int(value[:-1]) - 1), today


def log(label, text):
    print(f"\n[reconcile] {label}: {text}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- hand-made books

UNKNOWN = "ch_UnknownToStripe0000001"  # booked in November, unknown to Stripe
UNKNOWN_IN_MARGIN = "ch_UnknownInMargin0000001"  # booked on 2 December only: ignored
CHARGES = {  # name: (id, created, amount in cents, state)
    "matched": ("ch_Matched000000000000001", "2026-11-10T10:00:00Z", 2500, "captured"),
    "before_start": ("ch_EdgeBeforeStart0000001", "2026-10-31T22:30:00Z", 1990, "captured"),
    "after_start": ("ch_EdgeAfterStart00000001", "2026-10-31T23:30:00Z", 4900, "captured"),
    "before_end": ("ch_EdgeBeforeEnd000000001", "2026-11-30T22:30:00Z", 5990, "captured"),
    "after_end": ("ch_EdgeAfterEnd0000000001", "2026-11-30T23:30:00Z", 1200, "captured"),
    "after_end_booked": ("ch_EdgeAfterEndBooked0001", "2026-11-30T23:45:00Z", 3300, "captured"),
    "missing": ("ch_Missing000000000000001", "2026-11-15T12:00:00Z", 990, "captured"),
    "duplicate": ("ch_Duplicate0000000000001", "2026-11-12T09:00:00Z", 7500, "captured"),
    "wrong_amount": ("ch_WrongAmount00000000001", "2026-11-20T15:00:00Z", 5990, "captured"),
    "uncaptured": ("ch_Uncaptured000000000001", "2026-11-05T10:00:00Z", 1500, "uncaptured"),
    "failed": ("ch_Failed0000000000000001", "2026-11-06T10:00:00Z", 1600, "failed"),
    "pending": ("ch_Pending000000000000001", "2026-11-07T10:00:00Z", 1700, "pending"),
    "failed_unbooked": ("ch_FailedUnbooked00000001", "2026-11-08T10:00:00Z", 1800, "failed"),
}
ID = {name: spec[0] for name, spec in CHARGES.items()}
WRONG_AMOUNT_DETAIL = (  # booked as 59.00 instead of 59.90; lines in account order
    "line 411000 debit 59.90 expected; line 445712 credit 9.98 expected; line 707000 credit "
    "49.92 expected; line 411000 debit 59.00 found; line 445712 credit 9.83 found; line 707000 "
    "credit 49.17 found")
# (kind, charge name, date column, charge names of the entries, detail), in report order.
DIFFERENCES = [
    ("missing", "missing", "2026-11-15", None, "no entry for 9.90 EUR"),
    ("missing", "before_end", "2026-11-30", None, "no entry for 59.90 EUR"),
    ("duplicate", "duplicate", "2026-11-12", "duplicate", "2 entries for one charge"),
    ("mismatch", "after_start", "2026-11-01", "after_start",
     "date 2026-11-01 expected, 2026-10-31 found"),
    ("mismatch", "wrong_amount", "2026-11-20", "wrong_amount", WRONG_AMOUNT_DETAIL),
    ("mismatch", "after_end_booked", "2026-12-01", "after_end_booked",
     "date 2026-12-01 expected, 2026-11-30 found"),
    ("orphan", "uncaptured", "2026-11-05", "uncaptured",
     "the charge is an uncaptured authorisation"),
    ("orphan", "failed", "2026-11-06", "failed", "the charge failed"),
    ("orphan", "pending", "2026-11-07", "pending", "the charge is pending"),
    ("orphan", UNKNOWN, "2026-11-18", UNKNOWN, "Stripe has no such charge"),
]
LEFT_AFTER_FIX = "8 differences (1 duplicate, 3 mismatch, 4 orphan)"
PURCHASE = {"date": "2026-11-10", "journal": "ACH", "libelle": libelle("ch_Purchase01"),
            "lignes": [{"compte": "606000", "debit_cents": 5000, "credit_cents": 0},
                       {"compte": "401000", "debit_cents": 0, "credit_cents": 5000}]}


def hand_made_charges():
    return [charge(charge_id, instant, amount, state,
                   email=None if name == "wrong_amount" else f"{name}@example.org")
            for name, (charge_id, instant, amount, state) in CHARGES.items()]


class HandMadeBooks(ReconcileTest):
    """The hand-made charges and books of DIFFERENCES, started afresh for each test."""

    def setUp(self):
        self.charges = hand_made_charges()
        self.stripe = StripeSandbox(self, charges=self.charges, api_key=new_stripe_key())
        self.expected = {entry["libelle"]: entry
                         for entry in expected_entries(self, self.charges).values()}
        entry = lambda name: self.expected[libelle(ID[name])]  # noqa: E731
        named = [  # (charge name, entry), in the order of their ids
            ("matched", entry("matched")),
            ("before_start", entry("before_start")),  # 2026-10-31: margin only, matches
            ("after_start", {**entry("after_start"), "date": "2026-10-31"}),  # its UTC day
            ("after_end_booked", {**entry("after_end_booked"), "date": "2026-11-30"}),  # UTC day
            ("duplicate", entry("duplicate")), ("duplicate", entry("duplicate")),
            ("wrong_amount", sale_entry(ID["wrong_amount"], "2026-11-20", 5900)),
            ("uncaptured", sale_entry(ID["uncaptured"], "2026-11-05", 1500, "u@example.org")),
            ("failed", sale_entry(ID["failed"], "2026-11-06", 1600)),
            ("pending", sale_entry(ID["pending"], "2026-11-07", 1700)),
            (UNKNOWN, sale_entry(UNKNOWN, "2026-11-18", 2000)),
            (UNKNOWN_IN_MARGIN, sale_entry(UNKNOWN_IN_MARGIN, "2026-12-02", 2100)),
            (None, {"date": "2026-11-03", "journal": "VTE", "libelle": "Vente comptoir 2026-11-03",
                    "lignes": [{"compte": "530000", "debit_cents": 1200, "credit_cents": 0},
                               {"compte": "707000", "debit_cents": 0, "credit_cents": 1200}]}),
            (None, PURCHASE),  # journal ACH
            (None, sale_entry("ch_SeptemberPayment00001", "2026-09-14", 1200)),
        ]
        self.initial = with_ids([entry for _, entry in named])
        self.entry_ids = {}
        for (name, _), stored in zip(named, self.initial):
            self.entry_ids.setdefault(name, []).append(stored["id"])
        self.books = Sandbox(self, api_key=new_comptentra_key(), entries=self.initial)
        self.charge_count = sum(1 for item in self.charges if in_period(item))
        self.refund_count = sum(1 for item in self.stripe.refunds() if in_period(item))
        self.entry_count = len(read_entries(self.initial))

    def charge_id(self, name):
        return ID.get(name, name)

    def expected_rows(self, posted=None):
        """The rows of DIFFERENCES as (kind, charge, date, entry ids, detail); `posted` maps
        charge ids posted by --fix to their new entry id."""
        rows = []
        for kind, name, day, entries, detail in DIFFERENCES:
            ids = self.entry_ids.get(entries, []) if entries else []
            if posted is not None and kind == "missing":
                ids, detail = [posted[self.charge_id(name)]], detail + ": posted now"
            rows.append((kind, self.charge_id(name), day, ids, detail))
        return rows

    @staticmethod
    def as_table(rows):
        """Expected rows as the table prints them: ids joined by ", ", or "-"."""
        return [(kind, charge_id, day, ", ".join(ids) or "-", detail)
                for kind, charge_id, day, ids, detail in rows]

    def posted_ids(self):
        """{charge id: entry id} of the entries added after the initial ones."""
        return {entry["libelle"][len(libelle("")):]: entry["id"]
                for entry in self.books.entries()[len(self.initial):]}

    def summary(self, counts, entries=None, posted=0):
        line = (f"{SINCE} to {UNTIL}: {counts} over "
                + scope(self.charge_count, self.refund_count,
                        self.entry_count if entries is None else entries))
        return line + (f"; {posted} missing entries posted" if posted else "")

    def assert_unchanged_books_plus(self, added):
        """The books hold their first entries unchanged, then exactly `added` (without ids)."""
        stored = self.books.entries()
        self.assertEqual(stored[:len(self.initial)], self.initial, "an entry was edited or deleted")
        self.assertCountEqual([{key: value for key, value in entry.items() if key != "id"}
                               for entry in stored[len(self.initial):]], added)
