"""Bad input for a deployment's API (`security.inputs`): requests that schemathesis generates from the app's
OpenAPI document (`openapi.py`), or a fixed set of malformed bodies for declared JSON endpoints
(`malformed.py`). A 5xx, an answer that breaks the document, or a stack trace in a body is a wrong answer;
each names its operation and a redacted curl command that repeats it (`curl.py`). Every request goes
through the gate's HTTP settings and counts against one budget of requests and seconds (`tally.py`).

schemathesis is the optional `api` extra: without it, a configured document is a configuration error that
says how to install it.
"""

from launch_gate.apiprobe.openapi import MISSING_EXTRA, ApiExtraMissing
from launch_gate.apiprobe.run import NOT_CONFIGURED, probe_inputs

__all__ = ["MISSING_EXTRA", "NOT_CONFIGURED", "ApiExtraMissing", "probe_inputs"]
