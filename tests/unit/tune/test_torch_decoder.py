"""The training decoder computes what the exported graph computes: the numpy reference's logits."""

from __future__ import annotations

import numpy as np
import pytest

from support.tiny_model import TinySpec

torch = pytest.importorskip("torch", reason="the tune extra (pip install 'ghostwright[tune]') is not installed")


@pytest.mark.parametrize(("spec", "kind"), [
    (TinySpec(), "hf"),
    (TinySpec(architecture="qwen2", tie=False, seed=3), "gguf:F32"),
    (TinySpec(architecture="mistral", sliding_window=5, seed=4), "hf"),
])
def test_torch_decoder_matches_the_numpy_reference(tiny_sources, spec: TinySpec, kind: str) -> None:
    from ghostwright.export.bundle import read_source
    from ghostwright.export.reference import forward
    from ghostwright.tune.torch_decoder import TorchDecoder

    source = read_source(tiny_sources(spec, kind))
    weights = {name: source.load_tensor(name) for name in source.required_tensors()}
    ids = [3, 17, 42, 8, 99, 5, 23, 61, 7, 2, 11]
    expected = forward(source.config, weights, ids)
    model = TorchDecoder(source.config, source.load_tensor)
    with torch.no_grad():
        got = model(torch.tensor([ids])).numpy()[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_a_packed_row_equals_its_examples_run_alone(tiny_sources) -> None:
    from ghostwright.export.bundle import read_source
    from ghostwright.tune.torch_decoder import TorchDecoder

    source = read_source(tiny_sources(TinySpec(), "hf"))
    model = TorchDecoder(source.config, source.load_tensor)
    first, second = [5, 9, 14, 2], [7, 7, 30, 12, 40]
    with torch.no_grad():
        packed = model(torch.tensor([first + second]), torch.tensor([[0] * 4 + [1] * 5]))[0]
        alone = torch.cat([model(torch.tensor([first]))[0], model(torch.tensor([second]))[0]])
    torch.testing.assert_close(packed, alone, rtol=1e-5, atol=1e-5)


def test_the_prompt_run_without_a_graph_gives_the_same_loss_and_still_trains(tiny_sources) -> None:
    from ghostwright.export.bundle import read_source
    from ghostwright.tune.torch_decoder import TorchDecoder, masked_loss
    from ghostwright.tune.train import TrainSettings, adapt

    source = read_source(tiny_sources(TinySpec(), "hf"))
    model = adapt(TorchDecoder(source.config, source.load_tensor), TrainSettings())
    ids = torch.tensor([[5, 9, 14, 2, 7, 7, 30, 12, 40, 3, 8]])
    segments = torch.tensor([[0] * 4 + [1] * 7])
    targets = torch.full_like(ids, -100)
    targets[0, 8:] = torch.tensor([3, 8, 1])
    with torch.no_grad():
        whole = torch.nn.functional.cross_entropy((model(ids, segments)[0, 8:]), targets[0, 8:], reduction="sum")
    split, count = masked_loss(model, ids, targets, segments)
    assert count == 3
    torch.testing.assert_close(split.detach(), whole, rtol=1e-5, atol=1e-5)
    split.backward()
    grads = [p.grad for name, p in model.named_parameters() if "lora_B" in name]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0
