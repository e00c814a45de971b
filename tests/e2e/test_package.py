"""End-to-end test of the Debian package: CPack builds it from this build directory (as
scripts/package does from its own), with the installed files, the runtime dependencies
found by dpkg-shlibdeps plus tzdata and ca-certificates, and apt accepts to install it."""

import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from harness import BINARY, clean_environment

LIMIT = 300
FILES = {
    "./usr/bin/stripe-comptentra",
    "./usr/share/man/man1/stripe-comptentra.1",
    "./usr/share/bash-completion/completions/stripe-comptentra",
    "./usr/share/zsh/vendor-completions/_stripe-comptentra",
}


class DebianPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        missing = [tool for tool in ("cpack", "dpkg-deb", "dpkg-shlibdeps", "apt-get")
                   if shutil.which(tool) is None]
        if missing:
            raise unittest.SkipTest(f"not on this machine: {', '.join(missing)}")
        cls.tmp = Path(tempfile.mkdtemp(prefix="sc-package-"))
        built = subprocess.run(
            ["cpack", "-G", "DEB", "--config", str(BINARY.parent / "CPackConfig.cmake"),
             "-B", str(cls.tmp)], capture_output=True, text=True, timeout=LIMIT)
        cls.build_output = built.stdout + built.stderr
        cls.packages = sorted(cls.tmp.glob("stripe-comptentra_*.deb"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.assertEqual(len(self.packages), 1, self.build_output)
        self.package = self.packages[0]

    def field(self, name):
        return subprocess.check_output(["dpkg-deb", "-f", str(self.package), name], text=True,
                                       timeout=LIMIT).strip()

    def test_names_the_package_and_its_runtime_dependencies(self):
        version = subprocess.check_output([str(BINARY), "--version"], text=True).strip()
        self.assertEqual(self.field("Package"), "stripe-comptentra")
        self.assertEqual(self.field("Version"), version)
        self.assertRegex(self.package.name, rf"^stripe-comptentra_{re.escape(version)}_\w+\.deb$")
        depends = {re.sub(r"\s*\(.*\)", "", item).strip()
                   for item in self.field("Depends").split(",")}
        self.assertLessEqual({"tzdata", "ca-certificates", "libc6", "libstdc++6", "libcurl4",
                              "libssl3", "libmicrohttpd12"}, depends)

    def test_holds_exactly_the_installed_files(self):
        listing = subprocess.check_output(["dpkg-deb", "-c", str(self.package)], text=True)
        files = {line.split()[-1] for line in listing.splitlines() if not line.startswith("d")}
        self.assertEqual(files, FILES)

    def test_apt_would_install_it_and_its_binary_runs(self):
        simulated = subprocess.run(["apt-get", "install", "--simulate", "--no-install-recommends",
                                    str(self.package)], capture_output=True, text=True,
                                   timeout=LIMIT)
        self.assertEqual(simulated.returncode, 0, simulated.stdout + simulated.stderr)
        self.assertIn("Inst stripe-comptentra", simulated.stdout)
        root = self.tmp / "root"
        subprocess.run(["dpkg-deb", "-x", str(self.package), str(root)], check=True, timeout=LIMIT)
        version = subprocess.run([str(root / "usr/bin/stripe-comptentra"), "--version"],
                                 capture_output=True, text=True, timeout=LIMIT,
                                 env=clean_environment())
        self.assertEqual(version.returncode, 0, version.stderr)


if __name__ == "__main__":
    unittest.main()
