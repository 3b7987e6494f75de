#!/usr/bin/env python3
"""Learning-log benchmark, run by bench/run against a started server. Standard library only.

Usage: learning.py BASE_URL FACILITATOR_TOKEN [RECORDS] [PEOPLE] [BATCH] [SUMMARIES] [CONNECTIONS]

Creates an organisation, an integration client of it (people:write, learning-records:write)
and PEOPLE members (default 100), then upserts RECORDS learning records (default 100,000)
spread evenly over them, in batches of BATCH (default 1,000), and checks that every item was
created. Each person then holds RECORDS / PEOPLE records (1,000 by default). One of them gets
a password and asks for their own summary over all of their records SUMMARIES times
(default 2,000) over CONNECTIONS concurrent keep-alive connections (default 16), checking
first that it counts every record. Prints one line of JSON: records per second, the summary's
path and the person's token, and (unless SUMMARIES is 0, when the caller measures the
summary itself, as bench/run does with wrk) the summary's p50/p99 latency and requests per
second. Exits non-zero on any unexpected answer.
"""

import http.client
import json
import sys
import threading
import time
import urllib.parse
import uuid

TYPES = ["on_the_job", "peer_learning", "coaching_mentoring", "intervision", "job_rotation", "self_study",
         "reading", "online_course", "event", "volunteering", "other"]


class Api:
    def __init__(self, base):
        url = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=300)

    def call(self, method, path, body=None, bearer=None, form=None):
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
        self.conn.request(method, path, body=data, headers=headers)
        res = self.conn.getresponse()
        payload = res.read()
        if res.status >= 300:
            sys.exit(f"{method} {path} answered {res.status}: {payload[:300]!r}")
        return json.loads(payload) if payload else None


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    base, token = sys.argv[1], sys.argv[2]
    records = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    people = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    batch = int(sys.argv[5]) if len(sys.argv) > 5 else 1_000
    summaries = int(sys.argv[6]) if len(sys.argv) > 6 else 2_000
    connections = int(sys.argv[7]) if len(sys.argv) > 7 else 16
    api = Api(base)
    run = uuid.uuid4().hex[:8]
    org = api.call("POST", "/v1/organisations", {"name": f"Bench leerlog {run}", "kind": "employer"}, token)["id"]
    made = api.call("POST", f"/v1/organisations/{org}/clients",
                    {"name": "Bench HR system", "scopes": ["people:write", "learning-records:write"]}, token)
    client = api.call("POST", "/v1/auth/token", form={
        "grant_type": "client_credentials", "client_id": made["client"]["id"], "client_secret": made["client_secret"],
    })["access_token"]
    ids = []
    for first in range(0, people, 1000):
        items = [{"external_id": f"P{run}-{i:05d}", "name": f"Lerende {i}", "email": f"lerende{i}.{run}@bench.example",
                  "stakeholder_group": "employee", "languages": ["nl"],
                  "membership": {"role": "employee", "starts_on": "2020-01-01"}}
                 for i in range(first, min(people, first + 1000))]
        result = api.call("POST", f"/v1/organisations/{org}/people/batch", {"system": "bench", "items": items}, client)
        refused = [r for r in result["results"] if r["result"] == "error"]
        if refused:
            sys.exit(f"{len(refused)} people refused: {refused[0]}")
        ids.extend(r["person_id"] for r in result["results"])

    started = time.perf_counter()
    created = 0
    for first in range(0, records, batch):
        items = []
        for i in range(first, min(records, first + batch)):
            day = 1 + i % 28
            month = 1 + (i // 28) % 12
            items.append({
                "external_id": f"R{run}-{i:07d}",
                "person_id": ids[i % people],
                "title": f"Leermoment {i}",
                "description": "Samen met een collega een nieuwe werkwijze uitgeprobeerd.",
                "activity_type": TYPES[i % len(TYPES)],
                "started_on": f"2027-{month:02d}-{day:02d}",
                "duration_minutes": 30 + i % 90,
                "skills": [{"label": "samenwerken"}],
            })
        result = api.call("POST", f"/v1/organisations/{org}/learning-records/batch", {"system": "bench", "items": items},
                          client)
        bad = [r for r in result["results"] if r["result"] != "created"]
        if bad:
            sys.exit(f"a batch item was not created: {bad[0]}")
        created += len(items)
    seconds = time.perf_counter() - started

    person = ids[0]
    password = f"bench-{run}-leren-leven-lang"
    conn = Api(base)
    conn.conn.request("PUT", f"/v1/people/{person}/password", body=json.dumps({"new_password": password}),
                      headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    res = conn.conn.getresponse()
    res.read()
    if res.status >= 300:
        sys.exit(f"setting the password answered {res.status}")
    email = f"lerende0.{run}@bench.example"
    owner = api.call("POST", "/v1/auth/token", form={"grant_type": "password", "username": email,
                                                      "password": password})["access_token"]
    path = f"/v1/people/{person}/learning-summary?from=2027-01-01&to=2027-12-31"
    expected = len(range(0, records, people))
    first_summary = api.call("GET", path, bearer=owner)
    if first_summary["total"]["records"] != expected:
        sys.exit(f"the summary counts {first_summary['total']['records']} records, not {expected}")

    result = {
        "records": created,
        "seconds": round(seconds, 3),
        "records_per_s": round(created / seconds),
        "summary_records": expected,
        "summary_path": path,
        "owner_token": owner,
    }
    if summaries == 0:
        print(json.dumps(result))
        return
    latencies = []
    lock = threading.Lock()
    per_worker = summaries // connections

    def worker():
        mine = Api(base)
        local = []
        for _ in range(per_worker):
            t0 = time.perf_counter()
            mine.conn.request("GET", path, headers={"Authorization": f"Bearer {owner}"})
            r = mine.conn.getresponse()
            r.read()
            local.append((time.perf_counter() - t0) * 1000)
            if r.status != 200:
                sys.exit(f"summary answered {r.status}")
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    summary_seconds = time.perf_counter() - t0
    print(json.dumps({
        **result,
        "summaries": len(latencies),
        "summary_per_s": round(len(latencies) / summary_seconds),
        "summary_p50_ms": round(percentile(latencies, 50), 2),
        "summary_p99_ms": round(percentile(latencies, 99), 2),
    }))


if __name__ == "__main__":
    main()
