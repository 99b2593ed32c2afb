"""Where launch-gate meets the tools around it: the git pre-push hook and the GitHub Action's script."""
