"""The post job: charge.succeeded events posted to a Comptentra sandbox, against the floor and
the loop of Comptentra's tutorial (naive.py)."""

import hashlib
import json
import math
import os
import uuid

from .api_jobs import (CONCURRENCIES, LATENCY_MS, SEED, booked_run, generate_args, naive_command, speed_rows,
                       time_limit)
from .processes import BINARY, COMPTENTRA_KEY, BenchError, Sandbox, progress

POST_EVENTS = 5_000
EVENT_SHARE = 0.55  # at least this share of generated charges fits a charge.succeeded event
API_VERSION = "2024-06-20"


def fits_event(charge):
    """A succeeded EUR charge captured in full, with a receipt_email and not refunded: what a
    `charge.succeeded` event carries."""
    return (charge.get("status") == "succeeded" and charge.get("captured") is True
            and charge.get("currency") == "eur" and bool(charge.get("receipt_email"))
            and charge.get("amount_captured") == charge.get("amount") and charge.get("amount_refunded") == 0)


def charge_event(charge):
    """The `charge.succeeded` event of a charge, with ids derived from the charge's (deterministic)."""
    digest = hashlib.sha256(charge["id"].encode()).hexdigest()
    request = {"id": "req_" + digest[:14], "idempotency_key": str(uuid.UUID(digest[:32]))}
    return {"id": "evt_" + charge["id"].removeprefix("ch_"), "object": "event", "api_version": API_VERSION,
            "created": charge["created"] + 1, "data": {"object": charge}, "livemode": False,
            "pending_webhooks": 1, "request": request, "type": "charge.succeeded"}


def post_events(work, count):
    """A JSON Lines file of `count` charge.succeeded events, taken from generated charges."""
    data = work / "post-charges.json"
    progress(f"post: generating charges for {count} charge.succeeded events")
    with Sandbox("stripe-sandbox", generate_args(math.ceil(count / EVENT_SHARE) + 100, data), work):
        pass  # the data file is written before the sandbox says it listens
    with open(data, encoding="utf-8") as file:
        charges = [charge for charge in json.load(file)["charges"] if fits_event(charge)][:count]
    data.unlink()
    if len(charges) < count:
        raise BenchError(f"only {len(charges)} generated charges fit a charge.succeeded event, {count} wanted")
    path = work / f"events-{count}.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        for charge in charges:
            out.write(json.dumps(charge_event(charge), ensure_ascii=False) + "\n")
    return path


def post_env(books, work):
    """The caller's environment pointed at one Comptentra sandbox alone: no Stripe setting, no config file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "COMPTENTRA_"))}
    config_home = work / "config-post"
    config_home.mkdir(exist_ok=True)
    env.update(COMPTENTRA_URL=books.url, COMPTENTRA_API_KEY=COMPTENTRA_KEY, XDG_CONFIG_HOME=str(config_home),
               no_proxy="127.0.0.1,localhost", NO_PROXY="127.0.0.1,localhost")
    return env


def one_post(events_path, events, concurrency, work):
    """`post --concurrency N` of the events file against a fresh Comptentra sandbox."""
    progress(f"post: {events} events, concurrency {concurrency}")
    command = [str(BINARY), "post", "--concurrency", str(concurrency), str(events_path)]
    return booked_run(f"post --concurrency {concurrency}", command, lambda books: post_env(books, work), work,
                      events, LATENCY_MS, time_limit(events, LATENCY_MS, concurrency))


def naive_post(events_path, events, work):
    """The tutorial's loop over the same events file, against a fresh Comptentra sandbox."""
    progress(f"post: the naive loop, {events} posts one after another")
    return booked_run("naive post", naive_command("post", str(events_path)), lambda books: post_env(books, work),
                      work, events, LATENCY_MS, time_limit(events, LATENCY_MS))


def post_floor(run, concurrency):
    """The Comptentra requests the run made × latency / concurrency."""
    return (run["books_reads"] + run["books_posts"]) * LATENCY_MS / 1000 / concurrency


def job_post(work, scale):
    """post: JSON Lines of charge.succeeded events at each concurrency, against the floor and the naive loop."""
    events = POST_EVENTS // scale
    path = post_events(work, events)
    runs = {c: one_post(path, events, c, work) for c in CONCURRENCIES}
    naive = naive_post(path, events, work)
    path.unlink()
    rows, goals = speed_rows("post", events, runs, naive, post_floor)
    return rows, post_notes(events, runs, naive) + goals


def post_notes(events, runs, naive):
    """How the post floor and baseline are counted, with what the sandbox counted."""
    seen = sorted({f"{r['books_reads']:,} lookups and {r['books_posts']:,} posts over "
                   f"{r['books_connections']:,} connection(s)" for r in runs.values()})
    return [
        f"post: {events:,} `charge.succeeded` events (succeeded EUR charges captured in full, with a "
        f"receipt_email, generated with `--seed {SEED}`) in one JSON Lines file; {LATENCY_MS} ms of latency on "
        f"every Comptentra request; each run, the naive loop's too, against a fresh Comptentra sandbox, with "
        f"only COMPTENTRA_URL and COMPTENTRA_API_KEY set (no Stripe key, no config file).",
        "post floor = the Comptentra requests the run made × latency / concurrency, counted by the sandbox; "
        "per run of the tool: " + "; ".join(seen) + ".",
        f"post baseline = the loop of Comptentra's tutorial (`scripts/benchkit/naive.py post`, Python, measured "
        f"the same way): one POST per event, one after another, each on a new connection "
        f"({naive['books_posts']:,} requests over {naive['books_connections']:,} connections), in "
        f"{naive['seconds']:.2f} s; its row's floor counts its own requests at concurrency 1; ratio to "
        f"baseline = the tool's time / its time. The tool looks each entry "
        f"up before posting it (a GET, then the POST: two requests an entry), which is what makes a replay book "
        f"each entry exactly once, even on a server without idempotency keys; the naive loop sends one request "
        f"an entry and books every entry a second time when run again.",
    ]
