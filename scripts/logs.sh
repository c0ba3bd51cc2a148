#!/usr/bin/env bash
# `make logs name=RG [since=1h]`: the recent logs of both processes of a deployment, oldest first, from its
# Log Analytics workspace (the function app's traces and exceptions, the media host's console).
set -euo pipefail

group="${1:?usage: scripts/logs.sh RESOURCE_GROUP (SINCE=1h)}"
since="${SINCE:-1h}"

fail() { echo "logs: $*" >&2; exit 2; }
command -v az >/dev/null 2>&1 || fail "the Azure CLI (az) is not installed (docs/deploy.md)"

case "$since" in
  *m) timespan="PT${since%m}M" ;;
  *h) timespan="PT${since%h}H" ;;
  *d) timespan="P${since%d}D" ;;
  *) fail "since must look like 30m, 2h or 1d, got '$since'" ;;
esac

workspace="$(az monitor log-analytics workspace list --resource-group "$group" --query "[0].customerId" --output tsv)"
[ -n "$workspace" ] || fail "no Log Analytics workspace in resource group $group (deployed with make deploy?)"

query='union isfuzzy=true
  (AppTraces | project TimeGenerated, Source = AppRoleName, Level = tostring(SeverityLevel), Message),
  (AppExceptions | project TimeGenerated, Source = AppRoleName, Level = "exception",
     Message = strcat(ExceptionType, ": ", OuterMessage)),
  (ContainerAppConsoleLogs | project TimeGenerated, Source = ContainerAppName, Level = Stream, Message = Log)
| sort by TimeGenerated asc
| take 1000'

az monitor log-analytics query --workspace "$workspace" --analytics-query "$query" --timespan "$timespan" \
  --query "[].[TimeGenerated, Source, Level, Message]" --output tsv
