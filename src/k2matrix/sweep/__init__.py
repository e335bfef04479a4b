"""Running a sweep's pytest processes: the one place they are started.

- :mod:`k2matrix.sweep.launch`: starting such a process with its environment and log file,
  following its progress, stopping it on an interrupt;
- :mod:`k2matrix.sweep.status`: the status line that shows how far the processes have come.

It sits above the storage layer (:mod:`k2matrix.results`: where a trial's results and
progress files go) and below the plugin and the commands that run sweeps.
"""
