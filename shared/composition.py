"""The one place that turns settings into adapters. Nothing else branches on local vs Azure."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from shared.blobs.base import BlobStore, NoBlobStore
from shared.cache.base import Cache
from shared.flags.base import FlagSource
from shared.jobs.base import JobQueue, MemoryJobQueue, NoJobQueue
from shared.llm.client import OpenAiChatModel, build_chat_models
from shared.llm.fallback import FallbackChatModel
from shared.prompts import Prompts
from shared.recordings.base import RecordingDownloader
from shared.search.base import DocumentSearch
from shared.search.cached import CachedSearch
from shared.settings import (
    BlobsBackend,
    CacheBackend,
    FlagsBackend,
    JobsBackend,
    ProcessRole,
    SearchBackend,
    Settings,
    SmsBackend,
    SpeechBackend,
    StoreBackend,
    load_settings,
)
from shared.sms.base import OutboxSms, SmsSender
from shared.speech.base import SpeechEngines, SpeechError, TurnEndModel
from shared.store.base import CallStore
from shared.telephony.base import RecordingTelephony, Telephony
from shared.telephony.callback_auth import JwtVerifier
from shared.translation.base import Translator
from shared.translation.phrases import PhraseBook

log = logging.getLogger(__name__)


@dataclass
class Services:
    """The adapters one process uses, built once from settings and closed together."""

    settings: Settings
    store: CallStore
    cache: Cache
    flags: FlagSource
    prompts: Prompts
    telephony: Telephony
    sms: SmsSender
    search: DocumentSearch
    llm_models: dict[str, OpenAiChatModel]
    jobs: JobQueue
    blobs: BlobStore
    recordings: RecordingDownloader
    callback_verifier: JwtVerifier
    translator: Translator | None = None

    def __post_init__(self) -> None:
        # the bot's phrases in every call language (translated ones kept in the cache and the process)
        translator_settings = self.settings.translator
        self.phrases: PhraseBook = PhraseBook(
            self.prompts,
            self.translator,
            self.cache,
            timeout_sec=translator_settings.timeout_sec,
            ttl_sec=translator_settings.cache_ttl_sec,
        )
        # the models in order behind one fallback, shared by every call and the insights: a model that
        # failed is skipped for a cool-down by all of them
        models = [self.llm_models[role] for role in ("fast", "slow") if role in self.llm_models]
        self.chat: FallbackChatModel | None = FallbackChatModel(models) if models else None

    async def aclose(self) -> None:
        if self.chat is not None:
            await self.chat.aclose()
        await self.phrases.aclose()
        closers = [
            ("store", self.store.close),
            ("cache", self.cache.close),
            ("flags", self.flags.close),
            ("telephony", self.telephony.close),
            ("sms", self.sms.close),
            ("jobs", self.jobs.close),
            ("blobs", self.blobs.close),
            ("recordings", self.recordings.close),
            ("search", self.search.close),
        ]
        closers += [(f"llm {role}", model.close) for role, model in self.llm_models.items()]
        if self.translator is not None:
            closers.append(("translator", self.translator.close))
        for name, closer in closers:
            try:
                await closer()
            except Exception:  # closing must go on with the others
                log.exception("closing the %s failed", name)


def build_store(settings: Settings) -> CallStore:
    if settings.store_backend is StoreBackend.COSMOS:
        from shared.store.cosmos import CosmosCallStore  # noqa: PLC0415 (Azure SDK only when used)

        cosmos = settings.store.cosmos
        assert cosmos.endpoint  # guaranteed by Settings validation
        return CosmosCallStore(
            cosmos.endpoint,
            database=cosmos.database,
            container=cosmos.container,
            key=cosmos.key.get_secret_value() if cosmos.key else None,
        )
    from shared.store.sqlite import SqliteCallStore  # noqa: PLC0415

    return SqliteCallStore(settings.store.sqlite.path, busy_timeout_ms=settings.store.sqlite.busy_timeout_ms)


def build_cache(settings: Settings) -> Cache:
    if settings.cache_backend is CacheBackend.REDIS:
        from shared.cache.redis import RedisCache  # noqa: PLC0415

        url = settings.cache.redis.url
        assert url is not None  # guaranteed by Settings validation
        return RedisCache(url.get_secret_value(), key_prefix=settings.cache.redis.key_prefix)
    from shared.cache.memory import MemoryCache  # noqa: PLC0415

    return MemoryCache()


def build_flags(settings: Settings) -> FlagSource:
    if settings.flags_backend is FlagsBackend.APPCONFIG:
        from shared.flags.appconfig import AppConfigFlagSource  # noqa: PLC0415

        appconfig = settings.flags.appconfig
        return AppConfigFlagSource(
            endpoint=appconfig.endpoint,
            connection_string=(
                appconfig.connection_string.get_secret_value() if appconfig.connection_string else None
            ),
            label=appconfig.label,
            ttl_sec=settings.flags.ttl_sec,
        )
    from shared.flags.yaml_source import YamlFlagSource  # noqa: PLC0415

    return YamlFlagSource(settings.flags.yaml_path, ttl_sec=settings.flags.ttl_sec)


def build_telephony(settings: Settings) -> Telephony:
    """ACS (Azure, or the local simulator when its endpoint is set); else the in-process recorder."""
    acs = settings.acs
    if acs.endpoint:
        from shared.telephony.acs import AcsTelephony  # noqa: PLC0415

        key = acs.access_key.get_secret_value() if acs.access_key else None
        return AcsTelephony(
            acs.endpoint,
            access_key=key,
            audio_format=settings.media.audio_format,
            cognitive_services_endpoint=acs.cognitive_services_endpoint,
        )
    return RecordingTelephony()


def build_sms(settings: Settings) -> SmsSender:
    """ACS SMS (Azure, or the local simulator), Twilio, or the in-process outbox."""
    backend = settings.sms_backend
    if backend is SmsBackend.ACS:
        from shared.sms.acs import AcsSms  # noqa: PLC0415 (Azure SDK only when used)

        acs = settings.acs
        assert acs.endpoint is not None  # guaranteed by Settings validation
        key = acs.access_key.get_secret_value() if acs.access_key else None
        return AcsSms(acs.endpoint, key, acs.phone_number)
    if backend is SmsBackend.TWILIO:
        from shared.sms.twilio import TwilioSms  # noqa: PLC0415

        twilio = settings.sms.twilio
        assert twilio.account_sid and twilio.auth_token and twilio.from_number  # Settings validation
        return TwilioSms(
            twilio.account_sid,
            twilio.auth_token.get_secret_value(),
            twilio.from_number,
            base_url=twilio.base_url,
        )
    return OutboxSms()


def build_jobs(settings: Settings) -> JobQueue:
    if not settings.runs(ProcessRole.FUNCTIONS):
        return NoJobQueue(settings.process_role.value)
    if settings.jobs_backend is JobsBackend.STORAGE:
        from shared.jobs.storage_queue import StorageJobQueue  # noqa: PLC0415

        connection = settings.jobs.connection_string
        return StorageJobQueue(
            connection.get_secret_value() if connection else None,
            settings.jobs.queue_name,
            account_url=settings.jobs.account_url,
        )
    return MemoryJobQueue()


def build_blobs(settings: Settings) -> BlobStore:
    blobs = settings.blobs
    if not settings.runs(ProcessRole.FUNCTIONS):
        return NoBlobStore(settings.process_role.value)
    if settings.blobs_backend is BlobsBackend.AZURE:
        from shared.blobs.azure_blob import AzureBlobStore  # noqa: PLC0415 (Azure SDK only when used)

        connection = blobs.connection_string
        return AzureBlobStore(
            blobs.container,
            connection_string=connection.get_secret_value() if connection else None,
            account_url=blobs.account_url,
        )
    from shared.blobs.files import FileBlobStore  # noqa: PLC0415

    return FileBlobStore(blobs.files_dir, blobs.container)


def build_recordings(settings: Settings) -> RecordingDownloader:
    """The Call Automation SDK for ACS (https only); a plain GET from the local simulator's origin."""
    acs = settings.acs
    if acs.endpoint and acs.endpoint.lower().startswith("https://"):
        from shared.recordings.acs_download import AcsRecordingDownloader  # noqa: PLC0415

        key = acs.access_key.get_secret_value() if acs.access_key else None
        return AcsRecordingDownloader(acs.endpoint, access_key=key)
    from shared.recordings.http_download import HttpRecordingDownloader  # noqa: PLC0415

    return HttpRecordingDownloader([acs.endpoint] if acs.endpoint else [])


def build_search(settings: Settings, cache: Cache) -> DocumentSearch:
    """The knowledge index (AI Search, or the local SQLite one), its results kept in the cache."""
    search = settings.search
    index: DocumentSearch
    if settings.search_backend is SearchBackend.AZURE:
        from shared.search.azure_search import AzureKnowledgeIndex  # noqa: PLC0415 (Azure SDK only when used)

        index = AzureKnowledgeIndex.from_settings(search)
        namespace = f"azure:{search.azure.index}"
    else:
        from shared.search.sqlite_index import SqliteKnowledgeIndex, local_embedder  # noqa: PLC0415

        index = SqliteKnowledgeIndex(search.sqlite.path, embedder=local_embedder(search.sqlite))
        namespace = f"sqlite:{search.sqlite.path}"
    return CachedSearch(index, cache, namespace=namespace, ttl_sec=search.cache_ttl_sec)


def build_translator(settings: Settings) -> Translator | None:
    """Azure AI Translator when its endpoint is set; else None (English phrases for a language without
    a list, said once in the log by the phrase book)."""
    translator = settings.translator
    if not translator.endpoint:
        return None
    from shared.translation.azure_translator import AzureTranslator  # noqa: PLC0415

    return AzureTranslator(
        translator.endpoint,
        key=translator.key.get_secret_value() if translator.key else None,
        region=translator.region,
        resource_id=translator.resource_id,
        timeout_sec=translator.timeout_sec,
    )


def build_services(settings: Settings | None = None) -> Services:
    """Every adapter of the process."""
    settings = settings or load_settings()
    cache = build_cache(settings)
    return Services(
        settings=settings,
        store=build_store(settings),
        cache=cache,
        flags=build_flags(settings),
        prompts=Prompts.load(settings.prompts.path, overrides=settings.prompts.overrides_path),
        telephony=build_telephony(settings),
        sms=build_sms(settings),
        search=build_search(settings, cache),
        llm_models=build_chat_models(settings.llm),
        jobs=build_jobs(settings),
        blobs=build_blobs(settings),
        recordings=build_recordings(settings),
        callback_verifier=JwtVerifier(
            jwks_url=settings.acs.callback_jwt.jwks_url,
            issuer=settings.acs.callback_jwt.issuer,
            audience=settings.acs.callback_jwt.audience,
        ),
        translator=build_translator(settings),
    )


def build_speech(services: Services) -> SpeechEngines:
    """The speech engines of a media host process (heavy: call once, off the event loop)."""
    speech = services.settings.speech
    from shared.speech.vad import SileroVadEngine  # noqa: PLC0415 (media host only)

    if speech.backend is SpeechBackend.AZURE:
        from shared.speech.azure_speech import AzureStt, AzureTts  # noqa: PLC0415

        azure = speech.azure
        key = azure.key.get_secret_value() if azure.key else None
        return SpeechEngines(
            vad=SileroVadEngine(),
            stt=AzureStt(key=key, region=azure.region, endpoint=azure.endpoint),
            tts=AzureTts(
                key,
                azure.region,
                voices=azure.voices,
                endpoint_id=azure.custom_voice_endpoint_id,
                endpoint=azure.endpoint,
            ),
            turn_end=_turn_end_model(speech.turn_end_model),
        )
    from shared.speech.routing import local_tts  # noqa: PLC0415
    from shared.speech.whisper_stt import WhisperStt, default_models  # noqa: PLC0415

    models: dict[str, str | Path] = {**default_models(speech.models_cache), **speech.stt_models}
    voices = {family: Path(path) for family, path in speech.piper_voices.items()} or None
    return SpeechEngines(
        vad=SileroVadEngine(),
        stt=WhisperStt(
            models,
            cpu_threads=speech.cpu_threads,
            windows_sec=(speech.stt_short_window_sec,) if speech.stt_short_window_sec else (),
        ),
        tts=local_tts(piper_voices=voices),
        turn_end=_turn_end_model(speech.turn_end_model),
    )


def _turn_end_model(location: str) -> TurnEndModel | None:
    """The acoustic end-of-turn model, or None when turned off or not installed (logged: the words
    and the pause still end turns)."""
    if location.strip().lower() in ("", "off", "none"):
        return None
    from shared.speech.smart_turn import SmartTurnModel  # noqa: PLC0415 (media host only)

    try:
        return SmartTurnModel(location)
    except SpeechError as exc:
        log.warning("no end-of-turn model: %s", exc)
        return None


class ServicesHolder:
    """Builds the services on first use (the Functions host gives no reliable start hook) and once only."""

    def __init__(self, settings: Settings | None = None, *, role: ProcessRole = ProcessRole.ALL) -> None:
        """Without `settings`, they are loaded from the environment on first use, for `role`."""
        self._settings = settings
        self._role = role
        self._services: Services | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Services:
        if self._services is None:
            async with self._lock:
                if self._services is None:
                    self._services = build_services(self._settings or load_settings(process_role=self._role))
        return self._services

    def peek(self) -> Services | None:
        """The services if already built (inspection by tools and tests), without building them."""
        return self._services

    async def aclose(self) -> None:
        if self._services is not None:
            services, self._services = self._services, None
            await services.aclose()
