"""Runs the built stripe-comptentra binary for the end-to-end tests.

SC_BINARY names the binary (ctest sets it; default build/stripe-comptentra) and SC_SOURCE_DIR
the project root (default: two levels above this file). Every run gets a clean environment:
no STRIPE_* or COMPTENTRA_* variable of the caller, and HOME and XDG_CONFIG_HOME in a private
temporary directory, so no user configuration is ever read; XDG_RUNTIME_DIR is a private
directory there too, so default lock files never touch the user's own.
"""

import atexit
import hashlib
import hmac
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

SOURCE_DIR = Path(os.environ.get("SC_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BINARY = Path(os.environ.get("SC_BINARY", SOURCE_DIR / "build" / "stripe-comptentra"))
DATA = SOURCE_DIR / "tests" / "data"

TEST_SECRET = "whsec_test_secret"  # the secret of every signed fixture
TIME_LIMIT = 60  # seconds; a run that takes longer is a failure, not a hang

ERROR_PREFIX = "stripe-comptentra: error: "
HINT_PREFIX = "stripe-comptentra: hint: "

_HOME = Path(tempfile.mkdtemp(prefix="sc-e2e-home-"))
(_HOME / "config").mkdir()
(_HOME / "runtime").mkdir(mode=0o700)
atexit.register(shutil.rmtree, _HOME, True)


def clean_environment(env=None):
    """The caller's environment without Stripe or Comptentra settings, plus `env`."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STRIPE_", "COMPTENTRA_")) and key not in ("HOME", "XDG_CONFIG_HOME")
    }
    base["HOME"] = str(_HOME)
    base["XDG_CONFIG_HOME"] = str(_HOME / "config")
    # Default lock files (reconcile) go here, never into the user's runtime directory.
    base["XDG_RUNTIME_DIR"] = str(_HOME / "runtime")
    base["LC_ALL"] = "C.UTF-8"
    base.update(env or {})
    return base


def run(args, stdin=None, env=None, timeout=TIME_LIMIT, cwd=None):
    """Runs the binary with `args`; returns (status, stdout, stderr) as text.

    `stdin` is bytes or str (default: nothing, not the terminal). `env` adds or overrides
    variables on top of the clean environment. Invalid UTF-8 in the output is replaced, so
    the tests can still look at it.
    """
    if isinstance(stdin, str):
        stdin = stdin.encode()
    completed = subprocess.run(
        [str(BINARY), *[str(arg) for arg in args]],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=clean_environment(env),
        timeout=timeout,
        cwd=cwd if cwd is not None else DATA,
    )
    return (
        completed.returncode,
        completed.stdout.decode("utf-8", "replace"),
        completed.stderr.decode("utf-8", "replace"),
    )


def data(*parts):
    """A path under tests/data, relative to it (runs start there), as a string."""
    path = Path(*parts)
    assert (DATA / path).exists(), f"missing fixture {path}"
    return str(path)


def sign(body, timestamp, secret=TEST_SECRET):
    """A Stripe-Signature header for `body` (bytes), computed as Stripe does."""
    message = str(timestamp).encode() + b"." + body
    return f"t={timestamp},v1={hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()}"


def lines(text):
    """The lines of an output, without their line ends."""
    return text.splitlines()


class TempDir:
    """A temporary directory removed at the end of the test: `self.tmp = TempDir(self)`."""

    def __init__(self, test):
        self.path = Path(tempfile.mkdtemp(prefix="sc-e2e-"))
        test.addCleanup(shutil.rmtree, self.path, True)

    def write(self, name, content):
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        path.write_bytes(content)
        return str(path)


class BinaryTest(unittest.TestCase):
    """Base class: checks that the binary exists and adds shared assertions."""

    @classmethod
    def setUpClass(cls):
        if not BINARY.is_file():
            raise unittest.SkipTest(f"binary not built: {BINARY}")

    def assert_no_crash(self, status, stdout, stderr):
        self.assertGreaterEqual(status, 0, f"killed by signal {-status}\n{stderr}")
        self.assertLess(status, 128, stderr)
        self.assertNotIn("internal error", stderr)
        self.assertNotIn("internal error", stdout)

    def assert_error_lines(self, stderr, *names):
        """stderr holds exactly one error line per name, each naming it, in this order."""
        errors = [line for line in lines(stderr) if line.startswith(ERROR_PREFIX)]
        self.assertEqual(len(errors), len(names), stderr)
        for line, name in zip(errors, names):
            self.assertIn(name, line)
