"""The listen job: signed webhook deliveries sent by concurrent clients to `listen`, which answers
once a delivery is on disk and books it behind the answer, against the handler of Comptentra's
tutorial (naive.py listen), which books before answering."""

import http.client
import json
import math
import os
import shutil
import threading
import time
import urllib.parse

from .api_jobs import DASH, naive_command
from .deliveries import CAPTURE_HEAD, SECRET, deliveries, signature
from .post_job import post_env
from .processes import BINARY, NO_PROXY, BenchError, Sandbox, Server, mib, progress

DELIVERIES = 1_000
CLIENTS = 8  # client threads, each with a connection of its own; also listen's --concurrency
LATENCY_MS = 50
GOAL_P99_S = 0.100
START_SECONDS = 30
ANSWER_SECONDS = 30  # socket timeout of one request
POLL_SECONDS = 0.02
HEADERS = {"User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
           "Content-Type": "application/json; charset=utf-8"}


def percentile(values, p):
    """The nearest-rank p-th percentile of values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def send_all(url, signed, deadline):
    """Sends the signed deliveries from CLIENTS threads, each over one kept-alive connection;
    returns (the start, the latency of each answer, the time of the last answer)."""
    address = urllib.parse.urlsplit(url)
    latencies, errors, ends = [], [], []
    lock = threading.Lock()

    def client(share):
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=ANSWER_SECONDS)
        mine = []
        try:
            for body, header in share:
                sent = time.perf_counter()
                connection.request("POST", "/stripe-webhook", body, {**HEADERS, "Stripe-Signature": header})
                answer = connection.getresponse()
                text = answer.read()
                mine.append(time.perf_counter() - sent)
                if answer.status != 200:
                    raise BenchError(f"answer {answer.status}: {text.decode(errors='replace').strip()}")
        except Exception as error:  # reported by the main thread
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)
                ends.append(time.perf_counter())

    threads = [threading.Thread(target=client, args=(signed[i::CLIENTS],), daemon=True) for i in range(CLIENTS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        raise BenchError(f"the clients did not finish by the deadline ({len(latencies)} answers)")
    if errors:
        raise BenchError(f"{len(errors)} client(s) failed; first: {errors[0]}")
    return start, latencies, max(ends)


def health(url):
    """listen's GET /healthz: {"status": "ok", "inbox": N, "failed": M}."""
    try:
        with NO_PROXY.open(f"{url}/healthz", timeout=10) as answer:
            return json.load(answer)
    except (OSError, ValueError) as error:
        raise BenchError(f"GET /healthz failed: {error}") from None


def wait_booked(server, deadline):
    """Polls /healthz until the inbox is empty; the time it was seen so."""
    while time.monotonic() < deadline:
        state = health(server.url)
        if state["inbox"] == 0:
            if state["failed"]:
                raise BenchError(f"listen moved {state['failed']} capture(s) to failed/: {server.tail()}")
            return time.perf_counter()
        time.sleep(POLL_SECONDS)
    raise BenchError(f"listen still had {health(server.url)['inbox']} capture(s) in its inbox at the deadline")


def one_run(label, command, bodies, work, count, books_behind):
    """One server against a fresh Comptentra sandbox with LATENCY_MS; its measures. A server that
    books behind its answers is waited for until its inbox is empty."""
    limit = 120 + 4 * 2 * count * LATENCY_MS / 1000 / CLIENTS
    with Sandbox("comptentra-sandbox", ["--latency-ms", str(LATENCY_MS)], work) as books:
        env = {**post_env(books, work), "STRIPE_WEBHOOK_SECRET": SECRET}
        server = Server(label, command, work, env, START_SECONDS)
        try:
            now = int(time.time())  # signed when sent: the servers allow 300 s
            signed = [(body, signature(body, now)) for body in bodies]
            progress(f"listen: {count} deliveries from {CLIENTS} clients to {label}, latency {LATENCY_MS} ms")
            deadline = time.monotonic() + limit
            start, latencies, last = send_all(server.url, signed, deadline)
            booked = wait_booked(server, deadline) if books_behind else last
            rss_kib = server.peak_rss_kib()
        finally:
            status = server.stop()
        stats = books.stats()
    # listen's summary and its last word go to stderr; the naive server logs each request there
    summary = server.err_path.read_text(errors="replace").strip().splitlines()[-2:] if books_behind else []
    if status != 0:
        raise BenchError(f"{label} exited with {status} on SIGTERM: {server.tail()}")
    server.out_path.unlink()
    server.err_path.unlink()
    if stats["entries"] != count:
        raise BenchError(f"{label}: the sandbox stored {stats['entries']} entries, {count} expected")
    run = {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "max": max(latencies),
           "seconds": booked - start, "rss_kib": rss_kib, "requests": stats["requests"], "posts": stats["posts"],
           "connections": stats["connections"], "summary": " | ".join(summary)}
    progress(f"{label}: p99 {run['p99'] * 1000:.1f} ms, all booked in {run['seconds']:.2f} s"
             + (f"; {run['summary']}" if run["summary"] else ""))
    return run


def store_floor(work, bodies):
    """p99 of a durable store alone, as `listen` does it before answering: the capture written to
    a new file and fsynced, linked into the folder, the folder fsynced; CLIENTS threads at once."""
    folder = work / "store-floor"
    (folder / "partial").mkdir(parents=True)
    folder_fd, partial_fd = os.open(folder, os.O_RDONLY), os.open(folder / "partial", os.O_RDONLY)
    times, lock = [], threading.Lock()

    def writer(start):
        mine = []
        for index in range(start, len(bodies), CLIENTS):
            capture = CAPTURE_HEAD.format(length=len(bodies[index]), signature="t=0,v1=0").encode() + bodies[index]
            began = time.perf_counter()
            fd = os.open(f"{index}.tmp", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=partial_fd)
            os.write(fd, capture)
            os.fsync(fd)
            os.close(fd)
            os.link(f"{index}.tmp", f"{index}.http", src_dir_fd=partial_fd, dst_dir_fd=folder_fd)
            os.unlink(f"{index}.tmp", dir_fd=partial_fd)
            os.fsync(folder_fd)
            mine.append(time.perf_counter() - began)
        with lock:
            times.extend(mine)

    try:
        threads = [threading.Thread(target=writer, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        os.close(folder_fd)
        os.close(partial_fd)
        shutil.rmtree(folder)
    return percentile(times, 99)


def row(job, items, seconds, rss_kib, floor=None, baseline=None):
    """One table row; the peak RSS "—" when /proc did not tell it."""
    return [job, f"{items:,}", str(CLIENTS), f"{seconds:.3f}",
            DASH if floor is None else f"{floor:.3f}", DASH if floor is None else f"{seconds / floor:.2f}",
            DASH if baseline is None else f"{seconds / baseline:.2f}", DASH if rss_kib is None else mib(rss_kib)]


def job_listen(work, scale):
    """listen: answer latency and time until all is booked, against the tutorial's handler."""
    count = DELIVERIES // scale
    bodies = [pretty for pretty, _, _ in deliveries(count)]
    archive = work / "listen-archive"
    floor = store_floor(work, bodies)
    tool = one_run("listen", [str(BINARY), "listen", "--archive", str(archive), "--port", "0",
                              "--concurrency", str(CLIENTS)], bodies, work, count, True)
    done = len(list((archive / "done").iterdir()))
    shutil.rmtree(archive)
    naive = one_run("naive server", naive_command("listen"), bodies, work, count, False)

    def booked_floor(run):
        return run["requests"] * LATENCY_MS / 1000 / CLIENTS

    rows = [row("listen, answer p99", count, tool["p99"], tool["rss_kib"], floor, naive["p99"]),
            row("listen, all booked", count, tool["seconds"], tool["rss_kib"], booked_floor(tool), naive["seconds"]),
            row("listen, naive server, answer p99", count, naive["p99"], naive["rss_kib"], floor),
            row("listen, naive server, all booked", count, naive["seconds"], naive["rss_kib"], booked_floor(naive))]
    return rows, listen_notes(count, tool, naive, floor, done)


def listen_notes(count, tool, naive, floor, done):
    """How the listen rows are measured, the latencies of both servers, and the goal."""
    def figures(run):
        return f"p50 {run['p50'] * 1000:.1f} ms, p99 {run['p99'] * 1000:.1f} ms, max {run['max'] * 1000:.1f} ms"

    unknown = [name for name, run in (("listen", tool), ("the naive server", naive)) if run["rss_kib"] is None]
    met = tool["p99"] < GOAL_P99_S
    return [
        f"listen: {count:,} distinct `charge.succeeded` deliveries (pretty-printed, signed with the bench secret "
        f"just before sending) POSTed to /stripe-webhook by {CLIENTS} client threads, each over one kept-alive "
        f"http.client connection, to `listen --concurrency {CLIENTS}` with a fresh archive, then to the naive "
        f"server; {LATENCY_MS} ms of latency on every request of a fresh Comptentra sandbox for each. Answer "
        f"latency = perf_counter around sending a request and reading its answer. All booked = from the first "
        f"send until /healthz shows an empty inbox (polled every {POLL_SECONDS * 1000:.0f} ms); for the naive "
        f"server, which books before answering, until the last answer. Then the sandbox held {count:,} entries "
        f"after each, listen's done/ {done:,} captures, and each server exited 0 on SIGTERM. Peak RSS = VmHWM "
        f"from /proc/PID/status just before SIGTERM"
        + (f" (unavailable for {' and '.join(unknown)}: shown as —)." if unknown else "."),
        f"listen answer latency: {figures(tool)}; naive server: {figures(naive)}. Answer floor = "
        f"{floor * 1000:.1f} ms, the p99 of the durable store alone that listen must finish before answering "
        f"(write the capture to a new file and fsync it, link it into the folder, fsync the folder), done by "
        f"{CLIENTS} Python threads in the same file system; ratio to baseline = listen's p99 / the naive server's.",
        f"All-booked floor = the Comptentra requests the sandbox counted × {LATENCY_MS} ms / {CLIENTS}: for listen "
        f"{tool['requests'] - tool['posts']:,} lookups and {tool['posts']:,} posts over {tool['connections']} "
        f"connection(s) (it looks each entry up before posting it); for the naive server {naive['posts']:,} "
        f"posts over {naive['connections']:,} connections (urllib opens one per post). Baseline = the handler "
        f"of Comptentra's tutorial (`scripts/benchkit/naive.py listen`, ThreadingHTTPServer, Python, with a "
        f"backlog of 128 and Nagle off so that neither a 1 s SYN retry nor a delayed-ACK stall counts against "
        f"it): it checks "
        f"the signature, posts the entry and only then answers, so each answer waits for Comptentra, and it "
        f"keeps nothing on disk; ratio to baseline = listen's time / its {naive['seconds']:.2f} s.",
        f"listen: goal, every answer under {GOAL_P99_S * 1000:.0f} ms at p99 while Comptentra answers in "
        f"{LATENCY_MS} ms: {'met' if met else 'NOT met'} (p99 {tool['p99'] * 1000:.1f} ms, naive server "
        f"{naive['p99'] * 1000:.1f} ms).",
    ]
