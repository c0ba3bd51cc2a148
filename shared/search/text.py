"""Words for search: tokens, stop words and Snowball stems (English and French), the language of a
text, how much of a query a passage covers, and reciprocal-rank fusion.

Stems are folded to ASCII after stemming (the French stemmer needs its accents), so "remboursé",
"rembourse" and "remboursement" meet, and so do "covered" and "coverage".
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import snowballstemmer  # type: ignore[import-untyped]

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# Words that say nothing about a document's subject (written for this project, folded to ASCII).


def _listed(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOP_EN = _listed(
    """a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing done down during each else ever few for
    from further get got had has have having he her here hers him his how i if in into is it its
    itself just let me might mine more most must my myself need no nor not now of off on once only
    or other ought our ours out over own please same shall she should so some such than that the
    their theirs them then there these they this those through to too under until up upon us very
    was we were what when where which while who whom whose why will with would yes yet you your
    yours hello hi thanks thank okay ok well um uh like know want wanted wondering wonder tell
    say said sure really maybe actually just one still many much wait sorry excuse hold quick question ask
    asking"""
)
_STOP_FR = _listed(
    """a ai aie ainsi alors au aucun aussi autre aux avait avant avec avez avoir avons bien bon
    bonjour c ca car ce cela celle celui ces cet cette chez ci comme comment d dans de des deja
    dois doit donc du elle elles en encore est et etais etait ete etre eu faire fait faut il ils
    j je jusqu l la le les leur leurs lui m ma mais me meme mes moi mon n ne ni nos notre nous on
    ont ou par pas peu peut peux plus pour pourquoi pourrais pourriez puis puisque qu quand que
    quel quelle quelles quels qui quoi s sa sans savoir se ses si sil son sont sur t ta te tes
    toi ton tous tout toute tres tu un une vais voila vos votre vous voudrais voulez vu y merci
    oui non euh alors dire dites sais savez veux veut combien quelque chose fais attendez pardon
    excusez question petite"""
)
STOP_WORDS = {"en": _STOP_EN, "fr": _STOP_FR}
LANGS = ("en", "fr")
_STEMMER_NAMES = {"en": "english", "fr": "french"}


def fold(text: str) -> str:
    """Lower case, without accents."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def family(lang: str | None) -> str | None:
    """ "fr-FR" -> "fr"; `None` for a language without a stemmer here."""
    if not lang:
        return None
    short = lang.split("-")[0].lower()
    return short if short in _STEMMER_NAMES else None


def detect_lang(text: str) -> str:
    """English or French, by their stop words (English when nothing tells)."""
    folded = [fold(w) for w in words(text)]
    french = sum(1 for w in folded if w in _STOP_FR and w not in _STOP_EN)
    english = sum(1 for w in folded if w in _STOP_EN and w not in _STOP_FR)
    return "fr" if french > english else "en"


@lru_cache(maxsize=4)
def _stemmer(lang: str) -> Any:
    return snowballstemmer.stemmer(_STEMMER_NAMES[lang])


@lru_cache(maxsize=100_000)
def stem(word: str, lang: str) -> str:
    return fold(_stemmer(lang).stemWord(word))


def terms(text: str, lang: str | None = None) -> list[str]:
    """The stems of a text's meaningful words, in order (duplicates kept)."""
    language = family(lang) or detect_lang(text)
    stop = STOP_WORDS[language]
    out: list[str] = []
    for word in words(text):
        folded = fold(word)
        if len(folded) < 2 or folded in stop or folded in _STOP_EN:
            continue
        out.append(stem(word, language))
    return out


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def coverage(
    query_terms: Sequence[str],
    passage_terms: Iterable[str],
    weights: Mapping[str, float],
    known: Iterable[str] | None = None,
) -> float:
    """How much (0-1) of the query the passage covers: the share of the query's terms found in it, each
    weighted by its rarity (`weights`, e.g. an inverse document frequency; 1 when missing). Terms no
    document contains (`known` lists the others) say nothing either way and are left out. One term
    alone is weak evidence: a passage matching a single term scores at most 0.5."""
    wanted = unique(query_terms)
    if known is not None:
        vocabulary = set(known)
        wanted = [t for t in wanted if t in vocabulary]
    if not wanted:
        return 0.0
    present = set(passage_terms)
    total = sum(weights.get(t, 1.0) for t in wanted)
    matched = [t for t in wanted if t in present]
    share = sum(weights.get(t, 1.0) for t in matched) / total if total else 0.0
    return share * min(1.0, len(matched) / 2)


def idf(document_frequency: int, documents: int) -> float:
    return math.log(1 + (documents - document_frequency + 0.5) / (document_frequency + 0.5))


RRF_K = 60


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> dict[str, float]:
    """Ids scored by the sum of 1 / (k + rank) over the rankings they appear in (rank from 1)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return scores
