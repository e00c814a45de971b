"""TLS stays verified: an https:// API whose certificate the system does not trust (here a
self-signed one, made for the test with the openssl command) is refused at once, with status 78
and libcurl's reason, and is never retried or sent an entry."""

import http.server
import shutil
import ssl
import subprocess
import threading
import time
import unittest

from harness import DATA, ERROR_PREFIX, BinaryTest, TempDir, run

CHARGE = DATA / "entry" / "charge_after_paris_midnight.json"


class UntrustedServer:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate; counts the requests that
    got through the handshake."""

    def __init__(self, test, directory):
        key, cert = directory / "key.pem", directory / "cert.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                       check=True, capture_output=True, timeout=60)
        self.requests = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"data": [], "has_more": false}')

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                  daemon=True)
        thread.start()
        test.addCleanup(self.server.server_close)
        test.addCleanup(self.server.shutdown)


@unittest.skipIf(shutil.which("openssl") is None, "the openssl command is needed to make a certificate")
class UntrustedCertificate(BinaryTest):
    def setUp(self):
        self.server = UntrustedServer(self, TempDir(self).path)

    def test_post_refuses_an_untrusted_certificate_at_once(self):
        started = time.monotonic()
        status, stdout, stderr = run(["post", CHARGE], env={
            "COMPTENTRA_URL": self.server.url, "COMPTENTRA_API_KEY": "ct_test_tls"})
        self.assert_no_crash(status, stdout, stderr)
        self.assertEqual(status, 78, stderr)
        self.assertLess(time.monotonic() - started, 10, "an untrusted server must not be retried")
        self.assertIn("SSL certificate problem", stderr)
        self.assertIn(f"{ERROR_PREFIX}stopped: {self.server.url}", stderr)
        self.assertEqual(self.server.requests, 0)

    def test_backfill_refuses_an_untrusted_stripe(self):
        status, stdout, stderr = run(
            ["backfill", "--since", "2026-11-01", "--until", "2026-11-02"],
            env={"STRIPE_API_BASE": self.server.url, "STRIPE_API_KEY": "sk_test_tls",
                 "COMPTENTRA_URL": self.server.url, "COMPTENTRA_API_KEY": "ct_test_tls"})
        self.assert_no_crash(status, stdout, stderr)
        self.assertEqual(status, 78, stderr)
        self.assertIn("SSL certificate problem", stderr)
        self.assertEqual(self.server.requests, 0)


if __name__ == "__main__":
    unittest.main()
