"""The local Stripe for the end-to-end tests of backfill: scripts/stripe-sandbox as a
subprocess on 127.0.0.1 with a free port and a data file in a temporary directory.

StripeSandbox follows the style of sandbox.Sandbox (the local Comptentra): `url` and
`api_key` are what the binary needs (`env()` gives them as STRIPE_API_BASE and
STRIPE_API_KEY), `data()` reads the data file (so a test knows exactly what is served),
`stats()` asks /_sandbox/stats. The server is stopped when its owner ends: `owner` is a
test case (addCleanup) or a test class (addClassCleanup, for a sandbox shared by the
tests of a class).
"""

import json

from harness import SOURCE_DIR
from sandbox import NO_PROXY, LocalServer

STRIPE_SCRIPT = SOURCE_DIR / "scripts" / "stripe-sandbox"
STRIPE_KEY = "sk_test_sandbox"  # any sk_test_ key is accepted unless --api-key says otherwise


class StripeSandbox(LocalServer):
    """A running stripe-sandbox: `StripeSandbox(self, "--generate", 300, "--seed", 4)`.

    `charges` (a list of charge objects), `refunds` (refund objects) and their
    `transactions` (balance transaction objects), when given, are written to the data file
    before the start and served instead of a generated set; otherwise the sandbox writes the
    set it generates there. `api_key` is the key the binary is given (the sandbox accepts any
    test key unless "--api-key" is among the flags).
    """

    def __init__(self, owner, *flags, api_key=STRIPE_KEY, charges=None, refunds=(),
                 transactions=()):
        self.api_key = api_key
        self._data = None
        initial = None
        if charges is not None:
            initial = {"charges": charges, "refunds": list(refunds),
                       "balance_transactions": list(transactions)}
        super().__init__(owner, STRIPE_SCRIPT, "stripe.json", flags, (), initial)

    def env(self, **extra):
        """STRIPE_API_BASE and STRIPE_API_KEY for this sandbox, plus `extra`; loopback is
        kept away from any proxy of the caller's environment."""
        return {"STRIPE_API_BASE": self.url, "STRIPE_API_KEY": self.api_key, **NO_PROXY, **extra}

    def data(self):
        """The served set as the data file holds it: {"charges", "refunds",
        "balance_transactions"} (read once; the sandbox never changes it)."""
        if self._data is None:
            self._data = json.loads(self.data_path.read_text())
        return self._data

    def charges(self):
        """The served charges, oldest first, as listed (balance_transaction an id or null)."""
        return self.data()["charges"]

    def refunds(self):
        """The served refunds, oldest first, as the data file holds them (balance_transaction
        and charge as ids)."""
        return self.data().get("refunds", [])

    def transactions(self):
        """{id: balance transaction} of the served set."""
        return {item["id"]: item for item in self.data().get("balance_transactions", [])}

    def expanded_charges(self):
        """The charges with their balance transaction inlined, as GET /v1/charges with
        expand[]=data.balance_transaction returns them."""
        transactions = self.transactions()
        expanded = []
        for charge in self.charges():
            charge = dict(charge)
            if isinstance(charge.get("balance_transaction"), str):
                charge["balance_transaction"] = transactions[charge["balance_transaction"]]
            expanded.append(charge)
        return expanded

    def expanded_refunds(self):
        """The refunds with their balance transaction and their charge inlined (the charge as
        listed, its balance transaction an id), as GET /v1/refunds with
        expand[]=data.balance_transaction and expand[]=data.charge returns them; a charge or
        transaction the set does not hold stays an id, as the sandbox serves it."""
        transactions = self.transactions()
        charges = {}
        for charge in self.charges():
            if isinstance(charge.get("balance_transaction"), dict):  # served as its id
                charge = dict(charge, balance_transaction=charge["balance_transaction"]["id"])
            charges[charge["id"]] = charge
        expanded = []
        for refund in self.refunds():
            refund = dict(refund)
            if isinstance(refund.get("balance_transaction"), str):
                refund["balance_transaction"] = transactions.get(refund["balance_transaction"],
                                                                 refund["balance_transaction"])
            if isinstance(refund.get("charge"), str):
                refund["charge"] = charges.get(refund["charge"], refund["charge"])
            expanded.append(refund)
        return expanded
