"""End-to-end tests of `stripe-comptentra config`: the effective settings with their sources
(secrets redacted), `config init` (a commented template, mode 0600, never overwritten), and
the warning about a config file holding secrets that other users may read."""

import json
import os
import stat
import unittest
from pathlib import Path

from harness import ERROR_PREFIX, BinaryTest, TempDir, lines, run

API_KEY = "sk_test_e2eConfigStripeKey7788"
BOOKS_KEY = "ct_e2eConfigBooksKey4411"
WARNING = "stripe-comptentra: warning: "


def settings_of(stdout):
    """{setting: (value, source)} from `--json config`."""
    found = {}
    for line in lines(stdout):
        item = json.loads(line)
        found[item["setting"]] = (item["value"], item["source"])
    return found


class Show(BinaryTest):
    def setUp(self):
        self.tmp = TempDir(self)

    def test_each_setting_names_its_source_by_precedence(self):
        config = self.tmp.write("config.toml", '[ledger]\nvat_rate = "10"\njournal = "VT"\n'
                                f'[comptentra]\napi_key = "{BOOKS_KEY}"\n')
        os.chmod(config, 0o600)
        status, stdout, stderr = run(["--json", "config", "--config", config, "--vat-rate", "5.5"],
                                     env={"STRIPE_API_KEY": API_KEY})
        self.assertEqual((status, stderr), (0, ""))
        found = settings_of(stdout)
        self.assertEqual(found["config file"], (str(config), "flag --config"))
        self.assertEqual(found["ledger.vat_rate"], ("5.5", "flag --vat-rate"))
        self.assertEqual(found["ledger.journal"], ("VT", f"config file {config}"))
        self.assertEqual(found["stripe.api_key"][1], "environment STRIPE_API_KEY")
        self.assertEqual(found["comptentra.api_key"][1], f"config file {config}")
        self.assertEqual(found["ledger.timezone"], ("Europe/Paris", "default"))
        self.assertEqual(found["stripe.webhook_secret"], ("(not set)", "default"))
        for secret in (API_KEY, BOOKS_KEY, API_KEY[8:-4], BOOKS_KEY[3:-4]):
            self.assertNotIn(secret, stdout)

    def test_text_output_is_a_table_and_sends_nothing(self):
        status, stdout, stderr = run(["config", "--comptentra-url", "http://127.0.0.1:9"],
                                     env={"COMPTENTRA_API_KEY": BOOKS_KEY})
        self.assertEqual((status, stderr), (0, ""))
        table = {line.split()[0]: line for line in lines(stdout) if not line.startswith("config")}
        self.assertTrue(table["comptentra.url"].endswith("flag --comptentra-url"))
        self.assertIn("environment COMPTENTRA_API_KEY", table["comptentra.api_key"])
        self.assertNotIn(BOOKS_KEY, stdout)

    def test_a_bad_config_file_is_78(self):
        config = self.tmp.write("bad.toml", "[ledger]\nunknown_key = 1\n")
        status, stdout, stderr = run(["config", "--config", config])
        self.assertEqual(status, 78, stderr)
        self.assertIn("unknown key 'ledger.unknown_key'", stderr)


class ExposedSecrets(BinaryTest):
    def setUp(self):
        self.tmp = TempDir(self)

    def run_with(self, content, mode):
        config = self.tmp.write("config.toml", content)
        os.chmod(config, mode)
        return config, run(["config", "--config", config])

    def test_a_secret_readable_by_others_gives_a_warning(self):
        for mode in (0o644, 0o640, 0o604):
            with self.subTest(mode=oct(mode)):
                config, (status, stdout, stderr) = self.run_with(
                    f'[stripe]\napi_key = "{API_KEY}"\n', mode)
                self.assertEqual(status, 0, stderr)
                warnings = [line for line in lines(stderr) if line.startswith(WARNING)]
                self.assertEqual(len(warnings), 1, stderr)
                self.assertIn(f"{config} holds secrets", warnings[0])
                self.assertIn(f"chmod 600 {config}", warnings[0])
                self.assertNotIn(API_KEY, stderr)

    def test_no_warning_when_private_or_without_secrets(self):
        for content, mode in ((f'[comptentra]\napi_key = "{BOOKS_KEY}"\n', 0o600),
                              ('[stripe]\nwebhook_secret = ["whsec_e2eConfig0001"]\n', 0o400),
                              ('[ledger]\nvat_rate = "20"\n', 0o644)):
            with self.subTest(content=content.splitlines()[0], mode=oct(mode)):
                _, (status, stdout, stderr) = self.run_with(content, mode)
                self.assertEqual((status, stderr), (0, ""))

    def test_every_command_that_reads_settings_warns(self):
        config, _ = self.run_with(f'[comptentra]\napi_key = "{BOOKS_KEY}"\n', 0o644)
        status, stdout, stderr = run(["entry", "--config", config, "-"], stdin="{}")
        self.assertIn(f"{WARNING}config file {config} holds secrets", stderr)


class Init(BinaryTest):
    def setUp(self):
        self.tmp = TempDir(self)

    def test_writes_a_private_template_that_loads_and_sets_nothing(self):
        path = self.tmp.path / "new" / "config.toml"
        status, stdout, stderr = run(["config", "init", path])
        self.assertEqual(status, 0, stderr)
        self.assertEqual(stdout, f"{path}\n")
        self.assertEqual(stat.S_IMODE(path.stat().st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(path.parent.stat().st_mode), 0o700)
        text = path.read_text()
        for key in ("webhook_secret", "api_key", "api_base", "url", "journal", "customer_account",
                    "sales_account", "vat_account", "vat_rate", "timezone", "book_fees",
                    "fees_journal", "fees_account", "stripe_account"):
            self.assertIn(f"# {key} = ", text)
        status, stdout, stderr = run(["--json", "config", "--config", path])
        self.assertEqual((status, stderr), (0, ""))
        sources = {source for _, source in settings_of(stdout).values()}
        self.assertEqual(sources, {"default", "flag --config"}, "the template set something")

    def test_uncommented_template_lines_are_valid_settings(self):
        path = self.tmp.path / "config.toml"
        self.assertEqual(run(["config", "init", path])[0], 0)
        uncommented = "\n".join(line[2:] if line.startswith("# ") and " = " in line else line
                                for line in path.read_text().splitlines())
        path.write_text(uncommented.replace("rk_live_...", "rk_live_e2eConfig0001"))
        status, stdout, stderr = run(["--json", "config", "--config", path])
        self.assertEqual(status, 0, stderr)
        self.assertEqual(settings_of(stdout)["ledger.fees_journal"], ("BQ", f"config file {path}"))

    def test_never_overwrites(self):
        path = Path(self.tmp.write("config.toml", "# mine\n"))
        status, stdout, stderr = run(["config", "init", path])
        self.assertEqual((status, stdout), (78, ""))
        self.assertTrue(stderr.startswith(f"{ERROR_PREFIX}cannot create {path}: File exists"), stderr)
        self.assertEqual(path.read_text(), "# mine\n")

    def test_default_path_is_under_xdg_config_home(self):
        home = self.tmp.path / "xdg"
        status, stdout, stderr = run(["config", "init"], env={"XDG_CONFIG_HOME": str(home)})
        self.assertEqual(status, 0, stderr)
        expected = home / "stripe-comptentra" / "config.toml"
        self.assertEqual(stdout, f"{expected}\n")
        status, stdout, stderr = run(["--json", "config"], env={"XDG_CONFIG_HOME": str(home)})
        self.assertEqual(settings_of(stdout)["config file"], (str(expected), "default"))



class PlainOutput(BinaryTest):
    def test_no_colour_or_terminal_codes_in_redirected_output(self):
        for args in (["config"], ["entry", "missing.json"], ["recnocile"], ["config", "--help"]):
            for env in ({}, {"NO_COLOR": "1"}, {"TERM": "xterm-256color"}):
                with self.subTest(args=args, env=env):
                    status, stdout, stderr = run(args, env=env)
                    self.assertNotIn("\x1b", stdout + stderr)


if __name__ == "__main__":
    unittest.main()
