"""Helpers of the end-to-end tests that signal or kill a running stripe-comptentra
(test_interrupt.py, test_post_crash.py): a run in the background with its output in files,
bounded waits, and a comptentra-sandbox started again on the books another one left; and for
test_secrets.py, random secrets that tell whether a text shows them, and a server that quotes
the credential it was sent in its 401 answer.

Every wait here is bounded in time and in count; a background run still alive at the end of
its test is killed by the test's cleanup.
"""

import json
import secrets
import signal
import subprocess
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler

from harness import BINARY, ERROR_PREFIX, HINT_PREFIX, clean_environment, lines
from sandbox import SCRIPT, LocalServer, Sandbox, serve_in_thread

STOPPED_PREFIX = ERROR_PREFIX + "stopped: interrupted"
EXIT_INTERRUPTED = 130
STOP_LIMIT = 3.0  # seconds from the signal to the exit of an interrupted run
REAP_TIMEOUT = 10  # seconds for a killed process to be reaped


class Background:
    """The binary run with `args` in the background, its stdout and stderr in files under
    `directory`; killed (SIGKILL) at the end of `test` if it still runs."""

    def __init__(self, test, directory, args, env, name):
        self.out_path = directory / f"{name}.out"
        self.err_path = directory / f"{name}.err"
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.process = subprocess.Popen(
                [str(BINARY), *[str(arg) for arg in args]], stdin=subprocess.DEVNULL,
                stdout=out, stderr=err, env=clean_environment(env), cwd=directory)
        self.started = time.monotonic()
        self.signalled = None  # monotonic time of the last signal sent
        test.addCleanup(self.reap)

    def running(self):
        return self.process.poll() is None

    def send(self, signum):
        """Sends `signum` when the process still runs; returns whether it was sent."""
        if not self.running():
            return False
        self.process.send_signal(signum)
        self.signalled = time.monotonic()
        return True

    def wait(self, timeout):
        """The exit status (negative: killed by that signal), or None after `timeout`."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def since_signal(self):
        """Seconds from the last signal to now (call it right after wait())."""
        return time.monotonic() - self.signalled

    def reap(self):
        if self.running():
            self.process.kill()
        self.process.wait(timeout=REAP_TIMEOUT)

    def stdout(self):
        return self.out_path.read_text(errors="replace")

    def stderr(self):
        return self.err_path.read_text(errors="replace")


def wait_until(predicate, seconds, step=0.02):
    """Polls `predicate` until it is true or `seconds` passed (at most seconds/step + 1
    tries); returns its last value."""
    deadline = time.monotonic() + seconds
    for _ in range(int(seconds / step) + 1):
        if predicate():
            return True
        if time.monotonic() >= deadline:
            break
        time.sleep(step)
    return bool(predicate())


def complete_json_lines(text):
    """The JSON objects of the complete lines of `text` (a killed run may leave its last
    line half written: it is ignored)."""
    complete = text[:text.rfind("\n") + 1]
    return [json.loads(line) for line in lines(complete) if line.strip()]


def duplicates(entries):
    """The libellés that the books hold more than once."""
    counts = Counter(entry["libelle"] for entry in entries)
    return sorted(name for name, count in counts.items() if count > 1)


def stopped_lines(stderr):
    """The error lines that say the run stopped because it was interrupted."""
    return [line for line in lines(stderr) if line.startswith(STOPPED_PREFIX)]


def hint_lines(stderr):
    return [line for line in lines(stderr) if line.startswith(HINT_PREFIX)]


class ReopenedBooks(Sandbox):
    """A comptentra-sandbox started on `data` (the data file of another one: entries and
    idempotency records), with its own `flags`."""

    def __init__(self, test, data, *flags, api_key):
        self.api_key = api_key
        LocalServer.__init__(self, test, SCRIPT, "data.json", flags, ("--api-key", api_key),
                             data)


def reopen(test, books, *flags):
    """Stops `books` and starts a sandbox with `flags` on what it holds (so that a re-run need
    not sit out the latency that made the first run slow enough to be interrupted)."""
    books.stop()
    raw = books.data_bytes()
    data = json.loads(raw) if raw.strip() else {"entries": [], "idempotency": {}}
    return ReopenedBooks(test, data, *flags, api_key=books.api_key)


def signal_name(signum):
    return signal.Signals(signum).name


class _EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        credential = self.headers.get("X-API-Key") or self.headers.get("Authorization", "")
        body = json.dumps({"error": {"type": "invalid_request_error", "code": "unauthorized",
                                     "message": f"wrong API key: {credential}"}}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = answer

    def log_message(self, format, *args):
        pass


class EchoingServer:
    """A server on 127.0.0.1 that refuses every request with 401 and quotes, in its error
    message, the credential it was sent (X-API-Key or Authorization), as careless APIs do."""

    def __init__(self, test):
        _, self.url = serve_in_thread(test, _EchoHandler)


KNOWN_PREFIXES = ("whsec_", "sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_",
                  "pk_live_")  # those src/core/redact.cpp keeps


class Secret:
    """A distinctive random secret: `prefix` then 32 random hexadecimal digits."""

    def __init__(self, name, prefix):
        self.name, self.prefix = name, prefix
        self.random = secrets.token_hex(16)
        self.value = prefix + self.random

    def redacted(self):
        """The form src/core/redact.cpp shows."""
        known = next((p for p in KNOWN_PREFIXES if self.value.startswith(p)), "")
        tail = self.value[-4:] if len(self.value) >= len(known) + 12 else ""
        return f"{known}…{tail}"

    def leak(self, text):
        """What of the secret `text` shows, or None."""
        if self.value in text:
            return "the whole secret"
        if self.prefix + self.random[:4] in text:
            return "its start"
        for start in range(len(self.random) - 7):
            if self.random[start:start + 8] in text:
                return f"'{self.random[start:start + 8]}' of its random part"
        return None
