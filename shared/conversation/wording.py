"""How the form-filling agent words things: field labels a caller understands, and the outbound purpose.

A claim field is named for software ("contract_id", "incident_datetime") and described for an LLM
("first and last name of the caller"). Neither may be read aloud as is: the label spoken in a question
is the description turned towards the caller ("the caller's" → "your"), or the name made human
("your contract ID"); in French, a French description, else the name translated word by word from a
small glossary of claim words ("le numéro du contrat"), else a generic question. Pure functions.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Final

from shared.claim.schema import ClaimField

__all__ = ["field_label", "is_french_text", "spoken_purpose"]

_POSSESSORS: Final = frozenset({"caller", "customer", "client", "user", "my", "your", "contact", "employee"})
_EN_WORDS: Final = MappingProxyType(
    {
        "id": "ID", "dob": "date of birth", "tel": "phone", "num": "number", "no": "number", "nr": "number",
        "addr": "address", "datetime": "date and time", "dt": "date and time", "email": "e-mail address",
        "mail": "e-mail address", "info": "information", "desc": "description", "qty": "quantity",
        "ref": "reference", "vin": "VIN", "zip": "ZIP code", "url": "web address",
    }
)  # fmt: skip
_FR_WHOLE: Final = MappingProxyType(
    {
        "first name": "le prénom", "last name": "le nom de famille", "surname": "le nom de famille",
        "family name": "le nom de famille", "full name": "le nom complet", "name": "le nom",
        "date of birth": "la date de naissance", "dob": "la date de naissance",
        "birth date": "la date de naissance", "first seen": "la date où le problème est apparu",
        "zip code": "le code postal", "postal code": "le code postal", "zip": "le code postal",
    }
)  # fmt: skip
_FR_WORDS: Final = MappingProxyType(
    {
        "incident": "l'incident", "accident": "l'accident", "date": "la date",
        "datetime": "la date et l'heure", "time": "l'heure", "contract": "le contrat",
        "policy": "le contrat", "number": "le numéro",
        "id": "le numéro", "reference": "la référence", "ref": "la référence", "location": "le lieu",
        "place": "le lieu", "address": "l'adresse", "building": "le bâtiment", "floor": "l'étage",
        "room": "la salle", "office": "le bureau", "device": "l'appareil", "hardware": "le matériel",
        "computer": "l'ordinateur", "laptop": "l'ordinateur portable", "model": "le modèle",
        "serial": "le numéro de série", "brand": "la marque", "vehicle": "le véhicule", "car": "la voiture",
        "plate": "la plaque d'immatriculation", "description": "la description", "details": "les détails",
        "info": "les informations", "information": "les informations", "issue": "le problème",
        "problem": "le problème", "damage": "les dégâts", "reason": "le motif", "request": "la demande",
        "appointment": "le rendez-vous", "delivery": "la livraison", "order": "la commande",
        "product": "le produit", "account": "le compte", "company": "la société", "department": "le service",
        "city": "la ville", "country": "le pays", "amount": "le montant", "price": "le prix",
        "quantity": "la quantité", "type": "le type", "category": "la catégorie", "phone": "le téléphone",
        "email": "l'adresse e-mail", "mail": "l'adresse e-mail", "callback": "le rappel",
        "availability": "la disponibilité", "symptoms": "les symptômes", "pet": "l'animal",
        "animal": "l'animal", "package": "le colis", "parcel": "le colis", "tracking": "le suivi",
        "invoice": "la facture", "bill": "la facture", "meter": "le compteur", "reading": "le relevé",
        "insurance": "l'assurance", "claim": "le sinistre", "event": "l'événement", "start": "le début",
        "end": "la fin", "software": "le logiciel", "application": "l'application",
        "app": "l'application", "error": "l'erreur", "message": "le message", "code": "le code",
        "member": "l'adhérent", "membership": "l'adhésion", "flight": "le vol", "booking": "la réservation",
        "reservation": "la réservation", "luggage": "le bagage", "bag": "le bagage", "store": "le magasin",
        "shop": "le magasin", "item": "l'article", "size": "la taille", "color": "la couleur",
        "colour": "la couleur", "severity": "la gravité", "urgency": "l'urgence", "return": "le retour",
        "repair": "la réparation", "meeting": "la réunion", "visit": "la visite", "dog": "le chien",
        "cat": "le chat", "breed": "la race", "age": "l'âge", "weight": "le poids", "allergy": "l'allergie",
        "allergies": "les allergies", "medication": "le traitement", "doctor": "le médecin",
        "patient": "le patient", "subscription": "l'abonnement", "plan": "la formule",
    }
)  # fmt: skip
_TOWARDS_CALLER: Final = (
    (re.compile(r"\b(?:the )?(?:caller|customer|client|employee|user)'s\b", re.IGNORECASE), "your"),
    (re.compile(r"\b(?:of|from|for|to|by) (?:the )?(?:caller|customer|client|employee|user)\b"), ""),
    (re.compile(r"\b(?:the )?(?:caller|customer|client|employee|user)\b", re.IGNORECASE), "you"),
    (re.compile(r"\btheir\b", re.IGNORECASE), "your"),
)
_FRENCH_MARKERS: Final = re.compile(
    r"[àâçéèêëîïôûùœ]|\b(?:le|la|les|du|des|de|et|un|une|est|pour|avec|quand|votre|vos|sa|son|ses|au|aux)\b",
    re.IGNORECASE,
)
_ENGLISH_MARKERS: Final = re.compile(
    r"\b(?:the|and|of|with|when|what|where|your|their|is|to|for|help|a|an|who)\b", re.IGNORECASE
)


def is_french_text(text: str) -> bool:
    """A rough guess from common words: more French markers than English ones."""
    return len(_FRENCH_MARKERS.findall(text)) > len(_ENGLISH_MARKERS.findall(text))


def _words(name: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return [word.lower() for word in re.split(r"[\W_]+", spaced) if word]


def _towards_caller(description: str) -> str:
    text = description.strip().rstrip(".")
    for pattern, replacement in _TOWARDS_CALLER:
        text = pattern.sub(replacement, text)
    text = " ".join(text.split())
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _english_label(claim_field: ClaimField) -> str:
    if claim_field.description and not is_french_text(claim_field.description):
        return _towards_caller(claim_field.description)
    words = _words(claim_field.name)
    owner = "the"
    if words and words[0] in _POSSESSORS:
        owner, words = "your", words[1:]
    spoken = " ".join(_EN_WORDS.get(word, word) for word in words) or "details"
    return f"{owner} {spoken}"


def _de(phrase: str) -> str:
    """ "le contrat" → "du contrat"; "la date" → "de la date"; "les X" → "des X"; "l'X" → "de l'X"."""
    if phrase.startswith("le "):
        return "du " + phrase[3:]
    if phrase.startswith("les "):
        return "des " + phrase[4:]
    return "de " + phrase


def _yours(phrase: str) -> str:
    for article, owner in (("le ", "votre "), ("la ", "votre "), ("les ", "vos "), ("l'", "votre ")):
        if phrase.startswith(article):
            return owner + phrase[len(article) :]
    return phrase


def _french_label(claim_field: ClaimField) -> str | None:
    if claim_field.description and is_french_text(claim_field.description):
        return claim_field.description.strip().rstrip(".")
    words = _words(claim_field.name)
    yours = bool(words) and words[0] in _POSSESSORS
    words = words[1:] if yours else words
    whole = _FR_WHOLE.get(" ".join(words))
    if whole is not None:
        return _yours(whole) if yours else whole
    if not words or any(word not in _FR_WORDS for word in words):
        return None
    phrase = _FR_WORDS[words[-1]]
    for word in reversed(words[:-1]):
        phrase += " " + _de(_FR_WORDS[word])
    return _yours(phrase) if yours else phrase


def field_label(claim_field: ClaimField, lang: str) -> str | None:
    """The field as said in a question ("your contract ID", "le numéro du contrat"), or None when
    nothing can be said in that language without reading an identifier or a foreign description."""
    if lang.lower().startswith("fr"):
        return _french_label(claim_field)
    if lang.lower().startswith("en"):
        return _english_label(claim_field)
    return None


_TASK_OBJECTS_EN: Final = re.compile(
    r"\b(?:the|this|our) (?:customer|client|caller|employee|user|member|patient)('s)?", re.IGNORECASE
)
_TASK_OBJECTS_FR: Final = re.compile(
    r"^(\w+) (?:le client|la cliente|l'employée?|l'appelant|le collaborateur|la collaboratrice"
    r"|l'adhérente?|le patient|la patiente)\b",
    re.IGNORECASE,
)
_CLAIM_CHORE: Final = re.compile(
    r"\s*(?:,|\band\b|\bet\b)\s*(?:fill|complete|remplir|compléter)\b[^.]*|\s*:[^.]*", re.IGNORECASE
)


def spoken_purpose(task: str, lang: str) -> str | None:
    """Why an outbound call is made, from the call's task, said to the person called: "Help the
    employee with their laptop." → "help you with your laptop". None when the task is not written in
    the call's language (a French call must not read an English task; a call in a language other than
    English or French gets no purpose, as its words could not be turned towards the person called)."""
    if not lang.lower().startswith(("en", "fr")):
        return None
    first = re.split(r"(?<=[.!?])\s", task.strip(), maxsplit=1)[0].strip().rstrip(".!?")
    first = _CLAIM_CHORE.sub("", first).strip()
    if not first:
        return None
    french = lang.lower().startswith("fr")
    if french != is_french_text(first):
        return None
    if french:
        first = _TASK_OBJECTS_FR.sub(lambda m: f"vous {m.group(1).lower()}", first)
        first = re.sub(r"\b(?:sa|son)\b", "votre", first)
        first = re.sub(r"\bses\b", "vos", first)
    else:
        first = _TASK_OBJECTS_EN.sub(lambda m: "your" if m.group(1) else "you", first)
        first = re.sub(r"\btheir\b", "your", first, flags=re.IGNORECASE)
        first = re.sub(r"\bthem\b", "you", first, flags=re.IGNORECASE)
    return first[:1].lower() + first[1:]
