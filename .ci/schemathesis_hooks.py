"""Schemathesis hooks for .ci/run.

Idempotency-Key: the API replays the first response to a key and refuses the same key with
another body (422), as documented. A fuzzer that reuses short generated keys for different
bodies would hit that rule on purpose-free requests, so every well-formed key is replaced by
a fresh UUID, as real clients are told to do. Malformed keys are left alone, so that their
rejection (400) is still tested. tests/api/idempotency.rs covers reuse itself.
"""

import os
import random
import re
import uuid

import schemathesis

WELL_FORMED = re.compile(r"^[\x21-\x7e]{1,255}$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@schemathesis.hook
def map_case(context, case):
    headers = case.headers
    if headers:
        for name in list(headers):
            if name.lower() == "idempotency-key" and isinstance(headers[name], str) and WELL_FORMED.match(headers[name]):
                headers[name] = str(uuid.uuid4())
    return use_known_ids(case)


# Known ids (from the demo data, passed by .ci/run), so that generated requests also reach
# the code behind a valid organiser or event instead of stopping at 404.
ORGANISATIONS = [o for o in os.environ.get("VOV_FUZZ_ORGANISATIONS", "").split(",") if o]
EVENTS = [e for e in os.environ.get("VOV_FUZZ_EVENTS", "").split(",") if e]
RANDOM = random.Random(2026)


def use_known_ids(case):
    if ORGANISATIONS and case.method == "POST" and case.path == "/v1/events" and isinstance(case.body, dict):
        if "organiser_id" in case.body and RANDOM.random() < 0.7:
            case.body["organiser_id"] = RANDOM.choice(ORGANISATIONS)
    params = case.path_parameters
    # Only a well-formed id is swapped: a malformed one is a negative case and stays so.
    # (Solutions and challenges are not swapped: the fuzzing facilitator may delete them, and
    # the stateful phase reaches them through the ids their POSTs answer.)
    if (
        EVENTS
        and params
        and isinstance(params.get("id"), str)
        and UUID.match(params["id"])
        and case.path.startswith("/v1/events/{id}")
        and RANDOM.random() < 0.7
    ):
        params["id"] = RANDOM.choice(EVENTS)
    return case


# The fuzzing account (the facilitator, passed by .ci/run) must live through the run: once it
# is deleted, or its password changed, every later request is a 401 that tests nothing.
# Deleting people and changing passwords stay fuzzed on everyone else; tests/api covers
# deleting oneself and changing one's own password.
ME = os.environ.get("VOV_FUZZ_ME", "")
SELF_ENDING = {("DELETE", "/v1/people/{id}"), ("PUT", "/v1/people/{id}/password")}
NOBODY = "00000000-0000-7000-8000-000000000000"


@schemathesis.hook
def before_call(context, case, kwargs):
    params = case.path_parameters
    if ME and params and params.get("id") == ME and (case.method.upper(), case.path) in SELF_ENDING:
        params["id"] = NOBODY
