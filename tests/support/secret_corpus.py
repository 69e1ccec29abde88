"""The secret-redaction corpus (tests/unit/server/data/secrets): loading and scoring.

Each sample is one line, ``family<TAB>text``: ``↵`` stands for a newline, and in true
positives each secret value is marked ``«like this»`` (markers removed from the text).
Recall is the fraction of true positives whose every value is gone after redaction; the
false-positive rate is the fraction of false positives that redaction changes at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "unit" / "server" / "data" / "secrets"


@dataclass(frozen=True)
class Sample:
    family: str  # the rule family (gitleaks' names, roughly) or the kind of false positive
    text: str  # the text as redact() sees it
    secrets: tuple[str, ...] = ()  # values that must not survive (true positives only)


@dataclass
class Score:
    recall: float  # true positives fully redacted / true positives
    fp_rate: float  # false positives changed / false positives
    missed: list[Sample] = field(default_factory=list)
    changed: list[Sample] = field(default_factory=list)


def load(name: str) -> list[Sample]:
    """The samples of ``CORPUS/<name>.txt`` (comment lines start with ``#``)."""
    samples = []
    for line in (CORPUS / f"{name}.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        family, text = line.split("\t", 1)
        text = text.replace("↵", "\n")
        secrets = tuple(re.findall(r"«(.*?)»", text, re.S))
        samples.append(Sample(family, text.replace("«", "").replace("»", ""), secrets))
    return samples


def score(redact: Callable[[str], str], true_positives: list[Sample], false_positives: list[Sample]) -> Score:
    missed = [s for s in true_positives if any(v in redact(s.text) for v in s.secrets)]
    changed = [s for s in false_positives if redact(s.text) != s.text]
    return Score(1 - len(missed) / len(true_positives), len(changed) / len(false_positives), missed, changed)
