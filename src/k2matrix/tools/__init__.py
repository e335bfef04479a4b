"""Stand-alone command-line tools (``python -m k2matrix.tools.NAME``)."""
