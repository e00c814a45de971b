"""End-to-end tests of refunds (credit notes), Stripe fees and foreign currencies: `entry` of
the fixtures in tests/data/refunds/ (their README lists the hand-computed amounts), `post` of
refunds against the local Comptentra with and without the local Stripe for lookups, then
`backfill` and `reconcile` over a generated month that holds refunds. The expected entries of
the generated month are computed here from the sandbox's data file, not by the binary. Every
server is on 127.0.0.1 with a free port; every run has a timeout.
"""

import json
import unittest
from collections import Counter

from backfill_support import (SINCE, UNTIL, BackfillTest, bookable, json_results,
                              new_comptentra_key, new_stripe_key, paris_day, vat_of)
from harness import DATA, ERROR_PREFIX, BinaryTest, TempDir, data, run
from post_support import PostTest, without_id
from sandbox import LocalServer, Sandbox
from stripe_sandbox import STRIPE_SCRIPT, StripeSandbox

PERIOD = ("--since", SINCE, "--until", UNTIL)
SEED = 22  # 300 charges of November 2026 with 11 refunds (USD, KWD, 10 % and 5.5 % among them)
NOTE = ("VAT at the configured rate of {} %: the refunded charge {} was not looked up (no Stripe "
        "key)")
INCOMPLETE = ("the event does not list all the charge's refunds (with a Stripe key set, they are "
              "looked up)")


def fixture(name):
    return data("refunds", f"{name}.json")


def line(account, debit=0, credit=0, email=None):
    item = {"compte": account}
    if email is not None:
        item["tiers_email"] = email
    item.update(debit_cents=debit, credit_cents=credit)
    return item


def credit_note(refund, charge, date, ht, tva, ttc, email=None):
    lines = [line("707000", debit=ht)] + ([line("445712", debit=tva)] if tva else [])
    return {"date": date, "journal": "VTE", "libelle": f"Remboursement Stripe {refund} ({charge})",
            "lignes": lines + [line("411000", credit=ttc, email=email)]}


def sale(charge, date, ttc, ht, tva, email=None):
    lines = [line("411000", debit=ttc, email=email), line("707000", credit=ht)]
    return {"date": date, "journal": "VTE", "libelle": f"Paiement Stripe {charge}",
            "lignes": lines + ([line("445712", credit=tva)] if tva else [])}


def fee(charge, date, amount, journal="BQ", accounts=("627800", "512700")):
    return {"date": date, "journal": journal, "libelle": f"Frais Stripe {charge}",
            "lignes": [line(accounts[0], debit=amount), line(accounts[1], credit=amount)]}


def out(*entries):
    return "".join(json.dumps(item, separators=(",", ":"), ensure_ascii=False) + "\n"
                   for item in entries)


R, C, D, S = "re_3RfA", "ch_3RfA", "2026-03-20", "2026-03-14"
ID_ONLY, ID_ONLY_CHARGE = f"{R}10eZvKYlo2C0NoChrg", f"{C}10eZvKYlo2C0Ch0010"
TWO = [f"{R}12eZvKYlo2C0TwoBbb", f"{R}12eZvKYlo2C0TwoAaa"]
REFUNDS = ["refund_full_expanded_charge", "refund_partial_tva_5_5", "event_refund_created_tva_10",
           "event_refund_updated_tva_zero", "event_charge_refund_updated_midnight",
           "refund_usd_expanded", "refund_jpy_expanded", "refund_kwd_expanded"]
CHARGES = ["charge_eur_fee", "charge_eur_fee_zero", "charge_jpy", "charge_kwd", "charge_usd",
           "charge_eur_latin9_email"]


def expected(name, with_fees=False):
    """The exact stdout of `entry` (with --with-fees: of `entry --with-fees`) for a fixture,
    hand-computed (tests/data/refunds/README.md)."""
    fees = DATA / "refunds" / f"{name}.with_fees.expected"
    path = fees if with_fees and fees.is_file() else DATA / "refunds" / f"{name}.expected"
    return path.read_text()


def entries(name):
    return [json.loads(text) for text in expected(name).splitlines()]


def refund_of(note):
    return note["libelle"].split(" ")[2]


class EntryOfRefunds(BinaryTest):
    def test_each_credit_note(self):
        for name in REFUNDS + ["event_charge_refunded_two", "refund_of_event_two"]:
            with self.subTest(fixture=name):
                self.assertEqual(run(["entry", fixture(name)]), (0, expected(name), ""))
                # A refund never books a fee.
                self.assertEqual(run(["entry", "--with-fees", fixture(name)]),
                                 (0, expected(name), ""))
        self.assertEqual([refund_of(note) for note in entries("event_charge_refunded_two")], TWO)

    def test_credit_note_day_is_in_the_books_zone(self):
        name = "event_charge_refund_updated_midnight"
        self.assertIn('"date":"2026-04-01"', expected(name))
        self.assertEqual(run(["entry", "--timezone", "UTC", fixture(name)]),
                         (0, expected(name).replace("2026-04-01", "2026-03-31"), ""))

    def test_unknown_refunded_charge_gives_a_note(self):
        path = fixture("refund_charge_id_only")
        self.assertEqual(run(["entry", path]), (0, expected("refund_charge_id_only"),
                         f"{path}: {ID_ONLY}: {NOTE.format('20', ID_ONLY_CHARGE)}\n"))
        self.assertEqual(run(["entry", "--vat-rate", "5,5", path]), (0, out(credit_note(
            ID_ONLY, ID_ONLY_CHARGE, D, 2844, 156, 3000)),
            f"{path}: {ID_ONLY}: {NOTE.format('5.5', ID_ONLY_CHARGE)}\n"))

    def test_pending_refunds_are_skipped(self):
        path = fixture("refund_pending")
        self.assertEqual(run(["entry", path]),
                         (0, "", f"{path}: skipped {R}11eZvKYlo2C0Pendng: the refund is pending\n"))
        path = fixture("event_charge_refunded_pending")
        self.assertEqual(run(["entry", path]), (0, expected("event_charge_refunded_pending"),
                         f"{path}: skipped {R}13eZvKYlo2C0PendB: the refund is pending\n"))

    def test_a_refund_is_booked_once_per_run(self):
        path, again = fixture("event_charge_refunded_two"), fixture("refund_of_event_two")
        self.assertEqual(run(["entry", path, again]), (0, expected("event_charge_refunded_two"),
                         f"{again}: skipped {TWO[1]}: same entry as {path}\n"))

    def test_charge_refunded_without_a_complete_list(self):
        path = fixture("event_charge_refunded_empty")
        self.assertEqual(run(["entry", path]), (
            0, "", f"{path}: skipped {C}14eZvKYlo2C0Ch0014: the charge lists no refund\n"))
        for name, charge in (("event_charge_refunded_no_list", f"{C}15eZvKYlo2C0Ch0015"),
                             ("event_charge_refunded_has_more", f"{C}16eZvKYlo2C0Ch0016")):
            with self.subTest(fixture=name):
                path = fixture(name)
                self.assertEqual(run(["entry", path]), (
                    65, "", f"{ERROR_PREFIX}{path}: invalid {charge}: {INCOMPLETE}\n"))

    def test_foreign_refund_without_its_balance_transaction_is_invalid(self):
        path = fixture("refund_usd_unexpanded_balance")
        self.assertEqual(run(["entry", path]), (65, "", (
            f"{ERROR_PREFIX}{path}: invalid {R}09eZvKYlo2C0UsdIdO: the refund is in usd: its EUR "
            "amount comes from its balance transaction, which the input does not include (with "
            "a Stripe key set, it is looked up)\n")))


class EntryOfFees(BinaryTest):
    def test_sales_without_and_with_fees(self):
        for name in CHARGES:
            with self.subTest(fixture=name):
                self.assertEqual(run(["entry", fixture(name)]), (0, expected(name), ""))
                self.assertEqual(run(["entry", "--with-fees", fixture(name)]),
                                 (0, expected(name, with_fees=True), ""))
        self.assertEqual(expected("charge_eur_fee_zero", True), expected("charge_eur_fee_zero"))

    def test_fee_needs_the_balance_transaction(self):
        path = fixture("charge_eur_fee_unexpanded")
        self.assertEqual(run(["entry", "--with-fees", path]), (
            65, expected("charge_eur_fee_unexpanded"), (
            f"{ERROR_PREFIX}{path}: invalid txn_3RfB03eZvKYlo2C0EurIdO: the fee of "
            "ch_3RfB03eZvKYlo2C0EurIdO is in its balance transaction, which the input does not "
            "include (with a Stripe key set, it is looked up)\n")))

    def test_no_fee_for_a_charge_that_books_no_sale(self):
        path = data("entry", "charge_failed.json")
        status, stdout, stderr = run(["entry", "--with-fees", path])
        self.assertEqual((status, stdout), (0, ""))
        self.assertEqual(len(stderr.splitlines()), 1, stderr)
        self.assertTrue(stderr.startswith(f"{path}: skipped ch_"), stderr)

    def test_fees_from_the_config_file(self):
        tmp = TempDir(self)
        config = tmp.write("fees.toml", '[ledger]\nbook_fees = true\nfees_journal = "BQ2"\n'
                                        'fees_account = "627000"\nstripe_account = "512000"\n')
        custom = fee("ch_3RfB01eZvKYlo2C0EurFee", S, 175, "BQ2", ("627000", "512000"))
        self.assertEqual(run(["--config", config, "entry", fixture("charge_eur_fee")]),
                         (0, expected("charge_eur_fee") + out(custom), ""))
        off = tmp.write("off.toml", "[ledger]\nbook_fees = false\n")
        self.assertEqual(run(["--config", off, "entry", fixture("charge_eur_fee")]),
                         (0, expected("charge_eur_fee"), ""))


class PostRefunds(PostTest):
    def test_refunds_posted_once_then_exist(self):
        names = REFUNDS + ["event_charge_refunded_two", "refund_charge_id_only"]
        paths = [fixture(name) for name in names]
        notes = [note for name in names for note in entries(name)]
        inputs = [fixture(name) for name in names for _ in entries(name)]
        ids = [refund_of(note) for note in notes]
        books = Sandbox(self)
        status, stdout, stderr = self.json_post(books, *paths)
        self.assertEqual((status, stderr), (0, ""))
        items, summary = json_results(stdout)
        self.assertEqual(summary, {"summary": {"posted": 11}, "exit_status": 0})
        stored = {stored_entry["libelle"]: stored_entry for stored_entry in books.entries()}
        self.assertEqual(len(stored), len(notes))
        self.assertEqual([without_id(stored[note["libelle"]]) for note in notes], notes)
        numbers = [stored[note["libelle"]]["id"] for note in notes]
        want = [{"input": path, "id": refund, "status": "posted", "entry_id": number}
                for path, refund, number in zip(inputs, ids, numbers)]
        want[-1]["note"] = NOTE.format("20", ID_ONLY_CHARGE)
        self.assertEqual(items, want)
        keys = json.loads(books.data_bytes())["idempotency"]
        self.assertEqual(sorted(keys), sorted(f"stripe-comptentra-refund-{re}" for re in ids))

        status, stdout, stderr = self.post(books, *paths)
        self.assertEqual((status, stderr), (0, "11 inputs: 11 exists\n"))
        self.assertEqual(stdout, "".join(
            f"{path}: exists {refund} {number}"
            + (f" ({NOTE.format('20', ID_ONLY_CHARGE)})" if refund == ID_ONLY else "") + "\n"
            for path, refund, number in zip(inputs, ids, numbers)))
        self.assertEqual({stored_entry["libelle"]: stored_entry for stored_entry in books.entries()},
                         stored, "the second run changed the books")
        self.assertEqual(books.stats()["posts"], 11, "the second run posted again")

    def test_post_with_fees(self):
        books = Sandbox(self)
        path, charge = fixture("charge_eur_fee"), "ch_3RfB01eZvKYlo2C0EurFee"
        # One worker, so that the books number the sale and then its fee.
        status, stdout, stderr = self.post(books, "--with-fees", "--concurrency", "1", path)
        self.assertEqual((status, stdout, stderr), (0, (
            f"{path}: posted {charge} ECR-000001\n"
            f"{path}: posted txn_3RfB01eZvKYlo2C0EurFee ECR-000002\n"), "2 inputs: 2 posted\n"))
        self.assertEqual(out(*map(without_id, books.entries())), expected("charge_eur_fee", True))
        self.assertEqual(sorted(json.loads(books.data_bytes())["idempotency"]), [
            f"stripe-comptentra-fee-{charge}", f"stripe-comptentra-sale-{charge}"])
        status, stdout, stderr = self.post(books, "--with-fees", path)
        self.assertEqual((status, stderr), (0, "2 inputs: 2 exists\n"))
        self.assertEqual(books.stats()["posts"], 2)

    def test_incomplete_charge_refunded_without_a_stripe_key_is_invalid(self):
        books = Sandbox(self)
        path = fixture("event_charge_refunded_no_list")
        self.assertEqual(self.post(books, path),
                         (65, f"{path}: invalid {C}15eZvKYlo2C0Ch0015: {INCOMPLETE}\n", ""))
        self.assertEqual(books.entries(), [])

    def test_refunds_looked_up_with_a_stripe_key(self):
        stripe = ServedStripe(self, served())
        books = Sandbox(self)
        no_list, has_more = fixture("event_charge_refunded_no_list"), fixture(
            "event_charge_refunded_has_more")
        only_id = fixture("refund_charge_id_only")
        status, stdout, stderr = self.json_post(books, no_list, has_more, only_id,
                                                env=stripe.env())
        self.assertEqual((status, stderr), (0, ""))
        items, summary = json_results(stdout)
        self.assertEqual(summary, {"summary": {"posted": 5}, "exit_status": 0})
        self.assertEqual(Counter(item["input"] for item in items),
                         {no_list: 2, has_more: 2, only_id: 1})
        self.assertFalse([item for item in items if "note" in item], "the charge was looked up")
        # Hand-computed: 10 % for ...Ch0015, USD settled in EUR for ...Ch0016, 5.5 % and the
        # looked-up email for ...Ch0010.
        notes = entries("stripe_served")
        self.assertEqual(sorted(item["id"] for item in items), sorted(map(refund_of, notes)))
        self.assertEqual(sorted(map(without_id, books.entries()), key=refund_of),
                         sorted(notes, key=refund_of))
        self.assertGreaterEqual(stripe.stats()["list_requests"], 2, "no refund list asked")
        status, stdout, stderr = self.json_post(books, no_list, has_more, only_id,
                                                env=stripe.env())
        self.assertEqual(json_results(stdout)[1], {"summary": {"exists": 5}, "exit_status": 0})
        self.assertEqual(books.stats()["posts"], 5)

    # BUG: reconcile counts a refund looked up for an unclaimed credit note (GET /v1/refunds/{id})
    # among the refunds but never among the objects checked, so "charges" (checked - refunds)
    # underflows: with no charge in the period it says 18446744073709551615 charges, not 0.
    def test_reconcile_counts_after_looking_up_an_unclaimed_refund(self):
        stripe = ServedStripe(self, served())
        note = dict(entries("stripe_served")[0], date="2026-03-25")  # its refund is of 2026-03-20
        books = Sandbox(self, entries=[dict(note, id="ECR-000001")])
        status, stdout, stderr = run(["--json", "reconcile", "--since", "2026-03-21", "--until",
                                      "2026-03-31", "--lock", TempDir(self).path / "lock"],
                                     env={**stripe.env(), **books.env()})
        self.assertEqual((status, stderr), (1, ""))
        *items, summary = [json.loads(text) for text in stdout.splitlines()]
        self.assertEqual([(item["kind"], item["charge"], item["reason"]) for item in items], [(
            "mismatch", f"{R}15eZvKYlo2C0SrvAaa", "date 2026-03-20 expected, 2026-03-25 found")])
        self.assertEqual(summary["summary"]["charges"], 0)

    # BUG: a refunded charge looked up from Stripe (cli/settlement.cpp) takes its email as
    # `receipt_email ? receipt_email : billing email`, so an empty receipt_email gives the
    # credit note `"tiers_email": ""` where the sale (and an expanded charge) use the billing email.
    def test_looked_up_charge_with_an_empty_receipt_email(self):
        document = served()
        for charge in document["charges"]:
            charge["receipt_email"], charge["billing_details"]["email"] = "", "bill@example.fr"
        stripe = ServedStripe(self, document)
        self.assertEqual(run(["entry", fixture("refund_charge_id_only")], env=stripe.env()), (
            0, out(credit_note(ID_ONLY, ID_ONLY_CHARGE, D, 2844, 156, 3000, "bill@example.fr")),
            ""))


def served():
    """What the Stripe sandbox serves for the lookups (charges, refunds, transactions)."""
    return json.loads((DATA / "refunds" / "stripe_served.json").read_text())


class ServedStripe(StripeSandbox):
    """The Stripe sandbox serving a whole data document (charges, refunds, transactions)."""

    def __init__(self, owner, document):
        self.api_key = new_stripe_key()
        self._data = None
        LocalServer.__init__(self, owner, STRIPE_SCRIPT, "stripe.json", ("--api-key", self.api_key),
                             (), document)


def rate_of(charge):
    return (charge.get("metadata") or {}).get("tva_rate") or "20"


def email_of(charge):
    return charge.get("receipt_email") or (charge.get("billing_details") or {}).get("email")


def model_sale(charge):
    ttc = (charge["amount_captured"] or charge["amount"]) if charge["currency"] == "eur" \
        else charge["balance_transaction"]["amount"]
    tva = vat_of(ttc, rate_of(charge))
    return sale(charge["id"], paris_day(charge["created"]), ttc, ttc - tva, tva, email_of(charge))


def model_credit_note(refund, charge, transactions):
    ttc = refund["amount"] if refund["currency"] == "eur" \
        else -transactions[refund["balance_transaction"]]["amount"]
    tva = vat_of(ttc, rate_of(charge))
    return credit_note(refund["id"], charge["id"], paris_day(refund["created"]), ttc - tva, tva,
                       ttc, email_of(charge))


class BackfillWithRefunds(BackfillTest):
    """A generated November 2026 with refunds: the books after backfill, twice, with and
    without fees, then reconcile of the same period."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stripe = StripeSandbox(cls, "--generate", 300, "--seed", SEED, *PERIOD,
                                   api_key=new_stripe_key())
        transactions = {t["id"]: t for t in cls.stripe.data()["balance_transactions"]}
        cls.charges = charges = {c["id"]: c for c in cls.stripe.expanded_charges()}
        cls.refunds = cls.stripe.data()["refunds"]
        chosen = [c for c in charges.values() if bookable(c)]
        cls.sales = {e["libelle"]: e for e in map(model_sale, chosen)}
        notes = [model_credit_note(r, charges[r["charge"]], transactions) for r in cls.refunds]
        fees = [fee(c["id"], paris_day(c["created"]), c["balance_transaction"]["fee"])
                for c in chosen if c["balance_transaction"]["fee"]]
        cls.notes, cls.fees = ({e["libelle"]: e for e in items} for items in (notes, fees))
        cls.skipped = len(charges) - len(chosen)

    def test_generated_set_is_worth_testing(self):
        self.assertGreaterEqual(len(self.refunds), 8)
        self.assertTrue(all(r["status"] == "succeeded" for r in self.refunds))
        self.assertTrue({"usd", "kwd"} <= {r["currency"] for r in self.refunds})
        self.assertTrue(any(r["amount"] < self.charges[r["charge"]]["amount_captured"]
                            for r in self.refunds), "no partial refund")
        self.assertTrue({"10", "5.5"} <= {rate_of(self.charges[r["charge"]])
                                          for r in self.refunds}, "too few VAT rates")

    def books_run(self, books, *flags):
        status, stdout, stderr, _ = self.backfill(self.stripe, books, *PERIOD, *flags)
        self.assertEqual(status, 0, stderr[-2000:])
        return json_results(stdout)

    def assert_books(self, books, expected):
        stored = books.entries()
        counts = Counter(e["libelle"] for e in stored)
        self.assertEqual([name for name, count in counts.items() if count > 1], [])
        self.assertEqual({e["libelle"]: without_id(e) for e in stored}, expected)

    def test_backfill_twice_without_fees(self):
        books = Sandbox(self, api_key=new_comptentra_key())
        items, summary = self.books_run(books)
        expected = {**self.sales, **self.notes}
        self.assertEqual(summary["summary"], {"posted": len(expected), "skipped": self.skipped})
        self.assertEqual({i["id"] for i in items if i["id"].startswith("re_")},
                         {r["id"] for r in self.refunds})
        self.assert_books(books, expected)
        _, summary = self.books_run(books)
        self.assertEqual(summary["summary"], {"exists": len(expected), "skipped": self.skipped})
        self.assertEqual(books.stats()["posts"], len(expected))
        # Fees later: only the fee entries are posted.
        items, summary = self.books_run(books, "--with-fees")
        self.assertEqual(summary["summary"], {"exists": len(expected), "posted": len(self.fees),
                                              "skipped": self.skipped})
        self.assertTrue(all(i["id"].startswith("txn_") for i in items if i["status"] == "posted"))
        self.assert_books(books, {**expected, **self.fees})

    def test_backfill_twice_with_fees_then_reconcile(self):
        books = Sandbox(self, api_key=new_comptentra_key())
        expected = {**self.sales, **self.notes, **self.fees}
        for status_name in ("posted", "exists"):
            _, summary = self.books_run(books, "--with-fees")
            self.assertEqual(summary["summary"], {status_name: len(expected),
                                                  "skipped": self.skipped})
            self.assert_books(books, expected)
        self.assertEqual(books.stats()["posts"], len(expected))
        tmp = TempDir(self)
        env = {**self.stripe.env(), **books.env()}
        for flags in ((), ("--with-fees",)):
            self.assertEqual(run(["reconcile", *PERIOD, "--lock", tmp.path / "lock", *flags],
                                 env=env), (0, (
                f"{SINCE} to {UNTIL}: the books match Stripe (300 charges, {len(self.notes)} "
                f"refunds and {len(self.sales) + len(self.notes)} entries)\n"), ""))

    def test_reconcile_finds_and_fixes_a_missing_credit_note(self):
        expected = {**self.sales, **self.notes}
        left_out = sorted(self.notes)[0]
        refund = left_out.split(" ")[2]
        held = [dict(e, id=f"ECR-{n:06d}") for n, e in enumerate(
            (e for name, e in sorted(expected.items()) if name != left_out), start=1)]
        books = Sandbox(self, api_key=new_comptentra_key(), entries=held)
        tmp = TempDir(self)
        env = {**self.stripe.env(), **books.env()}
        args = ["--json", "reconcile", *PERIOD, "--lock", tmp.path / "lock"]
        status, stdout, stderr = run(args, env=env)
        self.assertEqual((status, stderr), (1, ""))
        *differences, summary = [json.loads(text) for text in stdout.splitlines()]
        self.assertEqual([(d["kind"], d["charge"], d["expected"]) for d in differences],
                         [("missing", refund, self.notes[left_out])])
        self.assertEqual(summary["summary"]["refunds"], len(self.notes))
        self.assertEqual(summary["summary"]["missing"], 1)
        status, stdout, stderr = run(args + ["--fix"], env=env)
        self.assertEqual((status, stderr), (0, ""))
        self.assertEqual(json.loads(stdout.splitlines()[0])["status"], "posted")
        self.assertEqual(books.stats()["posts"], 1)
        self.assert_books(books, expected)
        self.assertEqual(json.loads(books.data_bytes())["idempotency"].keys(),
                         {f"stripe-comptentra-refund-{refund}"})
        status, stdout, _ = run(args + ["--fix"], env=env)
        self.assertEqual((status, json.loads(stdout)["summary"]["fixed"]), (0, 0))
        self.assertEqual(books.stats()["posts"], 1)


if __name__ == "__main__":
    unittest.main()
