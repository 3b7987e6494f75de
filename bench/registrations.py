#!/usr/bin/env python3
"""Event benchmarks' helper, run by bench/run against a started server. Standard library only.

Usage:
  registrations.py events BASE_URL FACILITATOR_TOKEN [WANTED]
      Makes sure at least WANTED (default 200) published events exist, creating the missing
      ones for a new organisation as the facilitator. Prints one line of JSON with the number
      of published events, how many were created and the id of one published event.

  registrations.py contention BASE_URL FACILITATOR_TOKEN [PEOPLE] [CAPACITY] [CONNECTIONS]
      Registrations under contention. Creates an organisation, an integration client of it
      (people:write, registrations:write), PEOPLE members (default 2,000, by the batch
      upsert) and one published event with CAPACITY seats (default 50). Then the client
      registers every member, each exactly once, over CONNECTIONS concurrent keep-alive
      connections (default 64), as fast as the server answers. Afterwards it checks that
      nobody was overbooked: exactly CAPACITY answers `confirmed` and the rest `waitlisted`
      with places 1..PEOPLE-CAPACITY, the event says `seats_taken == CAPACITY` and
      `waitlist_length == PEOPLE - CAPACITY`, and listing the registrations finds CAPACITY
      confirmed and PEOPLE - CAPACITY waitlisted. Prints one line of JSON (registrations
      per second, latency, the counts and `"ok"`).

Exit status: 0 when everything checks out; 2 when a check failed (the JSON line is still
printed, with "ok": false and the reasons in "failures"); 1 on an unexpected answer.
"""

import asyncio
import datetime
import http.client
import json
import sys
import time
import urllib.parse
import uuid


class Api:
    """A small blocking JSON client over one keep-alive connection (setup and checks)."""

    def __init__(self, base):
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname, url.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def call(self, method, path, body=None, bearer=None, form=None, expect=None):
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
        if (expect is not None and res.status != expect) or res.status >= 300:
            sys.exit(f"{method} {path} answered {res.status}: {payload[:300]!r}")
        return json.loads(payload) if payload else None

    def all_pages(self, path, bearer=None):
        """Every item of a cursor-paginated list (`path` has a query string)."""
        items, cursor = [], None
        while True:
            page = self.call("GET", path + (f"&cursor={urllib.parse.quote(cursor, safe='')}" if cursor else ""),
                             bearer=bearer)
            items.extend(page["data"])
            cursor = page.get("next_cursor")
            if not cursor:
                return items


def rfc3339(t):
    return t.replace(microsecond=0).isoformat()


def new_event(organiser, title, starts, capacity, index=0):
    formats = ["inspiration_session", "workshop", "learning_network", "webinar", "conference", "intervision",
               "field_visit", "other"]
    return {
        "organiser_id": organiser,
        "title": title,
        "summary": "Benchmark: een online leermoment over informeel leren op de werkvloer.",
        "format": formats[index % len(formats)],
        "attendance_mode": "online",
        "starts_at": rfc3339(starts),
        "ends_at": rfc3339(starts + datetime.timedelta(hours=2)),
        "time_zone": "Europe/Brussels",
        "online_url": "https://meet.bench.example/leermoment",
        "capacity": capacity,
        "themes": [],
        "stakeholder_groups": ["employee", "hr_professional"],
        "status": "published",
    }


def events(base, token, wanted):
    api = Api(base)
    published = api.call("GET", "/v1/events?status=published&limit=200")["data"]
    have = len(published)
    if have < wanted:
        # Count them all only when the first page does not already have enough.
        have = len(api.all_pages("/v1/events?status=published&limit=200"))
    created = 0
    if have < wanted:
        run = uuid.uuid4().hex[:8]
        org = api.call("POST", "/v1/organisations",
                       {"name": f"Bench events {run}", "kind": "learning_provider"}, token)["id"]
        first = datetime.datetime.now(datetime.timezone.utc).replace(hour=12, minute=0) + datetime.timedelta(days=7)
        for i in range(wanted - have):
            starts = first + datetime.timedelta(hours=6 * i)
            api.call("POST", "/v1/events", new_event(org, f"Benchmark-leermoment {i + 1:04d}", starts, 100, i),
                     token, expect=201)
            created += 1
    page = api.call("GET", "/v1/events?status=published&limit=1")["data"]
    if not page:
        sys.exit("no published event")
    print(json.dumps({"published": have + created, "created": created, "event_id": page[0]["id"]}))


async def read_response(reader):
    """Status and body of one HTTP/1.1 response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, body
            body += chunk[:-2]
    return status, b""


async def register_all(host, port, path, token, people, connections):
    """POSTs one registration per person over `connections` keep-alive connections. Returns
    (answers, latencies, seconds); answers are (person, status, body) in completion order."""
    pending = iter(people)
    answers, latencies = [], []

    async def worker():
        reader, writer = await asyncio.open_connection(host, port)
        head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                "Content-Type: application/json\r\n").encode()
        try:
            for person in pending:
                body = json.dumps({"person_id": person}).encode()
                started = time.perf_counter()
                writer.write(head + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
                status, payload = await read_response(reader)
                latencies.append(time.perf_counter() - started)
                answers.append((person, status, payload))
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return answers, latencies, time.perf_counter() - started


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


def contention(base, token, people, capacity, connections):
    api = Api(base)
    run = uuid.uuid4().hex[:8]
    org = api.call("POST", "/v1/organisations", {"name": f"Bench registrations {run}", "kind": "employer"}, token)["id"]
    made = api.call("POST", f"/v1/organisations/{org}/clients",
                    {"name": "Bench registrations", "scopes": ["people:write", "registrations:write"]}, token)
    client = api.call("POST", "/v1/auth/token", form={
        "grant_type": "client_credentials",
        "client_id": made["client"]["id"],
        "client_secret": made["client_secret"],
    })["access_token"]

    person_ids = []
    for first in range(0, people, 1000):
        items = [{
            "external_id": f"R{run}-{i:06d}",
            "name": f"Deelnemer {i}",
            "email": f"d{i}.{run}@bench.example",
            "stakeholder_group": "employee",
            "languages": ["nl"],
            "membership": {"role": "employee", "starts_on": "2020-01-01"},
        } for i in range(first, min(first + 1000, people))]
        body = api.call("POST", f"/v1/organisations/{org}/people/batch", {"system": "bench", "items": items}, client)
        refused = [r for r in body["results"] if r["result"] == "error"]
        if refused:
            sys.exit(f"{len(refused)} people refused: {refused[0]}")
        person_ids.extend(r["person_id"] for r in body["results"])
    if len(set(person_ids)) != people:
        sys.exit(f"expected {people} distinct people, got {len(set(person_ids))}")

    starts = datetime.datetime.now(datetime.timezone.utc).replace(hour=9, minute=0) + datetime.timedelta(days=60)
    event = api.call("POST", "/v1/events", new_event(org, f"Drukbezocht leermoment {run}", starts, capacity, 1),
                     token, expect=201)

    answers, latencies, seconds = asyncio.run(
        register_all(api.host, api.port, f"/v1/events/{event['id']}/registrations", client, person_ids, connections))

    failures = []
    statuses = {}
    confirmed = waitlisted = 0
    positions = []
    for person, status, payload in answers:
        statuses[status] = statuses.get(status, 0) + 1
        if status != 201:
            continue
        reg = json.loads(payload)
        if reg["person_id"] != person:
            failures.append(f"registration for {person} names {reg['person_id']}")
        if reg["status"] == "confirmed":
            confirmed += 1
        elif reg["status"] == "waitlisted":
            waitlisted += 1
            positions.append(reg["waitlist_position"])
        else:
            failures.append(f"unexpected status {reg['status']}")
    if statuses.get(201, 0) != people:
        failures.append(f"answers by HTTP status: {statuses} (expected {people} x 201)")
    if confirmed != capacity or waitlisted != people - capacity:
        failures.append(f"answered {confirmed} confirmed and {waitlisted} waitlisted "
                        f"(expected {capacity} and {people - capacity})")
    if sorted(positions) != list(range(1, waitlisted + 1)):
        failures.append("waitlist places answered are not exactly 1..n")

    after = api.call("GET", f"/v1/events/{event['id']}")
    if after["seats_taken"] != capacity or after["waitlist_length"] != people - capacity:
        failures.append(f"event says seats_taken {after['seats_taken']}, waitlist_length {after['waitlist_length']} "
                        f"(expected {capacity} and {people - capacity})")
    path = f"/v1/events/{event['id']}/registrations?limit=200"
    listed_confirmed = len(api.all_pages(path + "&status=confirmed", token))
    listed_waitlisted = len(api.all_pages(path + "&status=waitlisted", token))
    if listed_confirmed != capacity or listed_waitlisted != people - capacity:
        failures.append(f"listed {listed_confirmed} confirmed and {listed_waitlisted} waitlisted "
                        f"(expected {capacity} and {people - capacity})")

    print(json.dumps({
        "registrations": people,
        "capacity": capacity,
        "connections": connections,
        "seconds": round(seconds, 3),
        "per_s": round(people / seconds),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "confirmed": confirmed,
        "waitlisted": waitlisted,
        "seats_taken": after["seats_taken"],
        "waitlist_length": after["waitlist_length"],
        "listed_confirmed": listed_confirmed,
        "listed_waitlisted": listed_waitlisted,
        "ok": not failures,
        "failures": failures,
    }))
    if failures:
        sys.exit(2)


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("events", "contention"):
        sys.exit(__doc__)
    command, base, token = sys.argv[1:4]
    numbers = [int(a) for a in sys.argv[4:]]
    if command == "events":
        events(base, token, *(numbers or [200]))
    else:
        defaults = [2000, 50, 64]
        people, capacity, connections = numbers + defaults[len(numbers):]
        if not 0 < capacity < people:
            sys.exit("CAPACITY must be between 1 and PEOPLE - 1")
        contention(base, token, people, capacity, connections)


if __name__ == "__main__":
    main()
