"""End-to-end tests that no secret leaks: every command, plain, with -v, with --json and with
both, is given distinctive random secrets (two webhook secrets while one is rolled, a Stripe
key, a Comptentra key) through flags, the environment or a config file (--config,
STRIPE_COMPTENTRA_CONFIG or the default place), with keys the sandboxes accept, keys they
refuse (401), servers that cannot be reached (a closed port), bad signatures and bad config
values next to the secrets. Neither a secret nor 8 characters in a row of its random part
may appear in stdout, stderr, the files the binary writes (lock files) or the books.

A secret may only be shown redacted, as src/core/redact.cpp does it: its well-known prefix
(whsec_, sk_test_, ...), an ellipsis and its last four characters when at least eight others
are hidden (`sk_test_…1a2b`, `…9f3e` for a key without a known prefix); `check` shows it so.
Also: a non-loopback http:// Comptentra URL is refused (exit 78) before any request.
"""

import concurrent.futures
import itertools
import json
import secrets
import sys
import time
import unittest
from pathlib import Path

from backfill_support import PERIOD, _ClassOwner
from crash_support import EchoingServer, Secret
from harness import BinaryTest, TempDir, lines, run, sign
from post_support import T_SIGNED, capture, event
from sandbox import NO_PROXY, Listener, Sandbox, closed_port
from stripe_sandbox import StripeSandbox

VARIANTS = ((), ("-v",), ("--json",), ("-v", "--json"))
SOURCES = ("flags", "env", "config")
WORKERS = 16  # runs at the same time (most of them wait on a server or a retry)
RUN_TIMEOUT = 60
INSECURE = "plain http:// is accepted only for loopback hosts"


class SecretsTest(BinaryTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        owner = _ClassOwner(cls)
        cls.webhook_old = Secret("webhook secret (old)", "whsec_")
        cls.webhook_new = Secret("webhook secret", "whsec_")
        cls.stripe_good = Secret("Stripe key", "sk_test_")
        cls.stripe_bad = Secret("refused Stripe key", "sk_test_")
        cls.books_good = Secret("Comptentra key", "ctk_")
        cls.books_bad = Secret("refused Comptentra key", "ctk_")
        cls.all_secrets = [cls.webhook_old, cls.webhook_new, cls.stripe_good, cls.stripe_bad,
                           cls.books_good, cls.books_bad]
        cls.stripe = StripeSandbox(owner, "--generate", 30, "--seed", 17, "--since", PERIOD[1],
                                   "--until", PERIOD[3], "--api-key", cls.stripe_good.value,
                                   api_key=cls.stripe_good.value)
        cls.books = Sandbox(owner, api_key=cls.books_good.value)
        cls.closed = f"http://127.0.0.1:{closed_port()}"
        cls.tmp = TempDir(owner)
        cls.work = cls.tmp.path
        cls.inputs = set()
        cls.numbers = itertools.count(1)
        cls.write_inputs()

    @classmethod
    def write_input(cls, name, content):
        path = cls.tmp.write(name, content)
        cls.inputs.add(Path(path))
        return path

    @classmethod
    def write_inputs(cls):
        bodies = [json.dumps(event(index, "ch_secretpost")).encode() for index in range(3)]
        cls.events = cls.write_input("events.jsonl", b"".join(body + b"\n" for body in bodies))
        stranger = "whsec_" + secrets.token_hex(16)  # signs the bad capture; never configured
        for name, body, secret in (("new", bodies[0], cls.webhook_new.value),
                                   ("old", bodies[1], cls.webhook_old.value),
                                   ("bad", bodies[2], stranger)):
            cls.write_input(f"captures/{name}.http", capture(body, sign(body, T_SIGNED, secret)))
        cls.captures = str(cls.work / "captures")
        cls.raw = cls.write_input("raw.json", bodies[2])
        cls.bad_header = sign(bodies[2], T_SIGNED, stranger)
        foreign = next(charge for charge in cls.stripe.charges() if charge["currency"] != "eur"
                       and isinstance(charge["balance_transaction"], str))
        cls.foreign = cls.write_input("foreign.json", json.dumps(foreign))
        for quality in ("good", "refused"):
            stripe_key, books_key = cls.keys(quality)
            cls.write_input(f"{quality}.toml", config_text(
                [cls.webhook_old.value, cls.webhook_new.value], stripe_key, books_key))
            cls.write_input(f"xdg-{quality}/stripe-comptentra/config.toml", config_text(
                [cls.webhook_old.value, cls.webhook_new.value], stripe_key, books_key))
        (cls.work / "runtime").mkdir(mode=0o700)
        (cls.work / "locks").mkdir()

    @classmethod
    def keys(cls, quality):
        if quality == "refused":
            return cls.stripe_bad.value, cls.books_bad.value
        return cls.stripe_good.value, cls.books_good.value

    def command_line(self, form, source, quality, variant, number):
        """(arguments, environment) of one run of `form` (command, its arguments, the
        secret flags it takes) with the secrets from `source`."""
        command, args, takes = form
        stripe_key, books_key = self.keys(quality)
        unreachable = quality == "unreachable"
        env = {"STRIPE_API_BASE": self.closed if unreachable else self.stripe.url,
               "COMPTENTRA_URL": self.closed if unreachable else self.books.url,
               "XDG_RUNTIME_DIR": str(self.work / "runtime"),
               "XDG_CONFIG_HOME": str(self.work / "no-config"), **NO_PROXY}
        webhook = [self.webhook_old.value, self.webhook_new.value]
        given = {"webhook": ("STRIPE_WEBHOOK_SECRET", ",".join(webhook),
                             ["--webhook-secret", webhook[0], "--webhook-secret", webhook[1]]),
                 "stripe": ("STRIPE_API_KEY", stripe_key, ["--stripe-key", stripe_key]),
                 "books": ("COMPTENTRA_API_KEY", books_key, ["--comptentra-key", books_key])}
        flags, global_flags = [], list(variant)
        if source in ("flags", "env"):
            for kind, (variable, value, flag) in given.items():
                if source == "flags" and kind in takes:
                    flags += flag
                else:  # a secret the command takes no flag for comes from the environment
                    env[variable] = value
        else:
            name = "good" if quality != "refused" else "refused"
            way = number % 3
            if way == 0:
                global_flags += ["--config", str(self.work / f"{name}.toml")]
            elif way == 1:
                env["STRIPE_COMPTENTRA_CONFIG"] = str(self.work / f"{name}.toml")
            else:
                env["XDG_CONFIG_HOME"] = str(self.work / f"xdg-{name}")
        lock = ["--lock", str(self.work / "locks" / f"{number}.lock")] if "lock" in takes else []
        return [*global_flags, command, *args, *flags, *lock], env

    def run_all(self, cases, workers=WORKERS):
        """Runs the cases, (label, arguments, environment, allowed statuses), WORKERS at a
        time; checks each for a crash, its status and any trace of a secret."""
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [(case, pool.submit(run, case[1], env=case[2], timeout=RUN_TIMEOUT,
                                          cwd=self.work)) for case in cases]
            results = [(case, future.result()) for case, future in futures]
        print(f"\n[secrets] {self.id().rsplit('.', 1)[-1]}: {len(cases)} runs in "
              f"{time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
        for (label, args, _, allowed), (status, stdout, stderr) in results:
            with self.subTest(label, args=" ".join(map(str, args))):
                self.assert_no_crash(status, stdout, stderr)
                self.assertIn(status, allowed, stderr[-2000:])
                self.assert_no_leak({"stdout": stdout, "stderr": stderr})
        self.assert_no_leak_in_files()
        return results

    def assert_no_leak(self, texts):
        for where, text in texts.items():
            for secret in self.all_secrets:
                leak = secret.leak(text)
                self.assertIsNone(leak, f"{secret.name}: {leak} in {where}:\n{text[-2000:]}")

    def assert_no_leak_in_files(self):
        """Every file under the working directory that the binary wrote (not an input of the
        test), and the books, show no secret."""
        written = {}
        for path in sorted(self.work.rglob("*")):
            if path.is_file() and path not in self.inputs:
                written[str(path)] = path.read_bytes().decode("utf-8", "replace")
        written["the books"] = self.books.data_bytes().decode("utf-8", "replace")
        self.assert_no_leak(written)
        return written

    def cases(self, forms, qualities, variants=VARIANTS, sources=SOURCES):
        cases = []
        for label, (form, allowed) in forms.items():
            for quality in qualities:
                for source in sources:
                    for variant in variants:
                        number = next(self.numbers)  # a lock file of its own
                        args, env = self.command_line(form, source, quality, variant, number)
                        cases.append((f"{label} {quality} {source} {' '.join(variant)}", args,
                                      env, allowed[quality]))
        return cases


def config_text(webhook_secrets, stripe_key, books_key, extra=""):
    listed = ", ".join(f'"{secret}"' for secret in webhook_secrets)
    return (f'[stripe]\nwebhook_secret = [{listed}]\napi_key = "{stripe_key}"\n'
            f'[comptentra]\napi_key = "{books_key}"\n{extra}')


def statuses(good, refused=(77,), unreachable=(75,)):
    return {"good": set(good), "refused": set(refused), "unreachable": set(unreachable)}


class EveryCommand(SecretsTest):
    """Every command and variant, with keys that work, that are refused, or that cannot reach
    their server."""

    def offline_forms(self):
        return {
            "verify captures": (("verify", ["--tolerance", "0", self.captures], {"webhook"}),
                                {"good": {1}}),
            "verify bad signature": (("verify", ["--signature", self.bad_header, "--tolerance",
                                                 "0", self.raw], {"webhook"}), {"good": {1}}),
            "sign": (("sign", ["--timestamp", T_SIGNED, self.raw], {"webhook"}), {"good": {0}}),
        }

    def online_forms(self):
        post = {"webhook", "stripe", "books"}
        api = {"stripe", "books"}
        return {
            "entry": (("entry", [self.foreign], {"stripe"}), statuses({0})),
            "entry fec": (("entry", ["--format", "fec", self.foreign], {"stripe"}),
                          statuses({0})),
            "post": (("post", [self.events], post), statuses({0})),
            "post --dry-run": (("post", ["--dry-run", self.events], post), statuses({0})),
            "post --verify": (("post", ["--verify", "--tolerance", "0", self.captures], post),
                              statuses({1})),
            "backfill": (("backfill", list(PERIOD), api), statuses({0})),
            "backfill --dry-run": (("backfill", [*PERIOD, "--dry-run"], api), statuses({0})),
            "backfill fec": (("backfill", [*PERIOD, "--dry-run", "--format", "fec"], api),
                             statuses({0})),
            "reconcile": (("reconcile", list(PERIOD), api | {"lock"}), statuses({0, 1})),
            "reconcile --fix": (("reconcile", [*PERIOD, "--fix"], api | {"lock"}),
                                statuses({0, 1})),
            "check": (("check", [], api), statuses({0})),
        }

    def test_offline_commands(self):
        self.run_all(self.cases(self.offline_forms(), ["good"]))

    def test_accepted_and_refused_keys(self):
        self.run_all(self.cases(self.online_forms(), ["good", "refused"]))
        self.assertGreater(len(self.books.entries()), 0, "nothing was posted")
        locks = list((self.work / "locks").iterdir())
        self.assertGreater(len(locks), 0, "no lock file written")

    def test_unreachable_servers(self):
        # Each run retries for seconds: each form and variant once, the source in turn.
        cases = []
        for number, (label, form) in enumerate(self.online_forms().items()):
            for index, variant in enumerate(VARIANTS):
                source = SOURCES[(number + index) % len(SOURCES)]
                cases += self.cases({label: form}, ["unreachable"], (variant,), (source,))
        self.run_all(cases, workers=2 * WORKERS)

    def test_check_shows_secrets_redacted_only(self):
        for source in SOURCES:
            args, env = self.command_line(("check", [], {"stripe", "books"}), source, "good",
                                          ("--json",), 0)
            status, stdout, stderr = run(args, env=env, cwd=self.work, timeout=RUN_TIMEOUT)
            self.assertEqual(status, 0, stderr)
            shown = {item["setting"]: item["value"] for item in map(json.loads, lines(stdout))
                     if "setting" in item}
            self.assertEqual(shown["stripe.api_key"], self.stripe_good.redacted())
            self.assertEqual(shown["comptentra.api_key"], self.books_good.redacted())
            self.assertEqual(shown["stripe.webhook_secret"],
                             f"{self.webhook_old.redacted()}, {self.webhook_new.redacted()}")
            self.assert_no_leak({"stdout": stdout, "stderr": stderr})


class BadSettingsNextToSecrets(SecretsTest):
    """A wrong value beside the secrets: the error names the value, never a secret."""

    FORMS = {"verify": ("verify", ["--tolerance", "0", "CAPTURES"]),
             "sign": ("sign", ["RAW"]), "entry": ("entry", ["FOREIGN"]),
             "post": ("post", ["EVENTS"]), "post --verify": ("post", ["--verify", "CAPTURES"]),
             "backfill": ("backfill", list(PERIOD)),
             "reconcile --fix": ("reconcile", [*PERIOD, "--fix"]), "check": ("check", [])}

    def files(self, args):
        paths = {"CAPTURES": self.captures, "RAW": self.raw, "FOREIGN": self.foreign,
                 "EVENTS": self.events}
        return [paths.get(arg, arg) for arg in args]

    def test_bad_config_values_next_to_secrets(self):
        webhook = [self.webhook_old.value, self.webhook_new.value]
        stripe_key, books_key = self.stripe_good.value, self.books_good.value
        configs = {
            "bad VAT rate": config_text(webhook, stripe_key, books_key,
                                        '[ledger]\nvat_rate = "abc"\n'),
            "bad time zone": config_text(webhook, stripe_key, books_key,
                                         '[ledger]\ntimezone = "Mars/Olympus"\n'),
            "unterminated secret": f'[stripe]\napi_key = "{stripe_key}\n',
            "secret unquoted": f"[comptentra]\napi_key = {books_key}\n",
            "bad escape in a secret":
                f'[stripe]\napi_key = "{stripe_key[:12]}\\q{stripe_key[12:]}"\n',
            "secret in a list": f'[comptentra]\napi_key = ["{books_key}"]\n',
            "secret under an unknown key": f'[comptentra]\napikey = "{books_key}"\n',
            "secret given twice": f'[stripe]\napi_key = "{stripe_key}"\napi_key = "{stripe_key}"\n',
            "bad webhook list": f'[stripe]\nwebhook_secret = ["{webhook[0]}", 12]\n',
            "secret after junk": f'[stripe]\napi_key = "{stripe_key}" junk\n',
        }
        cases = []
        for index, (name, text) in enumerate(configs.items()):
            path = self.write_input(f"bad/{index}.toml", text)
            for label, (command, args) in self.FORMS.items():
                for variant in (("-v",), ("-v", "--json")):
                    env = {"STRIPE_API_BASE": self.stripe.url, "COMPTENTRA_URL": self.books.url,
                           "XDG_RUNTIME_DIR": str(self.work / "runtime"), **NO_PROXY}
                    flags = list(variant)
                    if len(cases) % 2:
                        flags += ["--config", path]
                    else:
                        env["STRIPE_COMPTENTRA_CONFIG"] = path
                    cases.append((f"{name}: {label}", [*flags, command, *self.files(args)], env,
                                  {78}))
        self.run_all(cases)

    def test_bad_flags_next_to_secret_flags(self):
        keys = ["--stripe-key", self.stripe_good.value, "--comptentra-key", self.books_good.value]
        env = {"STRIPE_API_BASE": self.stripe.url, "COMPTENTRA_URL": self.books.url,
               "STRIPE_WEBHOOK_SECRET": self.webhook_new.value,
               "XDG_RUNTIME_DIR": str(self.work / "runtime"), **NO_PROXY}
        cases = []
        for bad in (["--vat-rate", "abc"], ["--timezone", "Mars/Olympus"],
                    ["--concurrency", "0"], ["--since", "2026-02-30"]):
            for command, args in (("post", [self.events]), ("backfill", list(PERIOD)),
                                  ("reconcile", list(PERIOD))):
                if bad[0] in ("--concurrency", "--since") and command == "post":
                    continue
                for variant in ((), ("-v", "--json")):
                    cases.append((f"{command} {bad[0]}", [*variant, command, *args, *keys, *bad],
                                  env, {2, 78}))
        cases.append(("verify without a payload", ["-v", "verify", "--webhook-secret",
                                                   self.webhook_new.value], env, {2}))
        self.run_all(cases)


class EchoedSecrets(SecretsTest):
    """A server that quotes the key it was sent in its 401 message: the binary relays the
    message, and must not relay the key with it."""

    def test_secrets_quoted_by_the_server_are_not_relayed(self):
        echo = EchoingServer(self)
        env = {"STRIPE_API_BASE": echo.url, "COMPTENTRA_URL": echo.url,
               "STRIPE_API_KEY": self.stripe_good.value,
               "COMPTENTRA_API_KEY": self.books_good.value,
               "XDG_RUNTIME_DIR": str(self.work / "runtime"), **NO_PROXY}
        cases = []
        for number, variant in enumerate(VARIANTS):
            forms = {"post": ["post", self.events], "entry": ["entry", self.foreign],
                     "backfill": ["backfill", *PERIOD], "check": ["check"],
                     "reconcile": ["reconcile", *PERIOD, "--lock",
                                   str(self.work / "locks" / f"echo{number}.lock")]}
            cases += [(f"{label} {' '.join(variant)}", [*variant, *args], env, {77})
                      for label, args in forms.items()]
        self.run_all(cases)


class InsecureUrl(SecretsTest):
    """A Comptentra URL in plain http:// to another host than loopback is refused
    with exit 78 and a message, before any request: every proxy variable points at a
    listener that counts connections, and the sandboxes count their requests."""

    def test_non_loopback_http_url_is_refused_before_any_request(self):
        listener = Listener(self)
        proxies = {name: listener.url for name in ("http_proxy", "HTTP_PROXY", "https_proxy",
                                                   "HTTPS_PROXY", "ALL_PROXY", "all_proxy")}
        base = {"STRIPE_API_BASE": self.stripe.url, "STRIPE_API_KEY": self.stripe_good.value,
                "COMPTENTRA_API_KEY": self.books_good.value,
                "XDG_RUNTIME_DIR": str(self.work / "runtime"), **NO_PROXY, **proxies}
        url_config = self.write_input("insecure.toml", '[comptentra]\nurl = "http://example.com"\n')
        ways = {"flag": (["--comptentra-url", "http://example.com"], {}, []),
                "env": ([], {"COMPTENTRA_URL": "http://example.com/api/v1"}, []),
                "config": ([], {}, ["--config", url_config])}
        commands = {"post": ["post", self.events], "post --dry-run": ["post", "--dry-run",
                                                                      self.events],
                    "backfill": ["backfill", *PERIOD],
                    "backfill --dry-run": ["backfill", *PERIOD, "--dry-run"],
                    "reconcile --fix": ["reconcile", *PERIOD, "--fix", "--lock",
                                        str(self.work / "locks" / "insecure.lock")],
                    "check": ["check"]}
        before_books = self.books.stats()["requests"]
        for way, (flags, env, global_flags) in ways.items():
            for label, args in commands.items():
                with self.subTest(way=way, command=label):
                    before_stripe = self.stripe.stats()["requests"]
                    status, stdout, stderr = run([*global_flags, *args, *flags],
                                                 env={**base, **env}, cwd=self.work,
                                                 timeout=RUN_TIMEOUT)
                    stripe_requests = self.stripe.stats()["requests"] - before_stripe
                    self.assert_no_crash(status, stdout, stderr)
                    self.assertEqual(status, 78, stderr)
                    self.assertIn(INSECURE, stderr)
                    # check names the URL in its report on stdout, the others on stderr.
                    self.assertIn("http://example.com", stdout if label == "check" else stderr)
                    self.assert_no_leak({"stdout": stdout, "stderr": stderr})
                    # check tries each API in turn: only its Stripe check may make a request.
                    self.assertEqual(stripe_requests, 1 if label == "check" else 0,
                                     "Stripe requests before the refusal")
        time.sleep(0.2)
        self.assertEqual(listener.accepted, 0, "a request went out through the proxy")
        self.assertEqual(self.books.stats()["requests"], before_books)


if __name__ == "__main__":
    unittest.main()
