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


def test_bfloat16_matmuls_give_nearly_the_float32_loss_and_gradients_in_float32(tiny_sources) -> None:
    """bf16 autocast is a speed choice, not a different objective: the loss stays within bf16's
    rounding of the float32 one, and what the optimizer steps (the adapter's gradients) is float32."""
    from ghostwright.export.bundle import read_source
    from ghostwright.tune.torch_decoder import TorchDecoder, masked_loss
    from ghostwright.tune.train import TrainSettings, adapt, matmul_precision

    source = read_source(tiny_sources(TinySpec(), "hf"))
    model = adapt(TorchDecoder(source.config, source.load_tensor), TrainSettings())
    ids = torch.tensor([[5, 9, 14, 2, 7, 7, 30, 12, 40, 3, 8]])
    targets = torch.full_like(ids, -100)
    targets[0, 4:] = torch.tensor([*ids[0, 5:].tolist(), 1])
    segments = torch.zeros_like(ids)
    with torch.no_grad():
        exact, _ = masked_loss(model, ids, targets, segments)
    with matmul_precision(True):
        rounded, count = masked_loss(model, ids, targets, segments)
    assert rounded.dtype == torch.float32 and count == 7
    torch.testing.assert_close(rounded.detach(), exact, rtol=0.02, atol=0.02)
    rounded.backward()
    grads = [p.grad for name, p in model.named_parameters() if "lora_B" in name]
    assert grads and all(g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads)


def test_precision_settings() -> None:
    from ghostwright.tune.train import TrainSettings, native_bf16

    assert TrainSettings(precision="bf16").bf16 and not TrainSettings(precision="fp32").bf16
    assert TrainSettings().bf16 == native_bf16()
    with pytest.raises(ValueError, match="precision"):
        _ = TrainSettings(precision="fp8").bf16
