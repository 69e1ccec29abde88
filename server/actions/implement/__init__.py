"""Implement from docstring: verified NL→code.

A function whose body is empty, ``pass``, ``...`` or a TODO gets a body written from its
signature and docstring (or the comment above it). Several candidates are decoded in two
prompt shapes (restating the function, or continuing the user's stub) — greedy first, then
sampled with fixed seeds; one that restates the function but stops before its body is resumed
from its docstring — and the docstring's own examples (see :mod:`ghostwright.server.verify.doctest_check`) run against
each in the sandbox, then probe inputs near them (see :mod:`ghostwright.server.verify.candidate_choice`). The winner
passes the most examples (all of them, ideally; one that special-cases them passes none), ties
broken by how much the other decodes agree with it on the probes, then by the model's mean
log-probability. The result says what was verified ("3/3 examples pass"), and the log keeps
every candidate's evidence. When the docstring has examples and no candidate passes any of
them, nothing is applied: the action says so instead.

Modules: ``action`` (offer, run, choose), ``prompts`` (the two prompt shapes), ``candidates``
(temperature schedule, decoding, ranking), ``answer`` (an answer as edits, and what the sandbox
loads to check it).
"""

from ghostwright.server.actions.implement.action import DEFAULT_SAMPLES, ID, KIND, offers, run

__all__ = ["DEFAULT_SAMPLES", "ID", "KIND", "offers", "run"]
