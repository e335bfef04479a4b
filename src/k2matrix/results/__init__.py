"""The results store: per-worker journals, merged pytest-benchmark JSON, run metadata."""

FORMAT_VERSION = 1
