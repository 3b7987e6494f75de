#!/usr/bin/env python3
"""Insights at scale: bulk-loads organisations, members and learning records straight into
the database (SQL, not the API: the writes are measured elsewhere), and events in the last
closed quarter with registrations, attendance and commitments, then times the first answer
of each insight for that quarter, which computes and keeps its figures (decision 11).

Usage: insights.py DATABASE BASE_URL TOKEN PEOPLE RECORDS ORGANISATIONS
  DATABASE  sqlite:/path/to/vov.db or postgres://user@host:port/db
Prints one JSON object: load_s, first_ms, first_events_ms, period, paths (for wrk).
"""

import datetime
import json
import subprocess
import sys
import time
import urllib.request

KINDS = ["employer", "employer", "employer", "policy_body", "social_partner", "sector_fund",
         "learning_provider", "network_partner"]
SIZES = ["micro", "small", "medium", "large"]
REGIONS = ["antwerp", "east_flanders", "flemish_brabant", "limburg", "west_flanders", "brussels"]
GROUPS = ["employee", "employee", "employee", "hr_professional", "employer_representative", "policy_maker"]
LEARNING_SHARE = 0.4   # of the people have records
QUARTERS = 8           # the records spread over the last eight closed quarters
FORMATS = ["inspiration_session", "workshop", "learning_network", "webinar", "conference", "intervision",
           "field_visit", "other"]
EVENT_SHARE = 0.5      # of the people registered for an event in the last closed quarter
PEOPLE_PER_EVENT = 50


def case(expr, values):
    arms = " ".join(f"when {i} then '{v}'" for i, v in enumerate(values))
    return f"case ({expr}) % {len(values)} {arms} end"


def last_closed_quarter(today):
    q = (today.month - 1) // 3 + 1
    return (today.year - 1, 4) if q == 1 else (today.year, q - 1)


def statements(dialect, people, records, organisations, start, days, now, quarter_start):
    learners = int(people * LEARNING_SHARE)
    registered = int(people * EVENT_SHARE)
    events = max(1, registered // PEOPLE_PER_EVENT)
    if dialect == "sqlite":
        series = lambda n: f"(with recursive s(i) as (select 0 union all select i + 1 from s where i < {n - 1}) select i from s)"
        new_id, int_div = "randomblob(16)", "/"
        day = f"date('{start}', '+' || (((r.i / {learners}) * 29 + r.i * 13) % {days}) || ' days')"
        true = "1"
        context_chosen = "0"
        # Timestamps as the service writes them in SQLite (RFC 3339, +00:00).
        event_start = f"strftime('%Y-%m-%dT%H:%M:%S+00:00', '{quarter_start}', '+' || (e.i % 80) || ' days', '+10 hours')"
        event_end = f"strftime('%Y-%m-%dT%H:%M:%S+00:00', '{quarter_start}', '+' || (e.i % 80) || ' days', '+12 hours')"
    else:
        series = lambda n: f"(select i from generate_series(0, {n - 1}) as i)"
        new_id, int_div = "gen_random_uuid()", "/"
        day = f"date '{start}' + (((r.i / {learners}) * 29 + r.i * 13) % {days})::int"
        true = "true"
        context_chosen = "false"
        event_start = f"timestamptz '{quarter_start} 10:00:00+00' + (e.i % 80) * interval '1 day'"
        event_end = f"timestamptz '{quarter_start} 12:00:00+00' + (e.i % 80) * interval '1 day'"
    return [
        f"create temp table bench_orgs as select s.i, {new_id} as id from {series(organisations)} s",
        f"create temp table bench_people as select s.i, {new_id} as id from {series(people)} s",
        f"""insert into organisations (id, name, kind, sector, size_band, region, themes, search_text,
                created_at, updated_at, version)
            select o.id, 'Bench organisation ' || o.i, {case('o.i', KINDS)},
                   case when o.i % 10 = 0 then null else lpad_division end,
                   {case('o.i', SIZES)}, {case('o.i / 3', REGIONS)}, '[]', '', '{now}', '{now}', 1
            from bench_orgs o""",
        f"""insert into people (id, email, email_key, display_name, role, created_at, updated_at, version,
                stakeholder_group, birth_year, languages, search_text, counted_in_insights)
            select p.id, 'bench' || p.i || '@insights.bench', 'bench' || p.i || '@insights.bench',
                   'Bench ' || p.i, 'member', '{now}', '{now}', 1, {case('p.i', GROUPS)},
                   1958 + (p.i * 7919) % 47, '[]', '', {true}
            from bench_people p""",
        f"""insert into memberships (id, person_id, organisation_id, role, starts_on, created_at, updated_at, version)
            select {new_id}, p.id, o.id, 'employee', '2015-01-01', '{now}', '{now}', 1
            from bench_people p join bench_orgs o on o.i = (p.i * 31) % {organisations}""",
        f"""insert into learning_records (id, person_id, title, activity_type, context, context_chosen,
                started_on, duration_minutes, source, visibility, created_at, updated_at, version)
            select {new_id}, p.id, 'Bench record', 'on_the_job', 'experiential', {context_chosen},
                   {day}, 30 + r.i % 200, 'manual', 'private', '{now}', '{now}', 1
            from {series(records)} r join bench_people p on p.i = r.i % {learners}""",
        # Events in the last closed quarter, each with PEOPLE_PER_EVENT registrations: 80 %
        # attend, half of those commit, half of those do it, half of those prove it.
        f"create temp table bench_events as select s.i, {new_id} as id from {series(events)} s",
        f"""insert into events (id, organiser_id, title, format, attendance_mode, starts_at, ends_at, time_zone,
                online_url, language, status, search_text, created_at, updated_at, version)
            select e.id, o.id, 'Bench event ' || e.i, {case('e.i', FORMATS)}, 'online', {event_start}, {event_end},
                   'Europe/Brussels', 'https://bench.example/live', 'nl', 'completed', '', '{now}', '{now}', 1
            from bench_events e join bench_orgs o on o.i = e.i % {organisations}""",
        f"""insert into registrations (id, event_id, person_id, status, arrival, created_at, updated_at, version)
            select {new_id}, e.id, p.id, case when p.i % 5 = 0 then 'no_show' else 'attended' end,
                   p.i / {events}, '{now}', '{now}', 1
            from bench_people p join bench_events e on e.i = p.i % {events}
            where p.i < {registered}""",
        f"""insert into commitments (id, event_id, person_id, text, status, learning_record_id, created_at,
                updated_at, version)
            select {new_id}, e.id, p.id, 'Bench commitment',
                   case when p.i % 4 < 2 then 'done' else 'in_progress' end,
                   case when p.i % 8 = 0 then {new_id} end, '{now}', '{now}', 1
            from bench_people p join bench_events e on e.i = p.i % {events}
            where p.i < {registered} and p.i % 5 <> 0 and p.i % 10 < 6""",
    ]


def division(dialect):
    # A NACE division from 01 to 96 (some map to no section: "unknown", as in real data).
    if dialect == "sqlite":
        return "printf('%02d', 1 + o.i % 96)"
    return "lpad((1 + o.i % 96)::text, 2, '0')"


def load(database, people, records, organisations):
    today = datetime.date.today()
    year, quarter = last_closed_quarter(today)
    q_index = year * 4 + quarter - 1 - (QUARTERS - 1)
    start = datetime.date(q_index // 4, (q_index % 4) * 3 + 1, 1)
    end = datetime.date(year + (quarter == 4), (quarter % 4) * 3 + 1, 1)
    days = (end - start).days
    quarter_start = datetime.date(year, (quarter - 1) * 3 + 1, 1)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    dialect = "sqlite" if database.startswith("sqlite:") else "postgres"
    sql = [s.replace("lpad_division", division(dialect))
           for s in statements(dialect, people, records, organisations, start, days, now, quarter_start)]
    if dialect == "sqlite":
        import sqlite3
        path = database[len("sqlite:"):].removeprefix("//")
        conn = sqlite3.connect(path, timeout=60)
        conn.execute("pragma foreign_keys = on")
        with conn:
            for s in sql:
                conn.execute(s)
        conn.close()
    else:
        script = ";\n".join(["begin"] + sql + ["commit", "analyze"]) + ";\n"
        subprocess.run(["psql", database, "-v", "ON_ERROR_STOP=1", "-q"], input=script.encode(), check=True)
    return f"{year}-Q{quarter}"


def get(url, token):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=600) as res:
        return json.loads(res.read())


def main():
    database, base, token = sys.argv[1], sys.argv[2], sys.argv[3]
    people, records, organisations = (int(a) for a in sys.argv[4:7])
    t0 = time.monotonic()
    period = load(database, people, records, organisations)
    load_s = time.monotonic() - t0
    t0 = time.monotonic()
    table = get(f"{base}/v1/insights/learning-participation?period={period}", token)
    first_ms = (time.monotonic() - t0) * 1000
    total = table["cells"][0]
    t0 = time.monotonic()
    events = get(f"{base}/v1/insights/event-to-action?period={period}&by=format", token)
    first_events_ms = (time.monotonic() - t0) * 1000
    paths = [f"/v1/insights/learning-participation?period={period}{by}"
             for by in ["", "&by=age_band", "&by=sector", "&by=age_band,sector", "&by=stakeholder_group,sector"]]
    paths += [f"/v1/insights/event-to-action?period={period}&by=format"]
    print(json.dumps({"load_s": round(load_s, 1), "first_ms": round(first_ms), "period": period,
                      "people": total["people"], "participants": total["participants"],
                      "first_events_ms": round(first_events_ms), "registered": events["cells"][0]["registered"],
                      "paths": paths}))


if __name__ == "__main__":
    main()
