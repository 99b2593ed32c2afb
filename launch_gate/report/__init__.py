"""Reporters: each turns a GateReport into one output format, passing all text through `redact.scrub`."""
