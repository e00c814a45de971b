"""10,000 inputs in one directory, generated at test time: one run of verify and one of
entry over it, each bounded by a time limit; the elapsed times go to stderr (ctest -V)."""

import json
import sys
import time
import unittest

from harness import TEST_SECRET, BinaryTest, TempDir, lines, run, sign

COUNT = 10_000
TIME_LIMIT = 120  # seconds per run
T = 1773486770
CREATED = 1773483165  # 2026-03-14T10:12:45Z


def event(index):
    """A small charge.succeeded event, pretty-printed as Stripe sends it; no final newline."""
    amount = 500 + index
    document = {
        "id": f"evt_scale{index:06d}",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": CREATED + index,
        "data": {"object": {
            "id": f"ch_scale{index:06d}",
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "balance_transaction": f"txn_scale{index:06d}",
            "billing_details": {"email": None, "name": None},
            "captured": True,
            "created": CREATED + index,
            "currency": "eur",
            "livemode": False,
            "metadata": {},
            "paid": True,
            "receipt_email": f"client{index}@example.fr",
            "status": "succeeded",
        }},
        "livemode": False,
        "pending_webhooks": 1,
        "type": "charge.succeeded",
    }
    return json.dumps(document, indent=2).encode()


def capture(body):
    return (b"POST /stripe-webhook HTTP/1.1\r\nContent-Type: application/json; charset=utf-8\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nStripe-Signature: "
            + sign(body, T).encode() + b"\r\n\r\n" + body)


class Scale(BinaryTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bodies = [event(index) for index in range(COUNT)]

    def timed(self, label, args):
        start = time.monotonic()
        result = run(args, timeout=TIME_LIMIT)
        print(f"\n{label}: {COUNT} inputs in {time.monotonic() - start:.2f} s", file=sys.stderr)
        return result

    def test_verify_10000_captures(self):
        tmp = TempDir(self)
        for index, body in enumerate(self.bodies):
            tmp.write(f"{index:05d}.http", capture(body))
        status, stdout, stderr = self.timed(
            "verify", ["--json", "verify", "--webhook-secret", TEST_SECRET, "--tolerance", "0",
                       tmp.path])
        self.assertEqual((status, stderr), (0, ""))
        self.assertNotIn(TEST_SECRET, stdout)
        out = lines(stdout)
        self.assertEqual(len(out), COUNT + 1)
        self.assertEqual(json.loads(out[-1]), {"summary": {"valid": COUNT}, "exit_status": 0})
        for index in (0, 1, COUNT // 2, COUNT - 1):
            self.assertEqual(json.loads(out[index]), {
                "input": f"{tmp.path}/{index:05d}.http", "id": f"evt_scale{index:06d}",
                "status": "valid"})

    def test_entry_10000_events(self):
        tmp = TempDir(self)
        for index, body in enumerate(self.bodies):
            tmp.write(f"{index:05d}.json", body + b"\n")
        status, stdout, stderr = self.timed("entry", ["entry", tmp.path])
        self.assertEqual((status, stderr), (0, ""))
        out = lines(stdout)
        self.assertEqual(len(out), COUNT)
        total = 0
        for index, line in enumerate(out):
            entry = json.loads(line)
            self.assertEqual(entry["libelle"], f"Paiement Stripe ch_scale{index:06d}")
            debit = sum(item["debit_cents"] for item in entry["lignes"])
            self.assertEqual(debit, sum(item["credit_cents"] for item in entry["lignes"]))
            total += debit
        self.assertEqual(total, sum(500 + index for index in range(COUNT)))
        self.assertEqual(json.loads(out[1]), {
            "date": "2026-03-14", "journal": "VTE", "libelle": "Paiement Stripe ch_scale000001",
            "lignes": [
                {"compte": "411000", "tiers_email": "client1@example.fr", "debit_cents": 501,
                 "credit_cents": 0},
                {"compte": "707000", "debit_cents": 0, "credit_cents": 417},
                {"compte": "445712", "debit_cents": 0, "credit_cents": 84},
            ]})

    def test_entry_10000_lines_of_json_lines(self):
        tmp = TempDir(self)
        path = tmp.write("events.jsonl", b"".join(
            json.dumps(json.loads(body), separators=(",", ":")).encode() + b"\n"
            for body in self.bodies))
        status, stdout, stderr = self.timed("entry (JSON Lines)", ["entry", path])
        self.assertEqual((status, stderr), (0, ""))
        self.assertEqual(len(lines(stdout)), COUNT)


if __name__ == "__main__":
    unittest.main()
