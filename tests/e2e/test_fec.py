"""End-to-end tests of the FEC export (Fichier des Écritures Comptables): `entry --format fec`
over the fixtures of tests/data/refunds/ and `backfill --dry-run --format fec` over a generated
month. The output is read back as bytes, decoded as ISO-8859-15 and parsed: the 18 columns in
their legal order, tab-separated, dates AAAAMMJJ, amounts with a decimal comma, balanced
entries numbered without gaps per journal, in date order; the entries match what `entry`
prints as JSON for the same inputs. Every server is on 127.0.0.1 with a free port.
"""

import datetime
import json
import re
import subprocess
import unittest
from collections import Counter

from backfill_support import (SINCE, UNTIL, BackfillTest, bookable, new_comptentra_key,
                              new_stripe_key, paris_day, settled_ttc)
from harness import BINARY, DATA, ERROR_PREFIX, TIME_LIMIT, clean_environment, data, run
from sandbox import Sandbox
from stripe_sandbox import StripeSandbox

COLUMNS = ["JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
           "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit",
           "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise"]
AMOUNT = re.compile(r"[0-9]+,[0-9]{2}")
PERIOD = ("--since", SINCE, "--until", UNTIL)
SEED = 11  # 300 charges of November 2026 with 14 refunds, JPY and USD among them
EXPONENT = {"jpy": 0, "kwd": 3}  # decimals of the minor unit; 2 for the other currencies
FIXTURES = ["refund_usd_expanded", "event_charge_refund_updated_midnight", "charge_eur_fee",
            "event_charge_refunded_two", "charge_jpy", "refund_jpy_expanded", "charge_kwd",
            "refund_kwd_expanded", "charge_usd", "event_refund_updated_tva_zero",
            "charge_eur_fee_zero", "charge_eur_latin9_email", "refund_partial_tva_5_5"]
# The foreign amounts written on each entry's lines, in line order (hand-computed).
FOREIGN = {
    "Paiement Stripe ch_3RfB04eZvKYlo2C0JpyChg": ("JPY", ["1500", "1250", "250"]),
    "Paiement Stripe ch_3RfB05eZvKYlo2C0KwdChg": ("KWD", ["12,340", "11,697", "0,643"]),
    "Paiement Stripe ch_3RfB06eZvKYlo2C0UsdChg": ("USD", ["50,00", "45,45", "4,55"]),
    "Remboursement Stripe re_3RfA07eZvKYlo2C0JpyFul (ch_3RfA07eZvKYlo2C0Ch0007)":
        ("JPY", ["1364", "136", "1500"]),
    "Remboursement Stripe re_3RfA08eZvKYlo2C0KwdPrt (ch_3RfA08eZvKYlo2C0Ch0008)":
        ("KWD", ["4,167", "0,833", "5,000"]),
    "Remboursement Stripe re_3RfA06eZvKYlo2C0UsdFul (ch_3RfA06eZvKYlo2C0Ch0006)":
        ("USD", ["16,67", "3,33", "20,00"]),
}
LATIN9_EMAIL = "françois.œuvre@exemple.fr"


def run_bytes(args, env=None):
    """(status, stdout bytes, stderr text) of a run, stdout left undecoded."""
    completed = subprocess.run([str(BINARY), *[str(arg) for arg in args]], input=b"",
                               capture_output=True, env=clean_environment(env),
                               timeout=TIME_LIMIT, cwd=DATA)
    return completed.returncode, completed.stdout, completed.stderr.decode("utf-8", "replace")


def cents(text):
    euros, decimals = text.split(",")
    return int(euros) * 100 + int(decimals)


def minor_units(amount, currency):
    """An amount in minor units written with the currency's decimals and a comma."""
    decimals = EXPONENT.get(currency, 2)
    if decimals == 0:
        return str(amount)
    digits = str(amount).rjust(decimals + 1, "0")
    return f"{digits[:-decimals]},{digits[-decimals:]}"


def piece_of(libelle, fee_pieces):
    """The Stripe object id an entry comes from, read from its libellé."""
    words = libelle.split(" ")
    return fee_pieces[words[2]] if words[0] == "Frais" else words[2]


class FecTest(BackfillTest):
    def parse(self, raw):
        """The FEC's records (dicts by column) in file order, after checking every rule that
        does not depend on the inputs."""
        self.assertNotIn(b"\r", raw)
        self.assertTrue(raw.endswith(b"\n"), raw[-200:])
        text = raw.decode("iso8859_15")
        rows = [line.split("\t") for line in text[:-1].split("\n")]
        self.assertEqual(rows[0], COLUMNS)
        records = []
        for row in rows[1:]:
            self.assertEqual(len(row), 18, row)
            records.append(dict(zip(COLUMNS, row)))
        numbers, last_date, seen = {}, "", set()
        for index, record in enumerate(records):
            for column in ("EcritureDate", "PieceDate", "ValidDate"):
                datetime.datetime.strptime(record[column], "%Y%m%d")
                self.assertRegex(record[column], r"^[0-9]{8}$")
            self.assertEqual(record["PieceDate"], record["EcritureDate"])
            self.assertGreaterEqual(record["EcritureDate"], last_date, "dates out of order")
            last_date = record["EcritureDate"]
            self.assertRegex(record["Debit"], AMOUNT)
            self.assertRegex(record["Credit"], AMOUNT)
            self.assertEqual(sorted([cents(record["Debit"]), cents(record["Credit"])])[0], 0)
            self.assertGreater(cents(record["Debit"]) + cents(record["Credit"]), 0)
            self.assertEqual((record["EcritureLet"], record["DateLet"]), ("", ""))
            self.assertEqual(record["CompAuxNum"], record["CompAuxLib"])
            self.assertEqual(bool(record["Montantdevise"]), bool(record["Idevise"]))
            number = record["EcritureNum"]
            if index == 0 or records[index - 1]["EcritureNum"] != number:
                self.assertNotIn(number, seen, "an entry's lines are not together")
                seen.add(number)
                journal = record["JournalCode"]
                numbers[journal] = numbers.get(journal, 0) + 1
                self.assertEqual(number, f"{journal}{numbers[journal]:06d}", "a gap in numbers")
        for number in seen:
            lines = [record for record in records if record["EcritureNum"] == number]
            self.assertEqual(sum(cents(line["Debit"]) for line in lines),
                             sum(cents(line["Credit"]) for line in lines), number)
            for column in ("JournalCode", "JournalLib", "EcritureDate", "PieceRef", "EcritureLib",
                           "Idevise"):
                self.assertEqual(len({line[column] for line in lines}), 1, (number, column))
        return records

    def entries_of(self, records):
        """The entries of a FEC as `entry` prints them, each with its piece and foreign amounts."""
        grouped = {}
        for record in records:
            grouped.setdefault(record["EcritureNum"], []).append(record)
        entries = []
        for lines in grouped.values():
            first = lines[0]
            day = first["EcritureDate"]
            entries.append(({
                "date": f"{day[:4]}-{day[4:6]}-{day[6:]}", "journal": first["JournalCode"],
                "libelle": first["EcritureLib"],
                "lignes": [{"compte": line["CompteNum"],
                            **({"tiers_email": line["CompAuxLib"]} if line["CompAuxLib"] else {}),
                            "debit_cents": cents(line["Debit"]),
                            "credit_cents": cents(line["Credit"])} for line in lines]},
                first["PieceRef"], first["Idevise"], [line["Montantdevise"] for line in lines]))
        return entries


class EntryFec(FecTest):
    def test_fixtures_as_a_fec(self):
        paths = [data("refunds", f"{name}.json") for name in FIXTURES]
        status, raw, stderr = run_bytes(["entry", "--format", "fec", "--with-fees", *paths])
        self.assertEqual((status, stderr), (0, ""))
        entries = self.entries_of(self.parse(raw))
        status, stdout, stderr = run(["entry", "--with-fees", *paths])
        self.assertEqual((status, stderr), (0, ""))
        printed = [json.loads(line) for line in stdout.splitlines()]
        by_date = sorted(printed, key=lambda item: item["date"])  # stable: input order kept
        self.assertEqual([item for item, *_ in entries], by_date)
        self.assertEqual(Counter(item["journal"] for item in printed), {"VTE": 14, "BQ": 5})
        fee_pieces = {f"ch_3RfB0{n}eZvKYlo2C0{s}": f"txn_3RfB0{n}eZvKYlo2C0{s}" for n, s in (
            ("1", "EurFee"), ("4", "JpyChg"), ("5", "KwdChg"), ("6", "UsdChg"), ("7", "Latin9"))}
        for item, piece, currency, amounts in entries:
            with self.subTest(libelle=item["libelle"]):
                self.assertEqual(piece, piece_of(item["libelle"], fee_pieces))
                self.assertEqual((currency, amounts), FOREIGN.get(
                    item["libelle"], ("", [""] * len(item["lignes"]))))
        self.assertEqual(entries[0][0]["date"], "2026-03-14")
        self.assertEqual(entries[-1][0]["date"], "2026-04-01")

    def test_customer_email_and_iso_8859_15(self):
        path = data("refunds", "charge_eur_latin9_email.json")
        status, raw, stderr = run_bytes(["entry", "--format", "fec", path])
        self.assertEqual((status, stderr), (0, ""))
        self.assertIn(b"\t" + LATIN9_EMAIL.encode("iso8859_15") + b"\t", raw)
        self.assertNotIn(LATIN9_EMAIL.encode("utf-8"), raw)
        records = self.parse(raw)
        self.assertEqual([(r["CompteNum"], r["CompAuxLib"], r["Debit"], r["Credit"])
                          for r in records], [("411000", LATIN9_EMAIL, "29,90", "0,00"),
                                              ("707000", "", "0,00", "28,34"),
                                              ("445712", "", "0,00", "1,56")])
        self.assertEqual({r["PieceRef"] for r in records}, {"ch_3RfB07eZvKYlo2C0Latin9"})
        self.assertEqual({(r["JournalCode"], r["EcritureNum"]) for r in records},
                         {("VTE", "VTE000001")})

    def test_invalid_inputs_are_left_out(self):
        good = data("refunds", "refund_partial_tva_5_5.json")
        bad = data("refunds", "refund_usd_unexpanded_balance.json")
        pending = data("refunds", "refund_pending.json")
        status, raw, stderr = run_bytes(["entry", "--format", "fec", bad, pending, good])
        self.assertEqual(status, 65)
        self.assertEqual([r["PieceRef"] for r in self.parse(raw)],
                         ["re_3RfA02eZvKYlo2C0Part55"] * 3)
        errors = [line for line in stderr.splitlines() if line.startswith(ERROR_PREFIX)]
        self.assertEqual(len(errors), 1, stderr)
        self.assertIn(bad, errors[0])
        self.assertIn(f"{pending}: skipped re_3RfA11eZvKYlo2C0Pendng", stderr)
        status, raw, stderr = run_bytes(["entry", "--format", "fec", pending])
        self.assertEqual((status, raw.decode("ascii")), (0, "\t".join(COLUMNS) + "\n"))


class BackfillFec(FecTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stripe = StripeSandbox(cls, "--generate", 300, "--seed", SEED, *PERIOD,
                                   api_key=new_stripe_key())
        cls.charges = {c["id"]: c for c in cls.stripe.expanded_charges()}
        cls.refunds = cls.stripe.data()["refunds"]
        cls.transactions = {t["id"]: t for t in cls.stripe.data()["balance_transactions"]}
        cls.bookable = [c for c in cls.charges.values() if bookable(c)]
        cls.fees = {c["balance_transaction"]["id"]: c for c in cls.bookable
                    if c["balance_transaction"]["fee"]}

    def dry_fec(self, books, *flags):
        env = {**self.stripe.env(), **books.env()}
        return run_bytes(["backfill", *PERIOD, "--dry-run", "--format", "fec", *flags], env=env)

    def test_dry_run_fec_of_a_generated_month(self):
        self.assertTrue({"jpy", "kwd", "usd"} <= {c["currency"] for c in self.bookable})
        self.assertTrue({"jpy", "usd"} <= {r["currency"] for r in self.refunds})
        books = Sandbox(self, api_key=new_comptentra_key())
        status, raw, stderr = self.dry_fec(books, "--with-fees")
        count = len(self.bookable) + len(self.refunds) + len(self.fees)
        skipped = len(self.charges) - len(self.bookable)
        self.assertEqual((status, stderr), (0, f"{count + skipped} items: {skipped} skipped, "
                                               f"{count} would_post\n"))
        self.assertEqual(books.stats()["posts"], 0)
        entries = self.entries_of(self.parse(raw))
        pieces = Counter(piece for _, piece, *_ in entries)
        self.assertEqual(set(pieces), {c["id"] for c in self.bookable} | set(self.fees)
                         | {r["id"] for r in self.refunds})
        self.assertEqual(max(pieces.values()), 1, "an object written twice")
        self.assertEqual(Counter(item["journal"] for item, *_ in entries),
                         {"VTE": len(self.bookable) + len(self.refunds), "BQ": len(self.fees)})
        for item, piece, currency, amounts in entries:
            with self.subTest(piece=piece):
                self.check_entry(item, piece, currency, amounts)

    def check_entry(self, item, piece, currency, amounts):
        if piece.startswith("txn_"):
            charge = self.fees[piece]
            fee = charge["balance_transaction"]["fee"]
            self.assertEqual((item["libelle"], item["date"], item["lignes"], currency, amounts), (
                f"Frais Stripe {charge['id']}", paris_day(charge["created"]),
                [{"compte": "627800", "debit_cents": fee, "credit_cents": 0},
                 {"compte": "512700", "debit_cents": 0, "credit_cents": fee}], "", ["", ""]))
            return
        if piece.startswith("re_"):
            refund = next(r for r in self.refunds if r["id"] == piece)
            charge = self.charges[refund["charge"]]
            original, created, customer = refund["amount"], refund["created"], item["lignes"][-1]
            euros = original if refund["currency"] == "eur" else \
                -self.transactions[refund["balance_transaction"]]["amount"]
            self.assertEqual(customer["credit_cents"], euros)
            index = len(amounts) - 1
        else:
            charge = self.charges[piece]
            original, created, customer = charge["amount_captured"], charge["created"], \
                item["lignes"][0]
            self.assertEqual(customer["debit_cents"], settled_ttc(charge))
            index = 0
        self.assertEqual(item["date"], paris_day(created))
        self.assertEqual(customer["compte"], "411000")
        email = charge.get("receipt_email") or charge["billing_details"].get("email")
        self.assertEqual(customer.get("tiers_email"), email)
        if charge["currency"] == "eur":
            self.assertEqual((currency, set(amounts)), ("", {""}))
            return
        self.assertEqual(currency, charge["currency"].upper())
        self.assertEqual(amounts[index], minor_units(original, charge["currency"]))
        parts = amounts[:index] + amounts[index + 1:]
        self.assertEqual(sum(int(part.replace(",", "")) for part in parts), original)

    def test_dry_run_fec_of_booked_books_is_the_header_alone(self):
        books = Sandbox(self, api_key=new_comptentra_key())
        status, _, stderr, _ = self.backfill(self.stripe, books, *PERIOD)
        self.assertEqual(status, 0, stderr[-2000:])
        status, raw, stderr = self.dry_fec(books)
        count = len(self.bookable) + len(self.refunds)
        skipped = len(self.charges) - len(self.bookable)
        self.assertEqual((status, raw, stderr), (0, ("\t".join(COLUMNS) + "\n").encode(),
                                                 f"{count + skipped} items: {count} exists, "
                                                 f"{skipped} skipped\n"))

    def test_json_results_go_to_stderr(self):
        books = Sandbox(self, api_key=new_comptentra_key())
        status, raw, stderr = run_bytes(["--json", "backfill", *PERIOD, "--dry-run", "--format",
                                         "fec"], env={**self.stripe.env(), **books.env()})
        self.assertEqual(status, 0, stderr[-2000:])
        pieces = {record["PieceRef"] for record in self.parse(raw)}
        *results, summary = [json.loads(text) for text in stderr.splitlines()]
        count = len(self.bookable) + len(self.refunds)
        skipped = len(self.charges) - len(self.bookable)
        self.assertEqual(summary, {"summary": {"skipped": skipped, "would_post": count},
                                   "exit_status": 0})
        self.assertEqual({r["id"] for r in results if r["status"] == "would_post"}, pieces)
        self.assertEqual(len(pieces), count)
        self.assertFalse([r for r in results if "entry" in r], "entries outside the FEC")

    def test_fec_without_dry_run_is_a_usage_error(self):
        books = Sandbox(self, api_key=new_comptentra_key())
        env = {**self.stripe.env(), **books.env()}
        before = (self.stripe.stats()["requests"], books.stats()["requests"])
        for flags in ((), ("--with-fees",)):
            with self.subTest(flags=flags):
                self.assertEqual(run_bytes(["backfill", *PERIOD, "--format", "fec", *flags],
                                           env=env), (2, b"", (
                    f"{ERROR_PREFIX}--format fec is for a dry run: add --dry-run\n"
                    "stripe-comptentra: hint: a FEC of what the books hold is exported from "
                    "Comptentra itself\n")))
        self.assertEqual((self.stripe.stats()["requests"], books.stats()["requests"]), before)


if __name__ == "__main__":
    unittest.main()
