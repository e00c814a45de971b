"""End-to-end tests of what every user meets first: a mistyped command gets the nearest
command, every command's --help ends with two or three examples, and usage errors exit 2
with a hint."""

import re
import unittest

from harness import ERROR_PREFIX, HINT_PREFIX, BinaryTest, lines, run

COMMANDS = ["verify", "sign", "entry", "post", "backfill", "reconcile", "check", "listen", "config"]


class Usage(BinaryTest):
    def test_a_mistyped_command_gets_the_nearest_one(self):
        for typed, meant in (("recnocile", "reconcile"), ("vrify", "verify"), ("pots", "post"),
                             ("backfil", "backfill"), ("confg", "config")):
            for prefix in ([], ["--json"]):
                with self.subTest(typed=typed, prefix=prefix):
                    status, stdout, stderr = run([*prefix, typed, "x.json"])
                    self.assertEqual((status, stdout), (2, ""))
                    self.assertEqual(lines(stderr)[0], f"{ERROR_PREFIX}unknown command '{typed}'; "
                                                       f"did you mean '{meant}'?")
                    self.assertTrue(lines(stderr)[1].startswith(HINT_PREFIX), stderr)

    def test_a_word_far_from_every_command_gets_no_guess(self):
        status, stdout, stderr = run(["bookkeeping"])
        self.assertEqual(status, 2)
        self.assertEqual(lines(stderr)[0], f"{ERROR_PREFIX}unknown command 'bookkeeping'")

    def test_every_help_ends_with_two_or_three_examples(self):
        for command in COMMANDS:
            with self.subTest(command=command):
                status, stdout, stderr = run([command, "--help"])
                self.assertEqual(status, 0, stderr)
                examples = stdout.split("Examples:\n")[-1]
                self.assertIn("Examples:\n", stdout)
                found = [line for line in examples.splitlines() if line.strip()]
                self.assertIn(len(found), (2, 3), found)
                for line in found:
                    self.assertTrue(re.search(rf"stripe-comptentra (--\S+ )*{command}\b", line),
                                    line)


if __name__ == "__main__":
    unittest.main()
