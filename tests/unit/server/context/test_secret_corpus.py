"""The redaction corpus: recall and false-positive rate over fake secrets of every family
gitleaks' rules cover, and over text that only looks like secrets (data/secrets/README.md)."""

from __future__ import annotations

import pytest

from ghostwright.server.context.secret_patterns import redact_patterns
from ghostwright.server.context.secret_scan import redact_lines, secret_values
from ghostwright.server.context.secrets import PLACEHOLDER, redact
from support.secret_corpus import load, score

# (true positives, false positives, least recall, most false-positive rate): what we achieve,
# less a sample or two of slack.
SETS = [
    ("true_positives", "false_positives", 0.97, 0.03),
    ("heldout_true_positives", "heldout_false_positives", 0.90, 0.05),
]


@pytest.mark.parametrize(("tp", "fp", "min_recall", "max_fp"), SETS)
def test_recall_and_false_positives(tp: str, fp: str, min_recall: float, max_fp: float) -> None:
    result = score(redact, load(tp), load(fp))
    print(f"{tp}: recall {result.recall:.3f}, false-positive rate {result.fp_rate:.3f}")
    missed = [f"{s.family}: {s.text}" for s in result.missed]
    changed = [f"{s.family}: {s.text}" for s in result.changed]
    assert result.recall >= min_recall, missed
    assert result.fp_rate <= max_fp, changed


def test_detect_secrets_finds_what_our_patterns_miss() -> None:
    tps = load("true_positives") + load("heldout_true_positives")
    fps = load("false_positives") + load("heldout_false_positives")
    patterns, both = score(redact_patterns, tps, fps), score(redact, tps, fps)
    assert both.recall > patterns.recall
    assert both.fp_rate <= patterns.fp_rate + 0.02


def test_redaction_is_idempotent_over_the_corpus() -> None:
    for sample in load("true_positives") + load("false_positives"):
        once = redact(sample.text)
        assert redact(once) == once, sample.text


@pytest.mark.parametrize(
    ("line", "found"),
    [
        ('api_key = "a8f5f167f44f4964e6c998dee827110c"', True),  # hex, with a secret word
        ('sha = "a8f5f167f44f4964e6c998dee827110c"', False),  # hex, a digest
        ('request_id = "9af5cba8-6f85-483a-8b4c-9dae312dac38"', False),  # a UUID, not its last group
        ("x = compute(a, b)", False),  # eager search reports low-entropy words: limit applied
        ('password = "changeme"', False),  # a placeholder
        ("server = '93.184.216.34'", False),  # public IPs are not credentials
    ],
)
def test_scan_findings(line: str, found: bool) -> None:
    assert bool(secret_values(line)) is found


def test_scan_replaces_the_value_not_its_letters() -> None:
    assert redact_lines('password = "pass123a"; passes = 1') == f'password = "{PLACEHOLDER}"; passes = 1'


def test_certificates_and_public_keys_are_left_alone() -> None:
    body = "MIIB" + "kq3Zx9Lw0Pa7Rb2Tc5Ud8Ve1Wf4Xg6Yh" * 2
    cert = f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"
    assert redact(cert) == cert
