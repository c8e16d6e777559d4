"""Question vectors: each embedded once, ahead of the search when asked to."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from knowledge.embedder import Vectors
from knowledge.vector_cache import RecentVectors


class CountingEmbedder:
    """Embeds a text as its length; counts calls; waits for ``release`` when given one."""

    def __init__(self, release: threading.Event | None = None) -> None:
        self.calls: list[str] = []
        self.release = release

    def __call__(self, text: str) -> Vectors:
        self.calls.append(text)
        if self.release is not None:
            assert self.release.wait(timeout=10)
        return np.array([len(text)], dtype=np.float32)


def test_a_prefetched_vector_is_not_computed_again() -> None:
    release = threading.Event()
    embed = CountingEmbedder(release)
    vectors = RecentVectors(embed, size=4)
    vectors.prefetch("where is my order")
    waiter = threading.Thread(target=lambda: vectors.get("where is my order"))
    waiter.start()  # the search arrives while the vector is still under way
    release.set()
    waiter.join(timeout=10)
    assert vectors.get("where is my order")[0] == len("where is my order")
    assert embed.calls == ["where is my order"]


def test_only_the_latest_questions_are_kept() -> None:
    embed = CountingEmbedder()
    vectors = RecentVectors(embed, size=2)
    for text in ("a", "bb", "ccc", "a"):
        vectors.get(text)
    assert embed.calls == ["a", "bb", "ccc", "a"]  # "a" had been pushed out by "ccc"


def test_a_failed_embedding_is_tried_again() -> None:
    attempts: list[str] = []

    def flaky(text: str) -> Vectors:
        attempts.append(text)
        if len(attempts) == 1:
            raise RuntimeError("model busy")
        return np.zeros(1, dtype=np.float32)

    vectors = RecentVectors(flaky, size=4)
    with pytest.raises(RuntimeError):
        vectors.get("hello")
    assert vectors.get("hello").shape == (1,)
    assert attempts == ["hello", "hello"]


def test_a_guess_is_made_only_while_nothing_else_is_embedded() -> None:
    release = threading.Event()
    embed = CountingEmbedder(release)
    vectors = RecentVectors(embed, size=4)
    assert vectors.prefetch("where is my order")  # idle: the guess is made
    assert not vectors.prefetch("hi there")  # busy: no guess
    assert not vectors.prefetch("where is my order")  # under way
    release.set()
    assert vectors.get("where is my order")[0] == len("where is my order")
    assert vectors.prefetch("how much is shipping")  # idle again
    assert vectors.get("how much is shipping")[0] == len("how much is shipping")
    assert embed.calls == ["where is my order", "how much is shipping"]
