"""End-to-end tests of `stripe-comptentra sign`, checked against Stripe's own test vector."""

import unittest

from harness import (DATA, ERROR_PREFIX, HINT_PREFIX, TEST_SECRET, BinaryTest, TempDir, data,
                     lines, run, sign)

VECTOR_PAYLOAD = b'{"id":"evt_test","object":"event"}'
VECTOR_HEADER = "t=1700000000,v1=8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724"
OTHER_SECRET = "whsec_0123456789abcdef"
OTHER_HEADER = "t=1492774577,v1=99eb9423eb7ac1d954c153c03fc8a2698f128bed10c5ba2e6a63555761dcf4d1"


class SignTest(BinaryTest):
    def setUp(self):
        self.tmp = TempDir(self)
        self.payload = self.tmp.write("payload.json", VECTOR_PAYLOAD)

    def run_checked(self, args, stdin=None, env=None):
        """Runs the binary and checks that no secret leaks into stdout or stderr."""
        result = run(args, stdin=stdin, env=env)
        for secret in (TEST_SECRET, OTHER_SECRET):
            self.assertNotIn(secret, result[1])
            self.assertNotIn(secret, result[2])
        return result

    def sign(self, *args, stdin=None, env=None):
        return self.run_checked(["sign", *args], stdin=stdin, env=env)

    def test_stripe_test_vector(self):
        self.assertEqual(
            self.sign("--webhook-secret", TEST_SECRET, "--timestamp", "1700000000", self.payload),
            (0, VECTOR_HEADER + "\n", ""))

    def test_second_stripe_test_vector(self):
        self.assertEqual(
            self.sign("--webhook-secret", OTHER_SECRET, "--timestamp", "1492774577", self.payload),
            (0, OTHER_HEADER + "\n", ""))

    def test_timestamp_as_iso_8601(self):
        # 1700000000 is 2023-11-14T22:13:20Z.
        self.assertEqual(
            self.sign("--webhook-secret", TEST_SECRET, "--timestamp", "2023-11-14T23:13:20+01:00",
                      self.payload),
            (0, VECTOR_HEADER + "\n", ""))

    def test_secret_from_environment(self):
        self.assertEqual(
            self.sign("--timestamp", "1700000000", self.payload,
                      env={"STRIPE_WEBHOOK_SECRET": TEST_SECRET}),
            (0, VECTOR_HEADER + "\n", ""))

    def test_first_secret_of_a_list_signs(self):
        self.assertEqual(
            self.sign("--timestamp", "1700000000", self.payload,
                      env={"STRIPE_WEBHOOK_SECRET": f"{TEST_SECRET},{OTHER_SECRET}"}),
            (0, VECTOR_HEADER + "\n", ""))

    def test_stdin(self):
        self.assertEqual(
            self.sign("--webhook-secret", TEST_SECRET, "--timestamp", "1700000000", "-",
                      stdin=VECTOR_PAYLOAD),
            (0, VECTOR_HEADER + "\n", ""))

    def test_signs_exact_bytes(self):
        body = (DATA / "raw" / "customer_created.json").read_bytes()
        for variant in (body, body + b"\n", body.replace(b"\n", b"\r\n"), b"\xef\xbb\xbf" + body):
            with self.subTest(size=len(variant)):
                path = self.tmp.write("variant.json", variant)
                self.assertEqual(
                    self.sign("--webhook-secret", TEST_SECRET, "--timestamp", "1773486770", path),
                    (0, sign(variant, 1773486770) + "\n", ""))

    def test_default_timestamp_is_now(self):
        status, stdout, _ = self.sign("--webhook-secret", TEST_SECRET, self.payload)
        self.assertEqual(status, 0)
        timestamp = int(stdout.split(",")[0].removeprefix("t="))
        self.assertEqual(stdout, sign(VECTOR_PAYLOAD, timestamp) + "\n")
        status, stdout, _ = self.run_checked(["verify", "--webhook-secret", TEST_SECRET, "--signature",
                                 stdout.strip(), self.payload])
        self.assertEqual(status, 0, stdout)

    def test_sign_then_verify_round_trip(self):
        body = (DATA / "entry" / "event_captured_partial.json").read_bytes()
        path = self.tmp.write("event.json", body)
        status, header, _ = self.sign("--webhook-secret", TEST_SECRET, "--timestamp",
                                      "1773486770", path)
        self.assertEqual(status, 0)
        self.assertEqual(
            self.run_checked(["verify", "--webhook-secret", TEST_SECRET, "--received-at",
                              "1773486800", "--signature", header.strip(), path]),
            (0, f"{path}: valid evt_3QdZa2eZvKYlo2C0Hc5Vn02\n", ""))
        capture = (b"POST /stripe-webhook HTTP/1.1\r\nContent-Type: application/json\r\n"
                   b"Stripe-Signature: " + header.strip().encode() + b"\r\n\r\n" + body)
        capture_path = self.tmp.write("event.http", capture)
        self.assertEqual(
            self.run_checked(["verify", "--webhook-secret", TEST_SECRET, "--received-at",
                              "1773486800", capture_path]),
            (0, f"{capture_path}: valid evt_3QdZa2eZvKYlo2C0Hc5Vn02\n", ""))

    def test_missing_file(self):
        status, stdout, stderr = self.sign("--webhook-secret", TEST_SECRET, "--timestamp",
                                           "1700000000", "no_such_payload.json")
        self.assertEqual((status, stdout), (66, ""))
        self.assert_error_lines(stderr, "no_such_payload.json")

    def test_no_secret(self):
        status, stdout, stderr = self.sign("--timestamp", "1700000000", self.payload)
        self.assertEqual((status, stdout), (78, ""))
        err = lines(stderr)
        self.assertTrue(err[0].startswith(ERROR_PREFIX), stderr)
        self.assertTrue(any(line.startswith(HINT_PREFIX) and "STRIPE_WEBHOOK_SECRET" in line
                            for line in err), stderr)

    def test_bad_timestamp(self):
        status, stdout, stderr = self.sign("--webhook-secret", TEST_SECRET, "--timestamp", "soon",
                                           self.payload)
        self.assertEqual((status, stdout), (2, ""))
        self.assertTrue(stderr.startswith(ERROR_PREFIX), stderr)

    def test_no_payload_argument(self):
        status, stdout, stderr = self.sign("--webhook-secret", TEST_SECRET)
        self.assertEqual((status, stdout), (2, ""))
        self.assertTrue(stderr.startswith(ERROR_PREFIX), stderr)

    def test_fixture_signature_file(self):
        status, stdout, _ = self.sign("--webhook-secret", TEST_SECRET, "--timestamp", "1773486770",
                                      data("raw", "customer_created.json"))
        self.assertEqual((status, stdout), (0, (DATA / "raw" / "customer_created.sig").read_text()))


if __name__ == "__main__":
    unittest.main()
