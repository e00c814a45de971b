"""Processes for the benchmarks: the sandboxes, the measured runs of the binary, the build."""

import json
import os
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


class Server:
    """A server run for a benchmark on a free port: its stdout and stderr in files of `work`,
    its address read from its first line (`listening on URL`); started, waited for, always
    stopped (SIGTERM, then SIGKILL)."""

    def __init__(self, name, command, work, env=None, ready_seconds=READY_SECONDS):
        self.name = name
        stem = name.replace(" ", "-")
        self.out_path = Path(tempfile.mkstemp(prefix=f"{stem}-", suffix=".out", dir=work)[1])
        self.err_path = self.out_path.with_suffix(".err")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                                            start_new_session=True)
        try:
            self.url = self._wait_for_address(ready_seconds)
        except BaseException:
            self.stop()
            raise

    def _wait_for_address(self, ready_seconds):
        deadline = time.monotonic() + ready_seconds
        while time.monotonic() < deadline:
            text = self.out_path.read_text(errors="replace")
            if "\n" in text:
                line = text.split("\n", 1)[0].strip()
                if not line.startswith("listening on "):
                    raise BenchError(f"{self.name} printed {line!r} instead of its address")
                return line.removeprefix("listening on ")
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.process.returncode}: {self.tail()}")
            time.sleep(0.01)
        raise BenchError(f"{self.name} did not print its address within {ready_seconds} s")

    def tail(self):
        """The last three lines of its stderr and stdout, for an error message."""
        lines = (self.err_path.read_text(errors="replace") + self.out_path.read_text(errors="replace")).splitlines()
        return " | ".join(lines[-3:])

    def peak_rss_kib(self):
        """VmHWM of the process, in KiB; None when /proc does not tell."""
        try:
            with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
                for text in status:
                    if text.startswith("VmHWM:"):
                        return int(text.split()[1])
        except (OSError, ValueError, IndexError):
            pass
        return None

    def stop(self):
        """SIGTERM, then SIGKILL after STOP_SECONDS; the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(STOP_SECONDS)
        return self.process.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Sandbox(Server):
    """One of scripts/*-sandbox on a free port."""

    def __init__(self, name, args, work):
        super().__init__(name, [sys.executable, str(SCRIPTS / name), "--host", "127.0.0.1", "--port", "0", *args],
                         work)

    def stats(self):
        with NO_PROXY.open(f"{self.url}/_sandbox/stats", timeout=10) as answer:
            return json.load(answer)


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
