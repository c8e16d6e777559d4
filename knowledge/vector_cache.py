"""The vectors of the latest questions: each embedded once, some ahead of the search."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from knowledge.embedder import Vectors


class RecentVectors:
    """A bounded map from question to vector, filled on demand or ahead of time.

    Embedding is the largest cost of an FAQ turn. Rasa asks for it before it loads the
    conversation (the action server's /embed-ahead calls :meth:`prefetch`), so it overlaps
    Rasa's tracker load and NLU; :meth:`get` then waits for the vector already under way
    instead of computing it a second time.
    """

    def __init__(self, embed: Callable[[str], Vectors], size: int) -> None:
        self._embed = embed
        self._size = size
        self._vectors: OrderedDict[str, Future[Vectors]] = OrderedDict()
        self._lock = threading.Lock()
        self._ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-ahead")
        self._embedding = 0  # embeddings running now, in any thread

    def get(self, text: str) -> Vectors:
        """``text``'s vector: kept, under way, or computed now in the caller's thread."""
        future, claimed = self._claim(text)
        assert future is not None  # only a guess is ever refused one
        if claimed:
            self._fill(future, text)
        return future.result()

    def prefetch(self, text: str) -> bool:
        """Start embedding ``text`` in the background unless it is kept or under way, or
        another embedding is running; whether this call started it.

        A guess (the message may not be a question at all), so it is made only when nothing
        else is being embedded: under load it never takes a core from work that is certainly
        needed.
        """
        future, claimed = self._claim(text, only_when_idle=True)
        if claimed and future is not None:
            self._ahead.submit(self._fill, future, text)
        return claimed

    def _claim(
        self, text: str, *, only_when_idle: bool = False
    ) -> tuple[Future[Vectors] | None, bool]:
        """The text's future, and whether the caller must fill it (nobody else will); no
        future when ``only_when_idle`` and an embedding is running."""
        with self._lock:
            future = self._vectors.get(text)
            if future is not None:
                self._vectors.move_to_end(text)
                return future, False
            if only_when_idle and self._embedding:
                return None, False
            future = Future()
            self._vectors[text] = future
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
            return future, True

    def _fill(self, future: Future[Vectors], text: str) -> None:
        with self._lock:
            self._embedding += 1
        try:
            vectors = self._embed(text)
        except BaseException as error:
            with self._lock:  # a failure is not kept: the next call tries again
                self._embedding -= 1
                if self._vectors.get(text) is future:
                    del self._vectors[text]
            future.set_exception(error)
            return
        with self._lock:  # counted out before a waiter wakes: it may guess next
            self._embedding -= 1
        future.set_result(vectors)
