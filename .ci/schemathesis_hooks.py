"""Schemathesis hooks for .ci/run.

Idempotency-Key: the API replays the first response to a key and refuses the same key with
another body (422), as documented. A fuzzer that reuses short generated keys for different
bodies would hit that rule on purpose-free requests, so every well-formed key is replaced by
a fresh UUID, as real clients are told to do. Malformed keys are left alone, so that their
rejection (400) is still tested. tests/api/idempotency.rs covers reuse itself.
"""

import re
import uuid

import schemathesis

WELL_FORMED = re.compile(r"^[\x21-\x7e]{1,255}$")


@schemathesis.hook
def map_case(context, case):
    headers = case.headers
    if headers:
        for name in list(headers):
            if name.lower() == "idempotency-key" and isinstance(headers[name], str) and WELL_FORMED.match(headers[name]):
                headers[name] = str(uuid.uuid4())
    return case
