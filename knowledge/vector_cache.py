"""The vectors of the latest questions: each embedded once, some ahead of the search."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from knowledge.embedder import Vectors


class RecentVectors:
    """A bounded map from question to vector, filled on demand or ahead of time.

    Embedding is the largest cost of an FAQ turn. The action that runs before the search
    (language detection) starts it in the background with :meth:`prefetch`, so it overlaps
    that action's own work and Rasa's step between the two actions; :meth:`get` then waits
    for the vector already under way instead of computing it a second time.
    """

    def __init__(self, embed: Callable[[str], Vectors], size: int) -> None:
        self._embed = embed
        self._size = size
        self._vectors: OrderedDict[str, Future[Vectors]] = OrderedDict()
        self._lock = threading.Lock()
        self._ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-ahead")

    def get(self, text: str) -> Vectors:
        """``text``'s vector: kept, under way, or computed now in the caller's thread."""
        future, claimed = self._claim(text)
        if claimed:
            self._fill(future, text)
        return future.result()

    def prefetch(self, text: str) -> None:
        """Start embedding ``text`` in the background unless it is kept or under way."""
        future, claimed = self._claim(text)
        if claimed:
            self._ahead.submit(self._fill, future, text)

    def _claim(self, text: str) -> tuple[Future[Vectors], bool]:
        """The text's future, and whether the caller must fill it (nobody else will)."""
        with self._lock:
            future = self._vectors.get(text)
            if future is not None:
                self._vectors.move_to_end(text)
                return future, False
            future = Future()
            self._vectors[text] = future
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
            return future, True

    def _fill(self, future: Future[Vectors], text: str) -> None:
        try:
            future.set_result(self._embed(text))
        except BaseException as error:
            with self._lock:  # a failure is not kept: the next call tries again
                if self._vectors.get(text) is future:
                    del self._vectors[text]
            future.set_exception(error)
