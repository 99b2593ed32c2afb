"""`launch-gate init`: a first configuration from what the project shows (its example env file or settings
class, its front-end build tool, its requirements, its mail provider's DNS), written without harming the
user's files. `command` is the shell; the other modules read the project (`tree`, `pysource`, `frameworks`,
`settings_classes`, `envplan`, `bundles`, `deps`, `mail`), format (`render`, `workflow`) and write (`files`)."""

from launch_gate.scaffold.command import InitOptions, project_root, run_init

__all__ = ["InitOptions", "project_root", "run_init"]
