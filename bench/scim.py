#!/usr/bin/env python3
"""SCIM provisioning benchmark, run by bench/run against a started server. Standard library only.

Usage: scim.py BASE_URL FACILITATOR_TOKEN [USERS] [CONNECTIONS] [LOOKUPS_LUA]

As the facilitator, creates an organisation, an integration client of it with the `scim`
scope and the client's SCIM token. Then, as an identity provider does, creates USERS users
(default 10,000) one by one with POST /scim/v2/Users (Entra ID's body: userName, name,
displayName, a work address, externalId, active, enterprise department and employee number)
over CONNECTIONS concurrent keep-alive connections (default 16), as fast as the server
answers. Checks that the list counts exactly USERS users, and that a lookup by userName in
another case finds the one user.

Writes LOOKUPS_LUA (when given): a wrk script that asks `filter=userName eq "..."` for the
users in turn, with the token, for bench/run to measure.

Prints one line of JSON: users created per second, the creation's p50/p99 latency, the
token, and "ok" with the failed checks in "failures".

Exit status: 0 when everything checks out; 2 when a check failed (the JSON line is still
printed, with "ok": false and the reasons in "failures"); 1 on an unexpected answer.
"""

import asyncio
import http.client
import json
import sys
import time
import urllib.parse
import uuid

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
DEPARTMENTS = ["Zorg", "Thuiszorg", "Logistiek", "Onthaal", "Keuken", "Administratie", "ICT", "Technische dienst"]


def call(host, port, method, path, body=None, bearer=None, content_type="application/json"):
    conn = http.client.HTTPConnection(host, port, timeout=120)
    headers = {"Content-Type": content_type} if body is not None else {}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    res = conn.getresponse()
    payload = res.read()
    conn.close()
    if res.status >= 300:
        sys.exit(f"{method} {path} answered {res.status}: {payload[:300]!r}")
    return json.loads(payload) if payload else None


def user_name(run, i):
    return f"medewerker{i:05d}.{run}@scim-bench.example"


def user_body(run, i):
    name = user_name(run, i)
    given, family = f"Medewerker{i:05d}", "Bench"
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
        "userName": name,
        "active": True,
        "displayName": f"{given} {family}",
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "type": "work", "value": name}],
        ENTERPRISE: {"employeeNumber": str(10000 + i), "department": DEPARTMENTS[i % len(DEPARTMENTS)]},
    }


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return status, await reader.readexactly(length)


async def create_all(host, port, token, bodies, connections):
    """POSTs every body to /scim/v2/Users over `connections` keep-alive connections.
    Returns (latencies, seconds); exits on any answer but 201."""
    pending = iter(bodies)
    latencies = []

    async def worker():
        reader, writer = await asyncio.open_connection(host, port)
        head = (f"POST /scim/v2/Users HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                "Content-Type: application/scim+json\r\n").encode()
        try:
            for data in pending:
                started = time.perf_counter()
                writer.write(head + f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
                status, payload = await read_response(reader)
                latencies.append(time.perf_counter() - started)
                if status != 201:
                    sys.exit(f"POST /scim/v2/Users answered {status}: {payload[:300]!r}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return latencies, time.perf_counter() - started


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    base, facilitator = sys.argv[1], sys.argv[2]
    users = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    connections = int(sys.argv[4]) if len(sys.argv) > 4 else 16
    lua = sys.argv[5] if len(sys.argv) > 5 else None
    url = urllib.parse.urlsplit(base)
    host, port = url.hostname, url.port
    run = uuid.uuid4().hex[:8]

    org = call(host, port, "POST", "/v1/organisations", {"name": f"SCIM bench {run}", "kind": "employer"}, facilitator)
    client = call(host, port, "POST", f"/v1/organisations/{org['id']}/clients",
                  {"name": "Bench identity provider", "scopes": ["scim"]}, facilitator)
    token = call(host, port, "POST", f"/v1/organisations/{org['id']}/clients/{client['client']['id']}/scim-token",
                 None, facilitator)["scim_token"]

    bodies = [json.dumps(user_body(run, i)).encode() for i in range(users)]
    latencies, seconds = asyncio.run(create_all(host, port, token, bodies, connections))

    failures = []
    listed = call(host, port, "GET", "/scim/v2/Users?count=1", bearer=token)
    if listed["totalResults"] != users:
        failures.append(f"the list counts {listed['totalResults']} users, not {users}")
    probe = user_name(run, users // 2)
    found = call(host, port, "GET", "/scim/v2/Users?" + urllib.parse.urlencode(
        {"filter": f'userName eq "{probe.upper()}"'}, quote_via=urllib.parse.quote), bearer=token)
    if found["totalResults"] != 1 or found["Resources"][0]["userName"] != probe:
        failures.append(f"a lookup of {probe} in capitals found {found['totalResults']} users")

    if lua:
        with open(lua, "w") as f:
            f.write(f'local token = "{token}"\nlocal run = "{run}"\nlocal users = {users}\nlocal i = 0\n')
            f.write("function setup(thread) thread:set('offset', math.random(users)) end\n")
            f.write("function init(args) i = tonumber(wrk.thread:get('offset')) or 0 end\n")
            f.write("function request()\n  i = (i + 7919) % users\n")
            f.write('  local name = string.format("medewerker%05d.%s%%40scim-bench.example", i, run)\n')
            f.write("  return wrk.format('GET', '/scim/v2/Users?filter=userName%20eq%20%22' .. name .. '%22', "
                    "{['Authorization'] = 'Bearer ' .. token})\nend\n")

    print(json.dumps({
        "users": users,
        "per_s": round(users / seconds),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "token": token,
        "ok": not failures,
        "failures": failures,
    }))
    sys.exit(2 if failures else 0)


if __name__ == "__main__":
    main()
