"""The manual page is part of the interface: it must lint cleanly, document every command
and long option that --help shows, and list exactly the exit statuses of the contract.

Environment: SC_BINARY (the built binary) and SC_SOURCE_DIR (the project root).
"""

import os
import re
import shutil
import subprocess
import unittest
from pathlib import Path

TIMEOUT_SECONDS = 30
# The statuses of the contract, and 130 (128 + SIGINT, the shell's own) for an interrupted run.
CONTRACT_EXIT_STATUSES = {0, 1, 2, 65, 66, 69, 70, 75, 77, 78, 130}

# A long option as help prints it: `--json`, `--webhook-secret`, `-h,--help`.
LONG_OPTION = re.compile(r"(?<![A-Za-z0-9-])--[A-Za-z0-9][A-Za-z0-9-]*")


def source_dir() -> Path:
    value = os.environ.get("SC_SOURCE_DIR")
    return Path(value) if value else Path(__file__).resolve().parents[2]


def binary() -> str:
    value = os.environ.get("SC_BINARY")
    if not value:
        raise unittest.SkipTest("SC_BINARY is not set: run this test through ctest")
    return value


def man_page_path() -> Path:
    return source_dir() / "man" / "stripe-comptentra.1"


def man_page_text() -> str:
    """The roff source with `\\-` written as a plain hyphen, so options read as in --help."""
    return man_page_path().read_text(encoding="utf-8").replace("\\-", "-")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(args), capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
    )


def help_text(*command: str) -> str:
    result = run(binary(), *command, "--help")
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command) or 'top-level'} --help exited with {result.returncode}: "
            f"{result.stderr}"
        )
    return result.stdout


def subcommands(top_help: str) -> list:
    """The names listed under `Subcommands:` in the top-level help."""
    names = []
    in_section = False
    for line in top_help.splitlines():
        if line.strip() == "Subcommands:":
            in_section = True
            continue
        if in_section:
            if not line.strip() or not line.startswith(" "):
                break
            names.append(line.split()[0])
    return names


def mentions(text: str, word: str) -> bool:
    """True when `word` appears in `text` as a whole word (`--time` is not `--timezone`)."""
    pattern = r"(?<![A-Za-z0-9_-])" + re.escape(word) + r"(?![A-Za-z0-9_-])"
    return re.search(pattern, text) is not None


def section(text: str, title: str) -> str:
    """The roff source of one `.SH` section, up to the next one."""
    lines = text.splitlines()
    body = []
    inside = False
    for line in lines:
        if line.startswith(".SH"):
            heading = line[3:].strip().strip('"')
            if inside:
                break
            inside = heading == title
            continue
        if inside:
            body.append(line)
    return "\n".join(body)


def strip_roff(line: str) -> str:
    """A tag line without its font macro and font escapes: `.B 65` -> `65`."""
    line = re.sub(r"^\.(B|I|BR|RB|BI|IB|IR|RI)\s+", "", line)
    line = re.sub(r"\\f[BIRP]|\\f\[[A-Z]*\]|\\&", "", line)
    return line.strip().strip('"')


class ManPageLintTest(unittest.TestCase):
    def test_mandoc_lint_is_clean(self):
        if shutil.which("mandoc") is None:
            self.skipTest("mandoc is not installed: scripts/bootstrap installs it")
        result = run("mandoc", "-T", "lint", "-W", "warning", str(man_page_path()))
        self.assertEqual("", result.stdout + result.stderr, "mandoc -T lint found problems")
        self.assertEqual(0, result.returncode)

    def test_groff_has_no_warnings(self):
        if shutil.which("groff") is None:
            self.skipTest("groff is not installed")
        result = run("groff", "-t", "-man", "-ww", "-z", str(man_page_path()))
        self.assertEqual("", result.stdout + result.stderr, "groff reported warnings")
        self.assertEqual(0, result.returncode)


class ManPageMatchesHelpTest(unittest.TestCase):
    def test_every_command_and_long_option_is_documented(self):
        page = man_page_text()
        top = help_text()
        commands = subcommands(top)
        self.assertTrue(commands, "no subcommands found under 'Subcommands:' in --help")
        options = set(LONG_OPTION.findall(top))
        for command in commands:
            options.update(LONG_OPTION.findall(help_text(command)))
        self.assertIn("--help", options)

        for command in commands:
            with self.subTest(command=command):
                self.assertTrue(
                    re.search(r"^\.SS\s+\"?" + re.escape(command) + r"\"?\s*$", page, re.M),
                    f"the man page has no '.SS {command}' subsection",
                )
        missing = sorted(option for option in options if not mentions(page, option))
        self.assertEqual([], missing, "long options shown by --help but absent from the man page")


class ManPageExitStatusTest(unittest.TestCase):
    def test_exit_statuses_are_those_of_the_contract(self):
        exit_section = section(man_page_text(), "EXIT STATUS")
        self.assertTrue(exit_section, "the man page has no EXIT STATUS section")
        lines = exit_section.splitlines()
        listed = []
        for index, line in enumerate(lines):
            if line.strip() == ".TP" and index + 1 < len(lines):
                tag = strip_roff(lines[index + 1])
                if tag.isdigit():
                    listed.append(int(tag))
        self.assertTrue(listed, "no exit status is listed as a .TP item in EXIT STATUS")
        self.assertEqual(len(listed), len(set(listed)), f"an exit status is listed twice: {listed}")
        unknown = sorted(set(listed) - CONTRACT_EXIT_STATUSES)
        self.assertEqual([], unknown, "exit statuses outside the contract")
        absent = sorted(CONTRACT_EXIT_STATUSES - set(listed))
        self.assertEqual([], absent, "exit statuses of the contract missing from the page")


if __name__ == "__main__":
    unittest.main()
