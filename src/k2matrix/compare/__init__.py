"""Comparisons that hold on a noisy machine: statistics over trials (:mod:`.statistics`),
a run's trials (:mod:`.trials`), the measured noise floor (:mod:`.noise`), two runs
compared cell by cell (:mod:`.runs`) and their rendering (:mod:`.render`); the ``compare``
command is :mod:`k2matrix.commands.compare`."""
