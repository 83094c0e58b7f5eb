"""The generated report-style training sentences: deterministic, labelled by their meaning, and
never a sentence of the evaluation set."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from apps.sentiment.scoring import NEGATIVE, NEUTRAL, POSITIVE
from apps.sentiment.training.synthetic import DOWN_VERBS, LOSS_DOWN, METRICS, UP_VERBS, generate

PHRASEBANK = (
    Path(__file__).resolve().parents[4] / "shared" / "data" / "sentiment" / "financial_phrasebank"
)


def test_deterministic_unique_and_mixed():
    a, b = generate(3000, seed=3), generate(3000, seed=3)
    assert a == b
    assert generate(200, seed=4) != generate(200, seed=3)
    texts = [t for t, _ in a]
    assert len(set(texts)) == len(texts) == 3000
    counts = Counter(label for _, label in a)
    assert set(counts) == {POSITIVE, NEGATIVE, NEUTRAL}
    assert all(0.2 < counts[lab] / 3000 < 0.5 for lab in counts)
    assert all(t[0].isalnum() and not t[0].islower() for t in texts)
    assert all(t.endswith(".") and ".." not in t and ", ," not in t for t in texts)


def _amounts(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"\d[\d,]*\.?\d*", text)]


def test_the_label_follows_the_metric_and_the_numbers_agree():
    checked: Counter[str] = Counter()
    for text, label in generate(4000, seed=11):
        low = text.lower()
        m = re.search(r" to (\S+ ?[\d.,]+\S*) from (\S+ ?[\d.,]+\S*)", low)
        if not m or "swung" in low or "profit of" in low:
            continue
        new, old = _amounts(m.group(1))[-1], _amounts(m.group(2))[-1]
        rose = any(f" {v} to" in low for v in UP_VERBS)
        fell = any(f" {v} to" in low for v in DOWN_VERBS + LOSS_DOWN)
        if rose == fell:
            continue
        assert (new > old) == rose, text
        # The longest metric name in the sentence is the one it is about ("net loss" > "loss").
        _metric, polarity = max(
            ((m, p) for m, p in METRICS if m.lower() in low), key=lambda mp: len(mp[0])
        )
        bad_metric = polarity < 0
        expected = POSITIVE if rose != bad_metric else NEGATIVE
        assert label == expected, text
        checked[label] += 1
    assert checked[POSITIVE] > 30 and checked[NEGATIVE] > 30


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def test_no_sentence_of_the_evaluation_set_is_generated():
    assert PHRASEBANK.is_dir(), f"PhraseBank (evaluation only, not shipped) not at {PHRASEBANK}"
    eval_set = {
        _norm(line.rsplit("@", 1)[0])
        for line in (PHRASEBANK / "Sentences_50Agree.txt")
        .read_text(encoding="latin-1")
        .splitlines()
        if "@" in line
    }
    generated = {_norm(t) for t, _ in generate(6000)}
    assert len(eval_set) > 4000
    assert not generated & eval_set
