"""A partner's first steps with the generated Python client (openapi-python-client), run
against the live service: sign in, read who you are, list events, write a learning record,
read it back, delete it. Usage: smoke.py <folder holding the generated package `client`>."""

import datetime
import os
import sys

sys.path.insert(0, sys.argv[1])

from client import AuthenticatedClient, Client  # noqa: E402
from client.api.auth import get_me, post_token  # noqa: E402
from client.api.informal_learning import (  # noqa: E402
    create_learning_record,
    delete_learning_record,
    get_learning_record,
)
from client.api.learning_events import list_events  # noqa: E402
from client.models import NewRecord, RecordView, TokenRequest, TokenResponse  # noqa: E402
from client.models.activity_type import ActivityType  # noqa: E402

base = os.environ.get("VOV_BASE_URL", "http://127.0.0.1:8080")


def fail(what, detail):
    print(f"FAIL: {what}: {detail}", file=sys.stderr)
    sys.exit(1)


token = post_token.sync(
    client=Client(base_url=base),
    body=TokenRequest(grant_type="password", username="facilitator@vov.example", password="lerenderwijs-demo"),
)
if not isinstance(token, TokenResponse):
    fail("sign in", token)
api = AuthenticatedClient(base_url=base, token=token.access_token)

me = get_me.sync(client=api)
if me is None or not getattr(me, "id", None):
    fail("GET /v1/me", me)
events = list_events.sync(client=api, limit=5)
if events is None or not events.data:
    fail("GET /v1/events", events)

body = NewRecord(title="Samen leren op de werkvloer", activity_type=ActivityType.PEER_LEARNING, started_on=datetime.date(2026, 11, 2))
created = create_learning_record.sync(client=api, body=body)
if not isinstance(created, RecordView):
    fail("POST /v1/learning-records", created)
read = get_learning_record.sync(client=api, id=created.id)
if not isinstance(read, RecordView) or read.title != "Samen leren op de werkvloer":
    fail("GET /v1/learning-records/{id}", read)
removed = delete_learning_record.sync_detailed(client=api, id=created.id)
if removed.status_code != 204:
    fail("DELETE /v1/learning-records/{id}", removed.status_code)
gone = get_learning_record.sync_detailed(client=api, id=created.id)
if gone.status_code != 404:
    fail("a deleted record is gone", gone.status_code)

print(f"Python client: signed in as {me.id}, {len(events.data)} events, a record written, read and deleted")
