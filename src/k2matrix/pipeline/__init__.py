"""The whole pipeline under load: producers (Dask workers) -> topic -> consumer sink ->
buffered Iceberg commits (offsets in the snapshot summary) <- a query probe.

Modules: ``offsets`` (exactly-once position in the snapshot summary), ``sink`` (consumer +
buffered writer), ``probe`` (catalog polling, freshness), ``load`` (producer shares on
Dask distributed), ``verify`` (the table against the generated rows), ``run`` (one run),
``bench`` (a run as a rate-search system and as extra_info)."""
