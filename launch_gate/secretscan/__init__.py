"""Secret scanning: detect-secrets' detectors and filters, run only where a secret could be.

`detector` is the one adapter over detect-secrets (its global settings never leak past it); `engine` reads
files, finds candidate lines cheaply and spreads the work over cores; `sources` says which files to scan.
"""
