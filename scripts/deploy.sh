#!/usr/bin/env bash
# `make deploy name=RG [location=REGION]`: Call Center AI on Azure, from an empty resource group to a
# working phone number (docs/deploy.md). Needs the Azure CLI (az, logged in), python3 and git; no Docker
# (the media host image is built in the registry by `az acr build`). Re-running it updates everything.
#   1 resource group   2 stage 1 (infra/main.bicep)   3 API and report-signing keys in Key Vault
#   4 media host image   5 stage 1 again with the image (the container app)   6 function app code
#   7 wait until incoming_call is indexed   8 stage 2 (infra/events.bicep)   then a smoke test
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

group="${1:?usage: scripts/deploy.sh RESOURCE_GROUP (LOCATION=region, PARAMETERS=file)}"
location="${LOCATION:-}"
parameters="${PARAMETERS:-infra/main.parameters.json}"
deployment="call-center-ai"

fail() { echo "deploy: $*" >&2; exit 2; }
step() { echo "deploy [$1/8] $2"; }
new_key() { python3 -c 'import secrets; print(secrets.token_urlsafe(32))'; }

command -v az >/dev/null 2>&1 || fail "the Azure CLI (az) is not installed (docs/deploy.md, 'Before you start')"
command -v python3 >/dev/null 2>&1 || fail "python3 is not on PATH"
[ -f "$parameters" ] || fail "$parameters is missing: copy infra/main.parameters.example.json to it and set botPhoneNumber (docs/deploy.md)"
az account show --output none 2>/dev/null || fail "not logged in to Azure: run 'az login' (and 'az account set --subscription ID')"

step 1 "resource group $group"
if ! az group show --name "$group" --output none 2>/dev/null; then
  [ -n "$location" ] || fail "resource group $group does not exist: give its region, e.g. make deploy name=$group location=swedencentral"
  az group create --name "$group" --location "$location" --output none
fi

# whoever deploys may write the keys into Key Vault and the feature flags into App Configuration
deployer_type=User
deployer_id="$(az ad signed-in-user show --query id --output tsv 2>/dev/null || true)"
if [ -z "$deployer_id" ]; then  # a service principal (the GitHub Actions workflow, with OIDC)
  deployer_type=ServicePrincipal
  deployer_id="$(az ad sp show --id "$(az account show --query user.name --output tsv)" --query id --output tsv)"
fi

deploy_main() {
  az deployment group create --resource-group "$group" --name "$deployment" \
    --template-file infra/main.bicep --parameters "@$parameters" \
    --parameters deployerPrincipalId="$deployer_id" deployerPrincipalType="$deployer_type" mediaImage="$1" \
    --query properties.outputs --output json
}
stage1() {
  # role assignments made by the same deployment (the deployer writing App Configuration values, the
  # media host pulling its image) can take minutes to apply: a first failure is retried once
  deploy_main "$1" || { echo "deploy: retrying stage 1 in 2 minutes (role assignments applying)" >&2; sleep 120; deploy_main "$1"; }
}
output() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]]["value"])' "$1" <<<"$outputs"; }

step 2 "stage 1: infra/main.bicep (a first deployment takes 15-25 minutes)"
outputs="$(stage1 "")"
vault="$(output keyVaultName)"
registry="$(output registryName)"
function_app="$(output functionAppName)"

step 3 "API key and report-signing key in Key Vault $vault (made once, kept afterwards)"
for secret in api-key report-signing-key; do
  for attempt in $(seq 1 30); do  # the deployer's Key Vault role can take a few minutes to apply
    if az keyvault secret show --vault-name "$vault" --name "$secret" --output none 2>/dev/null \
      || az keyvault secret set --vault-name "$vault" --name "$secret" --value "$(new_key)" --output none 2>/dev/null; then
      break
    fi
    [ "$attempt" -lt 30 ] || fail "cannot write $secret into Key Vault $vault (role assignment not applied yet? run make deploy again)"
    sleep 10
  done
done

step 4 "media host image (az acr build in $registry)"
tag="$(git rev-parse --short=12 HEAD 2>/dev/null || date -u +%Y%m%d%H%M%S)"
if ! git diff --quiet HEAD -- shared media_host requirements.txt requirements-media.txt 2>/dev/null; then
  tag="$tag-$(date -u +%Y%m%d%H%M%S)"  # uncommitted changes: never reuse the commit's tag
fi
az acr build --registry "$registry" --image "media-host:$tag" --file media_host/Dockerfile . --output none
image="$(output registryServer)/media-host:$tag"

step 5 "stage 1 with the image: the media host container app"
outputs="$(stage1 "$image")"

step 6 "function app code ($function_app, packaged with .funcignore, built remotely)"
package="$(mktemp -d)/function-app.zip"
python3 scripts/package_functions.py "$package"
az functionapp deployment source config-zip --resource-group "$group" --name "$function_app" \
  --src "$package" --build-remote true --output none

step 7 "waiting until the host has indexed incoming_call"
for attempt in $(seq 1 60); do
  if az functionapp function list --resource-group "$group" --name "$function_app" --query "[].name" --output tsv \
    | grep -q "/incoming_call$"; then
    break
  fi
  [ "$attempt" -lt 60 ] || fail "incoming_call is not indexed after 10 minutes: read the host's logs (make logs name=$group)"
  sleep 10
done

bot_number="$(output botPhoneNumber)"
if [ -z "$bot_number" ]; then
  cat <<FIRST
deploy: stage 1 is done, but no phone number is set yet, so calls are not routed (stage 2 is skipped).
  Buy a number in the Communication Services resource $(output communicationName) (docs/deploy.md,
  "Buy the phone number"), set botPhoneNumber in $parameters, then run make deploy name=$group again.
FIRST
  exit 0
fi
[[ "$bot_number" =~ ^\+[1-9][0-9]{6,14}$ ]] || fail "botPhoneNumber must be E.164 (+ and 7 to 15 digits), got '$bot_number'"

step 8 "stage 2: infra/events.bicep (Event Grid subscriptions to the functions)"
az deployment group create --resource-group "$group" --name "$deployment-events" \
  --template-file infra/events.bicep \
  --parameters communicationName="$(output communicationName)" functionAppName="$function_app" \
  botPhoneNumber="$bot_number" storageAccountName="$(output storageAccountName)" \
  deadLetterContainer="$(output deadLetterContainer)" --output none

echo "deploy: smoke test"
check() {
  for attempt in $(seq 1 30); do
    if curl --fail --silent --show-error --max-time 10 "$1" >/dev/null; then
      echo "  ok $1"
      return 0
    fi
    sleep 10
  done
  fail "$1 does not answer 200 after 5 minutes (make logs name=$group)"
}
check "$(output functionAppUrl)/api/health/liveness"
check "$(output functionAppUrl)/api/health/readiness"
check "$(output mediaUrl)$(output mediaLivenessPath)"
check "$(output mediaUrl)$(output mediaReadinessPath)"

cat <<DONE
deploy: done. Call $(output botPhoneNumber) to talk to the bot.
  API:    $(output functionAppUrl)/api  (key: az keyvault secret show --vault-name $vault --name api-key --query value -o tsv)
  report: $(output functionAppUrl)/api/report
  logs:   make logs name=$group
DONE
