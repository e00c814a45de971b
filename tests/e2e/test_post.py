"""End-to-end tests of `stripe-comptentra post` against scripts/comptentra-sandbox.

Each test starts its own sandbox (tests/e2e/sandbox.py) on a free loopback port with a data
file in a temporary directory, runs the binary with COMPTENTRA_URL and COMPTENTRA_API_KEY,
and checks stdout, stderr, the exit status and what the sandbox stored. Batches of events
are generated at test time. The runs against a faulty sandbox print their elapsed time on
stderr (ctest -V shows it).
"""

import json
import sys
import time
import unittest

from harness import (ERROR_PREFIX, HINT_PREFIX, TEST_SECRET, TempDir, data, lines, run, sign)
from post_support import (CUSTOMER_CREATED, CLOSED_BEFORE_2026, NO_EMAIL, T_SIGNED,
                          YEAR_END, PostTest, capture, charge_id, event, json_results, libelle,
                          without_id, write_event_files, write_event_lines)
from sandbox import FakeStripe, Listener, Sandbox, closed_port, NO_PROXY


class ExactlyOnce(PostTest):
    def test_fifty_events_posted_then_all_exist(self):
        tmp = TempDir(self)
        events = write_event_files(tmp, range(50))
        sandbox = Sandbox(self)

        status, stdout, stderr = self.json_post(sandbox, events)
        self.assertEqual(status, 0, stderr)
        items, summary = json_results(stdout)
        self.assertEqual(summary, {"summary": {"posted": 50}, "exit_status": 0})
        self.assertEqual([item["status"] for item in items], ["posted"] * 50)
        self.assertEqual([item["id"] for item in items], [charge_id(index) for index in range(50)])
        first_ids = {item["input"]: item["entry_id"] for item in items}
        self.assertEqual(len(set(first_ids.values())), 50, "one distinct entry id per charge")

        stored = sandbox.entries()
        self.assertEqual(len(stored), 50)
        by_libelle = {entry["libelle"]: entry["id"] for entry in stored}
        for item in items:
            self.assertEqual(by_libelle[libelle(item["id"])], item["entry_id"])
        def in_libelle_order(entries):  # the workers post at the same time, in any order
            return sorted(entries, key=lambda entry: entry["libelle"])

        self.assertEqual(in_libelle_order(without_id(entry) for entry in stored),
                         in_libelle_order(self.printed_entries(events)))

        status, stdout, stderr = self.json_post(sandbox, events)
        self.assertEqual(status, 0, stderr)
        items, summary = json_results(stdout)
        self.assertEqual(summary, {"summary": {"exists": 50}, "exit_status": 0})
        self.assertEqual([item["status"] for item in items], ["exists"] * 50)
        self.assertEqual({item["input"]: item["entry_id"] for item in items}, first_ids)
        self.assertEqual(sandbox.entries(), stored, "the second run changed the books")
        self.assertEqual(sandbox.stats()["posts"], 50, "the second run posted again")

    def test_text_lines_name_input_charge_and_entry(self):
        sandbox = Sandbox(self)
        status, stdout, stderr = self.post(sandbox, YEAR_END, CUSTOMER_CREATED)
        self.assertEqual(status, 0, stderr)
        out = lines(stdout)
        self.assertEqual(len(out), 2, stdout)
        self.assertEqual(out[0], f"{YEAR_END}: posted ch_3QdYe2eZvKYlo2C1bXr4Tt01 ECR-000001")
        self.assertTrue(out[1].startswith(f"{CUSTOMER_CREATED}: skipped"), out[1])
        self.assertNotIn(ERROR_PREFIX, stderr)

    def test_same_charge_twice_in_one_batch_is_booked_once(self):
        sandbox = Sandbox(self)
        same = data("same_charge", "charge_of_event_succeeded_year_end.json")
        status, stdout, stderr = self.json_post(sandbox, YEAR_END, same)
        self.assertEqual(status, 0, stderr)
        items, _ = json_results(stdout)
        self.assertEqual([item["status"] for item in items], ["posted", "exists"])
        self.assertEqual(items[0]["entry_id"], items[1]["entry_id"])
        self.assertEqual(len(sandbox.entries()), 1)


class Refusals(PostTest):
    def test_wrong_api_key_is_77_with_a_hint(self):
        sandbox = Sandbox(self)
        status, stdout, stderr = self.post(sandbox, YEAR_END, NO_EMAIL,
                                           env={"COMPTENTRA_API_KEY": "ct_wrong_key_0000"})
        self.assertEqual(status, 77, stderr)
        errors = [line for line in lines(stderr) if line.startswith(ERROR_PREFIX)]
        self.assertTrue(errors, stderr)
        hints = [line for line in lines(stderr) if line.startswith(HINT_PREFIX)]
        self.assertTrue(any("COMPTENTRA_API_KEY" in hint for hint in hints), stderr)
        self.assertEqual(sandbox.entries(), [])
        self.assertEqual(sandbox.stats()["entries"], 0)

    def test_concurrency_out_of_range_is_a_usage_error(self):
        sandbox = Sandbox(self)
        for value in ("0", "33", "four"):
            with self.subTest(value=value):
                status, stdout, stderr = self.post(sandbox, "--concurrency", value, YEAR_END)
                self.assertEqual((status, stdout), (2, ""), stderr)
                self.assertIn("--concurrency", stderr)
        self.assertEqual(sandbox.stats()["requests"], 0)

    def test_no_api_key_is_78(self):
        sandbox = Sandbox(self)
        status, stdout, stderr = run(["post", YEAR_END], env={"COMPTENTRA_URL": sandbox.url})
        self.assertEqual(status, 78, stderr)
        self.assertIn("COMPTENTRA_API_KEY", stderr)
        self.assertEqual(sandbox.stats()["requests"], 0)

    def test_closed_period_is_69_and_the_batch_goes_on(self):
        sandbox = Sandbox(self, "--closed-before", "2026-01-01")
        status, stdout, stderr = self.post(sandbox, CLOSED_BEFORE_2026, NO_EMAIL)
        self.assertEqual(status, 69, stdout + stderr)
        self.assertIn("the period before 2026-01-01 is closed", stdout + stderr)
        out = lines(stdout)
        self.assertEqual(len(out), 2, stdout)
        self.assertTrue(out[0].startswith(f"{CLOSED_BEFORE_2026}: failed"), out[0])
        self.assertTrue(out[1].startswith(f"{NO_EMAIL}: posted"), out[1])
        self.assert_libelles(sandbox, ["ch_3QeBc2eZvKYlo2C0Dn6Wy04"])

    def test_closed_period_in_json(self):
        sandbox = Sandbox(self, "--closed-before", "2026-01-01")
        status, stdout, stderr = self.json_post(sandbox, CLOSED_BEFORE_2026, NO_EMAIL)
        self.assertEqual(status, 69, stderr)
        items, summary = json_results(stdout)
        self.assertEqual([item["status"] for item in items], ["failed", "posted"])
        self.assertIn("422", items[0]["reason"])
        self.assertIn("the period before 2026-01-01 is closed", items[0]["reason"])
        self.assertNotIn("entry_id", items[0])
        self.assertEqual(summary, {"summary": {"failed": 1, "posted": 1}, "exit_status": 69})

    def test_unreachable_server_is_75_naming_the_host(self):
        port = closed_port()
        url = f"http://127.0.0.1:{port}"
        start = time.monotonic()
        status, stdout, stderr = run(["post", YEAR_END, NO_EMAIL],
                                     env={"COMPTENTRA_URL": url,
                                          "COMPTENTRA_API_KEY": "ct_test_sandbox", **NO_PROXY},
                                     timeout=150)
        seconds = time.monotonic() - start
        print(f"\npost to a closed port: exit {status} after {seconds:.1f} s", file=sys.stderr)
        self.assert_no_crash(status, stdout, stderr)
        self.assertEqual(status, 75, stderr)
        self.assertLess(seconds, 120)
        errors = [line for line in lines(stderr) if line.startswith(ERROR_PREFIX)]
        self.assertTrue(errors, stderr)
        self.assertTrue(any(f"127.0.0.1:{port}" in line for line in errors), stderr)

    def test_http_url_to_a_remote_host_is_78_before_any_request(self):
        proxy = Listener(self)  # any request to a host outside NO_PROXY goes through it
        proxies = {name: proxy.url for name in ("http_proxy", "HTTP_PROXY", "https_proxy",
                                                 "HTTPS_PROXY", "ALL_PROXY", "all_proxy")}
        for args in (["post", YEAR_END], ["post", "--dry-run", YEAR_END]):
            with self.subTest(args=args):
                start = time.monotonic()
                status, stdout, stderr = run(args, env={
                    "COMPTENTRA_URL": "http://example.com/api/v1",
                    "COMPTENTRA_API_KEY": "ct_test_sandbox", **NO_PROXY,
                    **proxies}, timeout=30)
                self.assert_no_crash(status, stdout, stderr)
                self.assertEqual(status, 78, stderr)
                self.assertLess(time.monotonic() - start, 10)
                errors = [line for line in lines(stderr) if line.startswith(ERROR_PREFIX)]
                self.assertEqual(len(errors), 1, stderr)
                self.assertIn("example.com", errors[0])
                self.assertIn("http://", errors[0])
                self.assertEqual(proxy.accepted, 0, "a request was attempted")


class BadInputs(PostTest):
    def test_malformed_item_is_65_and_good_ones_are_posted(self):
        tmp = TempDir(self)
        tmp.write("batch/001.json", json.dumps(event(1)))
        truncated = json.dumps(event(2))
        tmp.write("batch/002.json", truncated[: len(truncated) // 2])
        tmp.write("batch/003.json", json.dumps(event(3)))
        sandbox = Sandbox(self)
        status, stdout, stderr = self.post(sandbox, tmp.path / "batch")
        self.assertEqual(status, 65, stderr)
        self.assert_error_lines(stderr, "002.json")
        out = lines(stdout)
        self.assertTrue(any(line.startswith(f"{tmp.path}/batch/001.json: posted") for line in out),
                        stdout)
        self.assertTrue(any(line.startswith(f"{tmp.path}/batch/003.json: posted") for line in out),
                        stdout)
        self.assert_libelles(sandbox, [charge_id(1), charge_id(3)])

    def test_malformed_line_in_json_lines(self):
        tmp = TempDir(self)
        path = tmp.write("mixed.jsonl", json.dumps(event(1)) + "\n{\"id\": \"evt_cut\", \"obj\n"
                         + json.dumps(event(3)) + "\n")
        sandbox = Sandbox(self)
        status, stdout, stderr = self.json_post(sandbox, path)
        self.assertEqual(status, 65, stderr)
        items, summary = json_results(stdout)
        self.assertEqual([(item["input"], item["status"]) for item in items],
                         [(f"{path}:1", "posted"), (f"{path}:2", "invalid"),
                          (f"{path}:3", "posted")])
        self.assertEqual(summary["exit_status"], 65)
        self.assert_libelles(sandbox, [charge_id(1), charge_id(3)])

    def test_missing_file_is_66_and_the_others_are_posted(self):
        tmp = TempDir(self)
        sandbox = Sandbox(self)
        status, stdout, stderr = self.post(sandbox, YEAR_END, tmp.path / "missing.json")
        self.assertEqual(status, 66, stderr)
        self.assert_error_lines(stderr, "missing.json")
        self.assert_libelles(sandbox, ["ch_3QdYe2eZvKYlo2C1bXr4Tt01"])


class VerifyReplay(PostTest):
    def make_captures(self, tmp):
        """Three valid captures and one whose signature is made with another secret."""
        for index in (1, 2, 4):
            body = json.dumps(event(index), indent=2).encode()
            tmp.write(f"captures/{index:03d}.http", capture(body, sign(body, T_SIGNED)))
        body = json.dumps(event(3), indent=2).encode()
        tmp.write("captures/003.http",
                  capture(body, sign(body, T_SIGNED, "whsec_not_the_right_secret")))
        return tmp.path / "captures"

    def test_valid_captures_posted_bad_signature_not(self):
        tmp = TempDir(self)
        captures = self.make_captures(tmp)
        sandbox = Sandbox(self)
        status, stdout, stderr = self.json_post(sandbox, "--verify", "--webhook-secret",
                                                TEST_SECRET, "--tolerance", "0", captures)
        self.assertEqual(status, 1, stderr)
        items, summary = json_results(stdout)
        self.assertEqual([(item["input"], item["status"]) for item in items], [
            (f"{captures}/001.http", "posted"), (f"{captures}/002.http", "posted"),
            (f"{captures}/003.http", "invalid"), (f"{captures}/004.http", "posted")])
        self.assertNotIn("entry_id", items[2])
        self.assertTrue(items[2].get("reason"), items[2])
        self.assertEqual(summary, {"summary": {"invalid": 1, "posted": 3}, "exit_status": 1})
        self.assert_libelles(sandbox, [charge_id(1), charge_id(2), charge_id(4)])

        # The same replay later, with the time the captures were received: nothing new.
        status, stdout, stderr = self.json_post(
            sandbox, "--verify", "--received-at", str(T_SIGNED + 60), captures,
            env={"STRIPE_WEBHOOK_SECRET": TEST_SECRET})
        self.assertEqual(status, 1, stderr)
        items, summary = json_results(stdout)
        self.assertEqual([item["status"] for item in items],
                         ["exists", "exists", "invalid", "exists"])
        self.assertEqual(len(sandbox.entries()), 3)

    def test_too_old_captures_are_not_posted(self):
        tmp = TempDir(self)
        captures = self.make_captures(tmp)
        sandbox = Sandbox(self)
        status, stdout, stderr = self.json_post(sandbox, "--verify", "--webhook-secret",
                                                TEST_SECRET, "--received-at",
                                                str(T_SIGNED + 3600), captures)
        self.assertEqual(status, 1, stderr)
        items, _ = json_results(stdout)
        self.assertEqual([item["status"] for item in items],
                         ["too_old", "too_old", "invalid", "too_old"])
        self.assertEqual(sandbox.entries(), [])


class DryRun(PostTest):
    def books_with(self, *paths):
        """Entries that the books hold before the run: those of `paths`, as `entry` computes."""
        return [dict(entry, id=f"ECR-{number:06d}")
                for number, entry in enumerate(self.printed_entries(*paths), start=1)]

    def test_dry_run_reads_the_books_and_writes_nothing(self):
        sandbox = Sandbox(self, entries=self.books_with(YEAR_END))
        before = sandbox.data_bytes()
        status, stdout, stderr = self.json_post(sandbox, "--dry-run", YEAR_END, NO_EMAIL)
        self.assertEqual(status, 0, stderr)
        items, summary = json_results(stdout)
        self.assertEqual([item["status"] for item in items], ["exists", "would_post"])
        self.assertEqual(items[0]["entry_id"], "ECR-000001")
        self.assertNotIn("entry_id", items[1])
        self.assertEqual(items[1]["entry"], self.printed_entries(NO_EMAIL)[0])
        self.assertEqual(summary, {"summary": {"exists": 1, "would_post": 1}, "exit_status": 0})
        self.assertEqual(sandbox.data_bytes(), before, "the dry run changed the books")
        stats = sandbox.stats()
        self.assertEqual(stats["posts"], 0)
        self.assertGreater(stats["requests"], 0, "the dry run did not read the books")

    def test_dry_run_text_shows_the_entry(self):
        sandbox = Sandbox(self)
        status, stdout, stderr = self.post(sandbox, "--dry-run", NO_EMAIL)
        self.assertEqual(status, 0, stderr)
        entry = json.dumps(self.printed_entries(NO_EMAIL)[0], separators=(",", ":"))
        self.assertEqual(stdout, f"{NO_EMAIL}: would_post ch_3QeBc2eZvKYlo2C0Dn6Wy04 {entry}\n")
        self.assertEqual(sandbox.stats()["posts"], 0)
        self.assertEqual(sandbox.entries(), [])

    def test_dry_run_without_a_key_warns_once(self):
        sandbox = Sandbox(self, entries=self.books_with(YEAR_END))
        before = sandbox.data_bytes()
        status, stdout, stderr = run(["--json", "post", "--dry-run", YEAR_END, NO_EMAIL],
                                     env={"COMPTENTRA_URL": sandbox.url, **NO_PROXY})
        self.assert_no_crash(status, stdout, stderr)
        self.assertEqual(status, 0, stderr)
        warnings = [line for line in lines(stderr) if "warning" in line]
        self.assertEqual(len(warnings), 1, stderr)
        self.assertNotIn(ERROR_PREFIX, stderr)
        items, summary = json_results(stdout)
        self.assertEqual([item["status"] for item in items], ["would_post", "would_post"])
        self.assertEqual([item["entry"] for item in items],
                         self.printed_entries(YEAR_END, NO_EMAIL))
        self.assertEqual(sandbox.data_bytes(), before)
        self.assertEqual(sandbox.stats()["requests"], 0)


class JsonOutput(PostTest):
    def test_one_object_per_item_then_the_summary(self):
        tmp = TempDir(self)
        path = write_event_lines(tmp, range(3))
        sandbox = Sandbox(self)
        status, stdout, stderr = self.json_post(sandbox, path, CUSTOMER_CREATED)
        self.assertEqual(status, 0, stderr)
        objects = [json.loads(line) for line in lines(stdout)]
        self.assertEqual(len(objects), 5, stdout)
        stored = {entry["libelle"]: entry["id"] for entry in sandbox.entries()}
        for number, item in enumerate(objects[:3]):
            self.assertEqual(list(item), ["input", "id", "status", "entry_id"])
            self.assertEqual(item, {"input": f"{path}:{number + 1}", "id": charge_id(number),
                                    "status": "posted",
                                    "entry_id": stored[libelle(charge_id(number))]})
        skipped = objects[3]
        self.assertEqual(list(skipped)[:3], ["input", "id", "status"])
        self.assertEqual((skipped["input"], skipped["status"]), (CUSTOMER_CREATED, "skipped"))
        self.assertTrue(skipped.get("reason"))
        self.assertEqual(objects[4], {"summary": {"posted": 3, "skipped": 1}, "exit_status": 0})
        self.assertEqual(list(objects[4]), ["summary", "exit_status"])


class KeepAlive(PostTest):
    def test_200_posts_use_one_connection_per_worker(self):
        tmp = TempDir(self)
        path = write_event_lines(tmp, range(200))
        for concurrency in (1, 4):
            with self.subTest(concurrency=concurrency):
                sandbox = Sandbox(self)
                status, stdout, stderr = self.json_post(sandbox, "--concurrency", str(concurrency), path)
                self.assertEqual(status, 0, stderr)
                items, summary = json_results(stdout)
                self.assertEqual(summary, {"summary": {"posted": 200}, "exit_status": 0})
                self.assertEqual([item["id"] for item in items],
                                 [charge_id(index) for index in range(200)], "input order")
                stats = sandbox.stats()
                self.assertEqual((stats["posts"], stats["entries"]), (200, 200))
                self.assertLessEqual(stats["connections"], concurrency, stats)


class Secrets(PostTest):
    COMPTENTRA_KEY = "ct_live_e2eLEAKcomptentra7f3a9c"
    STRIPE_KEY = "sk_test_e2eLEAKstripe51Hq0p2b"
    WEBHOOK_SECRET = "whsec_e2eLEAKwebhookc0ffee42"
    # The middle of each value: no output may hold it, even in part.
    MARKERS = ("e2eLEAKcomptentra", "e2eLEAKstripe", "e2eLEAKwebhook")

    def assert_no_secret(self, label, stdout, stderr):
        for text, stream in ((stdout, "stdout"), (stderr, "stderr")):
            for secret in (self.COMPTENTRA_KEY, self.STRIPE_KEY, self.WEBHOOK_SECRET,
                           *self.MARKERS):
                self.assertNotIn(secret, text, f"{label}: {stream} shows a secret:\n{text}")

    def test_no_secret_in_any_output(self):
        tmp = TempDir(self)
        good = Sandbox(self, api_key=self.COMPTENTRA_KEY)
        other = Sandbox(self, api_key="ct_test_another_key")
        stripe = FakeStripe(self, self.STRIPE_KEY)
        body = json.dumps(event(1), indent=2).encode()
        signed = tmp.write("signed/001.http",
                           capture(body, sign(body, T_SIGNED, self.WEBHOOK_SECRET)))
        body = json.dumps(event(2), indent=2).encode()
        tmp.write("signed/002.http", capture(body, sign(body, T_SIGNED, TEST_SECRET)))
        env = {"COMPTENTRA_API_KEY": self.COMPTENTRA_KEY, "STRIPE_API_KEY": self.STRIPE_KEY,
               "STRIPE_WEBHOOK_SECRET": self.WEBHOOK_SECRET, "STRIPE_API_BASE": stripe.url,
               **NO_PROXY}
        runs = {
            "post": (["post", YEAR_END], good, 0),
            "post --verbose": (["--verbose", "post", NO_EMAIL], good, 0),
            "post --verify": (["--verbose", "post", "--verify", "--tolerance", "0",
                               tmp.path / "signed"], good, 1),
            "post --dry-run --json": (["--json", "-v", "post", "--dry-run", YEAR_END,
                                       signed], good, 0),
            "post refused key": (["--verbose", "post", YEAR_END], other, 77),
            "check": (["check"], good, 0),
            "check --json": (["--json", "--verbose", "check"], good, 0),
            "check refused key": (["--verbose", "check"], other, 77),
        }
        for label, (args, sandbox, expected) in runs.items():
            with self.subTest(run=label):
                status, stdout, stderr = run(args, env={**env, "COMPTENTRA_URL": sandbox.url})
                self.assert_no_crash(status, stdout, stderr)
                self.assertEqual(status, expected, stdout + stderr)
                self.assert_no_secret(label, stdout, stderr)
        self.assertEqual(len(good.entries()), 3)
        self.assertEqual(other.entries(), [])

    def test_wrong_stripe_key_is_not_echoed(self):
        stripe = FakeStripe(self, "sk_test_theRightKey000000")
        sandbox = Sandbox(self)
        status, stdout, stderr = run(["--verbose", "check", "--stripe-key", self.STRIPE_KEY,
                                      "--stripe-url", stripe.url], env=sandbox.env())
        self.assert_no_crash(status, stdout, stderr)
        self.assertEqual(status, 77, stdout + stderr)
        self.assert_no_secret("check --stripe-key", stdout, stderr)


if __name__ == "__main__":
    unittest.main()
