"""End-to-end tests of non-EUR charges that arrive without their balance transaction (as
webhook payloads do): with a Stripe key set, `entry` and `post` look it up in Stripe and book
the EUR settlement amount; without one, the charge is invalid (65)."""

import json
import unittest

from harness import BinaryTest, TempDir, lines, run
from sandbox import Sandbox
from stripe_sandbox import StripeSandbox

CREATED = 1773483165  # 2026-03-14T10:12:45Z

TRANSACTION = {"id": "txn_usd_settlement", "object": "balance_transaction", "amount": 9204,
               "fee": 163, "net": 9041, "currency": "eur", "exchange_rate": 0.9204,
               "source": "ch_usd_settlement", "type": "charge", "status": "available",
               "created": CREATED, "available_on": CREATED}

CHARGE = {"id": "ch_usd_settlement", "object": "charge", "amount": 10000,
          "amount_captured": 10000, "amount_refunded": 0, "currency": "usd",
          "created": CREATED, "status": "succeeded", "captured": True, "paid": True,
          "refunded": False, "receipt_email": "buyer@example.com",
          "billing_details": {"email": None}, "metadata": {},
          "balance_transaction": "txn_usd_settlement", "livemode": False}

EVENT = {"id": "evt_usd_settlement", "object": "event", "type": "charge.succeeded",
         "created": CREATED, "data": {"object": CHARGE}}

EXPECTED = {"date": "2026-03-14", "journal": "VTE", "libelle": "Paiement Stripe ch_usd_settlement",
            "lignes": [{"compte": "411000", "tiers_email": "buyer@example.com",
                        "debit_cents": 9204, "credit_cents": 0},
                       {"compte": "707000", "debit_cents": 0, "credit_cents": 7670},
                       {"compte": "445712", "debit_cents": 0, "credit_cents": 1534}]}


class Settlement(BinaryTest):
    def setUp(self):
        self.tmp = TempDir(self)
        self.event = self.tmp.write("event.json", json.dumps(EVENT, indent=2).encode())

    def test_entry_without_a_stripe_key_is_invalid(self):
        status, stdout, stderr = run(["entry", str(self.event)])
        self.assertEqual(status, 65, stderr)
        self.assertEqual(stdout, "")
        self.assertIn("balance transaction", stderr)

    def test_entry_and_post_look_the_settlement_up_with_a_stripe_key(self):
        stripe = StripeSandbox(self, charges=[CHARGE], transactions=[TRANSACTION])
        status, stdout, stderr = run(["entry", str(self.event)], env=stripe.env())
        self.assertEqual(status, 0, stderr)
        self.assertEqual([json.loads(line) for line in lines(stdout)], [EXPECTED])

        books = Sandbox(self)
        status, stdout, stderr = run(["post", str(self.event)], env={**stripe.env(), **books.env()})
        self.assertEqual(status, 0, stderr)
        stored = books.entries()
        self.assertEqual(len(stored), 1)
        self.assertEqual({key: value for key, value in stored[0].items() if key != "id"}, EXPECTED)


if __name__ == "__main__":
    unittest.main()
