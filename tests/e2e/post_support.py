"""Helpers shared by the end-to-end tests of `post`: generated events and captures, and a
test base class that runs `post` against a sandbox (tests/e2e/sandbox.py)."""

import json

from harness import BinaryTest, data, lines, run

CREATED = 1773483165  # 2026-03-14T10:12:45Z
T_SIGNED = 1773486770  # the signature time of the generated captures
FAULT_FLAGS = ("--fail-rate", "0.2", "--drop-rate", "0.2", "--rate-limit", "50", "--seed", "7")
FAULT_RUN_TIMEOUT = 300  # seconds for one run against a faulty sandbox
MAX_FAULT_RUNS = 5
CLOSED_BEFORE_2026 = data("entry", "charge_before_paris_midnight.json")  # dated 2025-12-31
YEAR_END = data("entry", "event_succeeded_year_end.json")  # dated 2026-01-01
NO_EMAIL = data("entry", "charge_no_email.json")  # dated 2026-03-14
CUSTOMER_CREATED = data("entry", "event_customer_created.json")


def charge_id(index, prefix="ch_e2epost"):
    return f"{prefix}{index:05d}"


def event(index, prefix="ch_e2epost"):
    """A charge.succeeded event of its own charge; some use 5.5 % VAT or a billing email."""
    amount = 1000 + 37 * index
    charge = {
        "id": charge_id(index, prefix),
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "balance_transaction": f"txn_{prefix}{index:05d}",
        "billing_details": {"email": f"billing{index}@example.fr", "name": None},
        "captured": True,
        "created": CREATED + 3600 * index,
        "currency": "eur",
        "livemode": False,
        "metadata": {"tva_rate": "5.5"} if index % 5 == 0 else {},
        "paid": True,
        "receipt_email": None if index % 7 == 0 else f"client{index}@example.fr",
        "status": "succeeded",
    }
    return {
        "id": f"evt_{prefix}{index:05d}",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": charge["created"] + 1,
        "data": {"object": charge},
        "livemode": False,
        "pending_webhooks": 1,
        "type": "charge.succeeded",
    }


def write_event_files(tmp, indexes, prefix="ch_e2epost", directory="events"):
    """One pretty-printed event file per index, named in index order; returns the directory."""
    for index in indexes:
        tmp.write(f"{directory}/{index:05d}.json", json.dumps(event(index, prefix), indent=2))
    return str(tmp.path / directory)


def write_event_lines(tmp, indexes, prefix="ch_e2epost", name="events.jsonl"):
    """A JSON Lines file of events; returns its path."""
    return tmp.write(name, "".join(json.dumps(event(index, prefix)) + "\n" for index in indexes))


def capture(body, header):
    """An HTTP request capture of a webhook delivery."""
    return (b"POST /stripe-webhook HTTP/1.1\r\nContent-Type: application/json; charset=utf-8\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nStripe-Signature: "
            + header.encode() + b"\r\n\r\n" + body)


def json_results(stdout):
    """(item objects, summary object) of a --json output."""
    objects = [json.loads(line) for line in lines(stdout)]
    if not objects or "summary" not in objects[-1]:
        raise AssertionError(f"no summary object last:\n{stdout}")
    return objects[:-1], objects[-1]


def libelle(charge):
    return f"Paiement Stripe {charge}"


def without_id(entry):
    return {key: value for key, value in entry.items() if key != "id"}


class PostTest(BinaryTest):
    def post(self, sandbox, *args, env=None, timeout=120):
        """Runs `post` against `sandbox` with its URL and key in the environment."""
        status, stdout, stderr = run(["post", *args], env=sandbox.env(**(env or {})),
                                     timeout=timeout)
        self.assert_no_crash(status, stdout, stderr)
        return status, stdout, stderr

    def json_post(self, sandbox, *args, env=None, timeout=120):
        status, stdout, stderr = run(["--json", "post", *args], env=sandbox.env(**(env or {})),
                                     timeout=timeout)
        self.assert_no_crash(status, stdout, stderr)
        return status, stdout, stderr

    def printed_entries(self, *paths):
        """The entries `entry` prints for `paths`, as objects."""
        status, stdout, stderr = run(["entry", *paths])
        self.assertEqual(status, 0, stderr)
        return [json.loads(line) for line in lines(stdout)]

    def assert_libelles(self, sandbox, charges):
        """The sandbox holds exactly one entry for each charge and nothing else."""
        stored = [entry["libelle"] for entry in sandbox.entries()]
        self.assertEqual(sorted(stored), sorted(libelle(charge) for charge in charges))


