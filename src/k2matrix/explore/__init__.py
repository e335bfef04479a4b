"""``k2matrix explore``: Hypothesis searches a property's workload space for performance
counterexamples, shrinks them and confirms them over trials. space.py (strategies; drawn
examples as cells), relation.py (metrics, evaluation, confirmation by the comparison
statistics), search.py (the Hypothesis driver), runner.py (real cells in-process; trials in
fresh processes), store.py (the run directory, replayable cells, the example database),
picture.py, render.py, session.py (one exploration, from plain values to its report; the
command, k2matrix.commands.explore, renders it)."""
