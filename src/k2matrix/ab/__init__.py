"""A/B in one job: the two sides' trials interleaved on one machine (:mod:`.run`), each
side named by a SPEC (:mod:`.spec`); ``k2matrix ab`` and ``k2matrix noise``
(:mod:`.command`)."""
