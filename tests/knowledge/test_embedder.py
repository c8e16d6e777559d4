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

from knowledge import embedder as embedder_module
from knowledge.embedder import (
    E5_PREFIXES,
    PACKAGED_MINILM,
    Embedder,
    Prefixes,
    family_prefixes,
    resolve_model_location,
)
from knowledge.errors import EmbeddingModelError
from tests.conftest import run_cli

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


def test_a_cpu_without_avx2_gets_a_clear_error_naming_the_alternatives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(embedder_module, "_missing_cpu_flags", lambda: ["avx2", "fma"])
    with pytest.raises(EmbeddingModelError, match="lacks avx2, fma") as raised:
        Embedder("packaged:multilingual-e5-small").warm_up()
    assert PACKAGED_MINILM in str(raised.value)


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


def test_start_up_on_a_cpu_without_avx2_says_so_and_exits_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(embedder_module, "_missing_cpu_flags", lambda: ["avx2"])
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path))
    assert run_cli("kb", "build") == 1
    err = capsys.readouterr().err
    assert "lacks avx2" in err and "packaged:all-MiniLM-L6-v2" in err
    assert "Traceback" not in err
