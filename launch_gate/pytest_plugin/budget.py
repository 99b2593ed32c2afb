"""The `latency_budget` marker: call a test's body many times, one sample each, and judge p95/p99/error rate."""

from __future__ import annotations

import json
import time

import pytest

from launch_gate.net.prober import percentile
from launch_gate.pytest_plugin.options import LATENCY_PROPERTY


def measure_budget(item: pytest.Function, marker: pytest.Mark) -> None:
    """Call the test body `warmup + samples` times, one after another; each call is one sample (a call that
    raises is an error). Fails when p95/p99/error rate are over budget; every call failing is inconclusive."""
    __tracebackhide__ = True

    options = {
        "p95_ms": 300.0,
        "p99_ms": None,
        "error_rate": 0.01,
        "samples": 30,
        "warmup": 1,
        **marker.kwargs,
    }
    unknown = set(options) - {"p95_ms", "p99_ms", "error_rate", "samples", "warmup"}
    if unknown or marker.args or int(options["samples"] or 0) < 1:
        raise pytest.UsageError(
            f"{item.nodeid}: latency_budget takes keyword arguments p95_ms, p99_ms, error_rate, samples, warmup "
            f"with samples >= 1 (got {', '.join(sorted(unknown)) or 'positional arguments or samples < 1'})"
        )
    samples, warmup = int(options["samples"]), int(options["warmup"])
    arguments = {name: item.funcargs[name] for name in item._fixtureinfo.argnames}
    times: list[float] = []
    first_error: BaseException | None = None
    errors = 0
    for n in range(warmup + samples):
        started = time.perf_counter()
        try:
            item.obj(**arguments)
        except Exception as exc:  # a failed assertion too: that call is an error sample
            if n >= warmup:
                errors += 1
                first_error = first_error or exc
        if n >= warmup:
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    figures = {"samples": samples, "errors": errors, "p50_ms": round(percentile(times, 50), 2),
               "p95_ms": round(percentile(times, 95), 2), "p99_ms": round(percentile(times, 99), 2),
               "budget_p95_ms": options["p95_ms"]}  # fmt: skip
    item.user_properties.append((LATENCY_PROPERTY, json.dumps(figures)))
    line = f"p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, " \
        f"errors {errors} of {samples}"  # fmt: skip
    if errors == samples:
        pytest.fail(f"could not measure: every call failed ({type(first_error).__name__}: {first_error})",
                    pytrace=False)  # fmt: skip
    over = []
    if figures["p95_ms"] > float(options["p95_ms"]):
        over.append(f"p95 {figures['p95_ms']:.0f} ms is over its {options['p95_ms']:g} ms budget")
    if options["p99_ms"] is not None and figures["p99_ms"] > float(options["p99_ms"]):
        over.append(f"p99 {figures['p99_ms']:.0f} ms is over its {options['p99_ms']:g} ms budget")
    if errors / samples > float(options["error_rate"]):
        over.append(
            f"{errors} of {samples} calls failed (first: {type(first_error).__name__}: {first_error})"
        )
    if over:
        pytest.fail("; ".join(over) + f" ({line})", pytrace=False)
