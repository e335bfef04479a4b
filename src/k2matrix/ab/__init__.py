"""A/B in one job: the two sides' trials interleaved on one machine (:mod:`.run`), each
side named by a SPEC (:mod:`.spec`), the job checked, prepared and compared (:mod:`.job`);
the commands ``k2matrix ab`` and ``k2matrix noise`` are in :mod:`k2matrix.commands`."""
