#!/usr/bin/env python3
"""Sync benchmark, run by bench/run against a started server.

Usage: sync.py BASE_URL FACILITATOR_TOKEN [PEOPLE] [BATCH]

Creates an organisation and an integration client of it, upserts PEOPLE people (default
10,000) in batches of BATCH (default 1,000) as that client, then reads the whole change feed
as the client, 1,000 changes a page. Prints one line of JSON: people per second, changes per
second, and the counts. Exits non-zero on any unexpected answer.
"""

import http.client
import json
import sys
import time
import urllib.parse
import uuid


def main():
    base, token = sys.argv[1], sys.argv[2]
    people = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 1_000
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)

    def call(method, path, body=None, bearer=None, form=None):
        headers = {}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        if form is not None:
            data = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        else:
            data = None
        conn.request(method, path, body=data, headers=headers)
        res = conn.getresponse()
        payload = res.read()
        if res.status >= 300:
            sys.exit(f"{method} {path} answered {res.status}: {payload[:300]!r}")
        return json.loads(payload) if payload else None

    run = uuid.uuid4().hex[:8]
    org = call("POST", "/v1/organisations", {"name": f"Bench organisation {run}", "kind": "employer"}, token)["id"]
    made = call("POST", f"/v1/organisations/{org}/clients",
                {"name": "Bench HR system", "scopes": ["people:read", "people:write"]}, token)
    client = call("POST", "/v1/auth/token", bearer=None, form={
        "grant_type": "client_credentials",
        "client_id": made["client"]["id"],
        "client_secret": made["client_secret"],
    })["access_token"]

    started = time.perf_counter()
    for first in range(0, people, batch):
        items = [{
            "external_id": f"B{run}-{i:06d}",
            "name": f"Medewerker {i}",
            "email": f"m{i}.{run}@bench.example",
            "stakeholder_group": "employee",
            "birth_year": 1960 + i % 40,
            "languages": ["nl"],
            "membership": {"role": "employee", "starts_on": "2020-01-01"},
        } for i in range(first, min(first + batch, people))]
        body = call("POST", f"/v1/organisations/{org}/people/batch", {"system": "bench", "items": items}, client)
        refused = [r for r in body["results"] if r["result"] == "error"]
        if refused:
            sys.exit(f"{len(refused)} items refused: {refused[0]}")
    upsert_secs = time.perf_counter() - started

    started = time.perf_counter()
    changes, after = 0, None
    while True:
        path = "/v1/changes?limit=1000" + (f"&after={after}" if after else "")
        page = call("GET", path, bearer=client)
        changes += len(page["data"])
        after = page["next_cursor"]
        if not page["has_more"]:
            break
    feed_secs = time.perf_counter() - started

    print(json.dumps({
        "people": people,
        "people_per_s": round(people / upsert_secs),
        "changes": changes,
        "changes_per_s": round(changes / feed_secs),
    }))


if __name__ == "__main__":
    main()
