"""Create onnxruntime sessions: providers, threads, and quiet failure of CUDA.

onnxruntime-gpu lists CUDA as "available" even where the CUDA libraries are missing; it
then logs an error and silently runs on CPU. We ask, then check what we actually got.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import onnxruntime as ort

from ghostwright.errors import EngineError
from ghostwright.inference.resident_memory import page_out_files

log = logging.getLogger(__name__)


def physical_cores() -> int:
    """Physical cores (not hyper-threads): the right intra-op thread count for matmuls."""
    try:
        cores = set()
        physical = core = None
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("physical id"):
                    physical = line.split(":")[1].strip()
                elif line.startswith("core id"):
                    core = line.split(":")[1].strip()
                elif not line.strip() and core is not None:
                    cores.add((physical, core))
                    physical = core = None
        if cores:
            affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else len(cores)
            return max(1, min(len(cores), affinity))
    except OSError:
        pass
    return max(1, (os.cpu_count() or 2) // 2)


_cuda_probe: bool | None = None


def _probe_model() -> bytes:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "probe",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)], ir_version=10).SerializeToString()


def cuda_usable() -> bool:
    """Whether a CUDA session really starts here (cached): "available" is not enough."""
    global _cuda_probe
    if _cuda_probe is None:
        _cuda_probe = False
        if "CUDAExecutionProvider" in ort.get_available_providers():
            ort.set_default_logger_severity(4)  # the failed library load logs an ERROR: keep it quiet
            try:
                options = ort.SessionOptions()
                options.log_severity_level = 4
                session = ort.InferenceSession(_probe_model(), options,
                                               providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
                _cuda_probe = "CUDAExecutionProvider" in session.get_providers()
            except Exception:
                _cuda_probe = False
            finally:
                ort.set_default_logger_severity(2)
        log.info("CUDA %s", "usable" if _cuda_probe else "not usable; running on CPU")
    return _cuda_probe


def create_session(model_path: Path, device: str, threads: int | None = None) -> tuple[ort.InferenceSession, str]:
    """A session on ``device`` (cpu | cuda), and the device it really runs on."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or physical_cores()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Worker threads spin while a step runs (a decode step is ~300 small kernels: waking sleeping
    # threads for each cost 15% of int4 decode speed) and stop the moment the last run returns,
    # so an idle server takes no CPU from the editor it shares the machine with.
    options.add_session_config_entry("session.intra_op.allow_spinning", "1")
    options.add_session_config_entry("session.force_spinning_stop", "1")
    # No arena: onnxruntime's keeps the largest activations any request needed (a 512-token
    # prefill's) for the life of the session, per tier; freed to the C heap instead, they can be
    # returned to the system (inference/resident_memory.py). Measured: -72 MB after 80 requests, +4% on a
    # first token, decode unchanged.
    options.enable_cpu_mem_arena = False
    options.log_severity_level = 3  # onnxruntime's own warnings go to its logger, not the user's terminal
    providers: list[object] = ["CPUExecutionProvider"]
    if device == "cuda":
        providers = [("CUDAExecutionProvider", {"device_id": 0}), "CPUExecutionProvider"]
    try:
        session = ort.InferenceSession(str(model_path), options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        raise EngineError(f"{model_path}: onnxruntime could not load the model ({exc})") from exc
    # Packing is done: the weight pages it read (scales, zero points) are not read again.
    page_out_files(Path(model_path).parent)
    got = "cuda" if "CUDAExecutionProvider" in session.get_providers() else "cpu"
    if device == "cuda" and got != "cuda":
        log.warning("CUDA was requested but onnxruntime fell back to CPU for %s", model_path.parent.name)
    return session, got
