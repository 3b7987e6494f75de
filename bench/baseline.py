#!/usr/bin/env python3
"""The baseline's rows: PEOPLE people (no memberships) inserted with SQL into the service's
own database, so that the service and the bare actix-web + sqlx server (examples/bare.rs)
read and write the same tables, with the same indexes and row counts.

Usage: baseline.py DATABASE PEOPLE
  DATABASE  sqlite:/path/to/vov.db or postgres://user@host:port/db
Prints one JSON object: people (how many baseline people there are), person_id (one of them).
"""

import datetime
import json
import subprocess
import sys
import uuid


def main():
    database, people = sys.argv[1], int(sys.argv[2])
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    columns = """insert into people (id, email, email_key, display_name, role, created_at, updated_at, version,
                     stakeholder_group, birth_year, languages, search_text)"""
    if database.startswith("sqlite:"):
        import sqlite3
        conn = sqlite3.connect(database[len("sqlite:"):].removeprefix("//"), timeout=60)
        with conn:
            have = conn.execute("select count(*) from people where email_key like 'base%@baseline.bench'").fetchone()[0]
            if have < people:
                conn.execute(f"""{columns}
                    with recursive s(i) as (select {have} union all select i + 1 from s where i < {people - 1})
                    select randomblob(16), 'base' || i || '@baseline.bench', 'base' || i || '@baseline.bench',
                           'Baseline ' || i, 'member', '{now}', '{now}', 1, 'employee', 1960 + i % 45, '[]', ''
                    from s""")
            raw = conn.execute("select id from people where email_key = 'base0@baseline.bench'").fetchone()[0]
        conn.close()
        person_id = str(uuid.UUID(bytes=raw))
    else:
        script = f"""{columns}
            select gen_random_uuid(), 'base' || i || '@baseline.bench', 'base' || i || '@baseline.bench',
                   'Baseline ' || i, 'member', '{now}', '{now}', 1, 'employee', 1960 + i % 45, '[]', ''
            from generate_series((select count(*) from people where email_key like 'base%@baseline.bench'),
                                 {people - 1}) as i;
            analyze people;
            select id from people where email_key = 'base0@baseline.bench';"""
        out = subprocess.run(["psql", database, "-v", "ON_ERROR_STOP=1", "-qAt"], input=script.encode(),
                             check=True, capture_output=True)
        person_id = out.stdout.decode().split()[-1]
    print(json.dumps({"people": people, "person_id": person_id}))


if __name__ == "__main__":
    main()
