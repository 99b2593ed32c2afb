"""Pure rules several layers share (no I/O): what a placeholder looks like."""
