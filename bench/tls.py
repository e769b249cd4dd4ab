"""A throwaway self-signed certificate for 127.0.0.1, made with the `openssl` command-line tool.

The project's virtualenv has no `cryptography` package, and adding one only for a
benchmark is not worth a dependency, so this shells out to `openssl req`.
Clients trust the certificate through ``REQUESTS_CA_BUNDLE=<certfile>``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def make_certificate(folder: Path, days: int = 2) -> tuple[Path, Path]:
    """Write cert.pem and key.pem (RSA 2048, CN and SAN 127.0.0.1/localhost); return their paths."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the openssl command-line tool is needed to make a TLS certificate; "
                           "install it (e.g. apt-get install openssl)")
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
         "-days", str(days), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    return cert, key
