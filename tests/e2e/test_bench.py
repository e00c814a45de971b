"""End-to-end test of scripts/bench: every job runs at a small scale against the binaries of
this build and checks its own results (exit statuses, counts of entries stored), so that the
benchmark keeps working as the tool changes. The figures of such a run mean nothing."""

import subprocess
import sys
import unittest

from harness import BINARY, SOURCE_DIR, TempDir, clean_environment

BENCH = SOURCE_DIR / "scripts" / "bench"
SCALE = "200"  # 500 deliveries and events, 25 posts, 50 to 500 charges, 5 webhooks
BENCH_LIMIT = 300  # seconds; the run takes well under a minute


class BenchSmoke(unittest.TestCase):
    def test_every_job_runs_and_prints_its_rows(self):
        tmp = TempDir(self)
        out = tmp.path / "bench.md"
        env = clean_environment({"BUILD_DIR": str(BINARY.parent)})
        completed = subprocess.run(
            [sys.executable, str(BENCH), "--no-build", "--scale", SCALE, "--out", str(out)],
            capture_output=True, text=True, env=env, timeout=BENCH_LIMIT, cwd=tmp.path)
        self.assertEqual(completed.returncode, 0, completed.stderr[-3000:])
        report = out.read_text()
        self.assertEqual(completed.stdout.splitlines()[1:], report.splitlines()[1:])
        rows = [line for line in report.splitlines() if line.startswith("| ")]
        jobs = {row.split("|")[1].strip().split(",")[0] for row in rows[2:]}
        self.assertEqual(jobs, {"verify", "entry", "post", "backfill", "reconcile", "listen", "startup"})
        self.assertIn("ratio to baseline", rows[0])
        for row in rows[2:]:
            cells = [cell.strip() for cell in row.strip("|").split("|")]
            self.assertEqual(len(cells), 8, row)
            self.assertRegex(cells[3], r"^[0-9]+\.[0-9]+$", row)


if __name__ == "__main__":
    unittest.main()
