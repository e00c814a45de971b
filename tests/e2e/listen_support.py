"""Helpers of the end-to-end tests of `listen` (test_listen*.py): signed deliveries, a listen
run in the background on a free loopback port, keep-alive clients for threads, and looks at
the archive folder (inbox, done/, failed/).

Every wait here is bounded in time and in count; a listen run still alive at the end of its
test is killed by the test's cleanup (crash_support.Background).
"""

import http.client
import json
import re
import signal
import threading
import time
from pathlib import Path

from crash_support import Background, wait_until
from harness import TEST_SECRET, BinaryTest, lines, sign
from post_support import event, libelle

START_TIMEOUT = 15  # seconds for listen to print its address
STOP_TIMEOUT = 10  # seconds for listen to exit after SIGTERM
HTTP_TIMEOUT = 10  # seconds for one request of a test
BOOK_TIMEOUT = 60  # seconds for the inbox of a small test to empty
LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:([0-9]+))")
JSON_LISTENING = re.compile(r'\{"listening":"(http://127\.0\.0\.1:([0-9]+))"\}')
STOPPED = re.compile(r"stripe-comptentra: stopped; ([0-9]+) capture\(s\) wait in the inbox "
                     r"for the next start")
LEFT = re.compile(r"stripe-comptentra: booking the ([0-9]+) capture\(s\) an earlier run left "
                  r"in the inbox")
REFUSED_PREFIX = "stripe-comptentra: warning: refused a delivery from 127.0.0.1: "


def delivery(document, timestamp=None, secret=TEST_SECRET):
    """(body, headers) of a webhook delivery of `document` (an object, or raw bytes), signed
    at `timestamp` (default: now) with `secret`, as Stripe sends it."""
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    stamp = int(time.time()) if timestamp is None else timestamp
    return body, {"Content-Type": "application/json; charset=utf-8",
                  "Stripe-Signature": sign(body, stamp, secret)}


def uncaptured_event(index, prefix):
    """A charge.succeeded event of an authorisation that was never captured: books nothing."""
    document = event(index, prefix)
    document["data"]["object"].update(captured=False, amount_captured=0)
    return document


def customer_event(index):
    return {"id": f"evt_customer{index:05d}", "object": "event", "type": "customer.created",
            "created": 1773483165, "livemode": False, "pending_webhooks": 1,
            "data": {"object": {"id": f"cus_e2elisten{index:05d}", "object": "customer"}}}


def request(port, method, path, body=None, headers=None):
    """(status, headers, body bytes) of one request on a connection of its own."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


class Client:
    """A keep-alive connection of one client thread; `post` returns (status, text, seconds),
    status None when the connection failed (the delivery then counts as unanswered)."""

    def __init__(self, port, path="/stripe-webhook"):
        self.port, self.path = port, path
        self.connection = None

    def post(self, body, headers):
        started = time.perf_counter()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port,
                                                             timeout=HTTP_TIMEOUT)
            self.connection.request("POST", self.path, body=body, headers=headers)
            response = self.connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            return response.status, text, time.perf_counter() - started
        except (OSError, http.client.HTTPException) as error:
            self.close()
            return None, repr(error), time.perf_counter() - started

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def send_concurrently(port, items, threads, on_answer=None, pause=0.0):
    """Sends `items` (a list of (key, body, headers)) from `threads` client threads, each with
    its own keep-alive connection, item i by thread i % threads, each thread waiting `pause`
    seconds after each answer; returns the list of (key, status, text, seconds) in item order.
    `on_answer(key, status)` runs after each answer."""
    results = [None] * len(items)

    def client(number):
        sender = Client(port)
        try:
            for index in range(number, len(items), threads):
                key, body, headers = items[index]
                status, text, seconds = sender.post(body, headers)
                results[index] = (key, status, text, seconds)
                if on_answer is not None:
                    on_answer(key, status)
                time.sleep(pause)
        finally:
            sender.close()

    workers = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=(HTTP_TIMEOUT + pause) * (len(items) // threads + 2))
    if any(worker.is_alive() for worker in workers):
        raise AssertionError("a client thread did not finish")
    return results


class BackgroundSender:
    """send_concurrently() on a thread of its own, counting the deliveries answered 200 as they
    come (`acknowledged()`), for tests that stop the server while deliveries arrive."""

    def __init__(self, port, items, threads, pause=0.0):
        self._lock = threading.Lock()
        self._acknowledged = 0
        self._outcome = {}
        self._thread = threading.Thread(target=lambda: self._outcome.update(
            results=send_concurrently(port, items, threads, self._on_answer, pause)), daemon=True)
        self._thread.start()

    def _on_answer(self, key, status):
        if status == 200:
            with self._lock:
                self._acknowledged += 1

    def acknowledged(self):
        with self._lock:
            return self._acknowledged

    def results(self, timeout=60):
        """The (key, status, text, seconds) of every item once all threads are done (an
        AssertionError after `timeout` seconds)."""
        self._thread.join(timeout=timeout)
        if self._thread.is_alive() or "results" not in self._outcome:
            raise AssertionError("the client threads did not finish")
        return self._outcome["results"]


class Listen:
    """`stripe-comptentra [--json] [--verbose] listen --archive ARCHIVE --port 0 FLAGS` in the
    background, its output in files named `name` beside the archive; `port` and `url` come from
    its first line."""

    def __init__(self, test, archive, env, *flags, json_output=False, verbose=False,
                 name="listen"):
        self.archive = Path(archive)
        arguments = [*(["--json"] if json_output else []), *(["--verbose"] if verbose else []),
                     "listen", "--archive", self.archive, "--port", "0", *flags]
        self.run = Background(test, self.archive.parent, arguments, env, name)
        wait_until(lambda: "\n" in self.stdout() or not self.run.running(), START_TIMEOUT)
        first = (lines(self.stdout()) or [""])[0]
        match = (JSON_LISTENING if json_output else LISTENING).fullmatch(first)
        if not match:
            self.run.reap()
            raise AssertionError(f"no address line: {first!r}\nstderr: {self.stderr()}")
        self.url, self.port = match.group(1), int(match.group(2))

    def stdout(self):
        return self.run.stdout()

    def stderr(self):
        return self.run.stderr()

    def post(self, body, headers, path="/stripe-webhook"):
        """(status, text) of one POST."""
        status, _, answer = request(self.port, "POST", path, body, headers)
        return status, answer.decode("utf-8", "replace")

    def deliver(self, document, timestamp=None, secret=TEST_SECRET, path="/stripe-webhook"):
        """(status, text) of one signed delivery."""
        return self.post(*delivery(document, timestamp, secret), path=path)

    def health(self):
        status, headers, body = request(self.port, "GET", "/healthz")
        if status != 200:
            raise AssertionError(f"/healthz answered {status}: {body!r}")
        return json.loads(body)

    def wait_booked(self, seconds=BOOK_TIMEOUT):
        """Whether the inbox emptied within `seconds`."""
        return wait_until(lambda: self.health()["inbox"] == 0, seconds, step=0.1)

    def stop(self, signum=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Sends `signum`; returns (exit status or None after `timeout`, seconds it took)."""
        self.run.send(signum)
        status = self.run.wait(timeout)
        return status, self.run.since_signal()


def captures(folder):
    """The names (event ids) of the captures of a folder of the archive."""
    path = Path(folder)
    return sorted(p.name[:-len(".http")] for p in path.glob("*.http")) if path.is_dir() else []


def archive_state(archive):
    """{"inbox": [...], "done": [...], "failed": [...]}: the event ids in each folder."""
    archive = Path(archive)
    return {"inbox": captures(archive), "done": captures(archive / "done"),
            "failed": captures(archive / "failed")}


def entry_counts(sandbox):
    """{libellé: how many entries the books hold with it}."""
    counts = {}
    for stored in sandbox.entries():
        counts[stored["libelle"]] = counts.get(stored["libelle"], 0) + 1
    return counts


class ListenTest(BinaryTest):
    def listen(self, tmp, sandbox, *flags, json_output=False, name="listen", env=None):
        """A listen run on tmp/archive against `sandbox`, the test secret in the environment."""
        settings = {"STRIPE_WEBHOOK_SECRET": TEST_SECRET, **sandbox.env(), **(env or {})}
        return Listen(self, tmp.path / "archive", settings, *flags, json_output=json_output,
                      name=name)

    def assert_health(self, listener, inbox, failed, seconds=5):
        """/healthz says so within `seconds` (a capture moved to failed/ leaves the inbox count
        a moment before it joins the failed count)."""
        expected = {"status": "ok", "inbox": inbox, "failed": failed}
        wait_until(lambda: listener.health() == expected, seconds, step=0.05)
        self.assertEqual(listener.health(), expected)

    def assert_booked_once(self, sandbox, charges):
        """The books hold exactly one entry for each charge, and nothing else."""
        stored = sorted(entry["libelle"] for entry in sandbox.entries())
        self.assertEqual(stored, sorted(libelle(charge) for charge in charges))

    def assert_stopped(self, listener, status, seconds, limit=STOP_TIMEOUT):
        """The run exited 0 within `limit` seconds, stderr ending with the stop line; returns
        how many captures that line says wait in the inbox."""
        stderr = listener.stderr()
        self.assertEqual(status, 0, f"exit after {seconds:.1f} s\n{stderr[-3000:]}")
        self.assertLess(seconds, limit)
        last = (lines(stderr) or [""])[-1]
        match = STOPPED.fullmatch(last)
        self.assertIsNotNone(match, f"last stderr line: {last!r}")
        self.assertNotIn("internal error", stderr + listener.stdout())
        return int(match.group(1))
