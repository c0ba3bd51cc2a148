"""The app settings the templates give each process, checked by the code that reads them: they pass
`load_settings` for that process role on Azure, they set every binding connection and `%SETTING%`
the function app declares, and each identity holds exactly the roles its settings imply."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from local.functions_host import RegisteredFunction
from tests.infra.bicep import Template, accessor_path
from tests.infra.project import REPO, Project

SECRET = "dummy-secret-value"  # what a Key Vault reference resolves to on Azure
KEY_VAULT_REFERENCE = re.compile(r"^@Microsoft\.KeyVault\(")
PLACEHOLDER = re.compile(r"%([A-Za-z0-9_]+)%")
TASK_HUB_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{2,44}$")
DRAIN_MARGIN_SEC = 30  # between the end of the drain and SIGKILL: closing sockets, flushing telemetry
AZURE_MARKERS = {
    "functions": ("WEBSITE_INSTANCE_ID", "dummy-instance"),
    "media": ("CONTAINER_APP_NAME", "media"),
}
# App settings a Flex Consumption app refuses (the platform sets the runtime itself; no content share)
FLEX_CONSUMPTION_REJECTED = (
    "FUNCTIONS_EXTENSION_VERSION",
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_WORKER_RUNTIME_VERSION",
    "FUNCTIONS_WORKER_PROCESS_COUNT",
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "ENABLE_ORYX_BUILD",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_NODE_DEFAULT_VERSION",
)

# role name in main.bicep's `roles` -> the resource type it is granted on
ROLE_TARGETS = {
    "acrPull": "Microsoft.ContainerRegistry/registries",
    "appConfigDataReader": "Microsoft.AppConfiguration/configurationStores",
    "cognitiveServicesOpenAiUser": "Microsoft.CognitiveServices/accounts",
    "cognitiveServicesUser": "Microsoft.CognitiveServices/accounts",
    "contributor": "Microsoft.Communication/communicationServices",
    "cosmosDataContributor": "Microsoft.DocumentDB/databaseAccounts",
    "keyVaultSecretsUser": "Microsoft.KeyVault/vaults",
    "monitoringMetricsPublisher": "Microsoft.Insights/components",
    "searchIndexDataReader": "Microsoft.Search/searchServices",
    "searchServiceContributor": "Microsoft.Search/searchServices",
    "storageBlobDataOwner": "Microsoft.Storage/storageAccounts",
    "storageBlobDataContributor": "Microsoft.Storage/storageAccounts",
    "storageQueueDataContributor": "Microsoft.Storage/storageAccounts",
    "storageTableDataContributor": "Microsoft.Storage/storageAccounts",
}
SUBSUMED_BY = {"storageBlobDataContributor": "storageBlobDataOwner"}


@dataclass
class ProcessSettings:
    """One process's settings in main.bicep: unevaluated nodes and evaluated environment values."""

    role: str  # the code's ProcessRole value
    principal: str  # the identity it runs as ('function', 'media')
    nodes: dict[str, Any]
    values: dict[str, str]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    text = str(value)
    return SECRET if KEY_VAULT_REFERENCE.match(text) else text


def _principal(template: Template, node: Any) -> str:
    """'function' for identities.outputs.functionPrincipalId (functionId, functionClientId), else the
    module (communication.outputs.principalId: 'communication')."""
    path = accessor_path(node) or []
    if len(path) == 3 and path[0] == "identities":
        return re.sub(r"(PrincipalId|ClientId|Id)$", "", path[2])
    return path[0] if path else str(template.value(node))


def function_app_environment(project: Project) -> dict[str, str]:
    """The app settings functionapp.bicep gives the site (its `appsettings` config), evaluated."""
    settings = project.resource("functionApp", "Microsoft.Web/sites/config")
    return {str(name): _text(value) for name, value in (settings.get("properties") or {}).items()}


def media_host_environment(project: Project) -> tuple[dict[str, str], list[str]]:
    """The media host container's environment as mediahost.bicep builds it: a `secretRef` reads a
    container-app secret, which must point at Key Vault. Also the problems found on the way."""
    app = project.resource("mediaHost", "Microsoft.App/containerApps")
    secrets = {
        secret.get("name"): secret for secret in app["properties"]["configuration"].get("secrets") or []
    }
    environment: dict[str, str] = {}
    problems: list[str] = []
    for variable in app["properties"]["template"]["containers"][0].get("env") or []:
        name = str(variable["name"])
        if "secretRef" not in variable:
            environment[name] = _text(variable.get("value"))
        elif "keyVaultUrl" not in secrets.get(variable["secretRef"], {}):
            problems.append(
                f"media host: {name} reads secret {variable['secretRef']}, not a Key Vault secret"
            )
        else:
            environment[name] = SECRET
    return environment, problems


def process_settings(project: Project) -> list[ProcessSettings]:
    """Each process's settings: the values its module gives it, and main.bicep's nodes behind them."""
    main = project.main
    media_nodes = main.entries(project.module("mediaHost").params["settings"])
    secret_nodes = main.entries(project.module("mediaHost").params["secretSettings"])
    return [
        ProcessSettings(
            "functions",
            _principal(main, project.module("functionApp").params["identityId"]),
            main.entries(project.module("functionApp").params["appSettings"]),
            function_app_environment(project),
        ),
        ProcessSettings(
            "media",
            _principal(main, project.module("mediaHost").params["identityId"]),
            {**media_nodes, **secret_nodes},
            media_host_environment(project)[0],
        ),
    ]


@contextlib.contextmanager
def isolated_environment(values: Mapping[str, str]) -> Iterator[None]:
    """Exactly these environment variables (plus PATH and HOME), in an empty folder (no config.yaml nor
    local.settings.json), as a process on Azure sees them."""
    saved, cwd = dict(os.environ), os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.environ.clear()
        os.environ.update({k: v for k, v in saved.items() if k in ("PATH", "HOME")})
        os.environ.update(values)
        os.environ["LOCAL_SETTINGS_PATH"] = os.path.join(folder, "local.settings.json")
        os.chdir(folder)
        try:
            yield
        finally:
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(saved)


def load_process_settings(process: ProcessSettings) -> Any:
    """`load_settings` for the process's role, with its environment on Azure (raises SettingsError)."""
    from shared.settings import ProcessRole, load_settings

    marker, value = AZURE_MARKERS[process.role]
    with isolated_environment({**process.values, marker: value}):
        return load_settings(process_role=ProcessRole(process.role))


def settings_problems(project: Project, functions: Mapping[str, RegisteredFunction]) -> list[str]:
    from shared.settings import Mode, SettingsError

    problems = list(media_host_environment(project)[1])
    processes = process_settings(project)
    for process in processes:
        try:
            settings = load_process_settings(process)
        except SettingsError as exc:
            problems += [f"{process.role} settings: {problem}" for problem in exc.problems]
            continue
        if settings.mode is not Mode.AZURE:
            problems.append(f"{process.role} settings: MODE must be azure, got {settings.mode}")
        if process.role == "media":
            problems += _speech_problems(settings)
            app = project.resource("mediaHost", "Microsoft.App/containerApps")
            grace = app["properties"]["template"].get("terminationGracePeriodSeconds")
            drain = settings.media.drain_timeout_sec
            if not isinstance(grace, int) or drain + DRAIN_MARGIN_SEC > grace:
                problems.append(
                    f"media host: a {drain:g} s call drain needs a termination grace of at least "
                    f"{drain + DRAIN_MARGIN_SEC:g} s, got {grace!r}"
                )
    functions_process = next(p for p in processes if p.role == "functions")
    problems += [
        f"functions settings: {name} is refused on Flex Consumption"
        for name in FLEX_CONSUMPTION_REJECTED
        if name in functions_process.values
    ]
    return problems + _binding_problems(project, functions_process, functions)


# Settings azure.settings.example.json lists that the templates leave out on purpose: (process, name) -> why
NOT_FROM_TEMPLATES = {
    ("media", "PROCESS_ROLE"): "python -m media_host loads its settings for the media role itself",
    (
        "media",
        "SPEECH__AZURE__ENDPOINT",
    ): "the templates give the region; the Speech SDK takes one or the other",
}


def example_problems(project: Project) -> list[str]:
    """Every setting azure.settings.example.json (the code's list of what azure mode needs, per process)
    names is one the templates set for that process, or one left out on purpose (NOT_FROM_TEMPLATES)."""
    example = json.loads((REPO / "azure.settings.example.json").read_text(encoding="utf-8"))
    problems: list[str] = []
    for process in process_settings(project):
        for name in example.get(process.role) or {}:
            if name.startswith("//") or (process.role, name) in NOT_FROM_TEMPLATES:
                continue
            if name not in process.values:
                problems.append(
                    f"{process.role}: {name} (azure.settings.example.json) is not set by the templates"
                )
    return problems


def _speech_problems(settings: Any) -> list[str]:
    """With Azure Speech, the media host's settings make the SDK's configuration (built, not connected)."""
    from shared.settings import SpeechBackend
    from shared.speech.azure_speech import speech_config
    from shared.speech.base import SpeechError

    azure = settings.speech.azure
    if settings.speech.backend is not SpeechBackend.AZURE:
        return []
    try:
        speech_config(
            key=azure.key.get_secret_value() if azure.key else None,
            region=azure.region,
            endpoint=azure.endpoint,
        )
    except SpeechError as exc:
        return [f"media settings: {exc}"]
    return []


def _binding_problems(
    project: Project, process: ProcessSettings, functions: Mapping[str, RegisteredFunction]
) -> list[str]:
    problems: list[str] = []
    values = process.values

    def has_connection(name: str) -> bool:
        return name in values or any(key.startswith(f"{name}__") for key in values)

    connections = {"AzureWebJobsStorage"}  # the host's own storage (and Durable's, by default)
    for function in functions.values():
        for binding in function.bindings or (function.binding,):
            if binding.get("connection"):
                connections.add(str(binding["connection"]))
            for name in PLACEHOLDER.findall(json.dumps(binding, default=str)):
                if name not in values:
                    problems.append(f"function {function.name}: its binding uses %{name}%, which is not set")
    for name in sorted(connections):
        if not has_connection(name):
            problems.append(f"connection {name}: neither {name} nor {name}__* is an app setting")
        elif values.get(f"{name}__credential") == "managedidentity":
            client = accessor_path(process.nodes.get(f"{name}__clientId"))
            if client != accessor_path(process.nodes.get("AZURE_CLIENT_ID")):
                problems.append(
                    f"connection {name}: {name}__clientId must be the app's identity (AZURE_CLIENT_ID)"
                )
    host_json = json.dumps(project.host_json())
    for name in PLACEHOLDER.findall(host_json):
        if name not in values:
            problems.append(f"host.json uses %{name}%, which is not an app setting")
        elif name == "DURABLE_TASK_HUB" and not TASK_HUB_NAME.match(values[name]):
            problems.append(f"DURABLE_TASK_HUB {values[name]!r} is not a valid task hub name")
    return problems


def _uses_identity(name: str, key: str) -> Callable[[str, Mapping[str, str]], bool]:
    """A setting `name` that the code uses with Entra ID unless the key setting `key` is set."""
    return lambda setting, values: setting == name and key not in values


def _openai_endpoint(setting: str, values: Mapping[str, str]) -> bool:
    is_endpoint = setting.endswith("__ENDPOINT") and setting.startswith(
        ("LLM__", "SEARCH__AZURE__EMBEDDING__")
    )
    return is_endpoint and setting.replace("__ENDPOINT", "__API_KEY") not in values


# (which settings, the roles their value's resource must grant the process's identity)
ROLE_RULES: list[tuple[Callable[[str, Mapping[str, str]], bool], tuple[str, ...]]] = [
    (  # the Functions host's own storage: blobs, queues and tables (Durable Functions)
        lambda setting, _values: setting == "AzureWebJobsStorage__accountName",
        ("storageBlobDataOwner", "storageQueueDataContributor", "storageTableDataContributor"),
    ),
    (lambda setting, _values: setting.endswith("__queueServiceUri"), ("storageQueueDataContributor",)),
    (_uses_identity("JOBS__ACCOUNT_URL", "JOBS__CONNECTION_STRING"), ("storageQueueDataContributor",)),
    (_uses_identity("BLOBS__ACCOUNT_URL", "BLOBS__CONNECTION_STRING"), ("storageBlobDataContributor",)),
    (_uses_identity("STORE__COSMOS__ENDPOINT", "STORE__COSMOS__KEY"), ("cosmosDataContributor",)),
    (
        _uses_identity("FLAGS__APPCONFIG__ENDPOINT", "FLAGS__APPCONFIG__CONNECTION_STRING"),
        ("appConfigDataReader",),
    ),
    (_openai_endpoint, ("cognitiveServicesOpenAiUser",)),
    (  # the index is created when missing
        _uses_identity("SEARCH__AZURE__ENDPOINT", "SEARCH__AZURE__KEY"),
        ("searchIndexDataReader", "searchServiceContributor"),
    ),
    (_uses_identity("ACS__ENDPOINT", "ACS__ACCESS_KEY"), ("contributor",)),
    (_uses_identity("TRANSLATOR__ENDPOINT", "TRANSLATOR__KEY"), ("cognitiveServicesUser",)),
    (lambda setting, values: values[setting] == SECRET, ("keyVaultSecretsUser",)),
]


def implied_roles(project: Project, processes: list[ProcessSettings]) -> dict[str, set[tuple[str, str]]]:
    """(role, module) per principal, from what each process's settings make it call with its identity."""
    main = project.main
    implied: dict[str, set[tuple[str, str]]] = {}

    def grant(principal: str, role: str, node: Any) -> None:
        for module in main.sources(node):
            if ROLE_TARGETS[role] in project.module_template(module).declared_types():
                implied.setdefault(principal, set()).add((role, module))

    for process in processes:
        for name, node in process.nodes.items():
            for applies, roles in ROLE_RULES:
                for role in roles if applies(name, process.values) else ():
                    grant(process.principal, role, node)
        if "APPLICATIONINSIGHTS_AUTHENTICATION_STRING" in process.nodes:  # telemetry sent with Entra ID
            connection = process.nodes["APPLICATIONINSIGHTS_CONNECTION_STRING"]
            grant(process.principal, "monitoringMetricsPublisher", connection)
        if "ACS__COGNITIVE_SERVICES_ENDPOINT" in process.nodes:  # ACS's own identity calls AI services
            grant("communication", "cognitiveServicesUser", process.nodes["ACS__COGNITIVE_SERVICES_ENDPOINT"])
    grant("media", "acrPull", project.module("mediaHost").params["registryServer"])  # the image pull
    for granted in implied.values():
        for role, module in list(granted):
            if (SUBSUMED_BY.get(role), module) in granted:
                granted.discard((role, module))
    return implied


def assigned_roles(project: Project) -> dict[str, set[tuple[str, str]]]:
    main = project.main
    assigned: dict[str, set[tuple[str, str]]] = {}
    for symbol, module in main.modules.items():
        for item in module.params.get("roleAssignments") or []:
            role_path = accessor_path(item["roleDefinitionId"]) or []
            role = role_path[-1] if role_path[:1] == ["roles"] else str(main.value(item["roleDefinitionId"]))
            assigned.setdefault(_principal(main, item["principalId"]), set()).add((role, symbol))
    return assigned


def role_problems(project: Project) -> list[str]:
    processes = process_settings(project)
    implied, assigned = implied_roles(project, processes), assigned_roles(project)
    problems: list[str] = []
    for process in processes:
        client = accessor_path(process.nodes.get("AZURE_CLIENT_ID")) or []
        if client[-1:] != [f"{process.principal}ClientId"]:
            problems.append(f"{process.role}: AZURE_CLIENT_ID must be the client id of its own identity")
    for principal in sorted(set(implied) | set(assigned)):
        for role, module in sorted(implied.get(principal, set()) - assigned.get(principal, set())):
            problems.append(f"identity {principal}: missing role {role} on {module} (its settings use it)")
        for role, module in sorted(assigned.get(principal, set()) - implied.get(principal, set())):
            problems.append(f"identity {principal}: role {role} on {module} is not implied by its settings")
    return problems
