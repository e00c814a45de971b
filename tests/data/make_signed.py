#!/usr/bin/env python3
"""Rebuilds the signed fixtures (HTTP captures and raw body signatures) from their bodies.

Every signature uses the test secret whsec_test_secret and a fixed timestamp, so the output
never changes. A body is the source file's bytes without its final newline, as Stripe sends
it. Run from anywhere:

    python3 tests/data/make_signed.py          # write the files
    python3 tests/data/make_signed.py --check  # exit 1 when a committed file is out of date
"""

import hashlib
import hmac
import sys
from pathlib import Path

SECRET = "whsec_test_secret"
DATA = Path(__file__).resolve().parent

T_YEAR_END = 1767223830  # 2025-12-31T23:30:30Z, 30 s after the year-end charge
T_MARCH = 1773486770     # 2026-03-14T11:12:50Z, 5 s after the partial capture event

STRIPE_HEADERS = [
    ("Host", "books.example.fr"),
    ("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"),
    ("Content-Type", "application/json; charset=utf-8"),
    ("Cache-Control", "no-cache"),
    ("Accept", "*/*; q=0.5, application/xml"),
]


def body_of(source):
    data = (DATA / source).read_bytes()
    return data[:-1] if data.endswith(b"\n") else data


def v1(timestamp, body, secret=SECRET):
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def valid_header(timestamp, body):
    return f"t={timestamp},v1={v1(timestamp, body)}"


def capture(body, signature, *, eol=b"\r\n", content_length=True, saved_body=None):
    """An HTTP request capture; `saved_body` is what was written after the headers, when it
    differs from the signed body."""
    saved = body if saved_body is None else saved_body
    headers = list(STRIPE_HEADERS)
    if content_length:
        headers.append(("Content-Length", str(len(saved))))
    if signature is not None:
        headers.append(("Stripe-Signature", signature))
    lines = [b"POST /stripe-webhook HTTP/1.1"]
    lines += [f"{name}: {value}".encode() for name, value in headers]
    return eol.join(lines) + eol + eol + saved


def fixtures():
    """Yields (path relative to tests/data, exact bytes)."""
    year_end = body_of("entry/event_succeeded_year_end.json")
    partial = body_of("entry/event_captured_partial.json")
    customer = body_of("entry/event_customer_created.json")
    usd = body_of("entry/event_usd_expanded_balance.json")

    yield "captures/succeeded_crlf.http", capture(year_end, valid_header(T_YEAR_END, year_end))
    yield "captures/captured_lf.http", capture(
        partial, valid_header(T_MARCH, partial), eol=b"\n", content_length=False)
    yield "captures/spaces_and_v0.http", capture(
        year_end,
        f"t={T_YEAR_END}, v1={v1(T_YEAR_END, year_end)} , v0={v1(T_YEAR_END, year_end, 'whsec_v0')}",
    )
    yield "captures/trailing_newline.http", capture(
        year_end, valid_header(T_YEAR_END, year_end), eol=b"\n", content_length=False,
        saved_body=year_end + b"\n")
    yield "captures/no_signature_header.http", capture(year_end, None)
    yield "captures/no_v1.http", capture(
        year_end, f"t={T_YEAR_END},v0={v1(T_YEAR_END, year_end)}")
    yield "captures/no_timestamp.http", capture(year_end, f"v1={v1(T_YEAR_END, year_end)}")

    yield "captures/batch/001_succeeded.http", capture(year_end, valid_header(T_YEAR_END, year_end))
    yield "captures/batch/002_customer_created.http", capture(
        customer, valid_header(T_MARCH, customer), eol=b"\n")
    yield "captures/batch/010_usd.http", capture(usd, valid_header(T_MARCH, usd))

    yield "raw/customer_created.json", customer
    yield "raw/customer_created.sig", (valid_header(T_MARCH, customer) + "\n").encode()

    short = capture(year_end, valid_header(T_YEAR_END, year_end))
    declared = f"Content-Length: {len(year_end)}".encode()
    yield "hostile/content_length_too_long.http", short.replace(
        declared, f"Content-Length: {len(year_end) + 100}".encode())


def main(argv):
    check = argv[1:] == ["--check"]
    if argv[1:] and not check:
        print(__doc__, file=sys.stderr)
        return 2
    stale = []
    for relative, data in fixtures():
        path = DATA / relative
        if check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(relative)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for relative in stale:
        print(f"make_signed.py: out of date: {relative}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
