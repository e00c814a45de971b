#!/usr/bin/env python3
"""naive: the loop a newcomer writes from Comptentra's tutorial, the baseline of scripts/bench.

Usage:
    python3 naive.py backfill SINCE UNTIL     book the period's charges and refunds listed from Stripe
    python3 naive.py post FILE.jsonl          book the charge.succeeded events of a JSON Lines file
    python3 naive.py listen                   the tutorial's webhook handler, on a free port

It reads STRIPE_API_BASE and STRIPE_API_KEY (backfill only), STRIPE_WEBHOOK_SECRET (listen
only), COMPTENTRA_URL and COMPTENTRA_API_KEY from the environment. SINCE and UNTIL are whole
days in Europe/Paris, both included. Each entry is one POST /ecritures, sent one after
another, each on a new connection (urllib opens one per call); no lookup, no retry, no
idempotency key: run it twice and everything is booked twice. VAT is 20 %: HT =
round(TTC / 1.2), VAT = TTC - HT. Prints the number of entries posted; exits 1 at the
first request that fails.

listen serves POST /stripe-webhook with http.server.ThreadingHTTPServer (a thread for each
connection, kept alive) on 127.0.0.1 and a free port, and prints `listening on
http://127.0.0.1:PORT` first. For each delivery it checks the Stripe-Signature (HMAC-SHA256,
300 s of tolerance), posts the sale of a charge.succeeded event to Comptentra, and only then
answers 200; 400 for a bad signature, 502 when the post fails (Stripe sends it again later,
to be booked twice if the first post went through). Nothing is stored on disk. SIGTERM or
SIGINT stops it with exit status 0.

Python 3.11+, standard library only.
"""

import datetime
import hashlib
import hmac
import http.server
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zoneinfo

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
JOURNAL = "VTE"
CUSTOMER, SALES, VAT = "411000", "707000", "445712"
VAT_DIVISOR = 1.2
PAGE = 100
TIMEOUT = 30
WEBHOOK_PATH = "/stripe-webhook"
TOLERANCE = 300  # seconds, as Stripe's libraries check by default
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy


def call(url, headers, body=None):
    """One request on a new connection; the parsed JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method="GET" if body is None else "POST")
    with OPENER.open(request, timeout=TIMEOUT) as answer:
        return json.load(answer)


def paris_day(created):
    """The Europe/Paris day of a unix time, as YYYY-MM-DD."""
    return datetime.datetime.fromtimestamp(created, PARIS).date().isoformat()


def period(since, until):
    """The unix times that bound the days SINCE..UNTIL in Europe/Paris: [start, end)."""
    start = datetime.datetime.fromisoformat(since).replace(tzinfo=PARIS)
    end = (datetime.datetime.fromisoformat(until) + datetime.timedelta(days=1)).replace(tzinfo=PARIS)
    return int(start.timestamp()), int(end.timestamp())


def split(ttc):
    """HT and VAT of an amount including VAT at 20 %."""
    ht = round(ttc / VAT_DIVISOR)
    return ht, ttc - ht


def line(account, debit=0, credit=0):
    """One line of an entry."""
    return {"compte": account, "debit_cents": debit, "credit_cents": credit}


def sale(charge):
    """The sale entry of a charge: customer debited TTC, sales and VAT credited."""
    ttc = charge["amount_captured"] or charge["amount"]
    ht, vat = split(ttc)
    lines = [line(CUSTOMER, debit=ttc), line(SALES, credit=ht)] + ([line(VAT, credit=vat)] if vat else [])
    return {"date": paris_day(charge["created"]), "journal": JOURNAL,
            "libelle": f"Paiement Stripe {charge['id']}", "lignes": lines}


def credit_note(refund):
    """The credit note of a refund: sales and VAT debited, customer credited TTC."""
    ht, vat = split(refund["amount"])
    lines = [line(SALES, debit=ht)] + ([line(VAT, debit=vat)] if vat else [])
    lines.append(line(CUSTOMER, credit=refund["amount"]))
    return {"date": paris_day(refund["created"]), "journal": JOURNAL,
            "libelle": f"Remboursement Stripe {refund['id']} ({refund['charge']})", "lignes": lines}


def books_sale(charge):
    """Whether a charge is a sale to book: succeeded and captured."""
    return charge.get("status") == "succeeded" and charge.get("captured") is True


def post(entry):
    """POST /ecritures, once."""
    headers = {"X-API-Key": os.environ["COMPTENTRA_API_KEY"], "Content-Type": "application/json"}
    call(os.environ["COMPTENTRA_URL"].rstrip("/") + "/ecritures", headers, entry)


def stripe_list(path, start, end):
    """Every object of a Stripe list in [start, end), page by page."""
    headers = {"Authorization": f"Bearer {os.environ['STRIPE_API_KEY']}"}
    params = {"created[gte]": start, "created[lt]": end, "limit": PAGE}
    while True:
        page = call(f"{os.environ['STRIPE_API_BASE'].rstrip('/')}{path}?{urllib.parse.urlencode(params)}", headers)
        yield from page["data"]
        if not page["has_more"] or not page["data"]:
            return
        params["starting_after"] = page["data"][-1]["id"]


def backfill(since, until):
    """Lists the period's charges, then its refunds, then posts an entry for each."""
    start, end = period(since, until)
    charges = [charge for charge in stripe_list("/v1/charges", start, end) if books_sale(charge)]
    refunds = [refund for refund in stripe_list("/v1/refunds", start, end) if refund.get("status") == "succeeded"]
    for charge in charges:
        post(sale(charge))
    for refund in refunds:
        post(credit_note(refund))
    return len(charges) + len(refunds)


def post_file(path):
    """Posts the sale of each charge.succeeded event of a JSON Lines file."""
    posted = 0
    with open(path, encoding="utf-8") as lines:
        for text in lines:
            if not text.strip():
                continue
            event = json.loads(text)
            charge = event["data"]["object"]
            if event.get("type") == "charge.succeeded" and books_sale(charge):
                post(sale(charge))
                posted += 1
    return posted


def signed(body, header, secret):
    """Whether a Stripe-Signature header signs body with secret, within TOLERANCE seconds."""
    pairs = [item.split("=", 1) for item in header.split(",") if "=" in item]
    timestamps = [value for key, value in pairs if key.strip() == "t"]
    signatures = [value.strip() for key, value in pairs if key.strip() == "v1"]
    if len(timestamps) != 1 or not timestamps[0].strip().isdigit() or not signatures:
        return False
    if abs(time.time() - int(timestamps[0])) > TOLERANCE:
        return False
    expected = hmac.new(secret.encode(), timestamps[0].strip().encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


class WebhookHandler(http.server.BaseHTTPRequestHandler):
    """The tutorial's handler: check the signature, post the entry, then answer."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the clients want
    disable_nagle_algorithm = True  # headers and body leave at once: no delayed-ACK stall

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != WEBHOOK_PATH:
            return self.answer(404, "no such path")
        if not signed(body, self.headers.get("Stripe-Signature", ""), os.environ["STRIPE_WEBHOOK_SECRET"]):
            return self.answer(400, "bad signature")
        try:
            event = json.loads(body)
            charge = event["data"]["object"]
            if event.get("type") == "charge.succeeded" and books_sale(charge):
                post(sale(charge))
        except (ValueError, KeyError, TypeError) as error:
            return self.answer(400, f"bad event: {error}")
        except (urllib.error.URLError, OSError) as error:
            return self.answer(502, f"Comptentra: {error}")
        self.answer(200, "ok")

    def answer(self, status, text):
        data = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class WebhookServer(http.server.ThreadingHTTPServer):
    # Flask's development server listens with a backlog of 128; Python's default of 5 would drop
    # the connections of 8 clients that connect at once, and each would retry a second later.
    request_queue_size = 128


def listen():
    """Serves the webhooks until SIGTERM or SIGINT."""
    server = WebhookServer(("127.0.0.1", 0), WebhookHandler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


def main(argv):
    """Runs one mode; 0 when every request succeeded, 1 at the first failure, 2 on a usage error."""
    if len(argv) == 4 and argv[1] == "backfill":
        work = lambda: backfill(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "post":
        work = lambda: post_file(argv[2])
    elif len(argv) == 2 and argv[1] == "listen":
        return listen()
    else:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        posted = work()
    except (urllib.error.URLError, OSError, KeyError, ValueError) as error:
        print(f"naive: {error}", file=sys.stderr)
        return 1
    print(f"{posted} entries posted")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
