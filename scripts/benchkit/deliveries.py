"""Generated Stripe webhook deliveries for the benchmarks: distinct `charge.succeeded` events,
pretty-printed as Stripe sends them, signed as Stripe signs them, written as HTTP captures and
as JSON Lines."""

import hashlib
import hmac
import itertools
import json
import os
import random
import re
import unicodedata

SECRET = "whsec_bench3Xq9LmT2vK7pZ4rW8nY6cB1dF5gH0jS"
SEED = 2026

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ACCOUNT = "LkdIwHu7ix"  # the account part of Stripe's ids
TOKEN_CHARS = 128  # random characters an event's ids take
FIRST_NAMES = ["Camille", "Léa", "Hugo", "Chloé", "Lucas", "Zoé", "François", "Hélène", "Benoît",
               "Inès", "Mathis", "Océane", "Jérôme", "Agnès", "Noël", "Maëlle"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Lefèvre", "Girard", "Rousseau", "Mercier", "Lambert",
              "Fontaine", "Chevalier", "Gauthier", "Perrin", "Leclère", "Boucher", "Müller", "Faure"]
STREETS = ["rue de la République", "avenue Jean Jaurès", "boulevard Voltaire", "place Bellecour",
           "rue Sainte-Catherine", "quai de la Fosse", "rue du Faubourg Saint-Antoine", "allée des Tilleuls"]
CITIES = [("Lyon", "69002"), ("Paris", "75011"), ("Bordeaux", "33000"), ("Nantes", "44000"),
          ("Lille", "59800"), ("Toulouse", "31000"), ("Strasbourg", "67000"), ("Montpellier", "34000")]
CARDS = [("visa", "credit"), ("mastercard", "credit"), ("visa", "debit"), ("cartes_bancaires", "debit")]
VAT_RATES = ["20", "20", "20", "10", "5.5"]
CAPTURE_HEAD = ("POST /stripe-webhook HTTP/1.1\r\n"
                "Host: books.example.fr\r\n"
                "User-Agent: Stripe/1.0 (+https://stripe.com/docs/webhooks)\r\n"
                "Content-Type: application/json; charset=utf-8\r\n"
                "Content-Length: {length}\r\n"
                "Stripe-Signature: {signature}\r\n"
                "\r\n")


def field(name):
    """A placeholder for a generated value in the event template."""
    return f"@{name}@"


def charge_event():
    """A `charge.succeeded` event as Stripe sends it, with placeholders for what varies."""
    f = field
    charge = {
        "id": f("charge_id"), "object": "charge", "amount": f("amount"), "amount_captured": f("amount"),
        "amount_refunded": 0, "application": None, "application_fee": None, "application_fee_amount": None,
        "balance_transaction": f("txn_id"),
        "billing_details": {
            "address": {"city": f("city"), "country": "FR", "line1": f("line1"), "line2": None,
                        "postal_code": f("postal_code"), "state": None},
            "email": f("email"), "name": f("name"), "phone": None, "tax_id": None,
        },
        "calculated_statement_descriptor": "ATELIER GRES", "captured": True, "created": f("created"),
        "currency": "eur", "customer": f("customer_id"), "description": f("description"),
        "destination": None, "dispute": None, "disputed": False, "failure_balance_transaction": None,
        "failure_code": None, "failure_message": None, "fraud_details": {}, "invoice": None,
        "livemode": False, "metadata": {"order_id": f("order_id"), "tva_rate": f("tva_rate")},
        "on_behalf_of": None, "order": None,
        "outcome": {"advice_code": None, "network_advice_code": None, "network_decline_code": None,
                    "network_status": "approved_by_network", "reason": None, "risk_level": "normal",
                    "risk_score": f("risk_score"), "seller_message": "Payment complete.", "type": "authorized"},
        "paid": True, "payment_intent": f("intent_id"), "payment_method": f("method_id"),
        "payment_method_details": {
            "card": {
                "amount_authorized": f("amount"),
                "brand": f("brand"),
                "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
                "country": "FR", "exp_month": f("exp_month"), "exp_year": f("exp_year"),
                "fingerprint": f("fingerprint"), "funding": f("funding"), "installments": None,
                "last4": f("last4"), "mandate": None, "network": f("brand"), "three_d_secure": None,
                "wallet": None,
            },
            "type": "card",
        },
        "radar_options": {}, "receipt_email": f("email"), "receipt_number": None, "receipt_url": f("receipt_url"),
        "refunded": False,
        "refunds": {"object": "list", "data": [], "has_more": False, "total_count": 0, "url": f("refunds_url")},
        "review": None, "shipping": None, "source": None, "source_transfer": None, "statement_descriptor": None,
        "statement_descriptor_suffix": None, "status": "succeeded", "transfer_data": None, "transfer_group": None,
    }
    return {
        "id": f("event_id"), "object": "event", "api_version": "2025-03-31.basil", "created": f("event_created"),
        "data": {"object": charge}, "livemode": False, "pending_webhooks": 1,
        "request": {"id": f("request_id"), "idempotency_key": f("idempotency_key")},
        "type": "charge.succeeded",
    }


def format_string(text):
    """The JSON text of the template as a str.format string: each quoted placeholder a field."""
    escaped = text.replace("{", "{{").replace("}", "}}")
    return re.sub(r'"@(\w+)@"', r"{\1}", escaped)


PRETTY = format_string(json.dumps(charge_event(), indent=2, ensure_ascii=False))
COMPACT = format_string(json.dumps(charge_event(), separators=(",", ":"), ensure_ascii=False))


def ascii_of(text):
    """The text without its accents, in lower case, for e-mail addresses."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def base62(number, width):
    """number in base 62, left-padded to width digits."""
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(ALNUM[digit])
    return "".join(reversed(digits))


def event_values(rng, index):
    """The JSON text of every placeholder of event number index (distinct ids for each index)."""
    pool = iter(rng.choices(ALNUM, k=TOKEN_CHARS))

    def token(k):
        return "".join(itertools.islice(pool, k))

    def quoted(text):
        return f'"{text}"'

    unique = base62(index, 4)
    stem = "3" + token(7) + ACCOUNT
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, postal_code = rng.choice(CITIES)
    brand, funding = rng.choice(CARDS)
    charge_id = f"ch_{stem}{token(2)}{unique}"
    created = 1_767_225_600 + index * 30 + rng.randrange(30)  # from 2026-01-01, about 2 a minute
    uuid = f"{rng.getrandbits(128):032x}"
    values = {
        "event_id": f"evt_{stem}{token(2)}{unique}", "charge_id": charge_id,
        "txn_id": f"txn_{stem}{token(2)}{unique}", "intent_id": f"pi_{stem}{token(2)}{unique}",
        "method_id": f"pm_1{token(13)}{ACCOUNT}",
        "customer_id": f"cus_{token(10)}{unique}", "request_id": f"req_{token(10)}{unique}",
        "idempotency_key": f"{uuid[:8]}-{uuid[8:12]}-4{uuid[13:16]}-a{uuid[17:20]}-{uuid[20:]}",
        "city": city, "postal_code": postal_code,
        "line1": f"{rng.randint(1, 180)} {rng.choice(STREETS)}",
        "email": f"{ascii_of(first)}.{ascii_of(last)}{rng.randint(1, 999)}@example.fr",
        "name": f"{first} {last}", "description": f"Commande 2026-{index + 1:06d}",
        "order_id": f"ORD-{index + 1:06d}", "tva_rate": rng.choice(VAT_RATES),
        "brand": brand, "funding": funding, "fingerprint": token(16), "last4": f"{rng.randrange(10_000):04d}",
        "receipt_url": f"https://pay.stripe.com/receipts/payment/CAcaFwoVYWNjdF8x{token(40)}",
        "refunds_url": f"/v1/charges/{charge_id}/refunds",
    }
    values = {name: quoted(text) for name, text in values.items()}
    values.update(amount=str(rng.randint(500, 250_000)), created=str(created),
                  event_created=str(created + rng.randint(1, 4)), risk_score=str(rng.randint(0, 64)),
                  exp_month=str(rng.randint(1, 12)), exp_year=str(rng.randint(2026, 2032)))
    return values


def signature(body, timestamp):
    """The Stripe-Signature header of body as Stripe signs it: HMAC-SHA256 of "t.body" keyed with
    the whole secret."""
    digest = hmac.new(SECRET.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def deliveries(count):
    """(pretty body, compact body, signature timestamp) of count distinct events, the same in
    every run."""
    rng = random.Random(SEED)
    for index in range(count):
        values = event_values(rng, index)
        timestamp = int(values["event_created"]) + rng.randint(0, 2)
        yield (PRETTY.format_map(values).encode(), COMPACT.format_map(values).encode(), timestamp)


def write_inputs(count, directory=None, jsonl=None):
    """Writes count deliveries as HTTP captures into directory and/or compacted into the JSON Lines
    file jsonl; returns (bytes of the pretty bodies, the header that signs the first JSON line)."""
    if directory is not None:
        directory.mkdir(parents=True)
    first_header, body_bytes = None, 0
    with open(jsonl if jsonl is not None else os.devnull, "wb") as lines:
        for index, (pretty, compact, timestamp) in enumerate(deliveries(count)):
            body_bytes += len(pretty)
            if directory is not None:
                head = CAPTURE_HEAD.format(length=len(pretty), signature=signature(pretty, timestamp))
                with open(directory / f"delivery-{index + 1:06d}.http", "wb") as capture:
                    capture.write(head.encode() + pretty)
            if jsonl is not None:
                lines.write(compact + b"\n")
                if first_header is None:
                    first_header = signature(compact, timestamp)
    return body_bytes, first_header


def read_all(path):
    """Reads every file under path once, so that the measures that follow start from a warm cache."""
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    return sum(len(file.read_bytes()) for file in files)
