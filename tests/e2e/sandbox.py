"""Servers for the end-to-end tests of post and check, all on 127.0.0.1 with a free port.

Sandbox runs scripts/comptentra-sandbox (the local Comptentra) as a subprocess with a data
file in a temporary directory; FakeStripe answers GET /v1/balance like the Stripe API, from a
thread of the test process. Both are stopped when the test ends (test.addCleanup), so a
failing test never leaves a server behind.
"""

import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from harness import SOURCE_DIR

SCRIPT = SOURCE_DIR / "scripts" / "comptentra-sandbox"
SANDBOX_KEY = "ct_test_sandbox"  # the sandbox's default API key
START_TIMEOUT = 15  # seconds for the sandbox to print its address
STOP_TIMEOUT = 5  # seconds for a server to stop once asked
HTTP_TIMEOUT = 10  # seconds for one request of the test itself
NO_PROXY = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


def read_first_line(stream, timeout):
    """The bytes read from `stream` until a newline came or `timeout` passed: the first line
    with its newline, and whatever followed it in the same read."""
    deadline = time.monotonic() + timeout
    data = b""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while b"\n" not in data:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                break
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                break
            data += chunk
    return data


class ScriptProcess:
    """A sandbox script run bare for its own tests: started with `args` on a free port, its
    stdout and stderr kept, `stop()` returning (status, rest of stdout, stderr) and
    `stop_and_check()` asserting a clean exit 0 with nothing printed after the address line.
    `owner` is the test case (or class) whose assertions are used."""

    def __init__(self, owner, script, *args):
        self.owner = owner
        self.result = None
        started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, str(script), "--port", "0", *[str(arg) for arg in args]],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        first = read_first_line(self.process.stdout, START_TIMEOUT)
        self.startup_seconds = time.monotonic() - started
        line, _, self.extra_stdout = first.partition(b"\n")
        match = re.fullmatch(rb"listening on http://127\.0\.0\.1:([0-9]+)", line)
        if not match or b"\n" not in first:
            status, _, stderr = self.stop()
            raise AssertionError(f"no address line: {first!r}, status {status}, stderr {stderr!r}")
        self.port = int(match.group(1))

    def stop(self, signum=signal.SIGTERM):
        """Sends `signum` once and waits; returns (status, rest of stdout, stderr)."""
        if self.result is not None:
            return self.result
        self.process.send_signal(signum)
        try:
            stdout, stderr = self.process.communicate(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate(timeout=STOP_TIMEOUT)
            self.result = (None, b"", b"")
            raise AssertionError("the sandbox did not stop after a signal") from None
        self.result = (self.process.returncode, self.extra_stdout + stdout, stderr)
        return self.result

    def stop_and_check(self):
        """Stops the sandbox unless the test did, and checks a clean exit."""
        if self.result is not None:
            return
        status, stdout, stderr = self.stop()
        self.owner.assertEqual(status, 0, stderr)
        self.owner.assertEqual(stdout, b"", "nothing on stdout after the address line")


def closed_port():
    """A loopback port that was just bound and released: nothing listens on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get_json(url, headers=None):
    """(status, parsed body) of a GET on a loopback server, without any proxy."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=HTTP_TIMEOUT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def add_cleanup(owner, function, *args):
    """Registers `function(*args)` to run when `owner` (a test case or class) ends."""
    if isinstance(owner, type):
        owner.addClassCleanup(function, *args)
    else:
        owner.addCleanup(function, *args)


class LocalServer:
    """One of the project's sandboxes as a subprocess on 127.0.0.1 with a free port, its data
    file and log in a temporary directory. It is stopped when `owner` ends: a test case
    (addCleanup) or a test class (addClassCleanup, for a server shared by a class's tests)."""

    def __init__(self, owner, script, data_name, flags, extra_arguments=(), initial_data=None):
        self.directory = Path(tempfile.mkdtemp(prefix="sc-e2e-server-"))
        add_cleanup(owner, shutil.rmtree, self.directory, True)
        self.data_path = self.directory / data_name
        self.log_path = self.directory / "server.log"
        if initial_data is not None:
            self.data_path.write_text(json.dumps(initial_data))
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(script), "--port", "0", *extra_arguments,
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
            raise AssertionError(f"{script.name} printed no address: {first!r}\n{self.log()}")
        self.url = match.group(1).decode()

    def stats(self):
        """The counters of GET /_sandbox/stats (connections, requests, ...)."""
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


def stripe_error(message):
    return {"error": {"type": "invalid_request_error", "message": message}}


class Sandbox(LocalServer):
    """A running comptentra-sandbox with its own data file: `Sandbox(self, "--minimal")`.

    `url` and `api_key` are what the binary needs (`env()` gives them as COMPTENTRA_URL and
    COMPTENTRA_API_KEY); `entries()` reads the data file, `stats()` asks /_sandbox/stats.
    `entries` given here are written to the data file before the start: books that already
    hold them (each with its "id").
    """

    def __init__(self, test, *flags, api_key=SANDBOX_KEY, entries=None):
        self.api_key = api_key
        initial = None if entries is None else {"entries": entries, "idempotency": {}}
        super().__init__(test, SCRIPT, "data.json", flags, ("--api-key", api_key), initial)

    def env(self, **extra):
        """COMPTENTRA_URL and COMPTENTRA_API_KEY for this sandbox, plus `extra`; loopback is
        kept away from any proxy of the caller's environment."""
        return {"COMPTENTRA_URL": self.url, "COMPTENTRA_API_KEY": self.api_key,
                **NO_PROXY, **extra}

    def data_bytes(self):
        """The data file as it stands (b"" before the first write)."""
        try:
            return self.data_path.read_bytes()
        except FileNotFoundError:
            return b""

    def entries(self):
        """The stored entries, oldest first, each with its "id"."""
        raw = self.data_bytes()
        return json.loads(raw).get("entries", []) if raw.strip() else []

class _StripeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        fake = self.server.fake
        with fake.lock:
            fake.requests.append((self.path, dict(self.headers)))
        if self.path.split("?")[0] != "/v1/balance":
            return self.answer(404, stripe_error(f"Unrecognized request URL (GET: {self.path})"))
        if self.headers.get("Authorization") != f"Bearer {fake.key}":
            return self.answer(401, stripe_error("Invalid API Key provided: sk_test_****"))
        self.answer(200, {"object": "balance", "livemode": False,
                          "available": [{"amount": 0, "currency": "eur"}],
                          "pending": [{"amount": 0, "currency": "eur"}]})

    def answer(self, status, document):
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


def serve_in_thread(test, handler):
    """A ThreadingHTTPServer on a free loopback port answering with `handler`, from a daemon
    thread of this process, stopped when the test ends; returns the server and its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(timeout=STOP_TIMEOUT)
        server.server_close()

    test.addCleanup(stop)
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class FakeStripe:
    """GET /v1/balance: 200 for `Authorization: Bearer <key>`, else 401 with a Stripe error.

    `url` is its base (for --stripe-url or STRIPE_API_BASE); `requests` lists the
    (path, headers) it received.
    """

    def __init__(self, test, key):
        self.key = key
        self.lock = threading.Lock()
        self.requests = []
        self.server, self.url = serve_in_thread(test, _StripeHandler)
        self.server.fake = self

class Listener:
    """A loopback socket that accepts connections and counts them, answering nothing useful:
    it stands for a proxy or server that must never be contacted."""

    def __init__(self, test):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.socket.settimeout(0.1)
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted = 0
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()
        test.addCleanup(self.stop)

    def serve(self):
        while self.running:
            try:
                connection, _ = self.socket.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self.accepted += 1
            connection.close()

    def stop(self):
        self.running = False
        self.thread.join(timeout=STOP_TIMEOUT)
        self.socket.close()
