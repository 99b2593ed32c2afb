"""An example of a third-party launch-gate check package."""
