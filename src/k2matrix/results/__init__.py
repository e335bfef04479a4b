"""The results store: one typed record per finished cell (``record``), per-worker journals
(``journal``), run metadata (``meta``), the merged pytest-benchmark document
(``document``), finishing a run on disk (``store``) and the one compatibility rule with
``k2matrix merge`` (``merge``). JSON files are read and written by ``jsonfile``."""

FORMAT_VERSION = 1
