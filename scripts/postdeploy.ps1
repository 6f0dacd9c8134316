# azd postdeploy hook: wire Event Grid subscriptions and the pull-failure alert to the deployed
# functions by deploying infra/wiring.bicep. It runs after the code is deployed because an
# AzureFunction destination must name an existing function, and the alert's webhook needs that
# function's key. Re-running it is safe: the deployment is declarative.
# Needs the Azure CLI, signed in to the tenant azd deploys to (az login).
$ErrorActionPreference = 'Stop'

foreach ($name in 'AZURE_ENV_NAME', 'AZURE_LOCATION', 'AZURE_SUBSCRIPTION_ID', 'AZURE_RESOURCE_GROUP',
    'AZURE_FUNCTION_APP_NAME', 'CACHEKEEPER_WIRED_FUNCTIONS', 'CACHEKEEPER_WIRING_PARAMETERS') {
    if (-not [Environment]::GetEnvironmentVariable($name)) {
        throw "postdeploy: $name is missing: run azd provision first (or run this through azd)"
    }
}

$template = Join-Path $PSScriptRoot '..' 'infra' 'wiring.bicep'
$wanted = $env:CACHEKEEPER_WIRED_FUNCTIONS -split '\s+' | Where-Object { $_ }

# The host lists a function only after it has indexed the deployed code; wait for every one the
# wiring points at (up to about five minutes).
for ($attempt = 1; ; $attempt++) {
    $listed = @(az functionapp function list `
            --subscription $env:AZURE_SUBSCRIPTION_ID `
            --resource-group $env:AZURE_RESOURCE_GROUP `
            --name $env:AZURE_FUNCTION_APP_NAME `
            --query '[].name' --output tsv 2>$null) | ForEach-Object { ($_ -split '/')[-1] }
    $missing = @($wanted | Where-Object { $listed -notcontains $_ })
    if ($missing.Count -eq 0) { break }
    if ($attempt -ge 30) {
        throw "postdeploy: the app does not list these functions yet: $($missing -join ' '). Check the deployment, then run: azd hooks run postdeploy"
    }
    Write-Host "postdeploy: waiting for the host to list: $($missing -join ' ')"
    Start-Sleep -Seconds 10
}

$parameters = New-TemporaryFile
try {
    $document = '{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", "contentVersion": "1.0.0.0", "parameters": ' +
        $env:CACHEKEEPER_WIRING_PARAMETERS + '}'
    Set-Content -Path $parameters -Value $document -Encoding utf8
    Write-Host 'postdeploy: wiring Event Grid subscriptions and the pull-failure alert'
    az deployment sub create `
        --subscription $env:AZURE_SUBSCRIPTION_ID `
        --location $env:AZURE_LOCATION `
        --name "cachekeeper-wiring-$($env:AZURE_ENV_NAME)" `
        --template-file $template `
        --parameters "@$parameters" `
        --output none
    if ($LASTEXITCODE -ne 0) { throw 'postdeploy: the wiring deployment failed' }
    Write-Host 'postdeploy: done'
}
finally {
    Remove-Item $parameters -ErrorAction SilentlyContinue
}
