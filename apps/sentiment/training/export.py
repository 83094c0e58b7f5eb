"""ONNX export of a trained classifier: fp32 export, then dynamic int8 quantisation (training only).

The runtime loads the result with :class:`apps.sentiment.tiers.transformer.OnnxScorer`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from onnxruntime.quantization import QuantType, quantize_dynamic


def onnx_export(model: Any, tokenizer: Any, path: Path, *, max_length: int = 64) -> Path:
    """Export a sequence classifier to ONNX (opset 17, dynamic batch and sequence axes).

    Uses the TorchScript exporter: ``optimum`` does not support transformers 5.
    """
    model = model.to("cpu").eval()
    enc = tokenizer(
        ["a sample headline for export", "another one"],
        padding="max_length",
        max_length=16,
        truncation=True,
        return_tensors="pt",
    )
    names = ["input_ids", "attention_mask", "token_type_ids"]
    args = tuple(enc[n] for n in names)
    axes = {n: {0: "batch", 1: "seq"} for n in names}
    axes["logits"] = {0: "batch"}
    path.parent.mkdir(parents=True, exist_ok=True)

    class _Logits(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).logits

    with torch.inference_mode():
        torch.onnx.export(
            _Logits(model),
            args,
            str(path),
            input_names=names,
            output_names=["logits"],
            dynamic_axes=axes,
            opset_version=17,
            do_constant_folding=True,
            dynamo=False,
        )
    return path


def onnx_quantize(src: Path, dst: Path) -> Path:
    """Dynamic int8 quantisation of the weights (activations quantised at run time).

    Only MatMuls with a constant weight are quantised (``MatMulConstBOnly``): the attention
    products of two activations stay fp32, which costs nothing in speed and keeps accuracy.
    """
    quantize_dynamic(
        str(src),
        str(dst),
        weight_type=QuantType.QInt8,
        extra_options={"MatMulConstBOnly": True},
    )
    return dst
