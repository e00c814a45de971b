"""End-to-end tests of `stripe-comptentra entry`, driven by the cases in tests/data/entry/.

A case is `<case>.json` (a Stripe event or charge) plus one of:
  <case>.expected  the exact stdout: the entry line
  <case>.skip      a word the skip reason contains (exit 0, nothing on stdout)
  <case>.invalid   a word the error contains (exit 65, nothing on stdout)
"""

import json
import unittest

from harness import DATA, ERROR_PREFIX, BinaryTest, TempDir, data, lines, run

CASES = DATA / "entry"
YEAR_END = data("entry", "event_succeeded_year_end.json")
NO_EMAIL = data("entry", "charge_no_email.json")
CHARGE_YEAR_END = "ch_3QdYe2eZvKYlo2C1bXr4Tt01"


def expected(case):
    return (CASES / f"{case}.expected").read_text()


def charge_id(case):
    document = json.loads((CASES / f"{case}.json").read_text())
    inner = document.get("data", {}).get("object", document)
    return inner["id"] if inner.get("object") == "charge" else None


def entry_line(**changes):
    """The year-end entry with some fields or lines changed."""
    entry = json.loads(expected("event_succeeded_year_end"))
    entry.update(changes)
    return json.dumps(entry, separators=(",", ":"), ensure_ascii=False) + "\n"


def case_names():
    return sorted(path.stem for path in CASES.glob("*.json"))


class EntryCases(BinaryTest):
    def test_every_case_has_one_expectation(self):
        for case in case_names():
            kinds = [suffix for suffix in ("expected", "skip", "invalid")
                     if (CASES / f"{case}.{suffix}").is_file()]
            self.assertEqual(len(kinds), 1, f"{case}: {kinds}")

    def test_booked_cases(self):
        cases = [case for case in case_names() if (CASES / f"{case}.expected").is_file()]
        self.assertGreaterEqual(len(cases), 8)
        for case in cases:
            with self.subTest(case=case):
                self.assertEqual(run(["entry", f"entry/{case}.json"]), (0, expected(case), ""))

    def test_skipped_cases(self):
        cases = [case for case in case_names() if (CASES / f"{case}.skip").is_file()]
        self.assertGreaterEqual(len(cases), 4)
        for case in cases:
            with self.subTest(case=case):
                path = f"entry/{case}.json"
                status, stdout, stderr = run(["entry", path])
                self.assertEqual((status, stdout), (0, ""))
                err = lines(stderr)
                self.assertEqual(len(err), 1, stderr)
                self.assertTrue(err[0].startswith(f"{path}: skipped"), err[0])
                self.assertIn((CASES / f"{case}.skip").read_text().strip(), err[0])
                if charge_id(case):
                    self.assertIn(charge_id(case), err[0])

    def test_invalid_cases(self):
        cases = [case for case in case_names() if (CASES / f"{case}.invalid").is_file()]
        self.assertGreaterEqual(len(cases), 1)
        for case in cases:
            with self.subTest(case=case):
                path = f"entry/{case}.json"
                status, stdout, stderr = run(["entry", path])
                self.assertEqual((status, stdout), (65, ""))
                self.assert_error_lines(stderr, path)
                self.assertIn((CASES / f"{case}.invalid").read_text().strip(), stderr)
                self.assertIn(charge_id(case), stderr)

    def test_all_cases_in_one_batch(self):
        cases = case_names()
        status, stdout, stderr = run(["entry", *[f"entry/{case}.json" for case in cases]])
        self.assertEqual(status, 65, stderr)
        self.assertEqual(stdout, "".join(expected(case) for case in cases
                                         if (CASES / f"{case}.expected").is_file()))
        invalid = [f"entry/{case}.json" for case in cases if (CASES / f"{case}.invalid").is_file()]
        self.assert_error_lines(stderr, *invalid)

    def test_capture_gives_the_entry_of_its_body(self):
        for capture in ("captures/succeeded_crlf.http", "captures/trailing_newline.http",
                        "captures/no_signature_header.http"):
            with self.subTest(capture=capture):
                self.assertEqual(run(["entry", capture]),
                                 (0, expected("event_succeeded_year_end"), ""))
        self.assertEqual(run(["entry", "captures/captured_lf.http"]),
                         (0, expected("event_captured_partial"), ""))

    def test_stdin(self):
        self.assertEqual(run(["entry", "-"], stdin=(DATA / YEAR_END).read_bytes()),
                         (0, expected("event_succeeded_year_end"), ""))

    def test_directory_in_name_order(self):
        tmp = TempDir(self)
        tmp.write("b.json", (DATA / YEAR_END).read_bytes())
        tmp.write("a.json", (DATA / NO_EMAIL).read_bytes())
        tmp.write("c.json", (CASES / "event_customer_created.json").read_bytes())
        status, stdout, stderr = run(["entry", tmp.path])
        self.assertEqual(status, 0, stderr)
        self.assertEqual(stdout, expected("charge_no_email") + expected("event_succeeded_year_end"))
        self.assertEqual(len(lines(stderr)), 1, stderr)
        self.assertTrue(stderr.startswith(f"{tmp.path}/c.json: skipped"), stderr)


class Settings(BinaryTest):
    def test_vat_rate_flag_with_dot_or_comma(self):
        # 999 cents at 5.5 %: TVA = 999 × 5.5 / 105.5 = 52.08 → 52, HT 947.
        want = json.loads(expected("charge_no_email"))
        want["lignes"][1]["credit_cents"] = 947
        want["lignes"][2]["credit_cents"] = 52
        line = json.dumps(want, separators=(",", ":")) + "\n"
        for rate in ("5.5", "5,5", "5.50"):
            with self.subTest(rate=rate):
                self.assertEqual(run(["entry", "--vat-rate", rate, NO_EMAIL]), (0, line, ""))

    def test_metadata_rate_beats_the_flag(self):
        case = "charge_tva_5_5_dot"
        self.assertEqual(run(["entry", "--vat-rate", "10", f"entry/{case}.json"]),
                         (0, expected(case), ""))

    def test_bad_vat_rate_flag(self):
        for rate in ("abc", "101", "5.555", "-5", ""):
            with self.subTest(rate=rate):
                status, stdout, stderr = run(["entry", "--vat-rate", rate, NO_EMAIL])
                self.assertEqual((status, stdout), (2, ""))
                self.assertTrue(stderr.startswith(ERROR_PREFIX), stderr)

    def test_timezone_utc_moves_the_midnight_case(self):
        self.assertEqual(run(["entry", "--timezone", "UTC", YEAR_END]),
                         (0, entry_line(date="2025-12-31"), ""))
        after = "charge_after_paris_midnight"
        self.assertEqual(run(["entry", "--timezone", "UTC", f"entry/{after}.json"]),
                         (0, expected(after).replace("2026-01-01", "2025-12-31"), ""))

    def test_timezone_east_of_paris(self):
        before = "charge_before_paris_midnight"  # 22:59:59 UTC: already 2026 in Helsinki
        self.assertEqual(run(["entry", "--timezone", "Europe/Helsinki", f"entry/{before}.json"]),
                         (0, expected(before).replace("2025-12-31", "2026-01-01"), ""))

    def test_unknown_timezone(self):
        status, stdout, stderr = run(["entry", "--timezone", "Mars/Olympus_Mons", YEAR_END])
        self.assertEqual((status, stdout), (2, ""))
        self.assertTrue(stderr.startswith(ERROR_PREFIX), stderr)
        self.assertIn("Mars/Olympus_Mons", lines(stderr)[0])

    def ledger_line(self, date="2025-12-31", net=10909, vat=1091):
        return json.dumps({
            "date": date, "journal": "VT", "libelle": f"Paiement Stripe {CHARGE_YEAR_END}",
            "lignes": [
                {"compte": "411STRIPE", "tiers_email": "camille.martin@example.fr",
                 "debit_cents": 12000, "credit_cents": 0},
                {"compte": "706100", "debit_cents": 0, "credit_cents": net},
                {"compte": "445711", "debit_cents": 0, "credit_cents": vat},
            ]}, separators=(",", ":")) + "\n"

    def test_config_file_ledger(self):
        # 12000 at 10 %: TVA = 1090.9 → 1091; UTC date.
        self.assertEqual(run(["--config", data("config", "ledger.toml"), "entry", YEAR_END]),
                         (0, self.ledger_line(), ""))

    def test_config_file_from_environment_and_xdg(self):
        path = str(DATA / "config" / "ledger.toml")
        self.assertEqual(run(["entry", YEAR_END], env={"STRIPE_COMPTENTRA_CONFIG": path}),
                         (0, self.ledger_line(), ""))
        tmp = TempDir(self)
        tmp.write("stripe-comptentra/config.toml", (DATA / "config" / "ledger.toml").read_bytes())
        self.assertEqual(run(["entry", YEAR_END], env={"XDG_CONFIG_HOME": str(tmp.path)}),
                         (0, self.ledger_line(), ""))

    def test_flags_beat_config_file(self):
        self.assertEqual(
            run(["--config", data("config", "ledger.toml"), "entry", "--vat-rate", "20",
                 "--timezone", "Europe/Paris", YEAR_END]),
            (0, self.ledger_line(date="2026-01-01", net=10000, vat=2000), ""))

    def test_bad_config_files(self):
        tmp = TempDir(self)
        cases = {
            "unknown key": data("config", "unknown_key.toml"),
            "bad account": tmp.write("account.toml", '[ledger]\nsales_account = "707 000"\n'),
            "bad rate": tmp.write("rate.toml", '[ledger]\nvat_rate = "vingt"\n'),
            "bad zone": tmp.write("zone.toml", '[ledger]\ntimezone = "Paris"\n'),
            "not toml": tmp.write("broken.toml", "[ledger\njournal = VTE\n"),
            "missing": str(tmp.path / "absent.toml"),
        }
        for name, path in cases.items():
            with self.subTest(name=name):
                status, stdout, stderr = run(["--config", path, "entry", YEAR_END])
                self.assertEqual((status, stdout), (78, ""))
                self.assertTrue(stderr.startswith(ERROR_PREFIX), stderr)
                self.assertIn(path, lines(stderr)[0])


class Batches(BinaryTest):
    def test_same_charge_from_event_and_charge_prints_one_entry(self):
        charge = data("same_charge", "charge_of_event_succeeded_year_end.json")
        status, stdout, stderr = run(["entry", YEAR_END, charge, "captures/succeeded_crlf.http"])
        self.assertEqual((status, stdout), (0, expected("event_succeeded_year_end")))
        err = lines(stderr)
        self.assertEqual(len(err), 2, stderr)
        self.assertTrue(err[0].startswith(f"{charge}: skipped"), stderr)
        self.assertTrue(err[1].startswith("captures/succeeded_crlf.http: skipped"), stderr)
        self.assertIn(CHARGE_YEAR_END, stderr)

    def test_same_file_twice_prints_one_entry(self):
        status, stdout, _ = run(["entry", YEAR_END, YEAR_END])
        self.assertEqual((status, stdout), (0, expected("event_succeeded_year_end")))

    def test_json_lines(self):
        status, stdout, stderr = run(["entry", data("jsonl", "events.jsonl")])
        self.assertEqual((status, stdout), (0, (DATA / "jsonl" / "events.expected").read_text()))
        err = lines(stderr)
        self.assertEqual(len(err), 1, stderr)
        self.assertTrue(err[0].startswith("jsonl/events.jsonl:2: skipped"), stderr)
        self.assertIn("customer.created", err[0])

    def test_json_lines_from_stdin(self):
        status, stdout, _ = run(["entry", "-"],
                                stdin=(DATA / "jsonl" / "events.jsonl").read_bytes())
        self.assertEqual((status, stdout), (0, (DATA / "jsonl" / "events.expected").read_text()))

    def test_json_lines_with_a_bad_line_in_the_middle(self):
        path = data("jsonl", "bad_middle.jsonl")
        status, stdout, stderr = run(["entry", path])
        self.assertEqual(status, 65)
        self.assertEqual(stdout, (DATA / "jsonl" / "bad_middle.expected").read_text())
        self.assert_error_lines(stderr, f"{path}:2")
        self.assertTrue(lines(stderr)[0].startswith(f"{ERROR_PREFIX}{path}:2: "), stderr)

    def test_missing_file_exits_66_but_prints_the_others(self):
        status, stdout, stderr = run(["entry", YEAR_END, "entry/no_such_charge.json",
                                      data("entry", "charge_usd_unexpanded_balance.json"),
                                      NO_EMAIL])
        self.assertEqual(status, 66)
        self.assertEqual(stdout, expected("event_succeeded_year_end") + expected("charge_no_email"))
        self.assert_error_lines(stderr, "entry/no_such_charge.json",
                                "entry/charge_usd_unexpanded_balance.json")

    def test_missing_directory(self):
        status, stdout, stderr = run(["entry", "no_such_directory/"])
        self.assertEqual((status, stdout), (66, ""))
        self.assert_error_lines(stderr, "no_such_directory")


class Usage(BinaryTest):
    def test_unknown_option(self):
        status, stdout, stderr = run(["entry", "--post-it", YEAR_END])
        self.assertEqual((status, stdout), (2, ""))
        self.assertTrue(stderr.startswith(ERROR_PREFIX), stderr)

    def test_no_path(self):
        status, stdout, stderr = run(["entry"])
        self.assertEqual((status, stdout), (2, ""))
        self.assertTrue(stderr.startswith(ERROR_PREFIX), stderr)

    def test_unknown_command(self):
        status, stdout, stderr = run(["book", YEAR_END])
        self.assertEqual((status, stdout), (2, ""))
        self.assertTrue(stderr.startswith(ERROR_PREFIX), stderr)


if __name__ == "__main__":
    unittest.main()
