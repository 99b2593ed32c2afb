"""The `launch-gate` command: a thin shell over config, runner and reporters.

Exit codes: 0 ready, 1 a check failed, 2 a check could not be verified (or nothing was), 3 ready but a report
could not be written, 4 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from launch_gate import __version__
from launch_gate.errors import ConfigError
from launch_gate.results import ExitCode, GateReport

if TYPE_CHECKING:
    from launch_gate.config import Settings
    from launch_gate.report.interface import Reporter

FLAG_NAMES = {
    "target": "--target",
    "environment": "--environment",
    "timeout": "--timeout",
    "secrets": "--base",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but bad usage exits 4 (our contract) instead of argparse's 2."""

    def error(self, message: str) -> NoReturn:
        # argparse quotes what was given ("invalid choice: 'x'"); values are never echoed, whatever they are
        message = re.sub(r"(invalid (?:choice|[\w ]+ value)): '.*?'( \(|$)", r"\1\2", message)
        self.print_usage(sys.stderr)
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message}\n")


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number of seconds, such as 60") from None
    if number <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return number


def _reporter_table(reporters: Mapping[str, Reporter] | None = None) -> Mapping[str, Reporter]:
    """The file reports `check` offers: the given table, else `launch_gate.report.FILE_REPORTERS`."""
    from launch_gate.report import FILE_REPORTERS

    return FILE_REPORTERS if reporters is None else reporters


def _dest(flag: str) -> str:
    return flag.removeprefix("--").replace("-", "_")


def build_parser(reporters: Mapping[str, Reporter] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(prog="launch-gate", description="Block a deploy that is not launch-ready.")
    parser.add_argument("--version", action="version", version=f"launch-gate {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = commands.add_parser("check", help="run the gate and exit 0 (ready), 1, 2 or 4")
    check.add_argument(
        "--phase", choices=("pre", "post", "all"), default="all", help="which checks (default: all)"
    )
    check.add_argument(
        "--select", type=_csv, default=[], help="only checks whose id starts with one of PREFIX,..."
    )
    check.add_argument("--config", type=Path, help="a launch-gate.toml or pyproject.toml to read instead")
    check.add_argument("--target", help="the canonical URL of the deployment, e.g. https://www.example.com")
    check.add_argument("--environment", help="the environment being deployed, e.g. production or staging")
    check.add_argument("--timeout", type=_positive, help="seconds each check may take (default 60)")
    check.add_argument(
        "--base", metavar="REF", help="git ref secrets.diff compares against (e.g. origin/main)"
    )
    check.add_argument(
        "--history",
        action="store_true",
        help="record the results in the run history ([history] url, else .launch-gate/history.sqlite)",
    )
    for flag, reporter in _reporter_table(reporters).items():
        check.add_argument(flag, type=Path, metavar="PATH", dest=_dest(flag), help=reporter.help)
    check.add_argument(
        "--handover", action="store_true", help="with --summary-md: add the handover pack to the summary"
    )
    loudness = check.add_mutually_exclusive_group()
    loudness.add_argument("-v", "--verbose", action="store_true", help="list every check, passes too")
    loudness.add_argument("-q", "--quiet", action="store_true", help="print the verdict line alone")

    listing = commands.add_parser(
        "list", help="list every check with its id and phase, with the configuration's flows and routes"
    )
    listing.add_argument(
        "--config", type=Path, metavar="FILE", help="read this file, not pyproject.toml/launch-gate.toml"
    )

    demo = commands.add_parser("demo", help="start the bundled demo deployment on loopback, gate it, stop it")
    demo.add_argument(
        "--broken", action="store_true", help="with a set of misconfigurations, to see failures"
    )
    demo.add_argument(
        "--fault", action="append", default=[], metavar="NAME", help="one misconfiguration (repeatable)"
    )
    demo.add_argument("--report-json", type=Path, metavar="PATH", help="write the JSON report here")
    demo.add_argument(
        "--serve",
        action="store_true",
        help="keep the demo running (until Ctrl-C) and print its configuration",
    )
    demo.add_argument(
        "--fault-control",
        action="store_true",
        help="with --serve: switch faults on and off while it runs (POST/DELETE /faults/NAME on 127.0.0.1)",
    )
    demo_loudness = demo.add_mutually_exclusive_group()
    demo_loudness.add_argument("-v", "--verbose", action="store_true", help="list every check, as check -v")
    demo_loudness.add_argument("-q", "--quiet", action="store_true", help="print only the verdict line")

    hook = commands.add_parser(
        "install-hook", help="install a git pre-push hook that scans what you push (launch-gate pre-push)"
    )
    hook.add_argument("--force", action="store_true", help="overwrite an existing pre-push hook")
    init = commands.add_parser(
        "init", help="write a first configuration from what the project shows (docs/init.md)"
    )
    init.add_argument("--target", help="the deployment's canonical URL, e.g. https://www.example.com")
    init.add_argument("--yes", action="store_true", help="ask nothing: take the defaults")
    init.add_argument(
        "--force", action="store_true", help="replace an existing launch-gate configuration (only ours)"
    )
    init.add_argument(
        "--workflow",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="add .github/workflows/launch-gate.yml (default: ask on a terminal, else no)",
    )
    init.add_argument(
        "--nameserver",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="ask this DNS server about the mail domain (repeatable; default: [net] nameservers, else the system's)",
    )
    handover = commands.add_parser(
        "handover", help="write the founder-ready handover pack: who holds what, rollback, risks (Markdown)"
    )
    handover.add_argument("--config", type=Path, help="a launch-gate.toml or pyproject.toml to read instead")
    handover.add_argument(
        "--target", help="the canonical URL of the deployment, e.g. https://www.example.com"
    )
    handover.add_argument("--environment", help="the environment being deployed, e.g. production or staging")
    handover.add_argument(
        "--output", type=Path, metavar="PATH", help="write it here (default: standard output)"
    )
    handover.add_argument(
        "--report-json",
        type=Path,
        metavar="PATH",
        help="the latest gate result from this JSON report, not a run",
    )
    handover.add_argument(
        "--select",
        type=_csv,
        default=[],
        help="run only these post checks, and those the pack reads facts from",
    )
    handover.add_argument("-q", "--quiet", action="store_true", help="no progress or notes on stderr")
    push = commands.add_parser(
        "pre-push",
        help="what the pre-push hook runs: [pre-push] checks on the refs git passes on standard input",
    )
    push.add_argument("remote", nargs="?", help="the remote's name, as git passes it to the hook (unused)")
    push.add_argument("url", nargs="?", help="the remote's URL, as git passes it to the hook (unused)")
    push.add_argument("--config", type=Path, help="a launch-gate.toml or pyproject.toml to read instead")
    push_loudness = push.add_mutually_exclusive_group()
    push_loudness.add_argument("-v", "--verbose", action="store_true", help="list every check, passes too")
    push_loudness.add_argument("-q", "--quiet", action="store_true", help="print the verdict line alone")
    _watch_parsers(commands)
    _load_parser(commands, _reporter_table(reporters))
    return parser


def _watch_parsers(commands: argparse._SubParsersAction[_Parser]) -> None:
    """`watch` and `dashboard` (docs/watch.md)."""
    watch = commands.add_parser(
        "watch",
        help="run the post-deploy checks every interval, record them, alert on incidents (docs/watch.md)",
    )
    watch.add_argument("--config", type=Path, help="a launch-gate.toml or pyproject.toml to read instead")
    watch.add_argument("--target", help="the canonical URL of the deployment, e.g. https://www.example.com")
    watch.add_argument("--interval", type=_positive, help="seconds from one round's start to the next (60)")
    watch.add_argument("--rounds", type=_count, help="stop after N rounds (default: until SIGINT/SIGTERM)")
    board = commands.add_parser("dashboard", help="write the history as one self-contained HTML page")
    board.add_argument("--config", type=Path, help="a launch-gate.toml or pyproject.toml to read instead")
    board.add_argument(
        "--output",
        type=Path,
        metavar="PATH",
        help=f"where to write the HTML page (default: {DASHBOARD}, unless --markdown alone is given)",
    )
    board.add_argument(
        "--markdown",
        metavar="PATH",
        help="write a Markdown summary of the last hours (for a job summary) here; - for standard output",
    )
    board.add_argument(
        "--since",
        type=_window,
        metavar="WINDOW",
        help="with --markdown: how far back, such as 24h (the default), 90m or 7d",
    )


DASHBOARD = Path("launch-gate-dashboard.html")
_WINDOW = re.compile(r"(\d+(?:\.\d+)?) ?(s|m|min|h|d)", re.ASCII)
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86_400}


def _window(value: str) -> float:
    found = _WINDOW.fullmatch(value.strip().lower())
    seconds = float(found[1]) * _UNITS[found[2]] if found else 0.0
    if not 60 <= seconds <= 400 * 86_400:
        raise argparse.ArgumentTypeError("must be a window from 1m to 400d, such as 24h, 90m or 7d")
    return seconds


def _load_parser(commands: argparse._SubParsersAction[_Parser], reporters: Mapping[str, Reporter]) -> None:
    """`load` (docs/load.md): a load profile on Locust, or a k6/Locust run's files, as `load.<profile>` checks."""
    load = commands.add_parser(
        "load", help="run a [load.profiles] profile on Locust and judge it (docs/load.md)"
    )
    load.add_argument("profile", nargs="?", help="the profile's name (default: every profile)")
    load.add_argument("--config", type=Path, help="a launch-gate.toml or pyproject.toml to read instead")
    load.add_argument(
        "--target", help="the canonical URL of the deployment, e.g. https://staging.example.com"
    )
    load.add_argument("--environment", help="the environment being loaded, e.g. staging")
    where = load.add_mutually_exclusive_group()
    where.add_argument("--processes", type=_count, metavar="N", help="a master and N worker processes here")
    where.add_argument("--master", action="store_true", help="wait for --expect-workers workers, then run")
    where.add_argument("--worker", action="store_true", help="be a worker of the master at --master-host")
    where.add_argument(
        "--from-k6", type=Path, metavar="SUMMARY", help="judge a k6 --summary-export JSON file"
    )
    where.add_argument("--from-locust", type=Path, metavar="CSV", help="judge a Locust *_stats.csv file")
    load.add_argument("--expect-workers", type=_count, metavar="N", help="with --master: workers to wait for")
    load.add_argument(
        "--master-bind", metavar="HOST:PORT", help="with --master: where to listen (127.0.0.1:5557)"
    )
    load.add_argument("--master-host", default="127.0.0.1", help="with --worker: the master's address")
    load.add_argument("--master-port", type=int, default=5557, help="with --worker: the master's port (5557)")
    load.add_argument("--output-dir", metavar="DIR", help="where Locust's CSV/HTML and the chart go")
    for flag, reporter in reporters.items():
        load.add_argument(flag, type=Path, metavar="PATH", dest=_dest(flag), help=reporter.help)
    loudness = load.add_mutually_exclusive_group()
    loudness.add_argument("-v", "--verbose", action="store_true", help="list every check, passes too")
    loudness.add_argument("-q", "--quiet", action="store_true", help="print the verdict line alone")


def _count(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError("must be a whole number of rounds, 1 or more")
    return int(value)


def _report(args: argparse.Namespace) -> GateReport:
    from launch_gate.config import load_settings
    from launch_gate.report.progress import progress_for
    from launch_gate.runner import build_plan, make_context, run_plan

    overrides: dict[str, object] = {
        "target": args.target,
        "environment": args.environment,
        "timeout": args.timeout,
    }
    if args.base:
        overrides["secrets"] = {"base": args.base}
    settings = load_settings(config_file=args.config, overrides=overrides, flag_names=FLAG_NAMES)
    plan = build_plan(settings, args.phase, args.select)
    quiet = getattr(args, "quiet", False)
    started = time.time()
    with progress_for(sys.stderr, os.environ, len(plan), quiet) as progress:
        report = run_plan(plan, make_context(settings), args.phase, progress)
    if getattr(args, "history", False) or settings.history.url:
        args.history_problems = _record_history(settings, report, started)
    return replace(report, config=tuple(shown(_relative(path)) for path in settings.sources))


def _relative(path: Path) -> Path:
    """A configuration file as the user would name it: relative to where they ran the command, if inside."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def shown(path: Path | str) -> str:
    """A path as text that any terminal can print (a file name that is not UTF-8 keeps its bytes escaped)."""
    return os.fsdecode(path).encode("utf-8", "backslashreplace").decode("utf-8")


def _write_reports(
    report: GateReport, args: argparse.Namespace, reporters: Mapping[str, Reporter]
) -> list[str]:
    """Write every report asked for; what could not be written, as sentences."""
    problems = []
    for flag, reporter in reporters.items():
        path: Path | None = getattr(args, _dest(flag), None)
        if path is None:
            continue
        try:
            reporter.write(report, path)
        except (OSError, UnicodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            problems.append(
                f"could not write the {reporter.name} ({flag}) to {shown(path)}: {reason}. "
                "Fix the path or its folder."
            )
    return problems


def _publish(report: GateReport, args: argparse.Namespace, reporters: Mapping[str, Reporter]) -> int:
    """The terminal report, then the files, then the verdict line: the last line is the whole truth."""
    from launch_gate.report import PUBLISHERS, terminal

    loudness = terminal.VERBOSE if getattr(args, "verbose", False) else terminal.DEFAULT
    loudness = terminal.QUIET if getattr(args, "quiet", False) else loudness
    sys.stdout.write(terminal.Terminal(terminal.use_color(sys.stdout), False, loudness).format(report))
    sys.stdout.flush()
    problems = _write_reports(report, args, reporters) + getattr(args, "history_problems", [])
    code = int(report.exit_code)
    if problems and code == ExitCode.READY:
        code = ExitCode.REPORT_NOT_WRITTEN
    for publisher in PUBLISHERS:
        if not publisher.applies(os.environ):
            continue
        lines, unwritten = publisher.publish(report, code, os.environ)
        for line in lines:
            print(line)
        problems += unwritten
        code = ExitCode.REPORT_NOT_WRITTEN if unwritten and code == ExitCode.READY else code
    for problem in problems:
        print(f"launch-gate: {problem}", file=sys.stderr)
    print(terminal.verdict_line(report, code, unwritten=len(problems)))
    return code


def _config_error(error: ConfigError) -> int:
    from launch_gate.redact import scrub
    from launch_gate.report import github

    text = scrub(str(error))
    print(f"launch-gate: configuration error: {text}", file=sys.stderr)
    if github.in_actions(os.environ):
        with suppress(OSError):  # the error itself is the news; a missing outputs folder must not hide it
            github.write_outputs(
                {"result": "config-error", "exit-code": str(int(ExitCode.USAGE))}, os.environ
            )
        print(f"::error title=launch-gate configuration::{github.data(text)}")
    return ExitCode.USAGE


def _list_checks(args: argparse.Namespace) -> int:
    from launch_gate.checks import all_checks
    from launch_gate.config import load_settings

    # The configured checks (smoke.<flow>, latency.<route>) come from the settings; a bad file is exit 4.
    for check in all_checks(load_settings(config_file=args.config, require_file=False)):
        print(f"{check.id:<24} {check.phase.value:<5} {check.summary}")
    return ExitCode.READY


def _demo(args: argparse.Namespace) -> int:
    from launch_gate import demo

    faults = set(args.fault) | (set(demo.BROKEN) if args.broken else set())
    unknown = faults - demo.FAULTS
    if unknown:
        raise ConfigError(
            f"unknown --fault {', '.join(sorted(unknown))}; known: {', '.join(sorted(demo.FAULTS))}."
        )
    if args.serve or args.fault_control:
        from launch_gate.demo.control import serve

        return serve(faults, args.fault_control)
    say = (lambda *_, **__: None) if args.quiet else print  # -q: the verdict line alone
    with demo.running(faults) as running:
        say(f"Started the demo deployment of {running.target} on 127.0.0.1 (DNS, SMTP, http and https)")
        if faults:
            say(f"with misconfigurations: {', '.join(sorted(faults))}")
        say(f"Gating it with {running.config}:\n", flush=True)
        argv = ["check", "--phase", "post", "--config", str(running.config)]
        if args.report_json:
            argv += ["--report-json", str(args.report_json)]
        argv += ["--verbose"] if args.verbose else ["--quiet"] if args.quiet else []
        code = main(argv)
        say(running.leftovers())  # flows and security checks clean up after themselves, failed runs too
    say("Stopped the demo deployment.")
    return code


def _record_history(settings: Settings, report: GateReport, started: float) -> list[str]:
    """Write the run to the history; what went wrong, as sentences (the verdict stands either way)."""
    from launch_gate.errors import LaunchGateError
    from launch_gate.history import record_gate
    from launch_gate.redact import scrub

    try:
        record_gate(settings, report, started, time.time(), os.environ)
    except LaunchGateError as exc:
        return [f"could not record the run in the history: {scrub(str(exc))}"]
    return []


def _watch_or_dashboard(args: argparse.Namespace) -> int:
    """`watch` and `dashboard`: a history that cannot be reached is exit 2, said in one sentence."""
    from launch_gate.config import load_settings
    from launch_gate.errors import CouldNotVerify
    from launch_gate.redact import scrub

    overrides: dict[str, object] = {"target": getattr(args, "target", None)}
    if getattr(args, "interval", None):
        overrides["watch"] = {"interval": args.interval}
    settings = load_settings(
        config_file=args.config, overrides=overrides, flag_names={**FLAG_NAMES, "watch": "--interval"}
    )
    try:
        if args.command == "watch":
            from launch_gate.watch import run_watch

            return run_watch(settings, args.rounds, lambda line: print(line, flush=True))
        return _dashboard(args, settings)
    except CouldNotVerify as exc:
        print(f"launch-gate: {scrub(str(exc))}", file=sys.stderr)
        return ExitCode.COULD_NOT_VERIFY


def _dashboard(args: argparse.Namespace, settings: Settings) -> int:
    """The HTML page, the Markdown summary, or both; a summary of a window with nothing in it is exit 2."""
    from launch_gate.dashboard import write_dashboard

    if args.since is not None and args.markdown is None:
        raise ConfigError(
            "--since sets the window of the Markdown summary: add --markdown PATH (- to print it)."
        )
    if args.markdown is None or args.output is not None:
        said = write_dashboard(settings, args.output or DASHBOARD)
        print(said, file=sys.stderr if args.markdown == "-" else sys.stdout)
    if args.markdown is None:
        return ExitCode.READY
    from launch_gate.dashboard.markdown import write_summary

    said, recorded = write_summary(settings, args.markdown, args.since or 86_400.0, os.environ)
    if said:
        print(said)
    if not recorded:
        print(
            "launch-gate: nothing was recorded in the history in that window, so the summary says so: "
            "it is not a pass. Is the watch running, and writing to this history?",
            file=sys.stderr,
        )
        return ExitCode.COULD_NOT_VERIFY
    return ExitCode.READY


def main(argv: Sequence[str] | None = None, reporters: Mapping[str, Reporter] | None = None) -> int:
    """The command; never a traceback: an error of our own is a sentence, and so is a crash (exit 2).
    `reporters` replaces the file-report table (flag -> reporter) `check` offers."""
    try:
        return _main(argv, _reporter_table(reporters))
    except KeyboardInterrupt:
        print("launch-gate: interrupted; nothing was decided.", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: the deploy must not go ahead on it, nor show a traceback
        from launch_gate.redact import scrub

        print(
            f"launch-gate: internal error, the gate could not decide ({type(exc).__name__}: {scrub(str(exc))}). "
            "Please report it with the command you ran.",
            file=sys.stderr,
        )
        return ExitCode.COULD_NOT_VERIFY


def _main(argv: Sequence[str] | None, reporters: Mapping[str, Reporter]) -> int:
    args = build_parser(reporters).parse_args(argv)
    try:
        if args.command == "list":
            return _list_checks(args)
        if args.command == "demo":
            return _demo(args)
        if args.command == "load":
            from launch_gate.load.command import run_load

            return run_load(args, lambda report: _publish(report, args, reporters))
        if args.command in ("watch", "dashboard"):
            return _watch_or_dashboard(args)
        if args.command == "init":
            from launch_gate.scaffold import InitOptions, run_init

            options = InitOptions(args.target, args.yes, args.force, args.workflow, tuple(args.nameserver))
            return run_init(Path.cwd(), options)
        if args.command == "handover":
            from launch_gate.handover import run_handover

            return run_handover(args)
        if args.command == "install-hook":
            from launch_gate.integrations.git_hook import install_hook

            print(install_hook(Path.cwd(), force=args.force))
            return ExitCode.READY
        if args.command == "pre-push":
            from launch_gate.integrations.git_hook import pre_push

            pushed = pre_push(sys.stdin, os.environ, args.config)
            if isinstance(pushed, str):
                print(pushed)
                return ExitCode.READY
            return _publish(pushed, args, reporters)
        if getattr(args, "handover", False):  # check --summary-md PATH --handover
            from launch_gate.handover import with_pack

            reporters = with_pack(reporters, args)
        report = _report(args)
    except ConfigError as error:
        return _config_error(error)
    return _publish(report, args, reporters)
