"""Running a sweep's pytest processes: the one place their command is built and the one
place they are started.

- :mod:`k2matrix.sweep.command`: :class:`~k2matrix.sweep.command.SweepCommand`, the pytest
  command of a sweep (``k2matrix run``, an explore example, a trial of ``--k2-trials``, a
  side of ``k2matrix ab``, the session re-run under callgrind), as the arguments of
  ``pytest.main`` or as the argv of a fresh process;
- :mod:`k2matrix.sweep.launch`: starting such a process with its environment and log file,
  following its progress, stopping it on an interrupt;
- :mod:`k2matrix.sweep.status`: the status line that shows how far the processes have come.

It sits above the storage layer (:mod:`k2matrix.results`: where a trial's results and
progress files go) and below the plugin and the commands that run sweeps.
"""
