"""Load tests on Locust: `[load.profiles.<name>]` as weighted journeys of smoke-flow steps, run headless in a
child process (Locust monkey-patches with gevent, which the gate's own process must never see), on one core,
on every core, or across machines; and the readers that turn a k6 or Locust run into the same figures.

`spec` builds what a run needs from the settings, `worker` is the child (the only module that imports
Locust), `runner` starts and watches the children, `readers` reads results and other tools' files, `budgets`
judges the figures, `chart` draws p95 over time. The checks are in `launch_gate/checks/load.py`.
"""

from __future__ import annotations

__all__: list[str] = []
