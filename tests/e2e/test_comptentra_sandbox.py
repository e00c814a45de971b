"""Tests of scripts/comptentra-sandbox, the local fake Comptentra server.

Each test starts its own sandbox on a free port (--port 0), talks to it with http.client
and stops it with SIGTERM, checking that it exits with status 0 and printed nothing on
stdout after its first line. The built binary is not needed.
"""

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

from sandbox import ScriptProcess

SOURCE_DIR = Path(os.environ.get("SC_SOURCE_DIR", Path(__file__).resolve().parents[2]))
SCRIPT = SOURCE_DIR / "scripts" / "comptentra-sandbox"
KEY = "ct_test_sandbox"
START_TIMEOUT = 10  # seconds for the sandbox to print its address
HTTP_TIMEOUT = 5  # seconds for any HTTP exchange


def sale(libelle="Paiement Stripe ch_1", date="2026-11-30", journal="VTE", ttc=12000):
    """A balanced sales entry: customer debit TTC, sales credit HT, VAT credit TVA."""
    tva = ttc // 6
    return {
        "date": date,
        "journal": journal,
        "libelle": libelle,
        "lignes": [
            {"compte": "411000", "tiers_email": "client@example.fr", "debit_cents": ttc, "credit_cents": 0},
            {"compte": "707000", "debit_cents": 0, "credit_cents": ttc - tva},
            {"compte": "445712", "debit_cents": 0, "credit_cents": tva},
        ],
    }


class Reply:
    """An HTTP answer: status, headers and the parsed JSON body (None when empty)."""

    def __init__(self, response):
        self.status = response.status
        self.headers = response.headers
        raw = response.read()
        self.body = json.loads(raw) if raw else None

    def error_code(self):
        return self.body["error"]["code"]


class Sandbox(ScriptProcess):
    """A running sandbox process; stopped and checked when the test ends."""

    def __init__(self, test, *args):
        super().__init__(test, SCRIPT, *args)
        test.addCleanup(self.stop_and_check)

    def connect(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)

    def call(self, method, path, body=None, key=KEY, headers=None, raw=None, connection=None):
        """Sends one request (JSON `body` or `raw` bytes) and returns its Reply."""
        owned = connection is None
        connection = connection or self.connect()
        all_headers = {"X-API-Key": key} if key is not None else {}
        payload = raw
        if body is not None:
            payload = json.dumps(body).encode()
        if payload is not None:
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        try:
            connection.request(method, path, body=payload, headers=all_headers)
            return Reply(connection.getresponse())
        finally:
            if owned:
                connection.close()

    def post(self, entry, **options):
        return self.call("POST", "/ecritures", body=entry, **options)

    def get(self, path, **options):
        return self.call("GET", path, **options)

    def stats(self):
        return self.get("/_sandbox/stats", key=None).body


class SandboxTest(unittest.TestCase):
    def start(self, *args):
        return Sandbox(self, *args)

    def assert_error(self, reply, status, code=None):
        self.assertEqual(reply.status, status, reply.body)
        self.assertIsInstance(reply.body, dict)
        self.assertEqual(set(reply.body), {"error"})
        self.assertIsInstance(reply.body["error"]["message"], str)
        self.assertTrue(reply.body["error"]["message"])
        if code is not None:
            self.assertEqual(reply.error_code(), code, reply.body)

    def temp_dir(self):
        path = Path(tempfile.mkdtemp(prefix="sc-sandbox-"))
        self.addCleanup(shutil.rmtree, path, True)
        return path


class StartAndStop(SandboxTest):
    def test_script_is_an_executable_python3_script(self):
        self.assertTrue(os.access(SCRIPT, os.X_OK))
        with open(SCRIPT, "rb") as file:
            self.assertEqual(file.readline(), b"#!/usr/bin/env python3\n")

    def test_sigint_stops_with_status_0(self):
        sandbox = self.start()
        self.assertEqual(sandbox.post(sale()).status, 201)
        status, stdout, _ = sandbox.stop(signal.SIGINT)
        self.assertEqual(status, 0)
        self.assertEqual(stdout, b"")

    def test_unreadable_data_file_is_an_error_before_listening(self):
        path = self.temp_dir() / "data.json"
        path.write_text("{not json")
        completed = subprocess.run(
            [sys.executable, str(SCRIPT), "--port", "0", "--data", str(path)],
            capture_output=True,
            timeout=START_TIMEOUT,
        )
        self.assertNotEqual(completed.returncode, 0)
        self.assertEqual(completed.stdout, b"")
        self.assertIn(b"data file", completed.stderr)
        self.assertEqual(path.read_text(), "{not json", "the file is left alone")


class Authentication(SandboxTest):
    def test_missing_or_wrong_key_is_401(self):
        sandbox = self.start()
        self.assert_error(sandbox.post(sale(), key=None), 401)
        self.assert_error(sandbox.get("/ecritures", key="ct_wrong"), 401)
        self.assertEqual(sandbox.stats()["entries"], 0)

    def test_custom_key(self):
        sandbox = self.start("--api-key", "ct_custom")
        self.assert_error(sandbox.post(sale()), 401)
        self.assertEqual(sandbox.post(sale(), key="ct_custom").status, 201)

    def test_unknown_path_is_404(self):
        sandbox = self.start()
        self.assert_error(sandbox.get("/nothing-here"), 404)


class Create(SandboxTest):
    def test_created_entry_is_the_body_plus_a_sequential_id(self):
        sandbox = self.start()
        first = sandbox.post(sale("Paiement Stripe ch_a"))
        self.assertEqual(first.status, 201)
        self.assertEqual(first.body, {"id": "ECR-000001", **sale("Paiement Stripe ch_a")})
        second = sandbox.post(sale("Paiement Stripe ch_b"))
        self.assertEqual(second.body["id"], "ECR-000002")

    def test_api_v1_prefix_is_served_too(self):
        sandbox = self.start()
        created = sandbox.call("POST", "/api/v1/ecritures", body=sale())
        self.assertEqual(created.status, 201)
        self.assertEqual(sandbox.get("/api/v1/ecritures/ECR-000001").body, created.body)


class Validation(SandboxTest):
    def refused(self, mutate):
        entry = sale()
        mutate(entry)
        return entry

    def test_refused_entries_are_422(self):
        def set_line(index, **fields):
            return lambda entry: entry["lignes"][index].update(fields)

        cases = {
            "unbalanced": set_line(1, credit_cents=9999),
            "one line": lambda entry: entry.update(lignes=entry["lignes"][:1]),
            "debit and credit": set_line(0, credit_cents=1),
            "neither debit nor credit": set_line(2, credit_cents=0),
            "bad date": lambda entry: entry.update(date="2026-02-30"),
            "date with time": lambda entry: entry.update(date="2026-11-30T10:00:00"),
            "float cents": set_line(0, debit_cents=12000.0),
            "bool cents": set_line(1, debit_cents=True),
            "negative cents": set_line(1, credit_cents=-1),
            "string cents": set_line(1, credit_cents="10000"),
            "empty journal": lambda entry: entry.update(journal=""),
            "missing libelle": lambda entry: entry.pop("libelle"),
            "empty compte": set_line(1, compte=""),
            "unknown field": lambda entry: entry.update(montant=12000),
            "lignes not a list": lambda entry: entry.update(lignes={}),
        }
        sandbox = self.start()
        for name, mutate in cases.items():
            with self.subTest(name):
                self.assert_error(sandbox.post(self.refused(mutate)), 422)
        self.assert_error(sandbox.post([sale()]), 422)
        self.assertEqual(sandbox.stats()["entries"], 0)

    def test_unbalanced_message_gives_the_totals(self):
        sandbox = self.start()
        reply = sandbox.post(self.refused(lambda entry: entry["lignes"][1].update(credit_cents=9999)))
        self.assert_error(reply, 422, "unbalanced_entry")
        self.assertIn("12000", reply.body["error"]["message"])
        self.assertIn("11999", reply.body["error"]["message"])

    def test_malformed_json_is_400(self):
        sandbox = self.start()
        for raw in (b'{"date": ', b"", b"NaN", b"\xff\xfe"):
            with self.subTest(raw=raw):
                self.assert_error(sandbox.call("POST", "/ecritures", raw=raw), 400, "invalid_json")

    def test_body_over_1_mib_is_413(self):
        sandbox = self.start()
        connection = sandbox.connect()
        self.addCleanup(connection.close)
        connection.putrequest("POST", "/ecritures")
        connection.putheader("X-API-Key", KEY)
        connection.putheader("Content-Length", str(2 * 1024 * 1024))
        connection.endheaders()
        self.assert_error(Reply(connection.getresponse()), 413)

    def test_closed_period(self):
        sandbox = self.start("--closed-before", "2026-01-01")
        self.assert_error(sandbox.post(sale(date="2025-12-31")), 422, "period_closed")
        self.assertEqual(sandbox.post(sale(date="2026-01-01")).status, 201)

    def test_unknown_account(self):
        sandbox = self.start("--accounts", "411000,707000,445712")
        self.assertEqual(sandbox.post(sale()).status, 201)
        entry = sale()
        entry["lignes"][1]["compte"] = "706000"
        reply = sandbox.post(entry)
        self.assert_error(reply, 422, "unknown_account")
        self.assertIn("706000", reply.body["error"]["message"])


class Listing(SandboxTest):
    def setUp(self):
        self.sandbox = self.start()
        rows = [
            ("Paiement Stripe ch_1", "2026-11-01", "VTE"),
            ("Paiement Stripe ch_2", "2026-11-15", "VTE"),
            ("Virement Stripe po_1", "2026-11-15", "BQ"),
            ("Paiement Stripe ch_3", "2026-11-30", "VTE"),
            ("Paiement Stripe ch_4", "2026-12-01", "VTE"),
        ]
        for libelle, date, journal in rows:
            self.assertEqual(self.sandbox.post(sale(libelle, date, journal)).status, 201)

    def ids(self, query):
        reply = self.sandbox.get("/ecritures" + query)
        self.assertEqual(reply.status, 200, reply.body)
        return [entry["id"] for entry in reply.body["data"]], reply.body["has_more"]

    def test_newest_first(self):
        self.assertEqual(self.ids(""), (["ECR-000005", "ECR-000004", "ECR-000003", "ECR-000002", "ECR-000001"], False))

    def test_filters(self):
        self.assertEqual(self.ids("?journal=BQ"), (["ECR-000003"], False))
        self.assertEqual(self.ids("?date_from=2026-11-15&date_to=2026-11-30"), (["ECR-000004", "ECR-000003", "ECR-000002"], False))
        self.assertEqual(self.ids("?libelle=ch_2"), (["ECR-000002"], False))
        self.assertEqual(self.ids("?libelle=Paiement%20Stripe&journal=VTE&date_to=2026-11-15"), (["ECR-000002", "ECR-000001"], False))
        self.assertEqual(self.ids("?unknown=1"), (["ECR-000005", "ECR-000004", "ECR-000003", "ECR-000002", "ECR-000001"], False))

    def test_paging(self):
        self.assertEqual(self.ids("?limit=2"), (["ECR-000005", "ECR-000004"], True))
        self.assertEqual(self.ids("?limit=2&offset=2"), (["ECR-000003", "ECR-000002"], True))
        self.assertEqual(self.ids("?limit=2&offset=4"), (["ECR-000001"], False))
        self.assertEqual(self.ids("?offset=9"), ([], False))

    def test_invalid_parameters_are_400(self):
        for query in ("limit=0", "limit=101", "limit=abc", "offset=-1", "date_from=2026-13-01", "date_to=yesterday"):
            with self.subTest(query):
                self.assert_error(self.sandbox.get("/ecritures?" + query), 400, "invalid_parameter")

    def test_get_by_id(self):
        reply = self.sandbox.get("/ecritures/ECR-000003")
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.body, {"id": "ECR-000003", **sale("Virement Stripe po_1", "2026-11-15", "BQ")})
        self.assert_error(self.sandbox.get("/ecritures/ECR-000099"), 404, "not_found")

    def test_other_methods_are_405(self):
        self.assert_error(self.sandbox.call("DELETE", "/ecritures/ECR-000001"), 405)
        self.assert_error(self.sandbox.call("PUT", "/ecritures"), 405)


class Idempotency(SandboxTest):
    def test_same_key_same_body_replays_the_first_answer(self):
        sandbox = self.start()
        first = sandbox.post(sale(), headers={"Idempotency-Key": "key-1"})
        self.assertEqual(first.status, 201)
        self.assertIsNone(first.headers.get("Idempotent-Replayed"))
        reordered = json.dumps(dict(reversed(list(sale().items()))), indent=4).encode()
        again = sandbox.call("POST", "/ecritures", raw=reordered, headers={"Idempotency-Key": "key-1"})
        self.assertEqual(again.status, 200)
        self.assertEqual(again.headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(again.body, first.body)
        self.assertEqual(sandbox.stats()["entries"], 1)

    def test_same_key_other_body_is_409(self):
        sandbox = self.start()
        self.assertEqual(sandbox.post(sale(), headers={"Idempotency-Key": "key-1"}).status, 201)
        reply = sandbox.post(sale(ttc=6000), headers={"Idempotency-Key": "key-1"})
        self.assert_error(reply, 409, "idempotency_conflict")
        self.assertEqual(sandbox.post(sale(), headers={"Idempotency-Key": "key-2"}).status, 201)
        self.assertEqual(sandbox.stats()["entries"], 2)

    def test_no_idempotency_stores_twice(self):
        sandbox = self.start("--no-idempotency")
        first = sandbox.post(sale(), headers={"Idempotency-Key": "key-1"})
        second = sandbox.post(sale(), headers={"Idempotency-Key": "key-1"})
        self.assertEqual((first.status, second.status), (201, 201))
        self.assertNotEqual(first.body["id"], second.body["id"])

    def test_concurrent_posts_with_one_key_store_one_entry(self):
        sandbox = self.start()
        statuses = []
        lock = threading.Lock()

        def post():
            status = sandbox.post(sale(), headers={"Idempotency-Key": "shared"}).status
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=post) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(HTTP_TIMEOUT * 2)
        self.assertEqual(sorted(statuses), [200] * 9 + [201])
        self.assertEqual(sandbox.stats()["entries"], 1)


class Concurrency(SandboxTest):
    def test_parallel_posts_get_distinct_ids(self):
        sandbox = self.start()
        ids = []
        lock = threading.Lock()

        def post_several(worker):
            connection = sandbox.connect()
            try:
                for number in range(10):
                    reply = sandbox.post(sale(f"Paiement Stripe ch_{worker}_{number}"), connection=connection)
                    with lock:
                        ids.append(reply.body["id"])
            finally:
                connection.close()

        threads = [threading.Thread(target=post_several, args=(worker,)) for worker in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(HTTP_TIMEOUT * 4)
        self.assertEqual(len(ids), 40)
        self.assertEqual(sorted(ids), [f"ECR-{number:06d}" for number in range(1, 41)])


class Minimal(SandboxTest):
    def test_only_the_documented_calls(self):
        sandbox = self.start("--minimal")
        first = sandbox.post(sale("Paiement Stripe ch_1", journal="VTE"), headers={"Idempotency-Key": "k"})
        second = sandbox.post(sale("Paiement Stripe ch_1", journal="VTE"), headers={"Idempotency-Key": "k"})
        third = sandbox.post(sale("Virement po_1", journal="BQ"))
        self.assertEqual([reply.status for reply in (first, second, third)], [201, 201, 201])
        listed = sandbox.get("/ecritures?journal=BQ&libelle=nothing&date_from=2030-01-01&offset=1&limit=2")
        self.assertEqual(listed.status, 200)
        self.assertEqual([entry["id"] for entry in listed.body["data"]], ["ECR-000003", "ECR-000002"])
        self.assertTrue(listed.body["has_more"])
        self.assert_error(sandbox.get("/ecritures?limit=101"), 400)
        self.assert_error(sandbox.get("/ecritures/ECR-000001"), 404)


class Faults(SandboxTest):
    def test_fail_rate_1_answers_5xx_and_stores_nothing(self):
        sandbox = self.start("--fail-rate", "1.0")
        for _ in range(5):
            reply = sandbox.post(sale())
            self.assertIn(reply.status, (500, 502, 503))
            self.assert_error(reply, reply.status)
        self.assertIn(sandbox.get("/ecritures").status, (500, 502, 503))
        stats = sandbox.stats()
        self.assertEqual((stats["entries"], stats["failed"], stats["posts"]), (0, 6, 5))

    def test_seed_makes_faults_reproducible(self):
        def statuses():
            sandbox = self.start("--fail-rate", "0.5", "--seed", "7")
            connection = sandbox.connect()
            try:
                return [sandbox.get("/ecritures", connection=connection).status for _ in range(12)]
            finally:
                connection.close()

        first = statuses()
        self.assertEqual(first, statuses())
        self.assertIn(200, first)
        self.assertTrue(set(first) - {200})

    def test_drop_rate_1_stores_then_closes_without_answer(self):
        sandbox = self.start("--drop-rate", "1.0")
        with self.assertRaises(http.client.RemoteDisconnected):
            sandbox.post(sale(), headers={"Idempotency-Key": "k"})
        listed = sandbox.get("/ecritures")
        self.assertEqual([entry["libelle"] for entry in listed.body["data"]], ["Paiement Stripe ch_1"])
        with self.assertRaises(http.client.RemoteDisconnected):
            sandbox.post(sale(), headers={"Idempotency-Key": "k"})
        stats = sandbox.stats()
        self.assertEqual((stats["entries"], stats["dropped"]), (1, 2))

    def test_rate_limit(self):
        sandbox = self.start("--rate-limit", "2")
        connection = sandbox.connect()
        self.addCleanup(connection.close)
        replies = [sandbox.get("/ecritures", connection=connection) for _ in range(3)]
        self.assertEqual([reply.status for reply in replies[:2]], [200, 200])
        self.assert_error(replies[2], 429, "rate_limited")
        self.assertEqual(replies[2].headers.get("Retry-After"), "1")
        time.sleep(1.1)
        self.assertEqual(sandbox.get("/ecritures", connection=connection).status, 200)
        self.assertEqual(sandbox.stats()["rate_limited"], 1)

    def test_latency(self):
        sandbox = self.start("--latency-ms", "300")
        started = time.monotonic()
        self.assertEqual(sandbox.get("/ecritures").status, 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)


class Persistence(SandboxTest):
    def test_data_file_is_kept_current_and_reloaded(self):
        path = self.temp_dir() / "books.json"
        sandbox = self.start("--data", path)
        self.assertEqual(json.loads(path.read_text()), {"entries": [], "idempotency": {}})
        first = sandbox.post(sale("Paiement Stripe ch_1"), headers={"Idempotency-Key": "key-1"})
        sandbox.post(sale("Paiement Stripe ch_2"))
        saved = json.loads(path.read_text())
        self.assertEqual([entry["id"] for entry in saved["entries"]], ["ECR-000001", "ECR-000002"])
        self.assertEqual(saved["entries"][0], first.body)
        record = saved["idempotency"]["key-1"]
        self.assertEqual((record["request"], record["id"]), (sale("Paiement Stripe ch_1"), "ECR-000001"))
        self.assertIsInstance(record["created_at"], (int, float))
        self.assertEqual(sandbox.stop()[0], 0)

        restarted = self.start("--data", path)
        self.assertEqual(len(restarted.get("/ecritures").body["data"]), 2)
        replay = restarted.post(sale("Paiement Stripe ch_1"), headers={"Idempotency-Key": "key-1"})
        self.assertEqual((replay.status, replay.body["id"]), (200, "ECR-000001"))
        self.assertEqual(restarted.post(sale("Paiement Stripe ch_3")).body["id"], "ECR-000003")
        self.assertEqual(len(json.loads(path.read_text())["entries"]), 3)
        self.assertEqual([name for name in os.listdir(path.parent)], ["books.json"], "no temporary file left")

    def test_empty_existing_file_is_an_empty_store(self):
        path = self.temp_dir() / "books.json"
        path.write_text("")
        sandbox = self.start("--data", path)
        self.assertEqual(sandbox.post(sale()).body["id"], "ECR-000001")


class Connections(SandboxTest):
    def test_keep_alive_uses_one_connection(self):
        sandbox = self.start()
        before = sandbox.stats()
        connection = sandbox.connect()
        self.addCleanup(connection.close)
        self.assertEqual(sandbox.post(sale(), connection=connection).status, 201)
        self.assertEqual(sandbox.get("/ecritures", connection=connection).status, 200)
        self.assertEqual(sandbox.get("/ecritures/ECR-000001", connection=connection).status, 200)
        after = sandbox.stats()
        self.assertEqual(after["connections"] - before["connections"], 1)
        self.assertEqual(after["requests"] - before["requests"], 3)
        self.assertEqual(after["posts"] - before["posts"], 1)

    def test_connection_close_from_the_client_is_honoured(self):
        sandbox = self.start()
        connection = sandbox.connect()
        self.addCleanup(connection.close)
        first = sandbox.get("/ecritures", connection=connection, headers={"Connection": "close"})
        self.assertEqual(first.headers.get("Connection"), "close")
        self.assertEqual(sandbox.get("/ecritures", connection=connection).status, 200)
        self.assertEqual(sandbox.stats()["connections"], 2)

    def test_stats_shape(self):
        sandbox = self.start()
        self.assertEqual(
            list(sandbox.stats()),
            ["connections", "requests", "posts", "entries", "failed", "dropped", "rate_limited"],
        )


if __name__ == "__main__":
    unittest.main()
