#!/usr/bin/env python3
"""SCIM provisioning benchmark, run by bench/run against a started server. Standard library only.

Usage:
  scim.py prepare BASE_URL FACILITATOR_TOKEN USERS LOOKUPS_LUA
  scim.py check BASE_URL SCIM_TOKEN RUN USERS

`prepare`, as the facilitator, creates an organisation, an integration client of it with the
`scim` scope and the client's SCIM token, and writes LOOKUPS_LUA: a wrk script that asks
`filter=userName eq "..."` for the users in turn, with the token. It prints one line of JSON:
the token and the run's tag, which the users' names carry. bench/run then has
examples/scim_load.rs create USERS users one by one (Entra ID's body: userName, name,
displayName, a work address, externalId, active, enterprise department and employee number;
the same names as `user_name` here) and measures the lookups with wrk.

`check` checks that the list counts exactly USERS users, and that a lookup by userName in
another case finds the one user. It prints one line of JSON: "ok", with the failed checks in
"failures".

Exit status: 0 when everything checks out; 2 when a check failed (the JSON line is still
printed, with "ok": false and the reasons in "failures"); 1 on an unexpected answer.
"""

import http.client
import json
import sys
import urllib.parse
import uuid


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


def prepare(host, port, facilitator, users, lua):
    run = uuid.uuid4().hex[:8]
    org = call(host, port, "POST", "/v1/organisations", {"name": f"SCIM bench {run}", "kind": "employer"}, facilitator)
    client = call(host, port, "POST", f"/v1/organisations/{org['id']}/clients",
                  {"name": "Bench identity provider", "scopes": ["scim"]}, facilitator)
    token = call(host, port, "POST", f"/v1/organisations/{org['id']}/clients/{client['client']['id']}/scim-token",
                 None, facilitator)["scim_token"]
    with open(lua, "w") as f:
        f.write(f'local token = "{token}"\nlocal run = "{run}"\nlocal users = {users}\nlocal i = 0\n')
        f.write("function setup(thread) thread:set('offset', math.random(users)) end\n")
        f.write("function init(args) i = tonumber(wrk.thread:get('offset')) or 0 end\n")
        f.write("function request()\n  i = (i + 7919) % users\n")
        f.write('  local name = string.format("medewerker%05d.%s%%40scim-bench.example", i, run)\n')
        f.write("  return wrk.format('GET', '/scim/v2/Users?filter=userName%20eq%20%22' .. name .. '%22', "
                "{['Authorization'] = 'Bearer ' .. token})\nend\n")
    print(json.dumps({"token": token, "run": run}))


def check(host, port, token, run, users):
    failures = []
    listed = call(host, port, "GET", "/scim/v2/Users?count=1", bearer=token)
    if listed["totalResults"] != users:
        failures.append(f"the list counts {listed['totalResults']} users, not {users}")
    probe = user_name(run, users // 2)
    found = call(host, port, "GET", "/scim/v2/Users?" + urllib.parse.urlencode(
        {"filter": f'userName eq "{probe.upper()}"'}, quote_via=urllib.parse.quote), bearer=token)
    if found["totalResults"] != 1 or found["Resources"][0]["userName"] != probe:
        failures.append(f"a lookup of {probe} in capitals found {found['totalResults']} users")
    print(json.dumps({"ok": not failures, "failures": failures}))
    sys.exit(2 if failures else 0)


def main():
    if len(sys.argv) < 6 or sys.argv[1] not in ("prepare", "check"):
        sys.exit(__doc__)
    url = urllib.parse.urlsplit(sys.argv[2])
    host, port = url.hostname, url.port
    if sys.argv[1] == "prepare":
        prepare(host, port, sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        if len(sys.argv) < 6:
            sys.exit(__doc__)
        check(host, port, sys.argv[3], sys.argv[4], int(sys.argv[5]))


if __name__ == "__main__":
    main()
