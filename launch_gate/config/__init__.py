"""What the gate is told: `settings` finds, layers and validates the configuration (files, `LAUNCH_GATE_*`
variables, flags); `schema` holds the models of its tables. Import the loader from here."""

from launch_gate.config.settings import (
    CONFIG_NAMES,
    ENV_PREFIX,
    PRODUCTION_NAMES,
    CheckSetting,
    Settings,
    interpreter,
    load_settings,
    model_at,
)

__all__ = [
    "CONFIG_NAMES",
    "ENV_PREFIX",
    "PRODUCTION_NAMES",
    "CheckSetting",
    "Settings",
    "interpreter",
    "load_settings",
    "model_at",
]
