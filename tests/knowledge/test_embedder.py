"""Loading the embedding model: packaged default, any local path, clear errors otherwise."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from knowledge.embedder import Embedder, resolve_model_location
from knowledge.errors import EmbeddingModelError

pytestmark = pytest.mark.slow


def test_model_from_a_local_directory_gives_the_same_vectors_as_the_packaged_one(
    embedder: Embedder, tmp_path: Path
) -> None:
    copy = tmp_path / "my-model"
    shutil.copytree(resolve_model_location("packaged:all-MiniLM-L6-v2"), copy)
    local = Embedder(str(copy))
    vectors = local.encode(["where is my order"])
    assert vectors.shape == (1, local.dimension)
    assert np.allclose(vectors, embedder.encode(["where is my order"]), atol=1e-5)
    assert np.isclose(np.linalg.norm(vectors[0]), 1.0, atol=1e-5)


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
