"""Tier 1: a transformers sequence classifier (FinBERT or the project's own compact model).

Two engines behind the same :class:`~apps.sentiment.scoring.Scorer` interface:

- :class:`TransformerScorer`: PyTorch eager (CUDA when present, else CPU), in bf16 on CUDA by
  default (``SENTIMENT_DTYPE``: auto | fp32 | bf16 | fp16), optionally with torch's dynamic int8
  quantisation of the linear layers on CPU;
- :class:`OnnxScorer`: ONNX Runtime on CPU, normally on the int8 model that the training tooling
  exports (``apps.sentiment.training.export``; about 5x faster than fp32 eager torch).

Labels are mapped through the model's ``id2label`` (FinBERT: positive/negative/neutral).
"""

from __future__ import annotations

import json
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from apps.sentiment.scoring import (
    SentimentScore,
    label_order,
    model_used,
    scores_from_logits,
    text_normalise,
)

log = logging.getLogger(__name__)

ONNX_FILE = "model.int8.onnx"
ONNX_FP32_FILE = "model.onnx"


def _offline_if_local(source: str) -> bool:
    """A local directory never needs the hub: say so, so that nothing tries the network."""
    local = Path(source).is_dir()
    if local:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return local


def _unsorted(chunks: list[np.ndarray], order: list[int]) -> np.ndarray:
    """Logits back in the caller's order."""
    if not chunks:
        return np.zeros((0, 3))
    stacked = np.concatenate(chunks)
    out = np.empty_like(stacked)
    out[order] = stacked
    return out


def padded_batches(
    ids: Sequence[Sequence[int]], batch_size: int, pad_id: int, names: Sequence[str]
) -> tuple[list[dict[str, np.ndarray]], list[int]]:
    """Token id lists -> batches sorted by *token* count, each padded to its own longest row.

    Sorting by tokens (not characters) keeps the padded width close to the real length: on
    headline-length input it cuts the positions the model computes by about a third against
    batches in arrival order. Returns the batches (int64 arrays named as the model's inputs) and
    the permutation that :func:`_unsorted` undoes.
    """
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    batches = []
    for start in range(0, len(order), batch_size):
        part = order[start : start + batch_size]
        width = max([1] + [len(ids[i]) for i in part])
        input_ids = np.full((len(part), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(part), width), dtype=np.int64)
        for row, i in enumerate(part):
            n = len(ids[i])
            input_ids[row, :n] = ids[i]
            mask[row, :n] = 1
        arrays = {
            "input_ids": input_ids,
            "attention_mask": mask,
            "token_type_ids": np.zeros_like(input_ids),
        }
        batches.append({k: arrays[k] for k in names if k in arrays})
    return batches, order


def torch_device(prefer: str | None = None) -> str:
    import torch  # noqa: PLC0415 - heavy ML runtime, loaded on first use

    if prefer:
        return prefer
    return "cuda" if torch.cuda.is_available() else "cpu"


DTYPES = ("auto", "fp32", "bf16", "fp16")


def torch_dtype_name(setting: str, device: str) -> str:
    """The inference dtype a setting means on ``device``: ``auto`` is bf16 on CUDA (fp16 where the
    GPU has no bf16) and fp32 elsewhere; an explicit ``fp32``/``bf16``/``fp16`` is taken as is."""
    setting = (setting or "auto").lower()
    if setting not in DTYPES:
        raise ValueError(f"unknown dtype {setting!r}: one of {', '.join(DTYPES)}")
    if setting != "auto":
        return setting
    if not device.startswith("cuda"):
        return "fp32"
    import torch  # noqa: PLC0415 - heavy ML runtime, loaded on first use

    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def torch_dtype(name: str) -> Any:
    import torch  # noqa: PLC0415 - heavy ML runtime, loaded on first use

    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[name]


def tokenizer_load(source: str) -> Any:
    """The fast tokenizer of a model dir or hub id (reads ``tokenizer.json`` / ``vocab.txt``)."""
    from transformers import AutoTokenizer  # noqa: PLC0415 - heavy ML runtime, loaded on first use

    local = _offline_if_local(source)
    return AutoTokenizer.from_pretrained(source, local_files_only=local)


class _BatchedScorer(ABC):
    """What the torch and ONNX scorers share: length-sorted batches, naming, scores from logits.

    A subclass sets the attributes below and implements :meth:`_batch_logits` for one batch.
    """

    name: str
    version: str
    order: list[int]
    tokenizer: Any
    batch_size: int
    max_length: int

    @property
    def model_used(self) -> str:
        return model_used(self.name, self.version)

    @property
    def _input_names(self) -> list[str]:
        return list(self.tokenizer.model_input_names)

    @abstractmethod
    def _batch_logits(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """Logits of one padded batch (each engine runs it its own way)."""

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        ids = self.tokenizer(
            [text_normalise(t) for t in texts], truncation=True, max_length=self.max_length
        )["input_ids"]
        pad_id = int(self.tokenizer.pad_token_id or 0)
        batches, order = padded_batches(ids, self.batch_size, pad_id, self._input_names)
        return _unsorted([self._batch_logits(b) for b in batches], order)

    def score_batch(self, texts: Sequence[str]) -> list[SentimentScore]:
        return scores_from_logits(self.logits(texts), self.order) if texts else []


class TransformerScorer(_BatchedScorer):
    """A PyTorch sequence classifier. ``source`` is a local directory or a hub id."""

    def __init__(
        self,
        source: str,
        *,
        name: str,
        version: str,
        device: str | None = None,
        batch_size: int = 32,
        max_length: int = 64,
        int8: bool = False,
        threads: int | None = None,
        dtype: str = "auto",
    ) -> None:
        import torch  # noqa: PLC0415 - heavy ML runtime, loaded on first use
        from transformers import AutoModelForSequenceClassification  # noqa: PLC0415 - heavy ML runtime, loaded on first use

        local = _offline_if_local(source)
        if threads:
            torch.set_num_threads(threads)
        self.device = torch_device(device)
        # Half precision (bf16/fp16) is the GPU's fast path: tensor cores, half the memory traffic.
        # int8 (CPU only) wins over it: the quantised layers run their own kernels.
        self.dtype = (
            "fp32" if int8 and self.device == "cpu" else torch_dtype_name(dtype, self.device)
        )
        self.tokenizer = tokenizer_load(source)
        model = AutoModelForSequenceClassification.from_pretrained(source, local_files_only=local)
        model.eval()
        if int8 and self.device == "cpu":
            # Dynamic int8 on the Linear layers: the cheap optimised path without ONNX.
            model = torch.ao.quantization.quantize_dynamic(
                model, {torch.nn.Linear}, dtype=torch.qint8
            )
        self.model = model.to(self.device, dtype=torch_dtype(self.dtype))
        self.order = label_order(model.config.id2label)
        self.name = name
        if int8 and self.device == "cpu":
            self.version = f"{version}+torch-int8"
        elif self.dtype != "fp32":
            self.version = f"{version}+torch-{self.dtype}"
        else:
            self.version = version
        self.batch_size = batch_size
        self.max_length = max_length

    def _batch_logits(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        import torch  # noqa: PLC0415 - heavy ML runtime, loaded on first use

        with torch.inference_mode():
            feed = {k: torch.from_numpy(v).to(self.device) for k, v in batch.items()}
            return np.asarray(self.model(**feed).logits.float().cpu().numpy())


class OnnxScorer(_BatchedScorer):
    """ONNX Runtime on CPU, reading ``model_dir/<onnx_file>`` plus the tokenizer and config there."""

    def __init__(
        self,
        model_dir: str | Path,
        *,
        name: str,
        version: str,
        onnx_file: str = ONNX_FILE,
        batch_size: int = 32,
        max_length: int = 64,
        threads: int | None = None,
    ) -> None:
        import onnxruntime as ort  # noqa: PLC0415 - heavy ML runtime, loaded on first use

        model_dir = Path(model_dir)
        self.tokenizer = tokenizer_load(str(model_dir))
        config = json.loads((model_dir / "config.json").read_text())
        self.order = label_order(config["id2label"])
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(model_dir / onnx_file), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.name = name
        self.version = f"{version}+onnx-int8" if "int8" in onnx_file else f"{version}+onnx"
        self.batch_size = batch_size
        self.max_length = max_length

    @property
    def _input_names(self) -> list[str]:
        return self.input_names

    def _batch_logits(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(self.session.run(["logits"], batch)[0])
