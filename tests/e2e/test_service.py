"""End-to-end tests of the example systemd unit, scripts/stripe-comptentra-listen.service: its
ExecStart runs (with this build's binary, a temporary archive and a free port) and stops
cleanly on the unit's KillSignal, and systemd-analyze accepts the unit where systemd exists."""

import configparser
import shlex
import shutil
import signal
import subprocess
import unittest

from crash_support import Background, wait_until
from harness import SOURCE_DIR, TEST_SECRET, BinaryTest, TempDir
from sandbox import SANDBOX_KEY, Sandbox

UNIT = SOURCE_DIR / "scripts" / "stripe-comptentra-listen.service"
START_SECONDS = 15
STOP_SECONDS = 15


def read_unit():
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(UNIT)
    return parser


class ExampleUnit(BinaryTest):
    def setUp(self):
        self.unit = read_unit()
        self.service = self.unit["Service"]

    def test_has_the_sections_systemd_needs(self):
        self.assertEqual(set(self.unit.sections()), {"Unit", "Service", "Install"})
        self.assertEqual(self.service["KillSignal"], "SIGTERM")
        self.assertIn("EnvironmentFile", self.service)
        self.assertEqual(self.unit["Install"]["WantedBy"], "multi-user.target")

    def test_exec_start_runs_listen_and_stops_on_the_kill_signal(self):
        words = shlex.split(self.service["ExecStart"])
        self.assertEqual(words[:2], ["/usr/bin/stripe-comptentra", "listen"])
        tmp = TempDir(self)
        books = Sandbox(self)
        args = words[2:]
        args[args.index("--archive") + 1] = str(tmp.path / "archive")
        args[args.index("--port") + 1] = "0"
        env = {"STRIPE_WEBHOOK_SECRET": TEST_SECRET, "COMPTENTRA_API_KEY": SANDBOX_KEY,
               "COMPTENTRA_URL": books.url}
        listen = Background(self, tmp.path, ["listen", *args], env, "listen")
        started = wait_until(lambda: "listening on http://127.0.0.1:" in listen.stdout()
                             or not listen.running(), START_SECONDS)
        self.assertTrue(started and listen.running(), listen.stderr())
        listen.send(getattr(signal, self.service["KillSignal"]))
        self.assertEqual(listen.wait(STOP_SECONDS), 0, listen.stderr())
        self.assertTrue((tmp.path / "archive" / "done").is_dir())

    def test_systemd_analyze_accepts_it(self):
        analyze = shutil.which("systemd-analyze")
        if analyze is None:
            self.skipTest("systemd-analyze is not installed")
        completed = subprocess.run([analyze, "verify", str(UNIT)], capture_output=True, text=True,
                                   timeout=60)
        problems = [line for line in completed.stderr.splitlines()
                    if "stripe-comptentra-listen.service" in line
                    and "/usr/bin/stripe-comptentra" not in line  # not installed here
                    and "Command 'man " not in line]
        self.assertEqual(problems, [], completed.stderr)


if __name__ == "__main__":
    unittest.main()
