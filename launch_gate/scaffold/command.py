"""`launch-gate init`: look at the project, ask what only the user knows (on a terminal), write a commented
configuration that passes its first `check --phase pre` without edits, and say what it wrote and what next."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from launch_gate import __version__
from launch_gate.config import load_settings
from launch_gate.config.schema import URL_SHAPE, usable_url
from launch_gate.errors import ConfigError
from launch_gate.net.addresses import is_address, parse_nameserver
from launch_gate.results import ExitCode
from launch_gate.rules.dotenv import declared_in
from launch_gate.scaffold import bundles, deps, envplan, files, frameworks, mail, workflow
from launch_gate.scaffold.render import Plan, comment, render

NEXT = "launch-gate check --phase pre"


@dataclass(frozen=True)
class InitOptions:
    """What the command line said; `workflow` None: ask on a terminal (default no)."""

    target: str | None = None
    yes: bool = False
    force: bool = False
    workflow: bool | None = None
    nameservers: tuple[str, ...] = ()


def project_root(cwd: Path) -> Path:
    """The repository root (the nearest directory up holding `.git`), else `cwd`."""
    cwd = cwd.resolve()
    return next((d for d in (cwd, *cwd.parents) if (d / ".git").exists()), cwd)


def run_init(
    cwd: Path,
    options: InitOptions,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """The command: 0 when it wrote the configuration, 4 (with one sentence) when it would not or could not."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    try:
        return _run(cwd, options, _Terminal(stdin, stdout, options.yes))
    except ConfigError as exc:
        print(f"launch-gate init: {comment(str(exc))}", file=stderr)
        return ExitCode.USAGE


class _Terminal:
    """Questions on a terminal; with `--yes` or no terminal, every answer is the default."""

    def __init__(self, stdin: TextIO, stdout: TextIO, yes: bool) -> None:
        self.stdin, self.out = stdin, stdout
        try:
            self.interactive = not yes and stdin.isatty()
        except (ValueError, OSError):  # a closed stdin
            self.interactive = False

    def ask(self, question: str) -> str:
        self.out.write(question)
        self.out.flush()
        try:
            line = self.stdin.readline()
        except (OSError, ValueError, UnicodeDecodeError):
            line = ""
        if not line:
            self.out.write("\n")
        return line.strip()

    def say(self, text: str = "") -> None:
        print(text, file=self.out)


def _validated(options: InitOptions) -> None:
    if options.target is not None and not usable_url(options.target):
        raise ConfigError(f"--target {URL_SHAPE}.")
    ports = {parse_nameserver(n)[1] for n in options.nameservers}  # a ConfigError that names the shape
    if len(ports) > 1:
        raise ConfigError("all --nameserver entries must use the same port.")


def _target(options: InitOptions, term: _Terminal) -> str | None:
    if options.target is not None or not term.interactive:
        return options.target
    for _ in range(3):
        answer = term.ask("The deployment's URL, e.g. https://www.example.com (Enter to leave it out): ")
        if not answer or usable_url(answer):
            return answer or None
        term.say(f"That is not a usable URL: it {URL_SHAPE}.")
    term.say("No target then; set `target` in the configuration later.")
    return None


def _wants_workflow(options: InitOptions, term: _Terminal, exists: bool) -> bool:
    if options.workflow is not None:
        return options.workflow
    if not term.interactive or (exists and not options.force):
        return False
    answer = term.ask(f"Add a GitHub Actions workflow at {workflow.WORKFLOW.as_posix()}? [y/N]: ")
    return answer.lower() in ("y", "yes")


def _nameservers(root: Path, options: InitOptions) -> list[str]:
    """--nameserver, else the configuration's and LAUNCH_GATE_* [net] nameservers, else the system's."""
    if options.nameservers:
        return list(options.nameservers)
    try:
        return list(load_settings(cwd=root, require_file=False).net.nameservers)
    except ConfigError:
        return []


def _variables(root: Path, plan: envplan.EnvPlan) -> list[str]:
    if plan.example_file:
        try:
            return declared_in((root / plan.example_file).read_bytes().decode("utf-8-sig"))
        except (OSError, ValueError):
            return []
    return plan.required


def _run(cwd: Path, options: InitOptions, term: _Terminal) -> int:
    _validated(options)
    root = project_root(cwd)
    pyproject = files.read_pyproject(root)
    dest = files.choose(root, pyproject, options.force)
    workflow_path = root / workflow.WORKFLOW
    workflow_exists = workflow_path.exists() or workflow_path.is_symlink()
    if options.workflow and workflow_exists and not options.force:
        raise ConfigError(
            f"{workflow_path} already exists; init never overwrites it: run with --force to replace it, or "
            "leave out --workflow."
        )
    sources = frameworks.python_sources(root)
    env, apps = envplan.plan(root, sources)
    django = next((a for a in apps if a.framework == "Django"), None)
    found_bundles = bundles.find(root, *((django.static_root, django.static_file) if django else (None,)))
    target = _target(options, term)
    nameservers = _nameservers(root, options)
    host = urlsplit(target).hostname or "" if target else ""
    mail_plan = mail.detect(host, nameservers) if "." in host and not is_address(host) else None
    plan = Plan(
        env,
        found_bundles,
        deps.plan(root, pyproject),
        target,
        mail_plan,
        list(options.nameservers),
        __version__,
        [django.static_note] if django and django.static_note else [],
    )
    add_workflow = _wants_workflow(options, term, workflow_exists)
    _write_config(root, dest, plan)
    written = [_described(dest, cwd)]
    if add_workflow:
        written.append(_write_workflow(workflow_path, _variables(root, env), target))
    _report(term, written, plan, add_workflow)
    return ExitCode.READY


def _described(dest: files.Destination, cwd: Path) -> str:
    """What was written, the file named as the user would from where they are."""
    here = cwd.resolve()
    shown = str(dest.path.relative_to(here)) if dest.path.is_relative_to(here) else str(dest.path)
    if dest.in_pyproject:
        verb = "replaced [tool.launch-gate] in" if dest.replacing else "appended [tool.launch-gate] to"
        return f"{verb} {shown}"
    return f"{'replaced' if dest.replacing else 'wrote'} {shown}"


def _write_config(root: Path, dest: files.Destination, plan: Plan) -> None:
    text = files.new_text(dest, render(plan, dest.in_pyproject))
    files.write(dest, text)
    try:
        load_settings(cwd=root, config_file=dest.path, environ={})
    except ConfigError as exc:  # a bug of ours: the user's file must not be left holding it
        files.restore(dest)
        raise ConfigError(
            f"the configuration init wrote would not load ({exc}), so it was taken back; please report it."
        ) from None


def _write_workflow(path: Path, variables: list[str], target: str | None) -> str:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(workflow.render(variables, target), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"wrote the configuration, but cannot write {path}: {exc.strerror or type(exc).__name__}."
        ) from None
    return f"wrote {workflow.WORKFLOW.as_posix()}"


def _report(term: _Terminal, written: list[str], plan: Plan, add_workflow: bool) -> None:
    term.say(f"launch-gate init: {'; '.join(written)}. Found:")
    for line in plan.found():
        term.say(f"  - {line}")
    unbuilt = [b.directory for b in plan.bundles if not b.exists]
    if unbuilt:
        term.say(
            f"Not built yet: {', '.join(unbuilt)}; its bundle-dirs line is commented out, so the first run does "
            "not stop on it: uncomment it once the build runs before the gate."
        )
    if plan.env.example_file or plan.env.required:
        term.say(
            "env.required fails until the deploy's variables are set: run the pre phase where the deploy runs "
            "(with its secrets), or expect that failure on this machine."
        )
    if add_workflow:
        term.say(
            f"In {workflow.WORKFLOW.as_posix()}, replace the placeholder commit SHA of launch-gate/launch-gate "
            "with the release's (see the comment at its top), and add the variables as the environment's secrets."
        )
    term.say(f"Next: {NEXT}")
