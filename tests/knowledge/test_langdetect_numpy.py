"""The numpy detector gives langdetect's own result, to the last bit."""

from __future__ import annotations

import json

import pytest
from langdetect import DetectorFactory
from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.lang_detect_exception import LangDetectException

from knowledge.langdetect_numpy import NumpyDetector
from tests.conftest import PROJECT_ROOT

EVAL = PROJECT_ROOT / "knowledge" / "eval"


@pytest.fixture(scope="module")
def factory() -> DetectorFactory:
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(0)
    return factory


def shipped_messages() -> list[str]:
    """Short messages, questions and foreign sentences: converging and undecided alike."""
    names = [path.name for path in sorted(EVAL.glob("*.jsonl"))]
    return [
        json.loads(line)["text"]
        for name in names
        for line in (EVAL / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def probabilities(detector: Detector, text: str) -> list[tuple[str, float]]:
    detector.append(text)
    return [(guess.lang, guess.prob) for guess in detector.get_probabilities()]


def test_same_result_as_langdetect(factory: DetectorFactory) -> None:
    messages = shipped_messages()
    assert len(messages) > 300
    for text in messages:
        expected = probabilities(Detector(factory), text)
        assert probabilities(NumpyDetector(factory), text) == expected, text


def test_a_message_without_letters_is_refused_alike(factory: DetectorFactory) -> None:
    with pytest.raises(LangDetectException):
        Detector(factory).get_probabilities()
    with pytest.raises(LangDetectException):
        NumpyDetector(factory).get_probabilities()
