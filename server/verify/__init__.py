"""Everything that runs model-written code, and the judging of it.

``sandbox`` (with ``sandbox_launcher`` beside it) is the only way code the model wrote is
executed; it fails closed. ``examples`` reads the examples a docstring gives,
``doctest_check`` runs a candidate against them (``example_runner`` is the program inside the
sandbox), ``probe_inputs`` and ``candidate_choice`` pick among candidates that all pass.
"""
