"""End-to-end tests of `stripe-comptentra verify`: signatures, secrets, age, output, statuses."""

import json
import subprocess
import sys
import unittest

from harness import (DATA, ERROR_PREFIX, HINT_PREFIX, TEST_SECRET, BinaryTest, TempDir, data,
                     lines, run, sign)

T_YEAR_END = 1767223830  # the t of the year-end captures (see tests/data/make_signed.py)
T_MARCH = 1773486770     # the t of the March captures and of raw/customer_created.sig
EVT_YEAR_END = "evt_3QdYe2eZvKYlo2C1aPk7Lm01"
EVT_PARTIAL = "evt_3QdZa2eZvKYlo2C0Hc5Vn02"
EVT_CUSTOMER = "evt_1QeMn2eZvKYlo2C0Sg4Vk15"
EVT_USD = "evt_3QeHi2eZvKYlo2C0Ma7Pq10"

WRONG_SECRET = "whsec_wrong_secret_for_tests_9f3a"
OTHER_SECRET = "whsec_rolled_out_secret_0001"
# Every secret a test hands to the tool: none may ever show in its output.
ALL_SECRETS = (TEST_SECRET, WRONG_SECRET, OTHER_SECRET, "sk_test_51NotAWebhookSecretAtAll")

CRLF = data("captures", "succeeded_crlf.http")
LF = data("captures", "captured_lf.http")


def ordered(line):
    """A JSON object line as a list of (key, value) pairs, to check the order of the keys."""
    return json.loads(line, object_pairs_hook=list)


class VerifyTest(BinaryTest):
    def verify(self, *args, stdin=None, env=None, json_output=False, config=None):
        """Runs verify and checks that no secret leaks into stdout or stderr."""
        prefix = (["--json"] if json_output else []) + (["--config", config] if config else [])
        result = run([*prefix, "verify", *args], stdin=stdin, env=env)
        for secret in ALL_SECRETS:
            self.assertNotIn(secret, result[1], "secret on stdout")
            self.assertNotIn(secret, result[2], "secret on stderr")
        return result

    def assert_valid(self, result, expected_stdout):
        status, stdout, stderr = result
        self.assertEqual((status, stdout, stderr), (0, expected_stdout, ""))

    def assert_one_failure(self, result, input_name, status_word, event_id, *reason_words):
        """One result line `<input>: <status> <id>: <reason>`, exit 1, nothing on stderr."""
        status, stdout, stderr = result
        self.assertEqual(status, 1, stderr)
        self.assertEqual(stderr, "")
        out = lines(stdout)
        self.assertEqual(len(out), 1, stdout)
        head = f"{input_name}: {status_word} {event_id}: "
        self.assertTrue(out[0].startswith(head), out[0])
        reason = out[0][len(head):]
        for word in reason_words:
            self.assertIn(word, reason.lower())
        return reason


class ValidSignatures(VerifyTest):
    def test_crlf_capture_with_content_length(self):
        self.assert_valid(self.verify("--webhook-secret", TEST_SECRET, "--received-at",
                                      str(T_YEAR_END + 10), CRLF),
                          f"{CRLF}: valid {EVT_YEAR_END}\n")

    def test_lf_capture_without_content_length(self):
        self.assert_valid(self.verify("--webhook-secret", TEST_SECRET, "--received-at",
                                      str(T_MARCH + 1), LF),
                          f"{LF}: valid {EVT_PARTIAL}\n")

    def test_spaces_around_items_and_v0_are_tolerated(self):
        path = data("captures", "spaces_and_v0.http")
        self.assert_valid(self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0", path),
                          f"{path}: valid {EVT_YEAR_END}\n")

    def test_raw_body_with_signature_option(self):
        header = (DATA / "raw" / "customer_created.sig").read_text().strip()
        path = data("raw", "customer_created.json")
        self.assert_valid(self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0",
                                      "--signature", header, path),
                          f"{path}: valid {EVT_CUSTOMER}\n")

    def test_one_of_several_v1_matches(self):
        body = (DATA / "raw" / "customer_created.json").read_bytes()
        good = sign(body, T_MARCH).split(",v1=")[1]
        bad = sign(body, T_MARCH, WRONG_SECRET).split(",v1=")[1]
        path = data("raw", "customer_created.json")
        self.assert_valid(self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0",
                                      "--signature", f"t={T_MARCH},v1={bad},v1={good}", path),
                          f"{path}: valid {EVT_CUSTOMER}\n")

    def test_uppercase_hex_does_not_match(self):
        header = (DATA / "raw" / "customer_created.sig").read_text().strip()
        t, v1 = header.split(",v1=")
        path = data("raw", "customer_created.json")
        self.assert_one_failure(
            self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0",
                        "--signature", f"{t},v1={v1.upper()}", path),
            path, "invalid", EVT_CUSTOMER, "match")

    def test_body_with_byte_order_mark_is_signed_as_it_stands(self):
        tmp = TempDir(self)
        body = b"\xef\xbb\xbf" + (DATA / "raw" / "customer_created.json").read_bytes()
        path = tmp.write("bom.json", body)
        status, stdout, stderr = self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0",
                                             "--signature", sign(body, T_MARCH), path)
        self.assertEqual((status, stderr), (0, ""))
        self.assertTrue(stdout.startswith(f"{path}: valid"), stdout)


class Secrets(VerifyTest):
    def test_wrong_secret_is_no_match(self):
        self.assert_one_failure(
            self.verify("--webhook-secret", WRONG_SECRET, "--tolerance", "0", CRLF),
            CRLF, "invalid", EVT_YEAR_END, "no ", "match")

    def test_second_secret_matches(self):
        self.assert_valid(self.verify("--webhook-secret", WRONG_SECRET, "--webhook-secret",
                                      TEST_SECRET, "--tolerance", "0", CRLF),
                          f"{CRLF}: valid {EVT_YEAR_END}\n")

    def test_environment_comma_list(self):
        env = {"STRIPE_WEBHOOK_SECRET": f"{OTHER_SECRET},{TEST_SECRET}"}
        self.assert_valid(self.verify("--tolerance", "0", CRLF, env=env),
                          f"{CRLF}: valid {EVT_YEAR_END}\n")

    def test_environment_wrong_secret(self):
        env = {"STRIPE_WEBHOOK_SECRET": WRONG_SECRET}
        self.assert_one_failure(self.verify("--tolerance", "0", CRLF, env=env),
                                CRLF, "invalid", EVT_YEAR_END, "match")

    def private_config(self, name, relative=None):
        """A copy of a config fixture that only its owner may read, as a file holding a secret
        should be (git keeps no such mode); other modes give a warning on stderr."""
        tmp = TempDir(self)
        path = tmp.path / (relative or name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((DATA / "config" / name).read_bytes())
        path.chmod(0o600)
        return tmp, str(path)

    def test_config_file_secret(self):
        self.assert_valid(self.verify("--tolerance", "0", CRLF,
                                      config=self.private_config("webhook_secret.toml")[1]),
                          f"{CRLF}: valid {EVT_YEAR_END}\n")

    def test_config_file_secret_list(self):
        self.assert_valid(self.verify("--tolerance", "0", CRLF,
                                      config=self.private_config("webhook_secret_list.toml")[1]),
                          f"{CRLF}: valid {EVT_YEAR_END}\n")

    def test_config_file_from_environment_variable(self):
        env = {"STRIPE_COMPTENTRA_CONFIG": self.private_config("webhook_secret.toml")[1]}
        self.assert_valid(self.verify("--tolerance", "0", CRLF, env=env),
                          f"{CRLF}: valid {EVT_YEAR_END}\n")

    def test_config_file_in_xdg_config_home(self):
        tmp, _ = self.private_config("webhook_secret.toml", "stripe-comptentra/config.toml")
        self.assert_valid(self.verify("--tolerance", "0", CRLF,
                                      env={"XDG_CONFIG_HOME": str(tmp.path)}),
                          f"{CRLF}: valid {EVT_YEAR_END}\n")

    def test_flag_beats_environment(self):
        self.assert_valid(self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0", CRLF,
                                      env={"STRIPE_WEBHOOK_SECRET": WRONG_SECRET}),
                          f"{CRLF}: valid {EVT_YEAR_END}\n")
        self.assert_one_failure(
            self.verify("--webhook-secret", WRONG_SECRET, "--tolerance", "0", CRLF,
                        env={"STRIPE_WEBHOOK_SECRET": TEST_SECRET}),
            CRLF, "invalid", EVT_YEAR_END, "match")

    def test_environment_beats_config_file(self):
        self.assert_one_failure(
            self.verify("--tolerance", "0", CRLF,
                        config=self.private_config("webhook_secret.toml")[1],
                        env={"STRIPE_WEBHOOK_SECRET": WRONG_SECRET}),
            CRLF, "invalid", EVT_YEAR_END, "match")

    def test_secret_with_surrounding_whitespace_gets_a_hint(self):
        reason = self.assert_one_failure(
            self.verify("--webhook-secret", TEST_SECRET + "\n", "--tolerance", "0", CRLF),
            CRLF, "invalid", EVT_YEAR_END, "match")
        self.assertIn("whitespace", reason)

    def test_secret_that_is_not_whsec_gets_a_hint(self):
        reason = self.assert_one_failure(
            self.verify("--webhook-secret", "sk_test_51NotAWebhookSecretAtAll", "--tolerance", "0",
                        CRLF),
            CRLF, "invalid", EVT_YEAR_END, "match")
        self.assertIn("whsec_", reason)

    def test_no_secret_configured(self):
        status, stdout, stderr = self.verify("--tolerance", "0", CRLF)
        self.assertEqual((status, stdout), (78, ""))
        err = lines(stderr)
        self.assertEqual(len(err), 2, stderr)
        self.assertTrue(err[0].startswith(ERROR_PREFIX), stderr)
        self.assertIn("secret", err[0])
        self.assertTrue(err[1].startswith(HINT_PREFIX), stderr)
        self.assertIn("STRIPE_WEBHOOK_SECRET", err[1])
        self.assertIn("--webhook-secret", err[1])


class Age(VerifyTest):
    def test_too_old_with_default_tolerance(self):
        # The fixtures were signed in 2025 and 2026: now is long after.
        self.assert_one_failure(self.verify("--webhook-secret", TEST_SECRET, CRLF),
                                CRLF, "too_old", EVT_YEAR_END)

    def test_tolerance_zero_turns_the_check_off(self):
        self.assert_valid(self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0", CRLF),
                          f"{CRLF}: valid {EVT_YEAR_END}\n")

    def test_received_at_unix_seconds_at_the_limit(self):
        self.assert_valid(self.verify("--webhook-secret", TEST_SECRET, "--received-at",
                                      str(T_YEAR_END + 300), CRLF),
                          f"{CRLF}: valid {EVT_YEAR_END}\n")
        self.assert_one_failure(self.verify("--webhook-secret", TEST_SECRET, "--received-at",
                                            str(T_YEAR_END + 301), CRLF),
                                CRLF, "too_old", EVT_YEAR_END)

    def test_received_at_iso_8601(self):
        # T_YEAR_END is 2025-12-31T23:30:30Z.
        self.assert_valid(self.verify("--webhook-secret", TEST_SECRET, "--received-at",
                                      "2025-12-31T23:35:30Z", CRLF),
                          f"{CRLF}: valid {EVT_YEAR_END}\n")
        self.assert_valid(self.verify("--webhook-secret", TEST_SECRET, "--received-at",
                                      "2026-01-01T00:35:30+01:00", CRLF),
                          f"{CRLF}: valid {EVT_YEAR_END}\n")
        self.assert_one_failure(self.verify("--webhook-secret", TEST_SECRET, "--received-at",
                                            "2026-01-01T00:35:31+01:00", CRLF),
                                CRLF, "too_old", EVT_YEAR_END)

    def test_custom_tolerance(self):
        self.assert_one_failure(self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "60",
                                            "--received-at", str(T_YEAR_END + 61), CRLF),
                                CRLF, "too_old", EVT_YEAR_END)

    def test_timestamp_in_the_future_is_accepted(self):
        self.assert_valid(self.verify("--webhook-secret", TEST_SECRET, "--received-at",
                                      str(T_YEAR_END - 3600), CRLF),
                          f"{CRLF}: valid {EVT_YEAR_END}\n")

    def test_bad_signature_is_reported_before_age(self):
        self.assert_one_failure(self.verify("--webhook-secret", WRONG_SECRET, CRLF),
                                CRLF, "invalid", EVT_YEAR_END, "match")

    def test_bad_received_at_is_a_usage_error(self):
        for value in ("yesterday", "2025-12-31", "2025-13-01T00:00:00Z", "-5"):
            with self.subTest(value=value):
                status, stdout, stderr = self.verify("--webhook-secret", TEST_SECRET,
                                                     "--received-at", value, CRLF)
                self.assertEqual((status, stdout), (2, ""))
                self.assertTrue(stderr.startswith(ERROR_PREFIX), stderr)
                self.assertIn("--received-at", lines(stderr)[0])

    def test_negative_tolerance_is_a_usage_error(self):
        status, stdout, stderr = self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "-1",
                                             CRLF)
        self.assertEqual((status, stdout), (2, ""))
        self.assertTrue(stderr.startswith(ERROR_PREFIX), stderr)


class FailureReasons(VerifyTest):
    def test_body_saved_with_an_extra_newline(self):
        path = data("captures", "trailing_newline.http")
        reason = self.assert_one_failure(
            self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0", path),
            path, "invalid", EVT_YEAR_END, "match")
        self.assertIn("newline", reason)

    def test_raw_body_saved_with_an_extra_crlf(self):
        tmp = TempDir(self)
        header = (DATA / "raw" / "customer_created.sig").read_text().strip()
        path = tmp.write("saved.json", (DATA / "raw" / "customer_created.json").read_bytes()
                         + b"\r\n")
        reason = self.assert_one_failure(
            self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0", "--signature", header,
                        path),
            path, "invalid", EVT_CUSTOMER, "match")
        self.assertIn("newline", reason)

    def test_no_header_in_capture(self):
        path = data("captures", "no_signature_header.http")
        self.assert_one_failure(
            self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0", path),
            path, "invalid", EVT_YEAR_END, "no stripe-signature header")

    def test_raw_body_without_signature_option(self):
        path = data("raw", "customer_created.json")
        reason = self.assert_one_failure(
            self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0", path),
            path, "invalid", EVT_CUSTOMER, "no stripe-signature header")
        self.assertIn("--signature", reason)

    def test_no_v1(self):
        path = data("captures", "no_v1.http")
        self.assert_one_failure(
            self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0", path),
            path, "invalid", EVT_YEAR_END, "no v1")

    def test_no_timestamp(self):
        path = data("captures", "no_timestamp.http")
        self.assert_one_failure(
            self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0", path),
            path, "invalid", EVT_YEAR_END, "no timestamp")


class Output(VerifyTest):
    def test_json_one_valid(self):
        status, stdout, stderr = self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0",
                                             CRLF, json_output=True)
        self.assertEqual((status, stderr), (0, ""))
        self.assertEqual(lines(stdout), [
            json.dumps({"input": CRLF, "id": EVT_YEAR_END, "status": "valid"},
                       separators=(",", ":")),
            '{"summary":{"valid":1},"exit_status":0}',
        ])

    def test_json_mixed_results(self):
        status, stdout, stderr = self.verify(
            "--webhook-secret", TEST_SECRET, "--received-at", str(T_YEAR_END + 60),
            CRLF, LF, data("captures", "no_v1.http"), data("captures", "spaces_and_v0.http"),
            json_output=True)
        self.assertEqual((status, stderr), (1, ""))
        out = [ordered(line) for line in lines(stdout)]
        self.assertEqual(len(out), 5, stdout)
        self.assertEqual(out[0], [("input", CRLF), ("id", EVT_YEAR_END), ("status", "valid")])
        # LF was signed 73 days later: in the future of --received-at, so valid too.
        self.assertEqual(out[1], [("input", LF), ("id", EVT_PARTIAL), ("status", "valid")])
        self.assertEqual([key for key, _ in out[2]], ["input", "id", "status", "reason"])
        self.assertEqual(dict(out[2])["status"], "invalid")
        self.assertIn("v1", dict(out[2])["reason"])
        self.assertEqual(dict(out[3])["status"], "valid")
        summary = json.loads(lines(stdout)[-1])
        self.assertEqual(list(summary), ["summary", "exit_status"])
        self.assertEqual(summary, {"summary": {"valid": 3, "invalid": 1}, "exit_status": 1})

    def test_json_too_old(self):
        status, stdout, _ = self.verify("--webhook-secret", TEST_SECRET, CRLF, json_output=True)
        self.assertEqual(status, 1)
        first, summary = lines(stdout)
        self.assertEqual([key for key, _ in ordered(first)], ["input", "id", "status", "reason"])
        self.assertEqual(json.loads(first)["status"], "too_old")
        self.assertEqual(json.loads(summary), {"summary": {"too_old": 1}, "exit_status": 1})

    def test_directory_in_name_order(self):
        status, stdout, stderr = self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0",
                                             "captures/batch")
        self.assertEqual(status, 0, stderr)
        self.assertEqual(stdout, "captures/batch/001_succeeded.http: valid "
                                 f"{EVT_YEAR_END}\n"
                                 "captures/batch/002_customer_created.http: valid "
                                 f"{EVT_CUSTOMER}\n"
                                 f"captures/batch/010_usd.http: valid {EVT_USD}\n")
        self.assertFalse(any(line.startswith(ERROR_PREFIX) for line in lines(stderr)), stderr)

    def test_directory_json(self):
        status, stdout, _ = self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0",
                                        "captures/batch", json_output=True)
        self.assertEqual(status, 0)
        out = [json.loads(line) for line in lines(stdout)]
        self.assertEqual([item.get("input") for item in out[:-1]], [
            "captures/batch/001_succeeded.http", "captures/batch/002_customer_created.http",
            "captures/batch/010_usd.http"])
        self.assertEqual(out[-1], {"summary": {"valid": 3}, "exit_status": 0})

    def test_stdin_capture(self):
        status, stdout, stderr = self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0",
                                             "-", stdin=(DATA / CRLF).read_bytes())
        self.assertEqual((status, stdout, stderr), (0, f"<stdin>: valid {EVT_YEAR_END}\n", ""))

    def test_stdin_raw_body(self):
        header = (DATA / "raw" / "customer_created.sig").read_text().strip()
        status, stdout, stderr = self.verify(
            "--webhook-secret", TEST_SECRET, "--tolerance", "0", "--signature", header, "-",
            stdin=(DATA / "raw" / "customer_created.json").read_bytes())
        self.assertEqual((status, stdout, stderr), (0, f"<stdin>: valid {EVT_CUSTOMER}\n", ""))

    def test_missing_file_is_reported_and_the_others_still_checked(self):
        status, stdout, stderr = self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0",
                                             CRLF, "captures/does_not_exist.http", LF)
        self.assertEqual(status, 66)
        self.assertEqual(stdout, f"{CRLF}: valid {EVT_YEAR_END}\n{LF}: valid {EVT_PARTIAL}\n")
        self.assert_error_lines(stderr, "captures/does_not_exist.http")

    def test_missing_file_json(self):
        status, stdout, stderr = self.verify("--webhook-secret", TEST_SECRET, "--tolerance", "0",
                                             "captures/does_not_exist.http", CRLF,
                                             json_output=True)
        self.assertEqual(status, 66)
        self.assert_error_lines(stderr, "captures/does_not_exist.http")
        out = [json.loads(line) for line in lines(stdout)]
        self.assertEqual(len(out), 3, stdout)
        self.assertEqual(out[0]["input"], "captures/does_not_exist.http")
        self.assertEqual(out[0]["status"], "invalid")
        self.assertTrue(out[0]["reason"])
        self.assertEqual(out[1], {"input": CRLF, "id": EVT_YEAR_END, "status": "valid"})
        self.assertEqual(out[2]["exit_status"], 66)
        self.assertEqual(out[2]["summary"].get("valid"), 1)

    def test_invalid_and_missing_exit_with_the_highest_status(self):
        status, stdout, stderr = self.verify("--webhook-secret", WRONG_SECRET, "--tolerance", "0",
                                             CRLF, "nowhere.http")
        self.assertEqual(status, 66)
        self.assertTrue(stdout.startswith(f"{CRLF}: invalid {EVT_YEAR_END}: "), stdout)
        self.assert_error_lines(stderr, "nowhere.http")


class Usage(VerifyTest):
    def test_unknown_option(self):
        status, stdout, stderr = self.verify("--webhook-secret", TEST_SECRET, "--no-such-option",
                                             CRLF)
        self.assertEqual((status, stdout), (2, ""))
        self.assertTrue(stderr.startswith(ERROR_PREFIX), stderr)

    def test_no_path(self):
        status, stdout, stderr = self.verify("--webhook-secret", TEST_SECRET)
        self.assertEqual((status, stdout), (2, ""))
        self.assertTrue(stderr.startswith(ERROR_PREFIX), stderr)

    def test_help(self):
        status, stdout, _ = self.verify("--help")
        self.assertEqual(status, 0)
        for option in ("--signature", "--webhook-secret", "--tolerance", "--received-at"):
            self.assertIn(option, stdout)


class Fixtures(unittest.TestCase):
    def test_signed_fixtures_are_up_to_date(self):
        completed = subprocess.run([sys.executable, str(DATA / "make_signed.py"), "--check"],
                                   capture_output=True, text=True, timeout=60)
        self.assertEqual(completed.returncode, 0, completed.stderr)


class SecretGivenAsAPath(BinaryTest):
    def test_a_second_secret_after_one_flag_is_never_printed(self):
        secret = "whsec_SECRETSECRETSECRET1234"
        status, stdout, stderr = run(["verify", "--webhook-secret", TEST_SECRET, secret,
                                      data("captures", "succeeded_crlf.http"), "--tolerance", "0"])
        self.assertNotIn(secret, stdout + stderr)
        self.assertIn("whsec_…1234: looks like a secret given as an input path", stderr)
        self.assertIn("--webhook-secret A --webhook-secret B", stderr)
        self.assertEqual(status, 2)


if __name__ == "__main__":
    unittest.main()
