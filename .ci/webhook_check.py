"""Webhook deliveries checked with the Standard Webhooks reference library (PyPI
`standardwebhooks`), an implementation independent of the service's.

Usage: webhook_check.py BASE_URL TOKEN ORGANISATION_ID OUT_FILE

Starts a receiver on 127.0.0.1, subscribes ORGANISATION_ID's `organisation` changes to it
(the service must allow 127.0.0.1: VOV_WEBHOOK_ALLOWED_HOSTS), changes the organisation,
and verifies the delivery; a tampered copy must not verify. Writes the delivery to
OUT_FILE for the Node.js check (webhook_check.mjs).
"""

import json
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

base, token, org, out = sys.argv[1:5]
received = []


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"])).decode()
        received.append((body, {k.lower(): v for k, v in self.headers.items()}))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()


def call(method, path, body=None, content_type="application/json"):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"null")


url = f"http://127.0.0.1:{server.server_port}/hooks"
created = call("POST", f"/v1/organisations/{org}/webhooks", {"url": url, "types": ["organisation"]})
secret = created["secret"]
call("PATCH", f"/v1/organisations/{org}", {"website": "https://www.example.org/webhook-check"},
     "application/merge-patch+json")
for _ in range(200):
    if received:
        break
    time.sleep(0.1)
if not received:
    sys.exit("FAIL: no webhook delivery within 20 s")
body, headers = received[0]
event = Webhook(secret).verify(body, headers)
if event["type"] != "organisation.update" or event["data"]["id"] != org:
    sys.exit(f"FAIL: unexpected event {event}")
try:
    Webhook(secret).verify(body.replace("webhook-check", "webhook-forged"), headers)
    sys.exit("FAIL: a tampered body verified")
except WebhookVerificationError:
    pass
call("DELETE", f"/v1/organisations/{org}/webhooks/{created['webhook']['id']}")
with open(out, "w") as f:
    json.dump({"secret": secret, "body": body, "headers": headers}, f)
print(f"standardwebhooks (Python): the delivery {headers['webhook-id']} verifies, a tampered copy does not")
