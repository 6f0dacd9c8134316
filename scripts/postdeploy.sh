#!/bin/sh
# azd postdeploy hook: wire Event Grid subscriptions and the pull-failure alert to the deployed
# functions by deploying infra/wiring.bicep. It runs after the code is deployed because an
# AzureFunction destination must name an existing function, and the alert's webhook needs that
# function's key. Re-running it is safe: the deployment is declarative.
# Needs the Azure CLI, signed in to the tenant azd deploys to (az login).
set -eu

: "${AZURE_ENV_NAME:?run this through azd (azd up, azd deploy or azd hooks run postdeploy)}"
: "${AZURE_LOCATION:?missing: run azd provision first}"
: "${AZURE_SUBSCRIPTION_ID:?missing: run azd provision first}"
: "${AZURE_RESOURCE_GROUP:?missing: run azd provision first}"
: "${AZURE_FUNCTION_APP_NAME:?missing: run azd provision first}"
: "${CACHEKEEPER_WIRED_FUNCTIONS:?missing: run azd provision first}"
: "${CACHEKEEPER_WIRING_PARAMETERS:?missing: run azd provision first}"

here=$(cd "$(dirname "$0")" && pwd)
template="$here/../infra/wiring.bicep"

# The host lists a function only after it has indexed the deployed code; wait for every one the
# wiring points at (up to about five minutes).
attempt=0
while :; do
  listed=$(az functionapp function list \
    --subscription "$AZURE_SUBSCRIPTION_ID" \
    --resource-group "$AZURE_RESOURCE_GROUP" \
    --name "$AZURE_FUNCTION_APP_NAME" \
    --query "[].name" --output tsv 2>/dev/null || true)
  missing=""
  for fn in $CACHEKEEPER_WIRED_FUNCTIONS; do
    printf '%s\n' "$listed" | grep -q "/$fn\$" || missing="$missing $fn"
  done
  [ -z "$missing" ] && break
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 30 ]; then
    echo "postdeploy: the app does not list these functions yet:$missing" >&2
    echo "postdeploy: check the deployment, then run: azd hooks run postdeploy" >&2
    exit 1
  fi
  echo "postdeploy: waiting for the host to list:$missing"
  sleep 10
done

parameters=$(mktemp)
trap 'rm -f "$parameters"' EXIT
printf '{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", "contentVersion": "1.0.0.0", "parameters": %s}\n' \
  "$CACHEKEEPER_WIRING_PARAMETERS" >"$parameters"

echo "postdeploy: wiring Event Grid subscriptions and the pull-failure alert"
az deployment sub create \
  --subscription "$AZURE_SUBSCRIPTION_ID" \
  --location "$AZURE_LOCATION" \
  --name "cachekeeper-wiring-$AZURE_ENV_NAME" \
  --template-file "$template" \
  --parameters "@$parameters" \
  --output none
echo "postdeploy: done"
