#!/usr/bin/env python3
"""naive: the loop a newcomer writes from Comptentra's tutorial, the baseline of scripts/bench.

Usage:
    python3 naive.py backfill SINCE UNTIL     book the period's charges and refunds listed from Stripe
    python3 naive.py post FILE.jsonl          book the charge.succeeded events of a JSON Lines file

It reads STRIPE_API_BASE and STRIPE_API_KEY (backfill only), COMPTENTRA_URL and
COMPTENTRA_API_KEY from the environment. SINCE and UNTIL are whole days in Europe/Paris,
both included. Each entry is one POST /ecritures, sent one after another, each on a new
connection (urllib opens one per call); no lookup, no retry, no idempotency key: run it
twice and everything is booked twice. VAT is 20 %: HT = round(TTC / 1.2), VAT = TTC - HT.
Prints the number of entries posted; exits 1 at the first request that fails.
Python 3.11+, standard library only.
"""

import datetime
import json
import os
import sys
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


def main(argv):
    """Runs one mode; 0 when every request succeeded, 1 at the first failure, 2 on a usage error."""
    if len(argv) == 4 and argv[1] == "backfill":
        work = lambda: backfill(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "post":
        work = lambda: post_file(argv[2])
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
