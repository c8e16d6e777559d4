"""Stored calibrations: the answer policy of an index, kept beside it in ``calibration.json``.

Serving reads this module only. Making a calibration (knowledge/calibration.py: folds, grids,
sweeps) happens at index build time, or with ``helpdesk kb calibrate``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from knowledge.cross_lingual import ScaleMap
from knowledge.decision import AnswerPolicy
from knowledge.index import FaqIndex
from knowledge.off_topic import OffTopicAnchors

#: Bump when the calibration procedure changes: stored calibrations of older versions are redone.
CALIBRATION_VERSION = 14
CALIBRATION_FILE = "calibration.json"
#: Held while a process calibrates an index directory (knowledge/calibration.py).
CALIBRATION_LOCK = "calibration.lock"
#: The labelled questions `helpdesk kb calibrate` was given, beside the FAQ files' index:
#: every later calibration of the FAQ (an edit, a published entry) is refined by them too.
LABELLED_FILE = "labelled_questions.jsonl"
#: The shipped off-topic messages; a calibration depends on them as much as on the FAQ.
OFFTOPIC_FILE = Path(__file__).resolve().parent / "offtopic.yaml"


@dataclass(frozen=True)
class Calibration:
    """The policy chosen for one index, how it did on the cases it was chosen on, and the
    off-topic messages this FAQ declines (knowledge/off_topic.py)."""

    key: str
    policy: AnswerPolicy
    figures: Mapping[str, Any] = field(default_factory=dict)
    off_topic: OffTopicAnchors | None = None


def calibration_key(index: FaqIndex) -> str:
    """What a calibration depends on: the index (FAQ, model, prefixes, blended or not) and
    the negatives."""
    blended = "|blended" if index.blended else ""
    payload = f"{CALIBRATION_VERSION}|{index.digest}{blended}|{_file_digest(OFFTOPIC_FILE)}"
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def stored_calibration(index: FaqIndex, index_dir: Path) -> Calibration | None:
    """The stored calibration if it was made for this very index, else None."""
    stored = load_calibration(index_dir)
    return stored if stored is not None and stored.key == calibration_key(index) else None


def load_calibration(index_dir: Path) -> Calibration | None:
    try:
        raw = json.loads((index_dir / CALIBRATION_FILE).read_text(encoding="utf-8"))
        policy = AnswerPolicy(
            threshold=float(raw["policy"]["threshold"]),
            clarify_gap=float(raw["policy"]["clarify_gap"]),
            lexical_weight=float(raw["policy"]["lexical_weight"]),
            lexical_weights=_floats(raw["policy"]["lexical_weights"]),
            language_scales=_floats(raw["policy"]["language_scales"]),
            suggestion_bar=_optional_float(raw["policy"]["suggestion_bar"]),
            missing_variant_shifts=_floats(raw["policy"]["missing_variant_shifts"]),
            cross_lingual_scale=_scale_map(raw["policy"].get("cross_lingual_scale")),
            confirm_only_languages=frozenset(
                str(lang) for lang in raw["policy"]["confirm_only_languages"]
            ),
        )
        anchors = raw.get("off_topic")
        return Calibration(
            key=str(raw["key"]),
            policy=policy,
            figures=raw.get("figures", {}),
            off_topic=OffTopicAnchors.from_json(anchors) if anchors is not None else None,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _scale_map(value: Any) -> ScaleMap | None:
    return None if value is None else ScaleMap(float(value["slope"]), float(value["intercept"]))


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _floats(mapping: Mapping[str, Any]) -> dict[str, float]:
    return {str(key): float(value) for key, value in mapping.items()}


def save_calibration(index_dir: Path, calibration: Calibration) -> None:
    """Write atomically: a reader sees the old calibration or the new one."""
    index_dir.mkdir(parents=True, exist_ok=True)
    target = index_dir / CALIBRATION_FILE
    payload = {
        "key": calibration.key,
        "policy": policy_as_json(calibration.policy),
        "figures": dict(calibration.figures),
        "off_topic": calibration.off_topic.to_json() if calibration.off_topic else None,
    }
    write_atomically(target, json.dumps(payload, indent=2, sort_keys=True))


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def policy_as_json(policy: AnswerPolicy) -> dict[str, Any]:
    """The policy as JSON values, as calibration.json stores it (and `kb calibrate` prints it)."""
    return {
        **asdict(policy),
        "lexical_weights": dict(policy.lexical_weights),
        "language_scales": dict(policy.language_scales),
        "missing_variant_shifts": dict(policy.missing_variant_shifts),
        "confirm_only_languages": sorted(policy.confirm_only_languages),
    }


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
