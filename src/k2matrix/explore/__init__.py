"""``k2matrix explore``: searches a property's workload space for performance
counterexamples, measures each violation again before it counts, shrinks one and confirms
it over trials. space.py (positions on each dimension; drawn examples as cells), sampler.py
(the draws: Sobol, log-uniform over integer ranges; steps), budget.py (the split and the
ledger), search.py (measuring, repeats, noise, the search, the example database),
shrink.py (bisection toward the simplest example), relation.py (metrics, evaluation,
confirmation by the comparison statistics), runner.py (real cells in-process; one trial per
fresh process), store.py (the run directory, replayable cells, the example database),
picture.py, render.py, session.py (one exploration, from plain values to its report; the
command, k2matrix.commands.explore, renders it)."""
