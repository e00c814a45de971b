"""Tests of scripts/stripe-sandbox, the local fake of the Stripe API.

Each sandbox runs as a subprocess on a free port (--port 0) and is stopped with SIGTERM
when its test (or class) ends, checking that it exits with status 0 and printed nothing
on stdout after its first line. The tests talk to it with http.client; the built binary
is not needed. Every wait is bounded.
"""

import base64
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import zoneinfo
from pathlib import Path

from sandbox import ScriptProcess

SOURCE_DIR = Path(os.environ.get("SC_SOURCE_DIR", Path(__file__).resolve().parents[2]))
SCRIPT = SOURCE_DIR / "scripts" / "stripe-sandbox"
KEY = "sk_test_sandbox"
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
START_TIMEOUT = 15  # seconds for the sandbox to print its address
HTTP_TIMEOUT = 10  # seconds for any HTTP exchange
CHARGE_ID = re.compile(r"ch_[0-9A-Za-z]{24}")
RATES = {"usd": 0.92, "gbp": 1.17, "chf": 1.06, "jpy": 0.62, "kwd": 0.298}  # documented in the script


def half_up(numerator, denominator):
    return (2 * numerator + denominator) // (2 * denominator)


def newest_first(objects):
    return sorted(objects, key=lambda item: (item["created"], item["id"]), reverse=True)


def local(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, PARIS)


class Reply:
    """An HTTP answer: status, headers and the parsed JSON body."""

    def __init__(self, response):
        self.status = response.status
        self.headers = response.headers
        raw = response.read()
        self.body = json.loads(raw) if raw else None


class Sandbox(ScriptProcess):
    """A running stripe-sandbox; `owner` is the test case (or class) that stops it."""

    def __init__(self, owner, *args):
        super().__init__(owner, SCRIPT, *args)

    def connect(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)

    def get(self, path, key=KEY, headers=None, connection=None, method="GET"):
        owned = connection is None
        connection = connection or self.connect()
        all_headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        all_headers.update(headers or {})
        try:
            connection.request(method, path, headers=all_headers)
            return Reply(connection.getresponse())
        finally:
            if owned:
                connection.close()

    def stats(self):
        return self.get("/_sandbox/stats", key=None).body

    def list_all(self, path, query="", limit=100, connection=None):
        """Every object of a list, following starting_after; at most 200 pages."""
        separator = "&" if query else ""
        objects, after = [], None
        for _ in range(200):
            cursor = f"&starting_after={after}" if after else ""
            reply = self.get(f"{path}?{query}{separator}limit={limit}{cursor}", connection=connection)
            assert reply.status == 200, reply.body
            objects += reply.body["data"]
            if not reply.body["has_more"]:
                return objects
            after = reply.body["data"][-1]["id"]
        raise AssertionError("more than 200 pages")


class SandboxTest(unittest.TestCase):
    def start(self, *args):
        sandbox = Sandbox(self, *args)
        self.addCleanup(sandbox.stop_and_check)
        return sandbox

    def temp_dir(self):
        path = Path(tempfile.mkdtemp(prefix="sc-stripe-sandbox-"))
        self.addCleanup(shutil.rmtree, path, True)
        return path

    def assert_error(self, reply, status, kind="invalid_request_error", code=None, param=None):
        self.assertEqual(reply.status, status, reply.body)
        self.assertEqual(set(reply.body), {"error"})
        error = reply.body["error"]
        self.assertEqual(error["type"], kind, error)
        self.assertIsInstance(error["message"], str)
        self.assertTrue(error["message"])
        if code is not None:
            self.assertEqual(error.get("code"), code, error)
        if param is not None:
            self.assertEqual(error.get("param"), param, error)


class SharedSandbox(SandboxTest):
    """One sandbox of 537 charges for the read-only tests of a class, with its data file."""

    @classmethod
    def setUpClass(cls):
        cls.directory = Path(tempfile.mkdtemp(prefix="sc-stripe-sandbox-"))
        cls.data_path = cls.directory / "stripe.json"
        cls.sandbox = Sandbox(cls, "--generate", 537, "--seed", 5, "--data", cls.data_path)
        cls.data = json.loads(cls.data_path.read_text(encoding="utf-8"))
        cls.transactions = {item["id"]: item for item in cls.data["balance_transactions"]}

    @classmethod
    def tearDownClass(cls):
        status, stdout, stderr = cls.sandbox.stop()
        shutil.rmtree(cls.directory, True)
        if status != 0 or stdout:
            raise AssertionError(f"sandbox exit {status}, stdout {stdout!r}, stderr {stderr!r}")


class StartAndStop(SandboxTest):
    def test_script_is_an_executable_python3_script(self):
        self.assertTrue(os.access(SCRIPT, os.X_OK))
        with open(SCRIPT, "rb") as file:
            self.assertEqual(file.readline(), b"#!/usr/bin/env python3\n")

    def test_startup_line_then_sigterm_exits_0(self):
        sandbox = self.start("--generate", 20)
        self.assertGreater(sandbox.port, 0)
        self.assertEqual(sandbox.get("/v1/balance").status, 200)
        status, stdout, _ = sandbox.stop()
        self.assertEqual((status, stdout), (0, b""))

    def test_sigint_exits_0(self):
        sandbox = self.start("--generate", 20)
        status, stdout, _ = sandbox.stop(signal.SIGINT)
        self.assertEqual((status, stdout), (0, b""))

    def test_unreadable_data_file_is_an_error_before_listening(self):
        path = self.temp_dir() / "stripe.json"
        path.write_text('{"charges": [')
        completed = subprocess.run([sys.executable, str(SCRIPT), "--port", "0", "--data", str(path)],
                                   capture_output=True, timeout=START_TIMEOUT)
        self.assertNotEqual(completed.returncode, 0)
        self.assertEqual(completed.stdout, b"")
        self.assertIn(b"data file", completed.stderr)
        self.assertEqual(path.read_text(), '{"charges": [', "the file is left alone")

    def test_invalid_arguments_are_refused(self):
        for args in (["--since", "2026-02-01", "--until", "2026-01-31"], ["--api-key", "pk_test_x"],
                     ["--since", "2026-02-30"], ["--fail-rate", "2"]):
            with self.subTest(args=args):
                completed = subprocess.run([sys.executable, str(SCRIPT), "--port", "0", *args],
                                           capture_output=True, timeout=START_TIMEOUT)
                self.assertEqual(completed.returncode, 2)
                self.assertEqual(completed.stdout, b"")


class Authentication(SharedSandbox):
    def test_missing_or_unacceptable_keys_are_401(self):
        sandbox = self.sandbox
        self.assert_error(sandbox.get("/v1/charges", key=None), 401)
        for key in ("pk_test_abcdef123456", "sk_live_abcdef123456", "sk_test_", "ct_test_sandbox"):
            with self.subTest(key=key):
                reply = sandbox.get("/v1/charges", key=key)
                self.assert_error(reply, 401)
                if len(key) > 12:
                    self.assertNotIn(key, reply.body["error"]["message"], "keys are redacted")
        self.assert_error(sandbox.get("/v1/charges", key=None, headers={"Authorization": "Token sk_test_x"}), 401)

    def test_test_keys_are_accepted_as_bearer_or_basic(self):
        sandbox = self.sandbox
        self.assertEqual(sandbox.get("/v1/charges", key="sk_test_anything").status, 200)
        self.assertEqual(sandbox.get("/v1/charges", key="rk_test_restricted").status, 200)
        basic = base64.b64encode(b"sk_test_anything:").decode()
        self.assertEqual(sandbox.get("/v1/charges", key=None, headers={"Authorization": f"Basic {basic}"}).status, 200)

    def test_request_id_on_every_answer(self):
        sandbox = self.sandbox
        replies = [sandbox.get("/v1/charges"), sandbox.get("/v1/charges", key=None),
                   sandbox.get("/v1/charges/ch_missing"), sandbox.get("/nowhere"), sandbox.get("/_sandbox/stats")]
        ids = [reply.headers.get("Request-Id") or "" for reply in replies]
        for request_id in ids:
            self.assertRegex(request_id, r"^req_[0-9A-Za-z]+$")
        self.assertEqual(len(set(ids)), len(ids))

    def test_unknown_path_and_other_methods_are_404(self):
        self.assert_error(self.sandbox.get("/v1/customers"), 404)
        self.assert_error(self.sandbox.get("/v1/charges", method="POST"), 404)


class ApiKeyOption(SandboxTest):
    def test_api_key_option_requires_that_key(self):
        sandbox = self.start("--generate", 10, "--api-key", "sk_test_only_this")
        self.assert_error(sandbox.get("/v1/charges", key="sk_test_other"), 401)
        self.assertEqual(sandbox.get("/v1/charges", key="sk_test_only_this").status, 200)


class Listing(SharedSandbox):
    def test_paging_covers_every_charge_once_newest_first(self):
        served = self.sandbox.list_all("/v1/charges")
        self.assertEqual(len(served), 537)
        self.assertEqual(len({charge["id"] for charge in served}), 537)
        self.assertEqual(served, newest_first(self.data["charges"]), "exactly the data file, newest first")
        keys = [(charge["created"], charge["id"]) for charge in served]
        self.assertEqual(keys, sorted(keys, reverse=True))
        self.assertTrue(any(a[0] == b[0] for a, b in zip(keys, keys[1:])), "some charges share a second")

    def test_page_shape_and_default_limit(self):
        reply = self.sandbox.get("/v1/charges")
        self.assertEqual(reply.status, 200)
        self.assertEqual(set(reply.body), {"object", "data", "has_more", "url"})
        self.assertEqual((reply.body["object"], reply.body["url"], reply.body["has_more"]), ("list", "/v1/charges", True))
        self.assertEqual(reply.body["data"], newest_first(self.data["charges"])[:10])

    def test_ending_before_walks_towards_the_newest(self):
        expected = newest_first(self.data["charges"])
        collected, before = [], expected[-1]["id"]
        for _ in range(20):
            reply = self.sandbox.get(f"/v1/charges?limit=100&ending_before={before}")
            self.assertEqual(reply.status, 200, reply.body)
            page = reply.body["data"]
            self.assertEqual(page, newest_first(page))
            collected = page + collected
            if not reply.body["has_more"]:
                break
            before = page[0]["id"]
        self.assertEqual(collected, expected[:-1])

    def test_created_filters_are_exact_at_the_boundaries(self):
        charges = self.data["charges"]
        tied = [charge["created"] for a, charge in zip(charges, charges[1:]) if a["created"] == charge["created"]]
        low = tied[0] if tied else charges[100]["created"]
        high = charges[400]["created"]

        def expect(test):
            return [charge["id"] for charge in newest_first(charges) if test(charge["created"])]

        cases = {
            f"created[gte]={low}&created[lt]={high}": lambda t: low <= t < high,
            f"created%5Bgt%5D={low}&created%5Blte%5D={high}": lambda t: low < t <= high,
            f"created={low}": lambda t: t == low,
            f"created[gte]={high}": lambda t: t >= high,
            f"created[lt]={low}": lambda t: t < low,
            f"created[gte]={high}&created[lt]={low}": lambda t: False,
        }
        for query, test in cases.items():
            with self.subTest(query=query):
                served = [charge["id"] for charge in self.sandbox.list_all("/v1/charges", query)]
                self.assertEqual(served, expect(test))
        self.assertGreaterEqual(len(expect(lambda t: t == low)), 1)

    def test_limit_validation(self):
        for value in ("0", "101", "abc", "", "-1", "1.5"):
            with self.subTest(limit=value):
                self.assert_error(self.sandbox.get(f"/v1/charges?limit={value}"), 400, param="limit")
        self.assertEqual(len(self.sandbox.get("/v1/charges?limit=100").body["data"]), 100)
        self.assertEqual(len(self.sandbox.get("/v1/charges?limit=1").body["data"]), 1)

    def test_unknown_or_malformed_parameters_are_400_with_their_name(self):
        for query, param in (("foo=1", "foo"), ("created[after]=1", "created[after]"), ("created[gte]=soon", "created[gte]"),
                             ("expand=data.balance_transaction", "expand"), ("expand[]=data.invoice", "expand")):
            with self.subTest(query=query):
                self.assert_error(self.sandbox.get(f"/v1/charges?{query}"), 400, param=param)

    def test_cursors(self):
        self.assert_error(self.sandbox.get("/v1/charges?starting_after=ch_unknown"), 404,
                          code="resource_missing", param="starting_after")
        self.assert_error(self.sandbox.get("/v1/charges?ending_before=ch_unknown"), 404,
                          code="resource_missing", param="ending_before")
        first = self.data["charges"][0]["id"]
        self.assert_error(self.sandbox.get(f"/v1/charges?starting_after={first}&ending_before={first}"), 400)

    def test_expand_gives_the_balance_transaction_in_eur(self):
        served = self.sandbox.list_all("/v1/charges", "expand[]=data.balance_transaction")
        self.assertEqual(len(served), 537)
        converted = 0
        for charge in served:
            transaction = charge["balance_transaction"]
            if not charge["captured"]:
                self.assertIsNone(transaction, charge["id"])
                continue
            self.assertIsInstance(transaction, dict, charge["id"])
            self.assertEqual(transaction, self.transactions[transaction["id"]])
            self.assertEqual((transaction["object"], transaction["source"], transaction["type"], transaction["currency"]),
                             ("balance_transaction", charge["id"], "charge", "eur"))
            if charge["currency"] == "eur":
                self.assertEqual((transaction["amount"], transaction["exchange_rate"]), (charge["amount_captured"], None))
            else:
                converted += 1
                self.assertEqual(transaction["exchange_rate"], RATES[charge["currency"]])
                numerator = round(RATES[charge["currency"]] * 1000)
                self.assertEqual(transaction["amount"], half_up(charge["amount_captured"] * numerator, 1000))
            self.assertEqual(transaction["fee"], half_up(transaction["amount"] * 15, 1000) + 25)
            self.assertEqual(transaction["net"], transaction["amount"] - transaction["fee"])
        self.assertGreater(converted, 0)

    def test_refunds_expand_on_the_list(self):
        refund = self.data["refunds"][0]
        created = next(charge["created"] for charge in self.data["charges"] if charge["id"] == refund["charge"])
        page = self.sandbox.get(f"/v1/charges?created={created}&expand[]=data.refunds").body["data"]
        charge = next(item for item in page if item["id"] == refund["charge"])
        self.assertIn(refund, charge["refunds"]["data"])
        self.assertNotIn("refunds", self.sandbox.get(f"/v1/charges?created={created}").body["data"][0])


class Objects(SharedSandbox):
    def test_retrieve_a_charge(self):
        charge = self.data["charges"][123]
        self.assertRegex(charge["id"], CHARGE_ID)
        reply = self.sandbox.get(f"/v1/charges/{charge['id']}")
        self.assertEqual((reply.status, reply.body), (200, charge))
        self.assert_error(self.sandbox.get("/v1/charges/ch_000000000000000000000000"), 404,
                          code="resource_missing", param="id")
        self.assert_error(self.sandbox.get(f"/v1/charges/{charge['id']}?limit=3"), 400, param="limit")

    def test_retrieve_a_charge_with_its_balance_transaction(self):
        charge = next(item for item in self.data["charges"] if item["currency"] != "eur" and item["captured"])
        reply = self.sandbox.get(f"/v1/charges/{charge['id']}?expand[]=balance_transaction")
        self.assertEqual(reply.body["balance_transaction"], self.transactions[charge["balance_transaction"]])
        self.assertEqual({**reply.body, "balance_transaction": charge["balance_transaction"]}, charge)

    def test_balance_transactions(self):
        for transaction in self.data["balance_transactions"][:20]:
            reply = self.sandbox.get(f"/v1/balance_transactions/{transaction['id']}")
            self.assertEqual((reply.status, reply.body), (200, transaction))
        self.assert_error(self.sandbox.get("/v1/balance_transactions/txn_nothing"), 404,
                          code="resource_missing", param="id")

    def test_refunds(self):
        refunds = self.data["refunds"]
        self.assertTrue(refunds)
        served = self.sandbox.list_all("/v1/refunds", limit=7)
        self.assertEqual(served, newest_first(refunds))
        charges = {charge["id"]: charge for charge in self.data["charges"]}
        for refund in refunds:
            charge = charges[refund["charge"]]
            self.assertEqual((refund["object"], refund["status"], refund["currency"]), ("refund", "succeeded", charge["currency"]))
            self.assertTrue(charge["captured"] and charge["status"] == "succeeded")
            self.assertGreaterEqual(charge["amount_refunded"], refund["amount"])
            self.assertGreaterEqual(refund["created"], charge["created"])
            self.assertLess(self.transactions[refund["balance_transaction"]]["amount"], 0)
        one = refunds[-1]
        by_charge = self.sandbox.get(f"/v1/refunds?charge={one['charge']}&expand[]=data.balance_transaction")
        self.assertEqual([item["id"] for item in by_charge.body["data"]], [one["id"]])
        self.assertEqual(by_charge.body["data"][0]["balance_transaction"]["id"], one["balance_transaction"])
        self.assertEqual(self.sandbox.get(f"/v1/refunds/{one['id']}").body, one)
        self.assertEqual(self.sandbox.get("/v1/refunds?charge=ch_none").body["data"], [])

    def test_balance(self):
        reply = self.sandbox.get("/v1/balance")
        self.assertEqual(reply.status, 200)
        self.assertEqual((reply.body["object"], reply.body["livemode"]), ("balance", False))
        self.assertEqual(reply.body["available"][0]["currency"], "eur")


class Persistence(SandboxTest):
    def collect(self, sandbox):
        return sandbox.list_all("/v1/charges", "expand[]=data.balance_transaction"), sandbox.list_all("/v1/refunds")

    def test_generated_set_is_written_then_served_identically_after_a_restart(self):
        path = self.temp_dir() / "stripe.json"
        first = self.start("--data", path, "--generate", 300, "--seed", 11)
        written = path.read_bytes()
        document = json.loads(written)
        self.assertEqual(set(document), {"charges", "refunds", "balance_transactions"})
        self.assertEqual(len(document["charges"]), 300)
        charges, refunds = self.collect(first)
        self.assertEqual(first.stop()[0], 0)
        self.assertEqual([charge["id"] for charge in charges], [charge["id"] for charge in newest_first(document["charges"])])
        self.assertEqual(refunds, newest_first(document["refunds"]))

        again = self.start("--data", path, "--generate", 50, "--seed", 99)  # the file wins
        self.assertEqual(self.collect(again), (charges, refunds))
        self.assertEqual(path.read_bytes(), written, "an existing file is only read")
        self.assertEqual([name for name in os.listdir(path.parent)], ["stripe.json"], "no temporary file left")

    def test_empty_file_receives_the_generated_set(self):
        path = self.temp_dir() / "stripe.json"
        path.write_text("")
        sandbox = self.start("--data", path, "--generate", 30)
        self.assertEqual(len(json.loads(path.read_text())["charges"]), 30)
        self.assertEqual(len(sandbox.list_all("/v1/charges")), 30)

    def test_a_hand_written_file_is_served(self):
        path = self.temp_dir() / "stripe.json"
        transaction = {"id": "txn_hand", "object": "balance_transaction", "amount": 1000, "currency": "eur",
                       "fee": 40, "net": 960, "status": "available", "created": 20}
        charges = [{"id": "ch_b", "object": "charge", "created": 20, "amount": 1000, "balance_transaction": transaction},
                   {"id": "ch_a", "object": "charge", "created": 20, "amount": 500, "balance_transaction": None},
                   {"id": "ch_c", "object": "charge", "created": 10, "amount": 700, "balance_transaction": None}]
        path.write_text(json.dumps({"charges": charges}))
        sandbox = self.start("--data", path)
        self.assertEqual([charge["id"] for charge in sandbox.list_all("/v1/charges")], ["ch_b", "ch_a", "ch_c"])
        self.assertEqual(sandbox.get("/v1/charges/ch_b").body["balance_transaction"], "txn_hand")
        self.assertEqual(sandbox.get("/v1/charges/ch_b?expand[]=balance_transaction").body["balance_transaction"], transaction)
        self.assertEqual(sandbox.get("/v1/balance_transactions/txn_hand").body, transaction)


class Reproducibility(SandboxTest):
    def test_same_seed_same_data_other_seed_other_data(self):
        directory = self.temp_dir()
        files = {}
        for name, seed in (("a", 3), ("b", 3), ("c", 4)):
            files[name] = directory / f"{name}.json"
            sandbox = self.start("--data", files[name], "--generate", 250, "--seed", seed)
            if name == "a":
                first_page = sandbox.get("/v1/charges?limit=100").body["data"]
            if name == "b":
                self.assertEqual(sandbox.get("/v1/charges?limit=100").body["data"], first_page)
        self.assertEqual(files["a"].read_bytes(), files["b"].read_bytes())
        ids = {name: {charge["id"] for charge in json.loads(path.read_text())["charges"]} for name, path in files.items()}
        self.assertFalse(ids["a"] & ids["c"])


def dst_switch_days(since, until):
    days, day = [], since
    while day <= until:
        start = datetime.datetime(day.year, day.month, day.day, tzinfo=PARIS)
        following = start + datetime.timedelta(days=1)
        if start.utcoffset() != following.replace(tzinfo=PARIS).utcoffset():
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


class Variety(SandboxTest):
    """The categories of a generated set of 2,000 charges over the default period."""

    @classmethod
    def setUpClass(cls):
        cls.period = (datetime.date(2025, 10, 1), datetime.date(2026, 3, 31))

    def test_every_category_is_present(self):
        sandbox = self.start("--generate", 2000, "--seed", 21, "--since", self.period[0], "--until", self.period[1])
        charges = sandbox.list_all("/v1/charges", "expand[]=data.balance_transaction")
        refunds = sandbox.list_all("/v1/refunds")
        self.assertEqual(len(charges), 2000)
        self.assertEqual(len({charge["id"] for charge in charges}), 2000)
        self.assertTrue(all(CHARGE_ID.fullmatch(charge["id"]) for charge in charges))

        booked = [c for c in charges if c["status"] == "succeeded" and c["captured"]]
        booked_eur = [c for c in booked if c["currency"] == "eur"]
        self.assertTrue(0.75 <= len(booked_eur) / 2000 <= 0.87, len(booked_eur))

        def some(name, test, among=charges):
            with self.subTest(category=name):
                self.assertTrue(any(test(charge) for charge in among), name)

        some("uncaptured authorisation", lambda c: c["status"] == "succeeded" and not c["captured"] and c["paid"]
             and c["amount_captured"] == 0 and c["balance_transaction"] is None)
        some("failed", lambda c: c["status"] == "failed" and not c["paid"] and c["balance_transaction"] is None)
        some("pending", lambda c: c["status"] == "pending")
        some("partial capture", lambda c: c["captured"] and 0 < c["amount_captured"] < c["amount"]
             and c["amount_refunded"] == c["amount"] - c["amount_captured"] and not c["refunded"])
        for currency in ("usd", "gbp", "jpy", "chf"):
            some(f"{currency} settled in EUR", lambda c, currency=currency: c["currency"] == currency
                 and c["balance_transaction"]["currency"] == "eur" and c["balance_transaction"]["exchange_rate"], booked)
        some("no email", lambda c: c["receipt_email"] is None and c["billing_details"]["email"] is None, booked)
        some("billing email only", lambda c: c["receipt_email"] is None and c["billing_details"]["email"], booked)
        some("receipt email", lambda c: c["receipt_email"] and c["billing_details"]["email"], booked)
        for rate in ("5.5", "5,5", "10", "2.1", "0"):
            some(f"tva_rate {rate}", lambda c, rate=rate: c["metadata"].get("tva_rate") == rate, booked)
        self.assertTrue(all(isinstance(value, str) for c in charges for value in c["metadata"].values()))

        some("near 22:00Z", lambda c: abs(c["created"] % 86400 - 22 * 3600) <= 900)
        some("near 23:00Z", lambda c: abs(c["created"] % 86400 - 23 * 3600) <= 900)
        some("new year's eve", lambda c: local(c["created"]).strftime("%m-%d %H") == "12-31 23")
        some("new year's day", lambda c: local(c["created"]).strftime("%m-%d %H") == "01-01 00")
        for month in (10, 11, 1, 2):
            some(f"end of month {month}", lambda c, month=month: local(c["created"]).month == month
                 and (local(c["created"]) + datetime.timedelta(days=1)).day == 1 and local(c["created"]).hour == 23)
        switch_days = dst_switch_days(*self.period)
        self.assertEqual(switch_days, [datetime.date(2025, 10, 26), datetime.date(2026, 3, 29)])
        for day in switch_days:
            some(f"DST day {day}", lambda c, day=day: local(c["created"]).date() == day)
        start = datetime.datetime(2025, 10, 1, tzinfo=PARIS).timestamp()
        end = datetime.datetime(2026, 4, 1, tzinfo=PARIS).timestamp()
        self.assertTrue(all(start <= c["created"] < end for c in charges))

        with self.subTest(category="refunds"):
            self.assertTrue(refunds)
            by_id = {charge["id"]: charge for charge in charges}
            self.assertTrue(any(by_id[r["charge"]]["refunded"] for r in refunds), "a full refund")
            self.assertTrue(any(not by_id[r["charge"]]["refunded"] for r in refunds), "a partial refund")


class Faults(SandboxTest):
    def test_rate_limit_answers_429_without_retry_after(self):
        sandbox = self.start("--generate", 10, "--rate-limit", 2)
        connection = sandbox.connect()
        self.addCleanup(connection.close)
        replies = [sandbox.get("/v1/charges", connection=connection) for _ in range(3)]
        self.assertEqual([reply.status for reply in replies[:2]], [200, 200])
        self.assert_error(replies[2], 429, code="rate_limit")
        self.assertIsNone(replies[2].headers.get("Retry-After"))
        time.sleep(1.1)
        self.assertEqual(sandbox.get("/v1/charges", connection=connection).status, 200)
        self.assertEqual(sandbox.stats()["rate_limited"], 1)

    def test_fail_rate_answers_500_with_should_retry(self):
        sandbox = self.start("--generate", 10, "--fail-rate", 1)
        for path in ("/v1/charges", "/v1/balance", "/v1/charges/ch_x"):
            reply = sandbox.get(path)
            self.assert_error(reply, 500, kind="api_error")
            self.assertEqual(reply.headers.get("Stripe-Should-Retry"), "true")
        self.assertEqual(sandbox.stats()["failed"], 3)

    def test_seed_makes_faults_reproducible(self):
        def statuses():
            sandbox = self.start("--generate", 10, "--fail-rate", 0.5, "--seed", 7)
            connection = sandbox.connect()
            try:
                return [sandbox.get("/v1/balance", connection=connection).status for _ in range(12)]
            finally:
                connection.close()

        first = statuses()
        self.assertEqual(first, statuses())
        self.assertEqual(set(first), {200, 500})

    def test_latency(self):
        sandbox = self.start("--generate", 10, "--latency-ms", 200)
        started = time.monotonic()
        self.assertEqual(sandbox.get("/v1/balance").status, 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.2)


class Stats(SandboxTest):
    def test_keep_alive_counts_one_connection(self):
        sandbox = self.start("--generate", 30)
        self.assertEqual(list(sandbox.stats()), ["connections", "requests", "list_requests", "failed", "rate_limited"])
        connection = sandbox.connect()
        self.addCleanup(connection.close)
        first = sandbox.get("/v1/charges?limit=2", connection=connection).body["data"][0]["id"]
        self.assertEqual(sandbox.get(f"/v1/charges/{first}", connection=connection).status, 200)
        self.assertEqual(sandbox.get("/v1/refunds", connection=connection).status, 200)
        self.assertEqual(sandbox.get("/v1/charges", key=None, connection=connection).status, 401)
        stats = sandbox.stats()
        self.assertEqual(stats, {"connections": 1, "requests": 4, "list_requests": 3, "failed": 0, "rate_limited": 0})
        self.assertEqual(sandbox.get("/v1/balance").status, 200)  # a connection of its own
        self.assertEqual(sandbox.stats()["connections"], 2)
        self.assertEqual(sandbox.stats()["requests"], 5, "reading the stats counts nothing")


class Scale(SandboxTest):
    def test_100000_charges_start_and_serve_quickly(self):
        started = time.monotonic()
        sandbox = self.start("--generate", 100000, "--seed", 1)
        connection = sandbox.connect()
        self.addCleanup(connection.close)
        page = sandbox.get("/v1/charges?limit=100&expand[]=data.balance_transaction", connection=connection)
        self.assertEqual((page.status, len(page.body["data"]), page.body["has_more"]), (200, 100, True))
        self.assertLess(time.monotonic() - started, 15, "generation and the first page")

        oldest = datetime.datetime(2025, 10, 1, tzinfo=PARIS).timestamp()
        later = time.monotonic()
        deep = sandbox.get(f"/v1/charges?limit=100&created[lt]={int(oldest) + 86400}", connection=connection)
        after = sandbox.get(f"/v1/charges?limit=100&starting_after={deep.body['data'][-1]['id']}", connection=connection)
        self.assertEqual((deep.status, after.status), (200, 200))
        self.assertTrue(all(charge["created"] < oldest + 86400 for charge in deep.body["data"]))
        self.assertLess(time.monotonic() - later, 2, "pages deep in the set are not scans")
        status = Path(f"/proc/{sandbox.process.pid}/status")
        if status.exists():
            resident_kb = int(re.search(r"VmRSS:\s+([0-9]+)", status.read_text()).group(1))
            self.assertLess(resident_kb, 400 * 1024, "memory")


if __name__ == "__main__":
    unittest.main()
