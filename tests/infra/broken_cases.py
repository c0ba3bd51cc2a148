"""The broken copies of test_broken_copies.py: for each check, one file broken in one place and the
problem the check must then report."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from local.functions_host import RegisteredFunction
from tests.infra import checks, images, linters, security, settings_checks
from tests.infra.project import Project

Check = Callable[[Project, dict[str, RegisteredFunction]], list[str]]


class Case(NamedTuple):
    id: str
    check: Check
    path: str  # the file broken in the copy
    old: str  # text in it
    new: str  # what replaces it
    expected: str  # part of a problem the check must report


MEDIA_APP_CONFIG_READER = (
    "      { principalId: identities.outputs.mediaPrincipalId, "
    "roleDefinitionId: roles.appConfigDataReader }\n"
)
STALE_ENTRY = (
    "- { check: CKV_AZURE_1, file: modules/storage.bicep, "
    "resource: Microsoft.Storage/storageAccounts.account, reason: no longer fails }\n"
)

CASES = [
    Case(
        "bicep-syntax",
        lambda project, _functions: checks.parse_problems(project),
        "infra/modules/cosmos.bicep",
        "resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-05-15' = {",
        "resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-05-15' = {{",
        "modules/cosmos.bicep: does not parse",
    ),
    Case(
        "missing-module",
        lambda project, _functions: checks.parse_problems(project),
        "infra/main.bicep",
        "module redis 'modules/redis.bicep'",
        "module redis 'modules/cache.bicep'",
        "uses modules/cache.bicep, which is missing",
    ),
    Case(
        "event-to-unknown-function",
        checks.event_grid_problems,
        "infra/events.bicep",
        "/functions/incoming_call'",
        "/functions/incoming_calls'",
        "/functions/incoming_calls is not a function that function_app registers",
    ),
    Case(
        "event-type-of-another-function",
        checks.event_grid_problems,
        "infra/events.bicep",
        "includedEventTypes: ['Microsoft.Communication.SMSReceived']",
        "includedEventTypes: ['Microsoft.Communication.IncomingCall']",
        "to sms_received, which handles ['Microsoft.Communication.SMSReceived']",
    ),
    Case(
        "cloud-events-schema",
        checks.event_grid_problems,
        "infra/events.bicep",
        "eventDeliverySchema: 'EventGridSchema'",
        "eventDeliverySchema: 'CloudEventSchemaV1_0'",
        "the delivery schema must be EventGridSchema",
    ),
    Case(
        "no-number-filter",
        checks.event_grid_problems,
        "infra/events.bicep",
        "key: 'data.to.phoneNumber.value', values: [botDigits]",
        "key: 'data.to.phoneNumber.value', values: ['+10000000000']",
        "no filter on the bot's number",
    ),
    Case(
        "long-incoming-call-retries",
        checks.event_grid_problems,
        "infra/events.bicep",
        "retryPolicy: { maxDeliveryAttempts: 3, eventTimeToLiveInMinutes: 1 }",
        "retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 }",
        "IncomingCall needs a short time to live",
    ),
    Case(
        "ws-media-url",
        settings_checks.settings_problems,
        "infra/main.bicep",
        "MEDIA__PUBLIC_URL: 'wss://",
        "MEDIA__PUBLIC_URL: 'ws://",
        "functions settings: MEDIA__PUBLIC_URL",
    ),
    Case(
        "no-cosmos-endpoint",
        settings_checks.settings_problems,
        "infra/main.bicep",
        "  STORE__COSMOS__ENDPOINT: cosmos.outputs.endpoint\n",
        "",
        "media settings: STORE__COSMOS__ENDPOINT",
    ),
    Case(
        "queue-connection-not-set",
        settings_checks.settings_problems,
        "infra/main.bicep",
        "var jobsConnection = 'JobsStorage'",
        "var jobsConnection = 'JobStorage'",
        "connection JobsStorage: neither JobsStorage nor JobsStorage__* is an app setting",
    ),
    Case(
        "task-hub-not-set",
        settings_checks.settings_problems,
        "infra/main.bicep",
        "  DURABLE_TASK_HUB: durableTaskHub\n",
        "",
        "host.json uses %DURABLE_TASK_HUB%, which is not an app setting",
    ),
    Case(
        "grace-shorter-than-drain",
        settings_checks.settings_problems,
        "infra/main.bicep",
        "terminationGraceSec: callDrainSec + 60",
        "terminationGraceSec: callDrainSec",
        "needs a termination grace of at least",
    ),
    Case(
        "setting-the-example-lists",
        lambda project, _functions: settings_checks.example_problems(project),
        "infra/main.bicep",
        "  FLAGS__APPCONFIG__ENDPOINT: appConfig.outputs.endpoint\n",
        "",
        "functions: FLAGS__APPCONFIG__ENDPOINT (azure.settings.example.json) is not set by the templates",
    ),
    Case(
        "partition-key",
        checks.names_problems,
        "infra/main.bicep",
        "var cosmosPartitionKey = '/caller_phone'",
        "var cosmosPartitionKey = '/callerPhone'",
        "Cosmos partition key: the templates say '/callerPhone'",
    ),
    Case(
        "composite-index",
        checks.names_problems,
        "infra/main.bicep",
        "{ path: '/id', order: 'descending' }",
        "{ path: '/id', order: 'ascending' }",
        "Cosmos composite indexes",
    ),
    Case(
        "queue-name",
        checks.names_problems,
        "infra/main.bicep",
        "var postCallQueue = 'post-call'",
        "var postCallQueue = 'postcall'",
        "queue of post_call_starter: the templates say 'postcall'",
    ),
    Case(
        "media-port",
        checks.names_problems,
        "infra/main.bicep",
        "var mediaPort = 8765",
        "var mediaPort = 8080",
        "media host port: the templates say 8080",
    ),
    Case(
        "readiness-path",
        checks.names_problems,
        "infra/main.bicep",
        "var mediaReadinessPath = '/health/readiness'",
        "var mediaReadinessPath = '/ready'",
        "readiness probe: the templates say '/ready'",
    ),
    Case(
        "dockerfile-loopback",
        checks.names_problems,
        "media_host/Dockerfile",
        '"--host", "0.0.0.0"',
        '"--host", "127.0.0.1"',
        "Dockerfile --host",
    ),
    Case(
        "incoming-call-cold",
        checks.names_problems,
        "infra/main.bicep",
        "var alwaysReadyFunctions = ['incoming_call']",
        "var alwaysReadyFunctions = ['sms_received']",
        "incoming_call answers calls: it must be always ready",
    ),
    Case(
        "storage-shared-keys",
        lambda project, _functions: security.security_problems(project),
        "infra/modules/storage.bicep",
        "allowSharedKeyAccess: false",
        "allowSharedKeyAccess: true",
        "properties.allowSharedKeyAccess must be False",
    ),
    Case(
        "cosmos-local-auth",
        lambda project, _functions: security.security_problems(project),
        "infra/modules/cosmos.bicep",
        "disableLocalAuth: true",
        "disableLocalAuth: false",
        "modules/cosmos.bicep account: properties.disableLocalAuth must be True",
    ),
    Case(
        "old-tls",
        lambda project, _functions: security.security_problems(project),
        "infra/modules/functionapp.bicep",
        "minTlsVersion: '1.2'",
        "minTlsVersion: '1.0'",
        "properties.siteConfig.minTlsVersion must be '1.2'",
    ),
    Case(
        "http-allowed",
        lambda project, _functions: security.security_problems(project),
        "infra/modules/functionapp.bicep",
        "httpsOnly: true",
        "httpsOnly: false",
        "properties.httpsOnly must be True",
    ),
    Case(
        "no-replica",
        lambda project, _functions: security.security_problems(project),
        "infra/main.parameters.example.json",
        '"mediaMinReplicas": { "value": 1 }',
        '"mediaMinReplicas": { "value": 0 }',
        "media host: minReplicas must be >= 1, got 0",
    ),
    Case(
        "missing-role",
        lambda project, _functions: settings_checks.role_problems(project),
        "infra/main.bicep",
        MEDIA_APP_CONFIG_READER,
        "",
        "identity media: missing role appConfigDataReader on appConfig",
    ),
    Case(
        "extra-role",
        lambda project, _functions: settings_checks.role_problems(project),
        "infra/main.bicep",
        "{ principalId: identities.outputs.mediaPrincipalId, roleDefinitionId: roles.acrPull }",
        "{ principalId: identities.outputs.mediaPrincipalId, roleDefinitionId: roles.acrPull }\n"
        "      { principalId: identities.outputs.functionPrincipalId, roleDefinitionId: roles.acrPull }",
        "identity function: role acrPull on registry is not implied by its settings",
    ),
    Case(
        "flex-consumption-setting",
        settings_checks.settings_problems,
        "infra/main.bicep",
        "  DURABLE_TASK_HUB: durableTaskHub\n",
        "  DURABLE_TASK_HUB: durableTaskHub\n  FUNCTIONS_WORKER_RUNTIME: 'python'\n",
        "FUNCTIONS_WORKER_RUNTIME is refused on Flex Consumption",
    ),
    Case(
        "speech-region-and-endpoint",
        settings_checks.settings_problems,
        "infra/main.bicep",
        "  SPEECH__AZURE__REGION: aiServices.outputs.region\n",
        "  SPEECH__AZURE__REGION: aiServices.outputs.region\n"
        "  SPEECH__AZURE__ENDPOINT: aiServices.outputs.endpoint\n",
        "Azure Speech needs one of key/token and one of region/endpoint",
    ),
    Case(
        "image-without-shared",
        lambda project, _functions: images.image_problems(project),
        "media_host/Dockerfile",
        "COPY shared ./shared\n",
        "",
        "media_host/Dockerfile: no COPY brings shared/settings.py",
    ),
    Case(
        "dockerignore-drops-code",
        lambda project, _functions: images.image_problems(project),
        ".dockerignore",
        "!shared/\n",
        "",
        ".dockerignore leaves out shared",
    ),
    Case(
        "container-without-secrets",
        settings_checks.settings_problems,
        "infra/modules/mediahost.bicep",
        "env: concat(plainEnv, secretEnv)",
        "env: plainEnv",
        "media settings: CACHE__REDIS__URL",
    ),
    Case(
        "probe-port",
        checks.names_problems,
        "infra/modules/mediahost.bicep",
        "httpGet: { path: readinessPath, port: port }",
        "httpGet: { path: readinessPath, port: 80 }",
        "Readiness probe port: the templates say 80",
    ),
    Case(
        "python-runtime",
        checks.names_problems,
        "infra/modules/functionapp.bicep",
        "runtime: { name: 'python', version: '3.11' }",
        "runtime: { name: 'python', version: '3.12' }",
        "function app runtime",
    ),
    Case(
        "http-group-cold",
        checks.names_problems,
        "infra/modules/functionapp.bicep",
        "alwaysReady: concat([{ name: 'http', instanceCount: alwaysReadyInstances }], functionAlwaysReady)",
        "alwaysReady: functionAlwaysReady",
        "the HTTP group must be always ready",
    ),
    Case(
        "scale-to-zero",
        lambda project, _functions: security.security_problems(project),
        "infra/modules/mediahost.bicep",
        "minReplicas: minReplicas",
        "minReplicas: 0",
        "media host: minReplicas must be >= 1, got 0",
    ),
    Case(
        "key-vault-reference-identity",
        lambda project, _functions: security.security_problems(project),
        "infra/modules/functionapp.bicep",
        "    keyVaultReferenceIdentity: identityId\n",
        "",
        "function app: keyVaultReferenceIdentity must use its identity",
    ),
    Case(
        "image-pulled-without-identity",
        lambda project, _functions: security.security_problems(project),
        "infra/modules/mediahost.bicep",
        "registries: [{ server: registryServer, identity: identityId }]",
        "registries: [{ server: registryServer, identity: 'system' }]",
        "media host: registry",
    ),
    Case(
        "flag-out-of-range",
        lambda project, _functions: checks.flags_problems(project),
        "infra/main.bicep",
        "vad_threshold: '0.5'",
        "vad_threshold: '5'",
        "vad_threshold",
    ),
    Case(
        "unknown-flag",
        lambda project, _functions: checks.flags_problems(project),
        "infra/main.bicep",
        "  recording_enabled: false\n",
        "  recordings_enabled: false\n",
        "feature flag recordings_enabled is not one the code knows",
    ),
    Case(
        "compose-stops-calls",
        lambda project, _functions: images.compose_problems(project),
        "compose.yaml",
        "stop_grace_period: 960s",
        "stop_grace_period: 10s",
        "stop_grace_period must be at least 930s",
    ),
    Case(
        "hadolint",
        lambda project, _functions: linters.hadolint_problems(project),
        "media_host/Dockerfile",
        "USER 10001:10001",
        "USER root",
        "DL3002",
    ),
    Case(
        "shellcheck",
        lambda project, _functions: linters.shellcheck_problems(project),
        "scripts/deploy.sh",
        'az group show --name "$group" --output none',
        "az group show --name $group --output none",
        "SC2086",
    ),
    Case(
        "actionlint-run-script",
        lambda project, _functions: linters.actionlint_problems(project),
        ".github/workflows/deploy.yml",
        'run: make deploy name="$RESOURCE_GROUP" location="$LOCATION"',
        "run: make deploy name=$RESOURCE_GROUP location=$LOCATION",
        "shellcheck reported issue",
    ),
    Case(
        "actionlint",
        lambda project, _functions: linters.actionlint_problems(project),
        ".github/workflows/deploy.yml",
        "client-id: ${{ vars.AZURE_CLIENT_ID }}",
        "client-id: ${{ var.AZURE_CLIENT_ID }}",
        'undefined variable "var"',
    ),
]
