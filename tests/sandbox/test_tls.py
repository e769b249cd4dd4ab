"""The sandbox over https: Sandbox(tls=(cert, key)) and `sandbox serve --tls-cert --tls-key`."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from jira_pm.cli import main
from jira_pm.sandbox import Sandbox

pytestmark = pytest.mark.integration

ADMIN = ("pm-bot@example.com", "sandbox-token-admin")

_spec = importlib.util.spec_from_file_location(
    "bench_tls", Path(__file__).resolve().parents[2] / "bench" / "tls.py")
bench_tls = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_tls)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command-line tool is not installed")
    return bench_tls.make_certificate(tmp_path_factory.mktemp("tls"))


def test_tls_sandbox_serves_https_trusted_by_its_certificate(certificate):
    """With tls=(cert, key) the URL is https and a client trusting that certificate is answered."""
    cert, key = certificate
    with Sandbox(flavor="server", issues=5, tls=(cert, key)) as site:
        assert site.url.startswith("https://127.0.0.1:")
        answer = requests.get(f"{site.url}/rest/api/2/serverInfo", auth=ADMIN, verify=str(cert),
                              timeout=5)
        assert answer.json()["deploymentType"] == "Server"
        assert answer.json()["baseUrl"] == site.url
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{site.url}/rest/api/2/serverInfo", auth=ADMIN, timeout=5)


def test_plain_sandbox_stays_http():
    """Without tls the sandbox keeps serving plain http."""
    with Sandbox(issues=5) as site:
        assert site.url.startswith("http://127.0.0.1:")


def test_serve_with_tls_prints_https_url_and_answers(certificate):
    """`sandbox serve --tls-cert --tls-key` prints an https URL that answers over TLS."""
    cert, key = certificate
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("jira-pm")), "sandbox", "serve", "--port", "0",
         "--issues", "5", "--tls-cert", str(cert), "--tls-key", str(key)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()
        assert " at https://127.0.0.1:" in first
        url = first.split(" at ")[1].split()[0]
        answer = requests.get(f"{url}/rest/api/3/myself", auth=ADMIN, verify=str(cert), timeout=5)
        assert answer.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_refuses_a_certificate_without_its_key(certificate):
    """--tls-cert without --tls-key is a one-line usage error, exit 2."""
    cert, _ = certificate
    result = CliRunner().invoke(main, ["sandbox", "serve", "--tls-cert", str(cert)])
    assert result.exit_code == 2
    assert "--tls-cert and --tls-key go together" in result.output
