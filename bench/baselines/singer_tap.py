"""Run Singer's tap-jira 2.6.0 against the sandbox and count what it emitted.

Runs inside bench/out/venv-tap-jira (tap_jira, singer, requests, stdlib only):

    python singer_tap.py run --config config.json --catalog catalog.json --out records.jsonl
    python singer_tap.py count records.jsonl [more.jsonl ...]   # the union, as a target keeps it
    python singer_tap.py last-state records.jsonl                 # for an incremental --state

`run` calls the tap's own `main()` (basic auth; it forces https and sleeps 10 ms
between requests, as it does for real) with stdout sent to a file, after one shim:
the sandbox does not implement `expand=transitions`, and the tap does
`issue.pop("transitions")`, so a missing key is defaulted to an empty list before
the tap reads it. And trust: the tap sends prepared requests with `Session.send`,
which never reads REQUESTS_CA_BUNDLE, so its sessions are made to verify against
that file (the run's self-signed certificate). Nothing else of the tap is changed.
The catalog selects only the `issues`, `changelogs` and `worklogs` streams: they
hold the data compared here (issue, changelog-item and worklog counts). The other
streams (projects, users, versions, ...) are left out because nothing here
compares them, not because the sandbox lacks them.
"""

from __future__ import annotations

import argparse
import json
import sys

SELECTED = ("issues", "changelogs", "worklogs")


def select_streams(catalog: dict, wanted=SELECTED) -> dict:
    """Mark the wanted streams (and all their fields) selected in a discovered catalog."""
    for stream in catalog["streams"]:
        chosen = stream["tap_stream_id"] in wanted
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = chosen
    return catalog


def count_records(lines) -> dict:
    """Distinct issues, changelog items (of distinct histories) and worklogs in Singer output."""
    issues, histories, worklogs = set(), {}, set()
    for line in lines:
        message = json.loads(line)
        if message.get("type") != "RECORD":
            continue
        record, stream = message["record"], message["stream"]
        if stream == "issues":
            issues.add(str(record["id"]))
        elif stream == "changelogs":
            histories[str(record["id"])] = len(record.get("items") or [])
        elif stream == "worklogs":
            worklogs.add(str(record["id"]))
    return {"issues": len(issues), "changelog_items": sum(histories.values()),
            "worklogs": len(worklogs)}


def last_state(lines) -> dict:
    """The value of the last STATE message (the tap's bookmarks for the next run)."""
    state = {}
    for line in lines:
        message = json.loads(line)
        if message.get("type") == "STATE":
            state = message["value"]
    return state


def _tolerate_missing_transitions() -> None:
    from tap_jira import streams

    original = streams.sync_sub_streams

    def sync_sub_streams(page):
        for issue in page:
            issue.setdefault("transitions", [])
        return original(page)

    streams.sync_sub_streams = sync_sub_streams


def _trust_requests_ca_bundle() -> None:
    import os

    import requests

    bundle = os.environ.get("REQUESTS_CA_BUNDLE")
    if not bundle:
        return
    plain_init = requests.Session.__init__

    def init(self, *args, **kwargs):
        plain_init(self, *args, **kwargs)
        self.verify = bundle

    requests.Session.__init__ = init


def run(config: str, catalog: str, out: str, state: str | None) -> None:
    _trust_requests_ca_bundle()
    import tap_jira

    _tolerate_missing_transitions()
    sys.argv = ["tap-jira", "--config", config, "--properties", catalog]  # 2.6.0 reads only this
    if state:
        sys.argv += ["--state", state]
    with open(out, "w", encoding="utf-8") as sink:
        real_stdout, sys.stdout = sys.stdout, sink
        try:
            tap_jira.main()
        finally:
            sys.stdout = real_stdout


def discover(config: str, out: str) -> None:
    """The tap's own discovery, with SELECTED streams marked selected."""
    import io

    _trust_requests_ca_bundle()
    import tap_jira

    sys.argv = ["tap-jira", "--config", config, "--discover"]
    buffer, real_stdout = io.StringIO(), sys.stdout
    sys.stdout = buffer
    try:
        tap_jira.main()
    finally:
        sys.stdout = real_stdout
    catalog = select_streams(json.loads(buffer.getvalue()))
    with open(out, "w", encoding="utf-8") as sink:
        json.dump(catalog, sink)


def _lines(paths):
    for path in paths:
        with open(path, encoding="utf-8") as lines:
            yield from lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    disc = sub.add_parser("discover")
    disc.add_argument("--config", required=True)
    disc.add_argument("--out", required=True)
    go = sub.add_parser("run")
    go.add_argument("--config", required=True)
    go.add_argument("--catalog", required=True)
    go.add_argument("--out", required=True)
    go.add_argument("--state")
    count = sub.add_parser("count")
    count.add_argument("records", nargs="+")
    state = sub.add_parser("last-state")
    state.add_argument("records")
    args = parser.parse_args(argv)
    if args.command == "discover":
        discover(args.config, args.out)
    elif args.command == "run":
        run(args.config, args.catalog, args.out, args.state)
    elif args.command == "last-state":
        with open(args.records, encoding="utf-8") as lines:
            print(json.dumps(last_state(lines)))
    else:
        print(json.dumps(count_records(_lines(args.records))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
