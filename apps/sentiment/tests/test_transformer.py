"""The transformer tier loads real model dirs (a tiny BERT built from config) through its real code."""

from __future__ import annotations

import numpy as np
import pytest

from apps.sentiment.tests.conftest import tiny_classifier_save
from apps.sentiment.tiers.transformer import (
    OnnxScorer,
    TransformerScorer,
    tokenizer_load,
)
from apps.sentiment.training.export import onnx_export, onnx_quantize

TEXTS = ["Apple profit rises on strong iPhone sales", "Shares fall", "", "$TSLA https://t.co/x"]


def test_tokenizer_knows_real_words(tiny_model_dir):
    tok = tokenizer_load(str(tiny_model_dir))
    ids = tok("profit rose")["input_ids"]
    assert tok.unk_token_id not in ids
    assert tok.convert_ids_to_tokens(ids) == ["[CLS]", "profit", "rose", "[SEP]"]


def test_torch_scorer_scores_a_batch(tiny_model_dir):
    scorer = TransformerScorer(str(tiny_model_dir), name="tiny", version="t1", batch_size=3)
    assert scorer.device == "cpu"
    scores = scorer.score_batch(TEXTS)
    assert len(scores) == len(TEXTS)
    for s in scores:
        assert -1.0 <= s.score <= 1.0
        assert s.positive + s.negative + s.neutral == pytest.approx(1.0, abs=1e-5)
        assert s.score == pytest.approx(s.positive - s.negative)
    assert scorer.model_used == "tiny@t1"
    assert scorer.score_batch([]) == []
    # Batching does not change results.
    one_by_one = [scorer.score_batch([t])[0].score for t in TEXTS]
    assert one_by_one == pytest.approx([s.score for s in scores], abs=1e-5)


def test_labels_follow_id2label_order(tmp_path, tiny_model_dir):
    # Same weights, but the config says the columns are bearish/bullish/neutral.
    other = tiny_classifier_save(
        tmp_path / "twitter", {0: "Bearish", 1: "Bullish", 2: "Neutral"}, seed=0
    )
    finbert_order = TransformerScorer(str(tiny_model_dir), name="a", version="1")
    twitter_order = TransformerScorer(str(other), name="b", version="1")
    a = finbert_order.score_batch(TEXTS[:2])
    b = twitter_order.score_batch(TEXTS[:2])
    for x, y in zip(a, b, strict=True):  # columns 0 and 1 swap meaning: the score flips
        assert y.score == pytest.approx(-x.score, abs=1e-5)
        assert y.neutral == pytest.approx(x.neutral, abs=1e-5)


def test_torch_int8_path(tiny_model_dir):
    scorer = TransformerScorer(str(tiny_model_dir), name="tiny", version="t1", int8=True)
    assert scorer.model_used == "tiny@t1+torch-int8"
    assert len(scorer.score_batch(TEXTS)) == len(TEXTS)


def test_onnx_export_quantise_and_score(tmp_path, tiny_model_dir):
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(str(tiny_model_dir))
    tok = tokenizer_load(str(tiny_model_dir))
    for f in tiny_model_dir.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    fp32 = onnx_export(model, tok, tmp_path / "model.onnx")
    onnx_quantize(fp32, tmp_path / "model.int8.onnx")

    torch_scores = TransformerScorer(str(tiny_model_dir), name="t", version="1").score_batch(TEXTS)
    onnx32 = OnnxScorer(tmp_path, name="t", version="1", onnx_file="model.onnx")
    onnx8 = OnnxScorer(tmp_path, name="t", version="1", threads=1)
    assert onnx32.model_used == "t@1+onnx"
    assert onnx8.model_used == "t@1+onnx-int8"
    exact = np.array([s.score for s in onnx32.score_batch(TEXTS)])
    assert exact == pytest.approx([s.score for s in torch_scores], abs=1e-4)
    approx = onnx8.score_batch(TEXTS)
    assert len(approx) == len(TEXTS)
    assert all(-1.0 <= s.score <= 1.0 for s in approx)


def test_padded_batches_sort_by_tokens_and_undo():
    from apps.sentiment.tiers.transformer import _unsorted, padded_batches

    ids = [
        [101, 5, 6, 7, 102],
        [101, 102],
        [101, 9, 102],
        [101, 1, 2, 3, 4, 5, 6, 102],
        [101, 4, 102],
    ]
    names = ["input_ids", "attention_mask", "token_type_ids"]
    batches, order = padded_batches(ids, 2, 0, names)
    assert [b["input_ids"].shape for b in batches] == [(2, 3), (2, 5), (1, 8)]
    for b in batches:
        assert set(b) == set(names)
        assert (b["attention_mask"].sum(1) > 0).all()
        assert (b["input_ids"][b["attention_mask"] == 0] == 0).all()
        assert (b["token_type_ids"] == 0).all()
    # Each row's length rides through the sort and comes back in the caller's order.
    lengths = [b["attention_mask"].sum(1, keepdims=True).astype(float) for b in batches]
    back = _unsorted(lengths, order)
    assert back[:, 0].tolist() == [len(x) for x in ids]
    only_ids, _ = padded_batches(ids, 8, 0, ["input_ids", "attention_mask"])
    assert set(only_ids[0]) == {"input_ids", "attention_mask"}
