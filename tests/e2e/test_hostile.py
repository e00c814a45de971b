"""Hostile inputs through `entry` and `verify`: each is refused with an exact status and one
error line naming it, and nothing crashes.

`verify` gets each body with a correct --signature (or a capture's own header), so that the
only thing wrong is the input itself. It checks signatures over the raw bytes and reads no
charge field, so a well-formed JSON object with odd fields (amount as a string, a number
beyond 64 bits) or invalid UTF-8 inside a string (signed as it stands, product.md) is valid
for it; what is not a JSON object at all is bad input data (65) for both commands, as
Stripe's own libraries refuse to construct an event from it.
"""

import random
import unittest

from harness import (DATA, ERROR_PREFIX, TEST_SECRET, BinaryTest, TempDir, data, lines, run,
                     sign)

T = 1767223830
EVENT = (DATA / "entry" / "event_succeeded_year_end.json").read_bytes()
EVENT_ID = "evt_3QdYe2eZvKYlo2C1aPk7Lm01"
MIB = 1024 * 1024


def replace_once(text, old, new):
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


def hostile_cases():
    """(name, bytes or committed fixture path, entry status, verify status)."""
    rng = random.Random(20251231)
    malformed_rows = b"".join(b'    {"id": "txn_%06d", "amount": %d,},\n' % (i, i * 7)
                              for i in range(75000))
    return [
        ("truncated", EVENT[: len(EVENT) // 2], 65, 65),
        ("empty", b"", 65, 65),
        ("whitespace_only", b"  \n\t\r\n   \n\n", 65, 65),
        ("amount_as_string",
         replace_once(EVENT, b'"amount": 12000', b'"amount": "12000"'), 65, 0),
        ("binary_bytes", rng.randbytes(64 * 1024), 65, 65),
        ("number_beyond_64_bits",
         replace_once(EVENT, b'"amount": 12000', b'"amount": 123456789012345678901234567890'),
         65, 0),
        ("negative_number_beyond_64_bits",
         replace_once(EVENT, b'"created": 1767223800', b'"created": -99999999999999999999999'),
         65, 0),
        ("number_overflowing_a_double",
         replace_once(EVENT, b'"amount": 12000', b'"amount": 1e999999'), 65, 65),
        ("deep_nesting", b"[" * 100000 + b"]" * 100000, 65, 65),
        ("deep_nesting_unclosed", b"[" * 100000, 65, 65),
        ("nul_bytes", replace_once(EVENT, b'"object": "event",', b'"object": "event",\0\0\0\0'),
         65, 65),
        ("invalid_utf8_in_string",
         replace_once(EVENT, b"camille.martin@example.fr", b"camille.martin\xff\xfe\xc3@example.fr"),
         65, 0),
        ("over_8_mib", b'{"id": "evt_big", "object": "event", "padding": "'
         + b"x" * (10 * MIB) + b'"}\n', 65, 65),
        ("malformed_3_mib", b'{\n  "id": "evt_malformed",\n  "object": "event",\n  "data": [\n'
         + malformed_rows + b"  ]\n}\n", 65, 65),
        ("content_length_too_long", data("hostile", "content_length_too_long.http"), 65, 65),
        ("duplicate_key",
         replace_once(EVENT, b'"amount": 12000', b'"amount": 12000, "amount": 1200'), 65, 0),
        ("duplicate_key_nested",
         replace_once(EVENT, b'"object": "event",', b'"object": "event", "object": "event",'),
         65, 0),
        ("negative_amount", replace_once(EVENT, b'"amount": 12000', b'"amount": -12000'), 65, 0),
        ("zero_amount", replace_once(replace_once(EVENT, b'"amount": 12000', b'"amount": 0'),
                                     b'"amount_captured": 12000', b'"amount_captured": 0'), 65, 0),
    ]


class Hostile(BinaryTest):
    def setUp(self):
        self.tmp = TempDir(self)

    def materialise(self, name, content):
        if isinstance(content, bytes):
            return self.tmp.write(f"{name}.json", content)
        return content

    def check(self, command, path, expected, stdout, status, stderr):
        self.assert_no_crash(status, stdout, stderr)
        self.assertEqual(status, expected, f"{command}: {stdout[:500]}{stderr[:2000]}")
        if expected == 0:
            self.assertEqual(stderr, "")
            return
        self.assertEqual(stdout, "")
        errors = [line for line in lines(stderr) if line.startswith(ERROR_PREFIX)]
        self.assertEqual(len(errors), 1, stderr[:2000])
        self.assertTrue(errors[0].startswith(f"{ERROR_PREFIX}{path}"), errors[0][:2000])
        self.assertLess(len(stderr), 4096, "the error line echoes the input")

    def test_entry(self):
        for name, content, entry_status, _ in hostile_cases():
            with self.subTest(name=name):
                path = self.materialise(name, content)
                status, stdout, stderr = run(["entry", path])
                self.check("entry", path, entry_status, stdout, status, stderr)

    def test_verify(self):
        for name, content, _, verify_status in hostile_cases():
            with self.subTest(name=name):
                path = self.materialise(name, content)
                args = ["verify", "--webhook-secret", TEST_SECRET, "--tolerance", "0"]
                if isinstance(content, bytes):
                    args += ["--signature", sign(content, T)]
                status, stdout, stderr = run([*args, path])
                self.assertNotIn(TEST_SECRET, stdout + stderr)
                self.check("verify", path, verify_status, stdout, status, stderr)
                if verify_status == 0:
                    self.assertTrue(stdout.startswith(f"{path}: valid"), stdout)

    def test_hostile_input_does_not_stop_the_batch(self):
        paths = [self.materialise(name, content) for name, content, *_ in hostile_cases()]
        good = data("entry", "charge_no_email.json")
        status, stdout, stderr = run(["entry", *paths, good])
        self.assert_no_crash(status, stdout, stderr)
        self.assertEqual(status, 65)
        self.assertEqual(stdout, (DATA / "entry" / "charge_no_email.expected").read_text())
        self.assert_error_lines(stderr, *paths)

    def test_hostile_stdin(self):
        for name, content, entry_status, _ in hostile_cases():
            if not isinstance(content, bytes) or len(content) > MIB:
                continue
            with self.subTest(name=name):
                status, stdout, stderr = run(["entry", "-"], stdin=content)
                self.check("entry", "<stdin>", entry_status, stdout, status, stderr)

    def test_hostile_json_lines(self):
        good = (DATA / "jsonl" / "events.jsonl").read_bytes().splitlines(keepends=True)
        rng = random.Random(7)
        garbage = bytes(b for b in rng.randbytes(512) if b not in b"\r\n")
        content = good[0] + b'{"id": 1e999999, "object": "charge"}\n' + garbage + b"\n" + good[2]
        path = self.tmp.write("mixed.jsonl", content)
        status, stdout, stderr = run(["entry", path])
        self.assert_no_crash(status, stdout, stderr)
        self.assertEqual(status, 65)
        self.assertEqual(stdout, (DATA / "jsonl" / "events.expected").read_text())
        self.assert_error_lines(stderr, f"{path}:2", f"{path}:3")

    def test_directory_given_to_sign(self):
        status, stdout, stderr = run(["sign", "--webhook-secret", TEST_SECRET, "captures"])
        self.assertNotIn(TEST_SECRET, stdout + stderr)
        self.assert_no_crash(status, stdout, stderr)
        self.assertEqual((status, stdout), (66, ""))
        self.assert_error_lines(stderr, "captures")

    def test_huge_input_to_sign(self):
        path = self.tmp.write("huge.json", b"{" + b" " * (10 * MIB) + b"}")
        status, stdout, stderr = run(["sign", "--webhook-secret", TEST_SECRET, path])
        self.assertNotIn(TEST_SECRET, stdout + stderr)
        self.assert_no_crash(status, stdout, stderr)
        self.assertEqual((status, stdout), (65, ""))
        self.assert_error_lines(stderr, path)


if __name__ == "__main__":
    unittest.main()
