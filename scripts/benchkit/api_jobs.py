"""Jobs against the local sandboxes: backfill and reconcile, and the helpers of post_job.py."""

import datetime
import json
import sys
import zoneinfo
from pathlib import Path

from .processes import (BINARY, FLAT_RULE, MEMORY_GOAL_MIB, BenchError, Sandbox, measured_run, memory_is_flat,
                        mib, progress, tool_env)

MAX_RPS = 1000  # the default (20/s with a test key) would measure the rate limit, not the tool
SINCE, UNTIL = "2026-11-01", "2026-11-30"
SEED = 2026
LATENCY_MS = 20
CONCURRENCIES = (1, 4, 8)
SPEED_CHARGES = 5_000
MEMORY_CHARGES = (10_000, 100_000)
RECONCILE_CHARGES = 10_000
GOAL_FLOOR_RATIO = 1.5  # time within 1.5 × floor
GOAL_BASELINE_FROM = 4  # faster than the naive loop from this concurrency up
NAIVE = Path(__file__).resolve().with_name("naive.py")
DASH = "—"


# ----------------------------------------------------------------------------- shared


def row(job, items, concurrency, seconds, rss_kib, floor=None, baseline=None):
    """One table row of 8 cells; the ratios are time / floor and time / baseline, "—" without them."""
    return [job, f"{items:,}", str(concurrency), f"{seconds:.2f}",
            DASH if floor is None else f"{floor:.2f}",
            DASH if floor is None else f"{seconds / floor:.2f}",
            DASH if baseline is None else f"{seconds / baseline:.2f}",
            mib(rss_kib)]


def speed_rows(job, items, runs, naive, floor_of):
    """The rows of a job run at each concurrency and of its naive loop, and the notes on the goals;
    floor_of(run, concurrency) is a run's floor."""
    baseline = naive["seconds"]
    rows = [row(job, items, c, run["seconds"], run["rss_kib"], floor_of(run, c), baseline)
            for c, run in runs.items()]
    rows.append(row(f"{job}, naive loop", items, 1, baseline, naive["rss_kib"], floor_of(naive, 1)))
    floor_ratios = {c: run["seconds"] / floor_of(run, c) for c, run in runs.items()}
    baseline_ratios = {c: run["seconds"] / baseline for c, run in runs.items()}
    return rows, goal_notes(job, floor_ratios, baseline_ratios)


def time_limit(items, latency_ms, concurrency=1):
    """A generous limit for one run: four times two requests an item, plus five minutes."""
    return 300 + 4 * 2 * items * latency_ms / 1000 / concurrency + items * 0.005


def generate_args(count, data):
    """stripe-sandbox options that generate `count` charges of the period into `data`."""
    return ["--generate", str(count), "--seed", str(SEED), "--since", SINCE, "--until", UNTIL, "--data", str(data)]


def naive_command(*args):
    """The command line of the naive loop (scripts/benchkit/naive.py)."""
    return [sys.executable, str(NAIVE), *args]


def booked_run(label, command, env_for, work, entries, latency_ms, timeout, stripe=None):
    """Runs `command` against a fresh Comptentra sandbox with `latency_ms` of latency; checks that it
    exits 0 and that the books then hold `entries` entries. Returns its measures and the requests
    the sandboxes counted (Stripe's too when `stripe` is given)."""
    with Sandbox("comptentra-sandbox", ["--latency-ms", str(latency_ms)], work) as books:
        before = stripe.stats() if stripe else None
        status, seconds, rss_kib, output = measured_run(command, env_for(books), work, timeout)
        after = stripe.stats() if stripe else None
        booked = books.stats()
    tail = output.read_text(errors="replace").strip().splitlines()[-3:]
    output.unlink()
    if status != 0:
        raise BenchError(f"{label} exited with {status}: " + " | ".join(tail))
    if booked["entries"] != entries:
        raise BenchError(f"{label} stored {booked['entries']} entries, {entries} expected: " + " | ".join(tail))
    run = {"seconds": seconds, "rss_kib": rss_kib, "summary": tail[-1] if tail else "",
           "books_reads": booked["requests"] - booked["posts"], "books_posts": booked["posts"],
           "books_connections": booked["connections"]}
    if stripe:
        run["stripe_lists"] = after["list_requests"] - before["list_requests"]
        run["stripe_requests"] = after["requests"] - before["requests"]
    progress(f"{label}: {seconds:.2f} s, {mib(rss_kib)} MB; {run['summary']}")
    return run


def goal_notes(job, floor_ratios, baseline_ratios):
    """The goals of a job, each "met" or "NOT met" with its figures: a time within GOAL_FLOOR_RATIO ×
    floor at every concurrency, and faster than the naive loop from GOAL_BASELINE_FROM workers up."""
    worst = max(floor_ratios.values())
    wanted = [c for c in baseline_ratios if c >= GOAL_BASELINE_FROM]
    faster = "not measured" if not wanted else "met" if all(baseline_ratios[c] < 1 for c in wanted) else "NOT met"
    figures = ", ".join(f"{ratio:.2f} at {c}" for c, ratio in baseline_ratios.items())
    return [f"{job}: goal, a time within {GOAL_FLOOR_RATIO} × floor at every concurrency: "
            f"{'met' if worst <= GOAL_FLOOR_RATIO else 'NOT met'} (worst ratio {worst:.2f}). Goal, faster than "
            f"the naive loop from --concurrency {GOAL_BASELINE_FROM} up: {faster} (ratio to baseline {figures})."]


# ----------------------------------------------------------------------------- backfill


def period_bounds():
    """The unix times that bound SINCE..UNTIL, whole days in Paris, as the tool reads them."""
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    start = datetime.datetime.fromisoformat(SINCE).replace(tzinfo=paris)
    end = (datetime.datetime.fromisoformat(UNTIL) + datetime.timedelta(days=1)).replace(tzinfo=paris)
    return start.timestamp(), end.timestamp()


def bookable_charges(data_path):
    """The charges listed and the entries `backfill` books for them: one per succeeded and
    captured charge, and one credit note per succeeded refund created in the period."""
    with open(data_path, encoding="utf-8") as data:
        document = json.load(data)
    charges = document["charges"]
    start, end = period_bounds()
    sales = sum(1 for c in charges if c.get("status") == "succeeded" and c.get("captured") is True)
    refunds = sum(1 for r in document.get("refunds", [])
                  if r.get("status") == "succeeded" and start <= r["created"] < end)
    return len(charges), sales + refunds


def one_backfill(stripe, work, charges, posts, concurrency, latency_ms):
    """One backfill against a fresh Comptentra sandbox; checks that it booked every charge."""
    command = [str(BINARY), "backfill", "--since", SINCE, "--until", UNTIL,
               "--concurrency", str(concurrency), "--max-rps", str(MAX_RPS)]
    return booked_run(f"backfill --concurrency {concurrency}", command, lambda books: tool_env(stripe, books, work),
                      work, posts, latency_ms, time_limit(charges, latency_ms, concurrency), stripe)


def naive_backfill(stripe, work, charges, posts):
    """The naive loop over the same Stripe data, against a fresh Comptentra sandbox."""
    progress(f"backfill: the naive loop, {posts} posts one after another")
    return booked_run("naive backfill", naive_command("backfill", SINCE, UNTIL),
                      lambda books: tool_env(stripe, books, work), work, posts, LATENCY_MS,
                      time_limit(charges, LATENCY_MS), stripe)


def backfill_floor(run, concurrency):
    """(Stripe list pages + Comptentra pages read) × latency + posts × latency / concurrency."""
    return ((run["stripe_lists"] + run["books_reads"]) + run["books_posts"] / concurrency) * LATENCY_MS / 1000


def backfill_speed(work, scale):
    """The speed rows: the tool at each concurrency and the naive loop, 20 ms on every request."""
    count = SPEED_CHARGES // scale
    data = work / f"speed-charges-{count}.json"
    progress(f"backfill: generating {count} charges ({SINCE} to {UNTIL}), latency {LATENCY_MS} ms")
    with Sandbox("stripe-sandbox", [*generate_args(count, data), "--latency-ms", str(LATENCY_MS)], work) as stripe:
        charges, posts = bookable_charges(data)
        runs = {}
        for concurrency in CONCURRENCIES:
            progress(f"backfill: {charges} charges, {posts} posts, concurrency {concurrency}")
            runs[concurrency] = one_backfill(stripe, work, charges, posts, concurrency, LATENCY_MS)
        naive = naive_backfill(stripe, work, charges, posts)
    data.unlink()
    rows, goals = speed_rows("backfill", charges, runs, naive, backfill_floor)
    return rows, backfill_speed_notes(charges, posts, runs, naive) + goals


def backfill_speed_notes(charges, posts, runs, naive):
    """How the backfill floor and baseline are counted, with what the sandboxes counted."""
    seen = sorted({f"{r['stripe_requests']} Stripe requests ({r['stripe_lists']} list pages), "
                   f"{r['books_reads']} Comptentra read(s) and {r['books_posts']:,} posts" for r in runs.values()})
    return [
        f"backfill: {charges:,} charges generated with `--seed {SEED}` from {SINCE} to {UNTIL}, so {posts:,} "
        f"posts (sales of the succeeded and captured charges, and credit notes of the period's refunds); "
        f"{LATENCY_MS} ms of latency on every request of both sandboxes; each run, the naive loop's too, "
        f"against a fresh Comptentra sandbox and the same Stripe sandbox. backfill runs with "
        f"`--max-rps {MAX_RPS}`: the default, 20 Stripe requests a second with a test key, would make the "
        f"rate limit the measure instead of the tool.",
        "backfill floor = (Stripe list pages + Comptentra pages read) × latency + posts × latency / concurrency, "
        "counted by the sandboxes; per run of the tool: " + "; ".join(seen) + ". The binary lists while it "
        "posts, so a ratio slightly under 1 is possible.",
        f"backfill baseline = the naive loop (`scripts/benchkit/naive.py backfill`, Python, measured the same "
        f"way): it lists the period's charges, then its refunds, page by page ({naive['stripe_lists']} list "
        f"pages), then posts one entry per succeeded and captured charge and per refund, one after another, "
        f"each on a new connection ({naive['books_connections']:,} connections for {naive['books_posts']:,} "
        f"posts), with no lookup, no retry and no idempotency key, so a rerun books every payment twice. "
        f"Its row's floor counts its own requests at concurrency 1; ratio to baseline = the tool's time / "
        f"{naive['seconds']:.2f} s.",
    ]


def backfill_memory(work, scale):
    """The memory rows: backfills of 10,000 and 100,000 charges without latency, at concurrency 8."""
    rows, memory = [], []
    for wanted in MEMORY_CHARGES:
        count = wanted // scale
        data = work / f"memory-charges-{count}.json"
        progress(f"backfill: {count} charges, latency 0, concurrency 8 (peak memory)")
        with Sandbox("stripe-sandbox", [*generate_args(count, data), "--latency-ms", "0"], work) as stripe:
            charges, posts = bookable_charges(data)
            run = one_backfill(stripe, work, charges, posts, 8, 0)
        data.unlink()
        rows.append(row("backfill, latency 0", charges, 8, run["seconds"], run["rss_kib"]))
        memory.append((charges, run["rss_kib"]))
    (small_n, small), (large_n, large) = memory
    notes = [f"The memory rows run with no latency (`--latency-ms 0` on both sandboxes) to keep the "
             f"{large_n:,}-charge run short; their time is not compared with a floor or a baseline.",
             f"Goal: peak RSS flat ({FLAT_RULE}) and under {MEMORY_GOAL_MIB} MB at "
             f"{large_n:,} charges: {'met' if memory_is_flat(small, large) else 'NOT met'} "
             f"({mib(small)} MB at {small_n:,}, {mib(large)} MB at {large_n:,})."]
    return rows, notes


def job_backfill(work, scale):
    """backfill: speed against the floor and the naive loop, then peak memory."""
    speed_rows, speed_notes = backfill_speed(work, scale)
    memory_rows, memory_notes = backfill_memory(work, scale)
    return speed_rows + memory_rows, speed_notes + memory_notes


# ----------------------------------------------------------------------------- reconcile


def job_reconcile(work, scale):
    """A month of 10,000 charges, booked by one backfill, reconciled with 20 ms of latency."""
    charges_wanted = RECONCILE_CHARGES // scale
    data = work / "reconcile-charges.json"
    latency = ["--latency-ms", str(LATENCY_MS)]
    progress(f"reconcile: generating {charges_wanted} charges and booking them")
    with Sandbox("stripe-sandbox", [*generate_args(charges_wanted, data), *latency], work) as stripe, \
            Sandbox("comptentra-sandbox", latency, work) as books:
        charges, posts = bookable_charges(data)
        env = tool_env(stripe, books, work)
        command = [str(BINARY), "backfill", "--since", SINCE, "--until", UNTIL, "--concurrency", "8",
                   "--max-rps", str(MAX_RPS)]
        status, _, _, output = measured_run(command, env, work, timeout=600)
        output.unlink()
        if status != 0 or books.stats()["entries"] != posts:
            raise BenchError(f"the backfill before reconcile exited with {status}")
        before, books_before = stripe.stats(), books.stats()
        command = [str(BINARY), "--json", "reconcile", "--since", SINCE, "--until", UNTIL,
                   "--max-rps", str(MAX_RPS), "--lock", str(work / "reconcile.lock")]
        progress(f"reconcile: {charges} charges, {posts} entries, latency {LATENCY_MS} ms")
        status, seconds, rss_kib, output = measured_run(command, env, work, timeout=600)
        after, books_after = stripe.stats(), books.stats()
    # The same run with no latency: what the tool and the two sandboxes cost besides waiting.
    with Sandbox("stripe-sandbox", ["--data", str(data)], work) as stripe, \
            Sandbox("comptentra-sandbox", [], work) as books:
        env = tool_env(stripe, books, work)
        backfill = [str(BINARY), "backfill", "--since", SINCE, "--until", UNTIL, "--concurrency", "8",
                    "--max-rps", str(MAX_RPS)]
        backfill_status, _, _, backfill_output = measured_run(backfill, env, work, timeout=600)
        backfill_output.unlink()
        if backfill_status != 0:
            raise BenchError("the backfill before reconcile (no latency) failed")
        quick_status, quick_seconds, quick_rss, quick_output = measured_run(command, env, work, timeout=600)
        quick_output.unlink()
        if quick_status != 0:
            raise BenchError(f"reconcile without latency exited with {quick_status}")
    data.unlink()
    last = output.read_text(errors="replace").strip().splitlines()[-1:]
    output.unlink()
    if status != 0:
        raise BenchError(f"reconcile exited with {status}: {' | '.join(last)}")
    requests = (after["requests"] - before["requests"]) + (books_after["requests"] - books_before["requests"])
    floor = requests * LATENCY_MS / 1000
    ratio = seconds / floor
    progress(f"reconcile: {seconds:.2f} s, {mib(rss_kib)} MB; {last[0] if last else ''}")
    rows = [row("reconcile", charges, 1, seconds, rss_kib, floor),
            row("reconcile, latency 0", charges, 1, quick_seconds, quick_rss)]
    notes = [f"reconcile: the same {charges:,} charges, all {posts:,} entries booked beforehand by a "
             f"backfill; {after['requests'] - before['requests']} Stripe and "
             f"{books_after['requests'] - books_before['requests']} Comptentra requests, each with "
             f"{LATENCY_MS} ms of latency, made one after the other: floor = requests × latency; no "
             f"baseline. Goal: a time dominated by the API calls (ratio near 1): "
             f"{'met' if ratio <= GOAL_FLOOR_RATIO else 'NOT met'} ({ratio:.2f}). The same run with no latency "
             f"takes {quick_seconds:.2f} s: the tool's own work plus the sandboxes' (Python) time to serve the "
             f"pages, which the floor does not count."]
    return rows, notes
