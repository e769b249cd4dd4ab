"""Headless Chromium over the DevTools protocol, for tests of the static report.

Starts Debian's ``chromium`` on 127.0.0.1 with a random debugging port, opens
one page per call, and reports what the page requested and logged. Skips the
test when chromium is missing, except under CI=true, where it must be there.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests


def chromium_path() -> str:
    """The chromium binary, or a skip (a failure under CI=true) when it is missing."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
    pytest.skip("chromium is not installed (apt-get install chromium) — the report's "
                "browser test needs it")


@dataclass
class PageVisit:
    """What one page load did: every URL requested, console errors, DOM facts, screenshot."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    screenshot: bytes = b""


class Browser:
    """One headless chromium process; ``visit`` opens a page in a new tab."""

    def __init__(self):
        self.binary = chromium_path()
        self.profile = tempfile.mkdtemp(prefix="jira-pm-chromium-")
        self.process = subprocess.Popen(
            [self.binary, "--headless=new", "--disable-gpu", "--no-sandbox",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile}", "--no-first-run", "--window-size=1200,900",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not open its debugging port")
            time.sleep(0.05)
        self.port = int(port_file.read_text().split()[0])

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def visit(self, url: str, script: str) -> PageVisit:
        """Load ``url``, then evaluate ``script`` (an expression giving JSON text) in it."""
        import websocket

        target = requests.put(f"http://127.0.0.1:{self.port}/json/new?about:blank",
                              timeout=10).json()
        socket = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=30)
        visit = PageVisit()
        ids = iter(range(1, 1_000_000))

        def call(method: str, **params):
            call_id = next(ids)
            socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
            while True:
                message = json.loads(socket.recv())
                if message.get("id") == call_id:
                    if "error" in message:
                        raise RuntimeError(f"{method}: {message['error']}")
                    return message.get("result", {})
                observe(message)

        loaded = []

        def observe(message: dict) -> None:
            method, params = message.get("method"), message.get("params", {})
            if method == "Network.requestWillBeSent":
                visit.requests.append(params["request"]["url"])
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                visit.errors.append(str(params.get("args")))
            elif method == "Runtime.exceptionThrown":
                visit.errors.append(str(params.get("exceptionDetails")))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                visit.errors.append(params["entry"].get("text", ""))
            elif method == "Page.loadEventFired":
                loaded.append(True)

        try:
            for domain in ("Network", "Runtime", "Log", "Page"):
                call(f"{domain}.enable")
            call("Page.navigate", url=url)
            deadline = time.monotonic() + 30
            while not loaded and time.monotonic() < deadline:
                observe(json.loads(socket.recv()))
            call("Runtime.evaluate", expression="0")  # drain events logged while loading
            result = call("Runtime.evaluate", expression=script, returnByValue=True)
            visit.facts = json.loads(result["result"]["value"])
            shot = call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            visit.screenshot = base64.b64decode(shot["data"])
        finally:
            socket.close()
            requests.get(f"http://127.0.0.1:{self.port}/json/close/{target['id']}", timeout=10)
        return visit
