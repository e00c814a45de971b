"""Processes for the benchmarks: the sandboxes, the measured runs of the binary, the build."""

import json
import os
import select
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPTS = ROOT / "scripts"
BUILD_DIR = ROOT / os.environ.get("BUILD_DIR", "build")
BINARY = BUILD_DIR / "stripe-comptentra"
GNU_TIME = "/usr/bin/time"

STRIPE_KEY = "sk_test_bench"
COMPTENTRA_KEY = "ct_test_sandbox"
READY_SECONDS = 120  # generating 100,000 charges takes a few seconds
STOP_SECONDS = 10
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the sandboxes are local


class BenchError(Exception):
    pass


def progress(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- processes


class Sandbox:
    """One of scripts/*-sandbox on a free port: started, waited for, always stopped."""

    def __init__(self, name, args, work):
        self.name = name
        self.log_path = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log", dir=work)[1])
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPTS / name), "--host", "127.0.0.1", "--port", "0", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log,
        )
        try:
            self.url = self._wait_for_address()
        except BaseException:
            self.stop()
            raise

    def _wait_for_address(self):
        deadline = time.monotonic() + READY_SECONDS
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError(f"{self.name} did not start within {READY_SECONDS} s")
            ready, _, _ = select.select([self.process.stdout], [], [], left)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 4096)
                if not chunk:
                    break
                line += chunk
        text = line.decode(errors="replace").strip()
        if not text.startswith("listening on "):
            self.stop()
            raise BenchError(f"{self.name} failed to start: {self.log_path.read_text(errors='replace').strip()}")
        return text.removeprefix("listening on ")

    def stats(self):
        with NO_PROXY.open(f"{self.url}/_sandbox/stats", timeout=10) as answer:
            return json.load(answer)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_SECONDS)
        self.process.stdout.close()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# Measures one child in a fresh process, so that RUSAGE_CHILDREN covers it alone.
RUSAGE_HELPER = """
import resource, subprocess, sys, time
start = time.monotonic()
status = subprocess.call(sys.argv[3:], stdout=open(sys.argv[2], "wb"), stderr=subprocess.STDOUT)
elapsed = time.monotonic() - start
with open(sys.argv[1], "w") as out:
    out.write(f"{elapsed:.2f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\\n")
sys.exit(status)
"""


def measured_run(command, env, work, timeout):
    """Runs command; returns (exit status, seconds, peak RSS in KiB, path of its output)."""
    fd, usage_path = tempfile.mkstemp(prefix="usage-", dir=work)
    os.close(fd)
    fd, output_path = tempfile.mkstemp(prefix="output-", dir=work)
    os.close(fd)
    if os.access(GNU_TIME, os.X_OK):
        wrapped = [GNU_TIME, "-f", "%e %M", "-o", usage_path, *command]
        sink = open(output_path, "wb")
    else:
        wrapped = [sys.executable, "-c", RUSAGE_HELPER, usage_path, output_path, *command]
        sink = open(os.devnull, "wb")
    with sink:
        process = subprocess.Popen(wrapped, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                                   env=env, start_new_session=True)
        try:
            status = process.wait(timeout)
        except BaseException as error:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_SECONDS)
            if isinstance(error, subprocess.TimeoutExpired):
                raise BenchError(f"{shlex.join(command)} did not finish within {timeout:.0f} s") from None
            raise
    fields = Path(usage_path).read_text().split()
    os.unlink(usage_path)
    if len(fields) < 2:
        raise BenchError(f"no measurement for {shlex.join(command)} (exit status {status})")
    return status, float(fields[-2]), int(fields[-1]), Path(output_path)


def build():
    progress("building (scripts/build)")
    result = subprocess.run([str(SCRIPTS / "build")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=1800)
    if result.returncode != 0 or not os.access(BINARY, os.X_OK):
        sys.stderr.write(result.stderr.decode(errors="replace")[-4000:])
        raise BenchError(f"the build failed (exit status {result.returncode})")


def tool_env(stripe, books, work):
    """The caller's environment, pointed at the sandboxes, with no config file of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "COMPTENTRA_"))}
    config_home = work / "config"
    config_home.mkdir(exist_ok=True)
    env.update(STRIPE_API_BASE=stripe.url, STRIPE_API_KEY=STRIPE_KEY,
               COMPTENTRA_URL=books.url, COMPTENTRA_API_KEY=COMPTENTRA_KEY,
               XDG_CONFIG_HOME=str(config_home), no_proxy="127.0.0.1,localhost", NO_PROXY="127.0.0.1,localhost")
    return env


def mib(kib):
    return f"{kib / 1024:.1f}"


FLAT_RULE = "at most 1.25 × + 2 MB for 10 times the items"
MEMORY_GOAL_MIB = 50


def memory_is_flat(small_kib, large_kib):
    """The memory goal: peak RSS flat (FLAT_RULE) and under MEMORY_GOAL_MIB."""
    return large_kib <= small_kib * 1.25 + 2 * 1024 and large_kib < MEMORY_GOAL_MIB * 1024
