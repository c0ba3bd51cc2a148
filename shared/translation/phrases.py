"""The bot's fixed phrases in the call's language, translated when the prompts file has no list for it.

Where a phrase comes from, for a call in `lang`:

1. the prompts file's list for `lang`, else for a language of the same family ("fr-CA" → "fr-FR");
2. else the English list translated to `lang` by the translator, once: every phrase in one or a few
   requests, kept in the cache port (`phrases:<lang>:<hash of the English list>`, a long TTL) and in
   this process, so a call never waits on the translator for a language already translated;
3. else English (no translator configured, the translator failed or has not answered yet).

A call's own words in English (its claim fields' labels) are translated with them (`prepare(texts=)`,
`text()`), in the same request, and cached per text.

`prepare()` is awaited before a call's first line and waits at most the translator's timeout (the
translator's requests have the same limit): a slow translator costs the opening that long at most.
A loading still running when the wait ends goes on (the call's next lines and later calls get its
result); a failure is one warning, and English for `RETRY_AFTER_SEC` before the translator is asked
again. `phrase_choices()` never waits.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from functools import partial
from typing import Any, Final

from shared.cache.base import Cache, CacheError
from shared.prompts import FALLBACK_LANG, Prompts, fill
from shared.translation.base import TranslationError, Translator, placeholders, primary_language

log = logging.getLogger(__name__)

RETRY_AFTER_SEC: Final = 300.0  # a translator that failed is left alone this long (English meanwhile)


class PhraseBook:
    """The phrases of every call of the process; built once (`shared.composition`)."""

    def __init__(
        self,
        prompts: Prompts,
        translator: Translator | None,
        cache: Cache,
        *,
        timeout_sec: float = 2.0,
        ttl_sec: float = 30 * 86400.0,
    ) -> None:
        self.prompts = prompts
        self._translator = translator
        self._cache = cache
        self._timeout = timeout_sec
        self._ttl = ttl_sec
        self._english: dict[str, list[str]] = {
            name: [str(text) for text in choices] for name, choices in prompts.phrases[FALLBACK_LANG].items()
        }
        english = json.dumps(self._english, sort_keys=True, ensure_ascii=False)
        self.digest = hashlib.sha256(english.encode()).hexdigest()[:16]
        self._translated: dict[str, dict[str, list[str]]] = {}
        self._texts: dict[str, dict[str, str]] = {}  # lang -> English text (a field's label) -> translated
        self._loading: dict[str, asyncio.Task[None]] = {}
        self._failed_at: dict[str, float] = {}
        if translator is None:
            log.info(
                "no translator configured (TRANSLATOR__ENDPOINT): calls in a language without a phrase "
                "list hear the English phrases"
            )

    def own_list(self, lang: str) -> str | None:
        """The prompts file's language that serves `lang` ("fr-CA" → "fr-FR"), or None."""
        if lang in self.prompts.phrases:
            return lang
        family = primary_language(lang)
        return next((code for code in self.prompts.phrases if primary_language(code) == family), None)

    def translated(self, lang: str) -> Mapping[str, Sequence[str]] | None:
        """The phrases translated to `lang` this process holds, if any."""
        return self._translated.get(lang)

    def phrase_choices(self, name: str, lang: str) -> Sequence[str]:
        """The variants of a phrase in `lang` (see the module's order); never waits."""
        own = self.own_list(lang)
        if own is None:
            choices = self._translated.get(lang, {}).get(name)
            if choices:
                return choices
        return self.prompts.phrase_choices(name, own or lang)

    def phrase(
        self, name: str, lang: str, values: Mapping[str, object], *, rng: random.Random | None = None
    ) -> str:
        """One of the phrase's variants in `lang`, filled."""
        return fill((rng or random).choice(list(self.phrase_choices(name, lang))), values)

    def text(self, english: str, lang: str) -> str | None:
        """A text of the call (a claim field's English label) translated to `lang`, when prepared;
        None for a language with a phrase list or a text not translated."""
        return self._texts.get(lang, {}).get(english)

    def _translates(self, lang: str) -> bool:
        """Whether `lang` is translated now: a translator, no phrase list, no recent failure."""
        if self._translator is None or self.own_list(lang) is not None:
            return False
        failed = self._failed_at.get(lang)
        return failed is None or time.monotonic() - failed >= RETRY_AFTER_SEC

    async def prepare(self, *langs: str, texts: Sequence[str] = ()) -> None:
        """Have the phrases of `langs` (and `texts`, a call's own words such as its field labels)
        ready, waiting at most the translator's timeout; the loading goes on after it (the next lines
        and calls get the translation once it is there)."""
        tasks = []
        for lang in dict.fromkeys(langs):
            if not self._translates(lang):
                continue
            phrases = lang not in self._translated
            missing = sorted({t for t in texts if t.strip() and t not in self._texts.get(lang, {})})
            if phrases or missing:
                digest = hashlib.sha256(f"{phrases}|{'|'.join(missing)}".encode()).hexdigest()[:16]
                tasks.append(
                    self._start(f"translation {lang} {digest}", partial(self._load, lang, phrases, missing))
                )
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=self._timeout)
        if pending:
            waited = self._timeout
            log.info("phrases in %s not translated within %.1f s: English until they are", langs, waited)

    def _start(self, name: str, load: Callable[[], Coroutine[Any, Any, None]]) -> asyncio.Task[None]:
        """One loading per name in the process: a second call asking the same joins it."""
        task = self._loading.get(name)
        if task is None:
            task = self._loading[name] = asyncio.create_task(self._guarded(name, load()), name=name)
            task.add_done_callback(self._loaded)
        return task

    async def _guarded(self, name: str, load: Coroutine[Any, Any, None]) -> None:
        try:
            await load
        except Exception:  # never breaks a call: English, and the translator is left alone a while
            self._failed_at[name.split()[1]] = time.monotonic()
            log.exception("%s: English kept", name)

    def _loaded(self, task: asyncio.Task[None]) -> None:
        for name, loading in list(self._loading.items()):
            if loading is task:
                del self._loading[name]

    def _key(self, lang: str) -> str:
        return f"phrases:{lang}:{self.digest}"

    @staticmethod
    def _text_key(lang: str, text: str) -> str:
        return f"text:{lang}:{hashlib.sha256(text.encode()).hexdigest()[:32]}"

    async def _cached(self, lang: str, phrases: bool, texts: list[str]) -> tuple[bool, list[str]]:
        """Take what the cache holds; what is still to translate: (the phrases?, the texts)."""
        keys = ([self._key(lang)] if phrases else []) + [self._text_key(lang, text) for text in texts]
        try:
            values = await asyncio.gather(*(self._cache.get(key) for key in keys))
        except CacheError as exc:
            log.warning("phrase cache unavailable, asking the translator: %s", exc)
            return phrases, texts
        if phrases:
            first = values.pop(0)
            kept = self._readable(first) if first is not None else None
            if kept is not None:
                self._translated[lang] = kept
            phrases = kept is None
        known = self._texts.setdefault(lang, {})
        for text, value in zip(texts, values, strict=True):
            if value is not None:
                known[text] = value.decode()
        return phrases, [text for text in texts if text not in known]

    async def _load(self, lang: str, phrases: bool, texts: list[str]) -> None:
        """The phrases (when `phrases`) and `texts` in `lang`: from the cache, else in one request."""
        phrases, texts = await self._cached(lang, phrases, texts)
        names = (
            [(name, text) for name, choices in self._english.items() for text in choices] if phrases else []
        )
        if not names and not texts:
            return
        assert self._translator is not None  # _translates() checked it
        try:
            translated = await self._translator.translate(
                [text for _, text in names] + texts, source=FALLBACK_LANG, target=lang
            )
        except TranslationError as exc:
            self._failed_at[lang] = time.monotonic()
            log.warning("phrases in %s stay in English (translator: %s)", lang, exc)
            return
        entries: list[tuple[str, bytes]] = []
        if names:
            book: dict[str, list[str]] = {}
            for (name, english), text in zip(names, translated, strict=False):
                usable = text.strip() and placeholders(text) == placeholders(english)
                book.setdefault(name, []).append(text if usable else english)
            self._translated[lang] = book
            entries.append((self._key(lang), json.dumps(book, ensure_ascii=False).encode()))
        fresh = {text: out for text, out in zip(texts, translated[len(names) :], strict=True) if out.strip()}
        self._texts.setdefault(lang, {}).update(fresh)
        entries += [(self._text_key(lang, text), out.encode()) for text, out in fresh.items()]
        log.info("phrases translated to %s (%d texts)", lang, len(translated))
        try:
            for key, value in entries:
                await self._cache.set(key, value, ttl_sec=self._ttl)
        except CacheError as exc:
            log.warning("translated phrases in %s not cached: %s", lang, exc)

    def _readable(self, cached: bytes) -> dict[str, list[str]] | None:
        try:
            data = json.loads(cached)
        except ValueError:
            return None
        if not isinstance(data, dict) or set(data) != set(self._english):
            return None
        if not all(isinstance(v, list) and all(isinstance(t, str) for t in v) for v in data.values()):
            return None
        return {name: list(texts) for name, texts in data.items()}

    async def aclose(self) -> None:
        """Cancel the loadings still running."""
        tasks = list(self._loading.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
