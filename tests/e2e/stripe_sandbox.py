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
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import SOURCE_DIR
from sandbox import NO_PROXY, START_TIMEOUT, STOP_TIMEOUT, get_json, read_first_line

STRIPE_SCRIPT = SOURCE_DIR / "scripts" / "stripe-sandbox"
STRIPE_KEY = "sk_test_sandbox"  # any sk_test_ key is accepted unless --api-key says otherwise


def add_cleanup(owner, function, *args):
    """Registers `function(*args)` to run when `owner` (a test case or class) ends."""
    if isinstance(owner, type):
        owner.addClassCleanup(function, *args)
    else:
        owner.addCleanup(function, *args)


class StripeSandbox:
    """A running stripe-sandbox: `StripeSandbox(self, "--generate", 300, "--seed", 4)`.

    `charges` (a list of charge objects), when given, are written to the data file before
    the start and served instead of a generated set; otherwise the sandbox writes the set
    it generates there. `api_key` is the key the binary is given (the sandbox accepts any
    test key unless "--api-key" is among the flags).
    """

    def __init__(self, owner, *flags, api_key=STRIPE_KEY, charges=None):
        self.api_key = api_key
        self.directory = Path(tempfile.mkdtemp(prefix="sc-e2e-stripe-"))
        add_cleanup(owner, shutil.rmtree, self.directory, True)
        self.data_path = self.directory / "stripe.json"
        self.log_path = self.directory / "stripe.log"
        if charges is not None:
            self.data_path.write_text(json.dumps({"charges": charges}))
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(STRIPE_SCRIPT), "--port", "0",
                 "--data", str(self.data_path), *[str(flag) for flag in flags]],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        add_cleanup(owner, self.stop)
        first = read_first_line(self.process.stdout, START_TIMEOUT).partition(b"\n")[0]
        match = re.fullmatch(rb"listening on (http://127\.0\.0\.1:[0-9]+)", first)
        if not match:
            self.stop()
            raise AssertionError(f"the stripe sandbox printed no address: {first!r}\n{self.log()}")
        self.url = match.group(1).decode()
        self._data = None

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

    def expanded_charges(self):
        """The charges with their balance transaction inlined, as GET /v1/charges with
        expand[]=data.balance_transaction returns them."""
        transactions = {item["id"]: item for item in self.data().get("balance_transactions", [])}
        expanded = []
        for charge in self.charges():
            charge = dict(charge)
            if isinstance(charge.get("balance_transaction"), str):
                charge["balance_transaction"] = transactions[charge["balance_transaction"]]
            expanded.append(charge)
        return expanded

    def stats(self):
        """The counters of GET /_sandbox/stats (connections, requests, list_requests, ...)."""
        status, body = get_json(self.url + "/_sandbox/stats")
        if status != 200:
            raise AssertionError(f"/_sandbox/stats answered {status}: {body}")
        return body

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self):
        """Stops the server: SIGTERM, a bounded wait, then SIGKILL."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        if self.process.stdout is not None:
            self.process.stdout.close()
