"""End-to-end tests of `listen`: signed deliveries answered 200 once stored, then booked once
each behind the answer (post's exactly-once logic) into a comptentra-sandbox; duplicates, bad
signatures, other paths, --json, a replay of done/ with `post --verify`, SIGTERM, the error
exit statuses, secrets kept out of every output and file, and an entry the books refuse."""

import http.client
import json
import signal
import socket
import time
import unittest

from crash_support import EchoingServer, Secret, wait_until
from harness import TEST_SECRET, TempDir, lines, run
from listen_support import (BOOK_TIMEOUT, REFUSED_PREFIX, Client, Listen, ListenTest,
                            archive_state, captures, customer_event, delivery, request,
                            uncaptured_event)
from post_support import charge_id, event, json_results, libelle, without_id
from sandbox import NO_PROXY, SANDBOX_KEY, Sandbox

PREFIX = "ch_e2elisten"
ERROR_TIMEOUT = 15  # seconds for a run that must fail at its start


class Serving(ListenTest):
    def test_listening_line_health_and_sigterm(self):
        tmp = TempDir(self)
        listener = self.listen(tmp, Sandbox(self))
        self.assertGreater(listener.port, 0)
        status, headers, body = request(listener.port, "GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("application/json"), headers)
        self.assertEqual(json.loads(body), {"status": "ok", "inbox": 0, "failed": 0})
        idle = Client(listener.port)  # a kept-alive connection must not hold up the stop
        self.assertEqual(idle.post(*delivery(customer_event(1)))[0], 200)
        self.assertTrue(listener.wait_booked(), listener.stderr())
        self.assertEqual(self.assert_stopped(listener, *listener.stop(), limit=5), 0)
        idle.close()

    def test_sigint_stops_like_sigterm(self):
        listener = self.listen(TempDir(self), Sandbox(self))
        self.assertEqual(self.assert_stopped(listener, *listener.stop(signal.SIGINT), limit=5), 0)

    def test_deliveries_stored_then_booked_once(self):
        tmp = TempDir(self)
        sandbox = Sandbox(self)
        listener = self.listen(tmp, sandbox)
        documents = [event(index, PREFIX) for index in range(1, 6)]
        for document in documents:
            self.assertEqual(listener.deliver(document), (200, f"{document['id']} stored\n"))
        self.assertTrue(listener.wait_booked(), listener.stderr())
        status, stdout, stderr = run(["entry", tmp.write("events.jsonl", "".join(
            json.dumps(document) + "\n" for document in documents))])
        self.assertEqual(status, 0, stderr)
        expected = {entry["libelle"]: entry for entry in map(json.loads, lines(stdout))}
        stored = sandbox.entries()
        self.assert_booked_once(sandbox, [charge_id(i, PREFIX) for i in range(1, 6)])
        for entry in stored:
            self.assertEqual(without_id(entry), expected[entry["libelle"]])
        ids = sorted(document["id"] for document in documents)
        self.assertEqual(archive_state(listener.archive), {"inbox": [], "done": ids, "failed": []})
        self.assert_health(listener, 0, 0)
        entry_of = {entry["libelle"]: entry["id"] for entry in stored}
        out = sorted(lines(listener.stdout())[1:])
        self.assertEqual(out, sorted(
            f"{listener.archive}/{d['id']}.http: posted {d['data']['object']['id']} "
            f"{entry_of[libelle(d['data']['object']['id'])]}" for d in documents))
        self.assert_stopped(listener, *listener.stop())

    def test_duplicate_and_stripe_retry_are_booked_once(self):
        tmp = TempDir(self)
        sandbox = Sandbox(self)
        listener = self.listen(tmp, sandbox)
        document = event(7, PREFIX)
        body, headers = delivery(document)
        first, again = listener.post(body, headers), listener.post(body, headers)
        retry = listener.deliver(document, timestamp=int(time.time()) + 1)
        self.assertEqual(first, (200, "evt_ch_e2elisten00007 stored\n"))
        self.assertEqual(again, (200, "evt_ch_e2elisten00007 was received before\n"))
        self.assertEqual(retry, (200, "evt_ch_e2elisten00007 was received before\n"))
        self.assertTrue(listener.wait_booked(), listener.stderr())
        # Once booked (in done/), a late retry is still known.
        self.assertEqual(listener.deliver(document),
                         (200, "evt_ch_e2elisten00007 was received before\n"))
        self.assert_booked_once(sandbox, [charge_id(7, PREFIX)])
        self.assertEqual(archive_state(listener.archive),
                         {"inbox": [], "done": [document["id"]], "failed": []})
        self.assertEqual(len(lines(listener.stdout())), 2, listener.stdout())

    def test_events_that_book_nothing_go_to_done(self):
        tmp = TempDir(self)
        sandbox = Sandbox(self)
        listener = self.listen(tmp, sandbox)
        documents = [customer_event(3), uncaptured_event(4, PREFIX)]
        for document in documents:
            self.assertEqual(listener.deliver(document), (200, f"{document['id']} stored\n"))
        self.assertTrue(listener.wait_booked(), listener.stderr())
        self.assertEqual(archive_state(listener.archive), {
            "inbox": [], "done": sorted(d["id"] for d in documents), "failed": []})
        self.assertEqual(sandbox.entries(), [])
        self.assertEqual(sandbox.stats()["posts"], 0)
        results = lines(listener.stdout())[1:]
        self.assertEqual(len(results), 2, listener.stdout())
        self.assertTrue(all(": skipped" in line for line in results), results)

    def test_bad_deliveries_are_400_and_not_archived(self):
        tmp = TempDir(self)
        sandbox = Sandbox(self)
        listener = self.listen(tmp, sandbox)
        now = int(time.time())
        good = json.dumps(event(9, PREFIX)).encode()
        signed = lambda body: delivery(body)[1]  # noqa: E731
        cases = {
            "wrong secret": (good, delivery(good, now, "whsec_not_the_right_one")[1]),
            "no signature": (good, {"Content-Type": "application/json"}),
            "too old": (good, delivery(good, now - 3600)[1]),
            "body changed": (good + b" ", delivery(good, now)[1]),
            "not json": (b"id=evt_1", signed(b"id=evt_1")),
            "an array": (b'[{"id":"evt_1"}]', signed(b'[{"id":"evt_1"}]')),
            "no id": (b'{"object":"event"}', signed(b'{"object":"event"}')),
            "a path as id": (b'{"id":"../evt_1"}', signed(b'{"id":"../evt_1"}')),
            "a long id": (json.dumps({"id": "e" * 129}).encode(),
                          signed(json.dumps({"id": "e" * 129}).encode())),
        }
        reasons = []
        for name, (body, headers) in cases.items():
            with self.subTest(name):
                status, answer = listener.post(body, headers)
                self.assertEqual(status, 400, answer)
                self.assertRegex(answer, r"\A[^\n]+\n\Z")
                reasons.append(answer.rstrip("\n"))
        self.assertEqual(archive_state(listener.archive), {"inbox": [], "done": [], "failed": []})
        self.assertEqual(list((listener.archive / ".partial").iterdir()), [])
        warnings = [line for line in lines(listener.stderr()) if line.startswith(REFUSED_PREFIX)]
        self.assertEqual(warnings, [REFUSED_PREFIX + reason for reason in reasons])
        self.assertEqual(sandbox.stats()["requests"], 0)
        self.assertEqual(listener.deliver(event(9, PREFIX))[0], 200)  # still serving

    def test_own_path_and_every_secret_given_while_one_is_rolled(self):
        tmp = TempDir(self)
        listener = self.listen(tmp, Sandbox(self), "--path", "/hooks/stripe", "--webhook-secret",
                               "whsec_old_one", "--webhook-secret", "whsec_new_one")
        old = event(13, PREFIX)
        self.assertEqual(listener.deliver(old, secret="whsec_old_one")[0], 404)  # default path
        for document, secret in ((old, "whsec_old_one"), (event(14, PREFIX), "whsec_new_one")):
            self.assertEqual(listener.deliver(document, secret=secret, path="/hooks/stripe"),
                             (200, f"{document['id']} stored\n"))
        self.assertTrue(listener.wait_booked(), listener.stderr())
        done = listener.archive / "done"
        self.assertEqual(captures(done), ["evt_ch_e2elisten00013", "evt_ch_e2elisten00014"])
        self.assertTrue((done / "evt_ch_e2elisten00013.http").read_bytes().startswith(
            b"POST /hooks/stripe HTTP/1.1\r\n"))

    def test_other_paths_methods_and_sizes(self):
        tmp = TempDir(self)
        listener = self.listen(tmp, Sandbox(self))
        port = listener.port
        self.assertEqual(request(port, "GET", "/")[0], 404)
        self.assertEqual(request(port, "POST", "/stripe-webhook/x", b"{}")[0], 404)
        status, headers, _ = request(port, "GET", "/stripe-webhook")
        self.assertEqual((status, headers.get("Allow")), (405, "POST"))
        big = json.dumps({"id": "evt_big", "pad": "x" * (1 << 20)}).encode()
        # Refused on its Content-Length, before the body: a raw client, for the server may
        # close before a client that insists on sending it all is done.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            client.sendall(f"POST /stripe-webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           f"Stripe-Signature: {delivery(big)[1]['Stripe-Signature']}\r\n"
                           f"Content-Length: {len(big)}\r\n\r\n".encode() + big[:65536])
            answer = client.recv(4096)
        self.assertTrue(answer.startswith(b"HTTP/1.1 413 "), answer)
        # Sent chunked, it has no length to refuse: the server hangs up once it passes 1 MiB.
        chunks = (big[i:i + 65536] for i in range(0, len(big), 65536))
        with self.assertRaises((ConnectionError, http.client.HTTPException)):
            request(port, "POST", "/stripe-webhook", chunks, delivery(big)[1])
        self.assertEqual(archive_state(listener.archive), {"inbox": [], "done": [], "failed": []})
        self.assertEqual(listener.health()["inbox"], 0)

    def test_json_output(self):
        tmp = TempDir(self)
        sandbox = Sandbox(self)
        listener = self.listen(tmp, sandbox, json_output=True)
        for document in (event(11, PREFIX), event(12, PREFIX), customer_event(5)):
            self.assertEqual(listener.deliver(document)[0], 200)
        self.assertTrue(listener.wait_booked(), listener.stderr())
        self.assert_stopped(listener, *listener.stop())
        objects = [json.loads(line) for line in lines(listener.stdout())]
        self.assertEqual(objects[0], {"listening": listener.url})
        items, summary = json_results("\n".join(lines(listener.stdout())[1:]))
        self.assertEqual(summary, {"summary": {"posted": 2, "skipped": 1}, "exit_status": 0})
        ids = {entry["libelle"]: entry["id"] for entry in sandbox.entries()}
        for item in items:
            self.assertLessEqual({"input", "id", "status"}, set(item), item)
            if item["status"] == "posted":
                self.assertEqual(item["entry_id"], ids[libelle(item["id"])], item)
                self.assertEqual(item["input"], f"{listener.archive}/evt_{item['id']}.http")

    def test_replay_of_done_finds_every_entry(self):
        tmp = TempDir(self)
        sandbox = Sandbox(self)
        listener = self.listen(tmp, sandbox)
        for index in range(20, 24):
            self.assertEqual(listener.deliver(event(index, PREFIX))[0], 200)
        self.assertTrue(listener.wait_booked(), listener.stderr())
        self.assert_stopped(listener, *listener.stop())
        posts = sandbox.stats()["posts"]
        done = listener.archive / "done"
        status, stdout, stderr = run(["verify", "--tolerance", "0",
                                      done / "evt_ch_e2elisten00020.http"],
                                     env={"STRIPE_WEBHOOK_SECRET": TEST_SECRET})
        self.assertEqual(status, 0, stdout + stderr)
        status, stdout, stderr = run(["--json", "post", "--verify", "--tolerance", "0", done],
                                     env=sandbox.env(STRIPE_WEBHOOK_SECRET=TEST_SECRET))
        self.assertEqual(status, 0, stderr)
        items, summary = json_results(stdout)
        self.assertEqual(summary, {"summary": {"exists": 4}, "exit_status": 0})
        ids = {entry["libelle"]: entry["id"] for entry in sandbox.entries()}
        for item in items:
            self.assertEqual(item["entry_id"], ids[libelle(item["id"])], item)
        self.assertEqual(sandbox.stats()["posts"], posts)
        self.assert_booked_once(sandbox, [charge_id(i, PREFIX) for i in range(20, 24)])

    def test_refused_entry_goes_to_failed_and_serving_goes_on(self):
        tmp = TempDir(self)
        sandbox = Sandbox(self, "--closed-before", "2026-03-15")  # index 0 is dated 03-14
        listener = self.listen(tmp, sandbox)
        refused, booked = event(0, PREFIX), event(40, PREFIX)
        self.assertEqual(listener.deliver(refused)[0], 200)
        self.assertTrue(listener.wait_booked(), listener.stderr())
        self.assert_health(listener, 0, 1)
        self.assertEqual(listener.deliver(booked)[0], 200)
        self.assertTrue(listener.wait_booked(), listener.stderr())
        self.assert_health(listener, 0, 1)
        self.assertEqual(archive_state(listener.archive), {
            "inbox": [], "done": [booked["id"]], "failed": [refused["id"]]})
        reason = (listener.archive / "failed" / f"{refused['id']}.reason").read_text()
        self.assertRegex(reason, r"\A[^\n]+\n\Z")
        self.assertIn("422", reason)
        self.assertIn("the period before 2026-03-15 is closed", reason)
        self.assert_booked_once(sandbox, [charge_id(40, PREFIX)])
        self.assertIn(f"{listener.archive}/{refused['id']}.http: failed {charge_id(0, PREFIX)}",
                      listener.stdout())
        self.assert_stopped(listener, *listener.stop())


class Secrets(ListenTest):
    def assert_no_leak(self, secrets, listener):
        texts = {"stdout": listener.stdout(), "stderr": listener.stderr()}
        for path in listener.archive.rglob("*"):
            if path.is_file():
                texts[str(path)] = path.read_text(errors="replace")
        self.assertGreater(len(texts), 3)
        for secret in secrets:
            for where, text in texts.items():
                self.assertIsNone(secret.leak(text), f"{secret.name} in {where}")

    def test_secrets_absent_from_outputs_and_archive(self):
        tmp = TempDir(self)
        webhook, key = Secret("webhook secret", "whsec_"), Secret("API key", "ct_test_")
        sandbox = Sandbox(self, "--closed-before", "2026-03-15", api_key=key.value)
        listener = Listen(self, tmp.path / "archive", {"COMPTENTRA_URL": sandbox.url, **NO_PROXY},
                          "--webhook-secret", webhook.value, "--comptentra-key", key.value,
                          verbose=True)  # its traces must hide them too
        for document in (event(0, PREFIX), event(41, PREFIX), customer_event(8)):
            self.assertEqual(listener.deliver(document, secret=webhook.value)[0], 200)
        self.assertEqual(listener.deliver(event(42, PREFIX))[0], 400)  # TEST_SECRET: wrong
        self.assertTrue(listener.wait_booked(), listener.stderr())
        self.assert_stopped(listener, *listener.stop())
        self.assertEqual(len(sandbox.entries()), 1)
        self.assertIn("stripe-comptentra: POST ", listener.stderr())
        self.assert_no_leak([webhook, key], listener)

    def test_key_echoed_by_the_books_stays_out_of_the_reason(self):
        tmp = TempDir(self)
        key = Secret("API key", "ct_live_")
        books = EchoingServer(self)
        listener = Listen(self, tmp.path / "archive", {
            "COMPTENTRA_URL": books.url, "COMPTENTRA_API_KEY": key.value,
            "STRIPE_WEBHOOK_SECRET": TEST_SECRET, **NO_PROXY})
        self.assertEqual(listener.deliver(event(43, PREFIX))[0], 200)
        # A refused key keeps the capture in the inbox, to be tried again, with a warning.
        warned = wait_until(lambda: "after try 1 of 10" in listener.stderr(), BOOK_TIMEOUT)
        self.assertTrue(warned, listener.stderr())
        self.assertIn("refused the API key: HTTP 401", listener.stderr())
        self.assert_health(listener, 1, 0)
        self.assert_stopped(listener, *listener.stop())
        self.assert_no_leak([key], listener)


class Errors(ListenTest):
    def failed_start(self, tmp, args, env=None, status=None):
        settings = {"STRIPE_WEBHOOK_SECRET": TEST_SECRET, "COMPTENTRA_API_KEY": SANDBOX_KEY,
                    "COMPTENTRA_URL": "http://127.0.0.1:9", **(env or {})}
        settings = {name: value for name, value in settings.items() if value is not None}
        code, stdout, stderr = run(["listen", *args], env=settings, timeout=ERROR_TIMEOUT,
                                   cwd=tmp.path)
        self.assert_no_crash(code, stdout, stderr)
        self.assertEqual(code, status, stderr)
        self.assertEqual(stdout, "")
        errors = lines(stderr)
        self.assertIn(len(errors), (1, 2), stderr)
        self.assertTrue(errors[0].startswith("stripe-comptentra: error: "), stderr)
        if len(errors) == 2:
            self.assertTrue(errors[1].startswith("stripe-comptentra: hint: "), stderr)
        return errors[0]

    def test_missing_archive_is_2(self):
        self.assertIn("--archive", self.failed_start(TempDir(self), ["--port", "0"], status=2))

    def test_no_webhook_secret_is_78(self):
        line = self.failed_start(TempDir(self), ["--archive", "a", "--port", "0"],
                                 env={"STRIPE_WEBHOOK_SECRET": None}, status=78)
        self.assertIn("secret", line)

    def test_no_comptentra_key_is_78(self):
        line = self.failed_start(TempDir(self), ["--archive", "a", "--port", "0"],
                                 env={"COMPTENTRA_API_KEY": None}, status=78)
        self.assertIn("Comptentra", line)

    def test_path_without_slash_is_2(self):
        line = self.failed_start(TempDir(self), ["--archive", "a", "--port", "0", "--path",
                                                 "stripe-webhook"], status=2)
        self.assertIn("--path", line)

    def test_bind_not_numeric_is_78(self):
        line = self.failed_start(TempDir(self), ["--archive", "a", "--port", "0", "--bind",
                                                 "localhost"], status=78)
        self.assertIn("localhost", line)

    def test_port_in_use_is_75(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            line = self.failed_start(TempDir(self), ["--archive", "a", "--port", port],
                                     status=75)
        self.assertIn(str(port), line)

    def test_numbers_out_of_range_are_2(self):
        for option, value in (("--port", "70000"), ("--concurrency", "0"),
                              ("--concurrency", "33"), ("--tolerance", "-1")):
            with self.subTest(option=option, value=value):
                line = self.failed_start(TempDir(self), ["--archive", "a", "--port", "0",
                                                         option, value], status=2)
                self.assertIn(option, line)

    def test_second_listen_on_the_same_archive_is_75(self):
        tmp = TempDir(self)
        listener = self.listen(tmp, Sandbox(self))
        line = self.failed_start(tmp, ["--archive", listener.archive, "--port", "0"], status=75)
        self.assertIn(str(listener.archive / ".lock"), line)
        self.assertEqual(listener.health()["status"], "ok")


if __name__ == "__main__":
    unittest.main()
