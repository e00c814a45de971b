"""End-to-end tests of `stripe-comptentra check` against a fake Stripe API (GET /v1/balance)
and scripts/comptentra-sandbox, both on free loopback ports (tests/e2e/sandbox.py).

check prints one line per setting (name, value with secrets redacted, source), then one
result per API, and exits with the highest status: 0, 77 for a refused key, 78 for a missing
key or a refused URL, 75 for a server that cannot be reached.
"""

import json
import time
import unittest

from harness import BinaryTest, TempDir, lines, run
from sandbox import NO_PROXY, FakeStripe, Listener, Sandbox, closed_port

STRIPE_KEY = "sk_test_e2eCheckStripeKey0042"
WRONG_STRIPE_KEY = "sk_test_e2eNotTheRightKey9999"
# In the order check prints them: the fee settings (entries of the fees journal) come after
# the accounts of a sale, ledger.book_fees after the VAT rate.
SETTINGS = ("config file", "stripe.webhook_secret", "stripe.api_key", "stripe.api_base",
            "comptentra.api_key", "comptentra.url", "ledger.journal", "ledger.customer_account",
            "ledger.sales_account", "ledger.vat_account", "ledger.fees_journal",
            "ledger.fees_account", "ledger.stripe_account", "ledger.vat_rate", "ledger.book_fees",
            "ledger.timezone")


def setting_lines(stdout):
    """{setting name: its line} of a text output of check."""
    found = {}
    for line in lines(stdout):
        for name in SETTINGS:
            if line.startswith(name + " "):
                found[name] = line
    return found


class CheckTest(BinaryTest):
    def setUp(self):
        self.tmp = TempDir(self)
        self.stripe = FakeStripe(self, STRIPE_KEY)
        self.sandbox = Sandbox(self)

    def check(self, *args, env=None, timeout=60):
        status, stdout, stderr = run([*args], env={**NO_PROXY, **(env or {})}, timeout=timeout)
        self.assert_no_crash(status, stdout, stderr)
        return status, stdout, stderr

    def assert_setting(self, settings, name, value, source):
        line = settings.get(name)
        self.assertIsNotNone(line, f"no line for {name}")
        self.assertIn(f" {value} ", line, line)
        self.assertTrue(line.rstrip().endswith(f" {source}"), f"{name}: {line!r}, not {source}")

    def results(self, stdout):
        """{api: its result line} of a text output."""
        return {line.split(":", 1)[0]: line for line in lines(stdout)
                if line.startswith(("stripe:", "comptentra:"))}


class Reachable(CheckTest):
    def test_flag_environment_config_and_default_sources(self):
        config = self.tmp.write("config.toml", f'[stripe]\napi_key = "{STRIPE_KEY}"\n')
        status, stdout, stderr = self.check("--config", config, "check", "--stripe-url",
                                            self.stripe.url, env=self.sandbox.env())
        self.assertEqual(status, 0, stdout + stderr)
        settings = setting_lines(stdout)
        self.assertEqual(set(settings), set(SETTINGS), stdout)
        self.assert_setting(settings, "config file", config, "flag --config")
        self.assert_setting(settings, "stripe.api_key", "sk_test_…0042", f"config file {config}")
        self.assert_setting(settings, "stripe.api_base", self.stripe.url, "flag --stripe-url")
        self.assert_setting(settings, "comptentra.url", self.sandbox.url,
                            "environment COMPTENTRA_URL")
        self.assertTrue(settings["comptentra.api_key"].endswith(" environment COMPTENTRA_API_KEY"))
        self.assertIn("…", settings["comptentra.api_key"])
        self.assert_setting(settings, "stripe.webhook_secret", "(not set)", "default")
        self.assert_setting(settings, "ledger.journal", "VTE", "default")
        self.assert_setting(settings, "ledger.vat_rate", "20", "default")
        self.assert_setting(settings, "ledger.timezone", "Europe/Paris", "default")
        self.assert_setting(settings, "ledger.book_fees", "false", "default")
        self.assert_setting(settings, "ledger.fees_journal", "BQ", "default")
        self.assert_setting(settings, "ledger.fees_account", "627800", "default")
        self.assert_setting(settings, "ledger.stripe_account", "512700", "default")
        results = self.results(stdout)
        self.assertTrue(results["stripe"].startswith(f"stripe: ok {self.stripe.url}"), stdout)
        self.assertTrue(results["comptentra"].startswith(f"comptentra: ok {self.sandbox.url}"),
                        stdout)
        self.assertEqual([path.split("?")[0] for path, _ in self.stripe.requests], ["/v1/balance"])
        self.assertEqual(self.stripe.requests[0][1].get("Authorization"), f"Bearer {STRIPE_KEY}")
        stats = self.sandbox.stats()
        self.assertEqual((stats["requests"], stats["posts"]), (1, 0))

    def test_environment_sources_and_the_default_config_file(self):
        home = self.tmp.path / "xdg"
        config = self.tmp.write("xdg/stripe-comptentra/config.toml",
                                '[ledger]\nvat_rate = "10"\njournal = "VT"\nbook_fees = true\n'
                                'fees_journal = "BQS"\nfees_account = "627000"\n'
                                'stripe_account = "512710"\n')
        status, stdout, stderr = self.check(
            "check", "--comptentra-url", self.sandbox.url, "--comptentra-key",
            self.sandbox.api_key,
            env={"XDG_CONFIG_HOME": str(home), "STRIPE_API_BASE": self.stripe.url,
                 "STRIPE_API_KEY": STRIPE_KEY, "STRIPE_WEBHOOK_SECRET": "whsec_e2eCheckSecret77"})
        self.assertEqual(status, 0, stdout + stderr)
        settings = setting_lines(stdout)
        self.assert_setting(settings, "config file", config, "default")
        self.assert_setting(settings, "ledger.vat_rate", "10", f"config file {config}")
        self.assert_setting(settings, "ledger.journal", "VT", f"config file {config}")
        self.assert_setting(settings, "ledger.book_fees", "true", f"config file {config}")
        self.assert_setting(settings, "ledger.fees_journal", "BQS", f"config file {config}")
        self.assert_setting(settings, "ledger.fees_account", "627000", f"config file {config}")
        self.assert_setting(settings, "ledger.stripe_account", "512710", f"config file {config}")
        self.assert_setting(settings, "stripe.api_base", self.stripe.url,
                            "environment STRIPE_API_BASE")
        self.assert_setting(settings, "stripe.api_key", "sk_test_…0042",
                            "environment STRIPE_API_KEY")
        self.assert_setting(settings, "stripe.webhook_secret", "whsec_…et77",
                            "environment STRIPE_WEBHOOK_SECRET")
        self.assert_setting(settings, "comptentra.url", self.sandbox.url, "flag --comptentra-url")
        self.assertTrue(settings["comptentra.api_key"].endswith(" flag --comptentra-key"))
        self.assertNotIn("whsec_e2eCheckSecret77", stdout + stderr)
        results = self.results(stdout)
        self.assertIn(" ok ", results["stripe"] + " ")
        self.assertIn(" ok ", results["comptentra"] + " ")

    def test_flag_beats_environment_and_config(self):
        config = self.tmp.write("config.toml",
                                '[stripe]\napi_base = "http://127.0.0.1:1"\n'
                                f'api_key = "{WRONG_STRIPE_KEY}"\n')
        status, stdout, stderr = self.check(
            "check", "--stripe-url", self.stripe.url, "--stripe-key", STRIPE_KEY,
            env={**self.sandbox.env(), "STRIPE_COMPTENTRA_CONFIG": config,
                 "STRIPE_API_BASE": "http://127.0.0.1:2", "STRIPE_API_KEY": WRONG_STRIPE_KEY})
        self.assertEqual(status, 0, stdout + stderr)
        settings = setting_lines(stdout)
        self.assert_setting(settings, "config file", config, "environment STRIPE_COMPTENTRA_CONFIG")
        self.assert_setting(settings, "stripe.api_base", self.stripe.url, "flag --stripe-url")
        self.assert_setting(settings, "stripe.api_key", "sk_test_…0042", "flag --stripe-key")


class Failures(CheckTest):
    def stripe_flags(self, key=STRIPE_KEY):
        return ["--stripe-url", self.stripe.url, "--stripe-key", key]

    def test_wrong_comptentra_key_is_77(self):
        status, stdout, stderr = self.check(
            "check", *self.stripe_flags(), env=self.sandbox.env(COMPTENTRA_API_KEY="ct_bad_key"))
        self.assertEqual(status, 77, stdout + stderr)
        results = self.results(stdout)
        self.assertTrue(results["stripe"].startswith("stripe: ok"), stdout)
        self.assertTrue(results["comptentra"].startswith("comptentra: failed"), stdout)
        self.assertIn("401", results["comptentra"])

    def test_wrong_stripe_key_is_77(self):
        status, stdout, stderr = self.check("check", *self.stripe_flags(WRONG_STRIPE_KEY),
                                            env=self.sandbox.env())
        self.assertEqual(status, 77, stdout + stderr)
        results = self.results(stdout)
        self.assertTrue(results["stripe"].startswith("stripe: failed"), stdout)
        self.assertIn("401", results["stripe"])
        self.assertTrue(results["comptentra"].startswith("comptentra: ok"), stdout)
        self.assertEqual(len(self.stripe.requests), 1)

    def test_missing_stripe_key_is_78_and_comptentra_is_still_checked(self):
        status, stdout, stderr = self.check("check", "--stripe-url", self.stripe.url,
                                            env=self.sandbox.env())
        self.assertEqual(status, 78, stdout + stderr)
        results = self.results(stdout)
        self.assertTrue(results["stripe"].startswith("stripe: failed"), stdout)
        self.assertIn("key", results["stripe"])
        self.assertTrue(results["comptentra"].startswith("comptentra: ok"), stdout)
        self.assertEqual(self.stripe.requests, [], "a request without a key was sent")

    def test_missing_comptentra_key_is_78(self):
        status, stdout, stderr = self.check("check", *self.stripe_flags(),
                                            env={"COMPTENTRA_URL": self.sandbox.url})
        self.assertEqual(status, 78, stdout + stderr)
        self.assertTrue(self.results(stdout)["comptentra"].startswith("comptentra: failed"))
        self.assertEqual(self.sandbox.stats()["requests"], 0)

    def test_unreachable_comptentra_is_75(self):
        port = closed_port()
        start = time.monotonic()
        status, stdout, stderr = self.check(
            "check", *self.stripe_flags(),
            env={"COMPTENTRA_URL": f"http://127.0.0.1:{port}", "COMPTENTRA_API_KEY": "ct_x"},
            timeout=150)
        self.assertLess(time.monotonic() - start, 120)
        self.assertEqual(status, 75, stdout + stderr)
        results = self.results(stdout)
        self.assertTrue(results["comptentra"].startswith("comptentra: failed"), stdout)
        self.assertIn(f"127.0.0.1:{port}", results["comptentra"])
        self.assertTrue(results["stripe"].startswith("stripe: ok"), stdout)

    def test_the_highest_status_wins(self):
        status, stdout, stderr = self.check(
            "check", *self.stripe_flags(WRONG_STRIPE_KEY),
            env={"COMPTENTRA_URL": f"http://127.0.0.1:{closed_port()}",
                 "COMPTENTRA_API_KEY": "ct_x"})
        self.assertEqual(status, 77, stdout + stderr)

    def test_http_url_to_a_remote_host_is_78_before_any_request(self):
        proxy = Listener(self)  # any request to a host outside NO_PROXY goes through it
        proxies = {name: proxy.url for name in ("http_proxy", "HTTP_PROXY", "https_proxy",
                                                 "HTTPS_PROXY", "ALL_PROXY", "all_proxy")}
        cases = {
            "comptentra": (["check", *self.stripe_flags()],
                           {"COMPTENTRA_URL": "http://example.com/api/v1",
                            "COMPTENTRA_API_KEY": "ct_x"}),
            "stripe": (["check", "--stripe-url", "http://example.com", "--stripe-key",
                        STRIPE_KEY], self.sandbox.env()),
        }
        for api, (args, env) in cases.items():
            with self.subTest(api=api):
                status, stdout, stderr = run(
                    args, env={**env, **proxies, **NO_PROXY}, timeout=30)
                self.assert_no_crash(status, stdout, stderr)
                self.assertEqual(status, 78, stdout + stderr)
                result = self.results(stdout)[api]
                self.assertTrue(result.startswith(f"{api}: failed"), stdout)
                self.assertIn("http://", result)
                self.assertEqual(proxy.accepted, 0, "a request went to a remote http:// URL")


class JsonOutput(CheckTest):
    def test_settings_then_results_then_summary(self):
        status, stdout, stderr = self.check("--json", "check", "--stripe-url", self.stripe.url,
                                            "--stripe-key", STRIPE_KEY, env=self.sandbox.env())
        self.assertEqual(status, 0, stdout + stderr)
        objects = [json.loads(line) for line in lines(stdout)]
        settings = objects[:len(SETTINGS)]
        self.assertEqual([item["setting"] for item in settings], list(SETTINGS))
        for item in settings:
            self.assertEqual(list(item), ["setting", "value", "source"])
        by_name = {item["setting"]: item for item in settings}
        self.assertEqual(by_name["stripe.api_base"],
                         {"setting": "stripe.api_base", "value": self.stripe.url,
                          "source": "flag --stripe-url"})
        self.assertEqual(by_name["stripe.api_key"]["value"], "sk_test_…0042")
        self.assertEqual(by_name["comptentra.url"]["source"], "environment COMPTENTRA_URL")
        self.assertEqual(by_name["ledger.journal"],
                         {"setting": "ledger.journal", "value": "VTE", "source": "default"})
        self.assertEqual(by_name["ledger.book_fees"],
                         {"setting": "ledger.book_fees", "value": "false", "source": "default"})
        self.assertEqual(by_name["ledger.fees_journal"],
                         {"setting": "ledger.fees_journal", "value": "BQ", "source": "default"})
        self.assertEqual(by_name["ledger.fees_account"],
                         {"setting": "ledger.fees_account", "value": "627800",
                          "source": "default"})
        self.assertEqual(by_name["ledger.stripe_account"],
                         {"setting": "ledger.stripe_account", "value": "512700",
                          "source": "default"})
        rest = objects[len(SETTINGS):]
        self.assertEqual(rest, [
            {"input": "stripe", "id": self.stripe.url, "status": "ok"},
            {"input": "comptentra", "id": self.sandbox.url, "status": "ok"},
            {"summary": {"ok": 2}, "exit_status": 0},
        ])
        self.assertNotIn(STRIPE_KEY, stdout + stderr)

    def test_failures_in_json(self):
        status, stdout, stderr = self.check(
            "--json", "check", "--stripe-url", self.stripe.url,
            env=self.sandbox.env(COMPTENTRA_API_KEY="ct_bad_key"))
        self.assertEqual(status, 78, stdout + stderr)
        objects = [json.loads(line) for line in lines(stdout)]
        stripe, comptentra, summary = objects[-3:]
        self.assertEqual((stripe["input"], stripe["status"]), ("stripe", "failed"))
        self.assertTrue(stripe.get("reason"))
        self.assertEqual((comptentra["input"], comptentra["status"]), ("comptentra", "failed"))
        self.assertIn("401", comptentra["reason"])
        self.assertEqual(summary, {"summary": {"failed": 2}, "exit_status": 78})


if __name__ == "__main__":
    unittest.main()
