"""Security properties of the templates: keys and local auth off where the service allows it, HTTPS and
TLS 1.2+, no admin users or public blobs, the media host always running."""

from __future__ import annotations

from typing import Any

from tests.infra.bicep import Template
from tests.infra.project import Project

# resource type -> [(property path, required value)]
REQUIRED: dict[str, list[tuple[str, Any]]] = {
    "Microsoft.Storage/storageAccounts": [
        ("properties.allowSharedKeyAccess", False),
        ("properties.allowBlobPublicAccess", False),
        ("properties.supportsHttpsTrafficOnly", True),
        ("properties.minimumTlsVersion", "TLS1_2"),
    ],
    "Microsoft.Storage/storageAccounts/blobServices/containers": [("properties.publicAccess", "None")],
    "Microsoft.DocumentDB/databaseAccounts": [
        ("properties.disableLocalAuth", True),
        ("properties.minimalTlsVersion", "Tls12"),
    ],
    "Microsoft.AppConfiguration/configurationStores": [("properties.disableLocalAuth", True)],
    "Microsoft.Search/searchServices": [("properties.disableLocalAuth", True)],
    "Microsoft.Insights/components": [("properties.DisableLocalAuth", True)],
    "Microsoft.CognitiveServices/accounts": [("properties.disableLocalAuth", True)],
    "Microsoft.ContainerRegistry/registries": [
        ("properties.adminUserEnabled", False),
        ("properties.anonymousPullEnabled", False),
    ],
    "Microsoft.KeyVault/vaults": [
        ("properties.enableRbacAuthorization", True),
        ("properties.enablePurgeProtection", True),
    ],
    "Microsoft.Cache/redis": [
        ("properties.enableNonSslPort", False),
        ("properties.minimumTlsVersion", "1.2"),
    ],
    "Microsoft.Web/sites": [
        ("properties.httpsOnly", True),
        ("properties.siteConfig.minTlsVersion", "1.2"),
        ("properties.siteConfig.scmMinTlsVersion", "1.2"),
        ("properties.siteConfig.ftpsState", "Disabled"),
    ],
    "Microsoft.Web/sites/basicPublishingCredentialsPolicies": [("properties.allow", False)],
    "Microsoft.App/containerApps": [
        ("properties.configuration.ingress.allowInsecure", False),
        ("properties.configuration.ingress.external", True),
    ],
}

# Where a key stays on, and why (docs/deploy.md, "Keys that remain"): (resource type, kind) -> reason.
# Redis has no switch in this list: the code's rediss:// URL carries its access key.
KEY_EXCEPTIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("Microsoft.CognitiveServices/accounts", "AIServices"): (
        "properties.disableLocalAuth",
        "the media host's Azure Speech client authenticates with a key",
    ),
}


def lookup(config: dict[str, Any], path: str) -> Any:
    current: Any = config
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def security_problems(project: Project) -> list[str]:
    problems: list[str] = []
    for relative, template in project.templates.items():
        for symbol, resource in template.resources.items():
            if resource.get("existing"):
                continue
            config = template.resource_config(resource)
            kind = str(template.value(config.get("kind", "")))
            skipped = KEY_EXCEPTIONS.get((resource["type"], kind), ("", ""))[0]
            for path, required in REQUIRED.get(resource["type"], []):
                if path == skipped:
                    continue
                actual = template.value(lookup(config, path))
                if actual != required:
                    problems.append(f"{relative} {symbol}: {path} must be {required!r}, got {actual!r}")
    return problems + _replica_problems(project) + _identity_problems(project)


def _identity_problems(project: Project) -> list[str]:
    """Each process runs as its one user-assigned identity, and uses it everywhere an identity is named
    (Key Vault references, the package download, the image pull, container-app secrets)."""
    problems: list[str] = []
    site = project.resource("functionApp", "Microsoft.Web/sites")
    app = project.resource("mediaHost", "Microsoft.App/containerApps")
    for process, resource, used in (
        (
            "function app",
            site,
            {
                "keyVaultReferenceIdentity": site["properties"].get("keyVaultReferenceIdentity"),
                "the package download": lookup(
                    site,
                    "properties.functionAppConfig.deployment.storage.authentication.userAssignedIdentityResourceId",
                ),
            },
        ),
        (
            "media host",
            app,
            {
                **{
                    f"registry {r.get('server')}": r.get("identity")
                    for r in app["properties"]["configuration"].get("registries") or []
                },
                **{
                    f"secret {s.get('name')}": s.get("identity")
                    for s in app["properties"]["configuration"].get("secrets") or []
                },
            },
        ),
    ):
        identity = resource.get("identity") or {}
        assigned = list(identity.get("userAssignedIdentities") or {})
        if identity.get("type") != "UserAssigned" or len(assigned) != 1:
            problems.append(f"{process}: runs as exactly one user-assigned identity, got {identity!r}")
            continue
        for where, value in used.items():
            if value != assigned[0]:
                problems.append(f"{process}: {where} must use its identity {assigned[0]!r}, got {value!r}")
    return problems


def _replica_problems(project: Project) -> list[str]:
    """The media host always runs: at least one replica, and a scale rule for more."""
    problems: list[str] = []
    media: Template = project.module_template("mediaHost")
    floor = media.decorator("min_value", "minReplicas")
    if not isinstance(floor, int) or floor < 1:
        problems.append(f"mediahost.bicep: parameter minReplicas needs @minValue(1), got {floor!r}")
    scale = project.resource("mediaHost", "Microsoft.App/containerApps")["properties"]["template"]["scale"]
    minimum = scale.get("minReplicas")
    if not isinstance(minimum, int) or minimum < 1:
        problems.append(f"media host: minReplicas must be >= 1, got {minimum!r}")
    if not scale.get("rules"):
        problems.append("media host: no scale rule (calls need more replicas under load)")
    return problems
