"""End-to-end tests of the installation: `cmake --install` of this build into a temporary
DESTDIR puts the binary, the manual page and the shell completions where a distribution
expects them, the installed binary runs, and the completions load in bash and zsh and offer
what `--help` lists."""

import os
import re
import shutil
import subprocess
import unittest
from pathlib import Path

from harness import BINARY, DATA, TempDir, clean_environment

COMMANDS = ["verify", "sign", "entry", "post", "backfill", "reconcile", "check", "listen", "config"]
INSTALLED = {
    "usr/bin/stripe-comptentra",
    "usr/share/man/man1/stripe-comptentra.1",
    "usr/share/bash-completion/completions/stripe-comptentra",
    "usr/share/zsh/vendor-completions/_stripe-comptentra",
}
LIMIT = 120


def long_options(binary, command):
    """The long options `COMMAND --help` lists, --help left out."""
    completed = subprocess.run([str(binary), command, "--help"], capture_output=True, text=True,
                               timeout=LIMIT, env=clean_environment())
    return set(re.findall(r"^\s+(?:-\w,)?(--[a-z][a-z-]*)", completed.stdout, re.M)) - {"--help"}


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cmake = shutil.which("cmake")
        if cls.cmake is None:
            raise unittest.SkipTest("cmake is not on the PATH")
        cls.tmp = Path(subprocess.check_output(["mktemp", "-d"], text=True).strip())
        cls.destdir = cls.tmp / "dest"
        completed = subprocess.run(
            [cls.cmake, "--install", str(BINARY.parent), "--prefix", "/usr"],
            capture_output=True, text=True, timeout=LIMIT,
            env={**os.environ, "DESTDIR": str(cls.destdir)})
        cls.install_output = completed
        cls.root = cls.destdir

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def installed(self, relative):
        return self.root / relative

    def test_installs_the_binary_the_manual_and_the_completions(self):
        self.assertEqual(self.install_output.returncode, 0, self.install_output.stderr)
        found = {str(path.relative_to(self.root)) for path in self.root.rglob("*") if path.is_file()}
        self.assertEqual(found, INSTALLED)
        self.assertTrue(os.access(self.installed("usr/bin/stripe-comptentra"), os.X_OK))

    def test_the_installed_binary_runs(self):
        binary = self.installed("usr/bin/stripe-comptentra")
        version = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                                 timeout=LIMIT, env=clean_environment())
        self.assertEqual((version.returncode, version.stdout.strip()), (0, subprocess.check_output(
            [str(BINARY), "--version"], text=True).strip()))
        entry = subprocess.run([str(binary), "entry", str(DATA / "entry" / "event_succeeded_year_end.json")],
                               capture_output=True, text=True, timeout=LIMIT, env=clean_environment())
        self.assertEqual(entry.returncode, 0, entry.stderr)
        self.assertIn('"journal":"VTE"', entry.stdout)

    def test_the_installed_manual_is_clean(self):
        if shutil.which("mandoc") is None:
            self.skipTest("mandoc is not installed")
        lint = subprocess.run(["mandoc", "-Tlint", "-Wwarning",
                               str(self.installed("usr/share/man/man1/stripe-comptentra.1"))],
                              capture_output=True, text=True, timeout=LIMIT)
        self.assertEqual((lint.returncode, lint.stdout), (0, ""), lint.stdout + lint.stderr)

    def bash_complete(self, *words):
        """What the installed bash completion offers after `stripe-comptentra WORDS...`."""
        script = self.installed("usr/share/bash-completion/completions/stripe-comptentra")
        line = " ".join(f"'{word}'" for word in ("stripe-comptentra", *words))
        program = (f"set -u; source '{script}'; COMP_WORDS=({line}); COMP_CWORD={len(words)}; "
                   f"_stripe_comptentra; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
        completed = subprocess.run(["bash", "--norc", "--noprofile", "-c", program],
                                   capture_output=True, text=True, timeout=LIMIT, cwd=self.tmp)
        self.assertEqual(completed.stderr, "")
        return set(completed.stdout.split())

    def test_bash_completes_commands_options_and_values(self):
        self.assertEqual(self.bash_complete(""), set(COMMANDS))
        self.assertEqual(self.bash_complete("re"), {"reconcile"})
        self.assertEqual(self.bash_complete("reconcile", "--format", ""), {"table", "json", "csv"})
        self.assertEqual(self.bash_complete("config", ""), {"init"})
        self.assertIn("--json", self.bash_complete("--"))
        (self.tmp / "captures").mkdir(exist_ok=True)
        self.assertEqual(self.bash_complete("verify", "cap"), {"captures"})

    def test_bash_offers_exactly_the_options_of_each_command(self):
        for command in COMMANDS:
            with self.subTest(command=command):
                offered = {word for word in self.bash_complete(command, "--") if word != "--help"}
                self.assertEqual(offered, long_options(BINARY, command))

    def test_zsh_loads_the_completion_and_knows_every_option(self):
        zsh = shutil.which("zsh")
        if zsh is None:
            self.skipTest("zsh is not installed (scripts/bootstrap installs it)")
        directory = self.installed("usr/share/zsh/vendor-completions")
        program = (f"fpath=('{directory}' $fpath); autoload -Uz compinit; "
                   f"compinit -u -d '{self.tmp}/zcompdump'; print -r -- $_comps[stripe-comptentra]")
        completed = subprocess.run([zsh, "-f", "-c", program], capture_output=True, text=True,
                                   timeout=LIMIT, env={"HOME": str(self.tmp), "PATH": os.environ["PATH"]})
        self.assertEqual((completed.returncode, completed.stderr), (0, ""))
        self.assertEqual(completed.stdout.strip(), "_stripe-comptentra")
        text = (directory / "_stripe-comptentra").read_text()
        for command in COMMANDS:
            self.assertIn(f"{command})", text)
            for option in long_options(BINARY, command):
                self.assertIn(option + "[", text, f"{command} {option}")


if __name__ == "__main__":
    unittest.main()
