// The function app on Flex Consumption, its user-assigned identity, and that identity's roles on
// the app's own storage and Application Insights. App settings carry no keys: storage and telemetry
// authenticate with the identity.
param location string
param tags object
param name string
param planName string
param identityName string
param storageName string
@description('The audit work queue (its poison queue is <name>-poison); both exist in the storage account.')
param auditQueue string
param deploymentContainer string
param appInsightsName string
param pythonVersion string
param maximumInstanceCount int
param instanceMemoryMB int
@description('Spread instances across availability zones (regions that support it for Flex Consumption).')
param zoneRedundant bool
@description('cachekeeper settings (see shared/settings.py) as [{ name, value }]; the identity-based host and storage settings are added here.')
param settings array

@description('Subnet (delegated to Microsoft.App/environments) the app sends its outbound traffic through; empty: no virtual network.')
param appSubnetId string = ''

@description('Entra ID object id of the developer who deploys (azd sets it); empty grants nobody.')
param principalId string = ''

@description('App Service authentication (Easy Auth) with Entra ID in front of the app: the platform then strips and injects the x-ms-client-principal headers the admin API trusts. Function keys still gate every route.')
param enableAppServiceAuthentication bool = false

@description('Client id of the Entra ID app registration callers get tokens for (needed when enableAppServiceAuthentication).')
param authClientId string = ''

var roles = loadJsonContent('../roles.json')

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: identityName
  location: location
  tags: tags
}

// Host state and the deployment package (blob), and cachekeeper's tables.
resource blobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The audit queues, and only the queue data roles their bindings need (no right on other queues,
// none to create or delete queues): the queue triggers read (Reader: the listener's existence
// check) and process (Message Processor: receive, delete, make visible again) both queues; the
// timer's output binding and the host's move of a failed message to the poison queue send
// (Message Sender). The host itself keeps no queues of its own here (no blob trigger).
resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource workQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = {
  parent: queueService
  name: auditQueue
}

resource poisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = {
  parent: queueService
  name: '${auditQueue}-poison'
}

resource workQueueReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workQueue.id, identity.id, roles.storageQueueDataReader)
  scope: workQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataReader)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource workQueueProcessor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workQueue.id, identity.id, roles.storageQueueDataMessageProcessor)
  scope: workQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataMessageProcessor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource workQueueSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workQueue.id, identity.id, roles.storageQueueDataMessageSender)
  scope: workQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataMessageSender)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource poisonQueueReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(poisonQueue.id, identity.id, roles.storageQueueDataReader)
  scope: poisonQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataReader)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource poisonQueueProcessor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(poisonQueue.id, identity.id, roles.storageQueueDataMessageProcessor)
  scope: poisonQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataMessageProcessor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource poisonQueueSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(poisonQueue.id, identity.id, roles.storageQueueDataMessageSender)
  scope: poisonQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataMessageSender)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource tableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The developer who runs `azd up` (azd's principalId): the same data roles on the app's storage
// and telemetry, for local runs and debugging against the deployed resources. Empty: none.
resource developerBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (principalId != '') {
  name: guid(storage.id, principalId, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: principalId
    principalType: 'User'
  }
}

resource developerQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (principalId != '') {
  name: guid(storage.id, principalId, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: principalId
    principalType: 'User'
  }
}

resource developerTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (principalId != '') {
  name: guid(storage.id, principalId, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: principalId
    principalType: 'User'
  }
}

resource developerMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (principalId != '') {
  name: guid(appInsights.id, principalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'User'
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: zone redundancy of Flex Consumption is available only in some regions, so it is the zoneRedundant parameter (off by default); Event Grid retries deliveries for 24 hours and the audit timer catches up.
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222: Event Grid and the Azure Monitor action group deliver over the public endpoint; function keys guard every route except /api/health.
  // checkov:skip=CKV_AZURE_17: Event Grid and action group webhooks do not present client certificates; callers authenticate with function keys.
  // checkov:skip=CKV_AZURE_212: Flex Consumption scales each trigger group from zero; Event Grid retries deliveries for 24 hours, so no instance is kept warm for failover.
  // checkov:skip=CKV_AZURE_213: App Service health check is not available on Flex Consumption; /api/health serves an external availability probe.
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    virtualNetworkSubnetId: empty(appSubnetId) ? null : appSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      remoteDebuggingEnabled: false
      appSettings: concat(settings, [
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identity.properties.clientId
        }
        {
          name: 'AzureWebJobsStorage__blobServiceUri'
          value: 'https://${storage.name}.blob.${environment().suffixes.storage}'
        }
        {
          name: 'AzureWebJobsStorage__queueServiceUri'
          value: 'https://${storage.name}.queue.${environment().suffixes.storage}'
        }
        {
          name: 'AzureWebJobsStorage__tableServiceUri'
          value: 'https://${storage.name}.table.${environment().suffixes.storage}'
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: appInsights.properties.ConnectionString
        }
        {
          // the worker's OpenTelemetry integration: function spans continue the host's trace
          // (host.json telemetryMode); shared/observability.py configures the one exporter
          name: 'PYTHON_ENABLE_OPENTELEMETRY'
          value: 'true'
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${identity.properties.clientId};Authorization=AAD'
        }
        {
          name: 'STORAGE_CONNECTION'
          value: 'https://${storage.name}.table.${environment().suffixes.storage}'
        }
        {
          name: 'AZURE_CLIENT_ID'
          value: identity.properties.clientId
        }
        {
          // the identity's object id: the app never grants a role to it (the ABAC conditions too)
          name: 'APP_PRINCIPAL_ID'
          value: identity.properties.principalId
        }
      ])
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    }
  }
  dependsOn: [
    blobDataOwner
    workQueueReader
    workQueueProcessor
    workQueueSender
    poisonQueueReader
    poisonQueueProcessor
    poisonQueueSender
    tableDataContributor
    metricsPublisher
  ]
}

// Entra ID sign-in in front of the app, off by default. Unauthenticated requests still reach the
// functions (Event Grid, the alert's action group and the CLI call with function keys); a request
// with a token gets the principal headers the platform injects, and admin writes then need
// ADMIN_APP_ROLE.
resource authentication 'Microsoft.Web/sites/config@2024-04-01' = if (enableAppServiceAuthentication) {
  // checkov reads every sites/config as the `web` config; this is `authsettingsV2`, so its web-config checks do not apply here:
  // checkov:skip=CKV_AZURE_13: this resource is the App Service authentication setting itself (platform.enabled, Entra ID).
  // checkov:skip=CKV_AZURE_63: HTTP logging is a web-config setting, not part of authsettingsV2; the app logs to Application Insights.
  // checkov:skip=CKV_AZURE_65: detailed error messages are a web-config setting, not part of authsettingsV2.
  // checkov:skip=CKV_AZURE_66: failed request tracing is a web-config setting, not part of authsettingsV2.
  // checkov:skip=CKV_AZURE_80: no .NET Framework: a Python app, and authsettingsV2 has no framework version.
  // checkov:skip=CKV_AZURE_88: Azure Files mounts are a site setting, not part of authsettingsV2; Flex Consumption deploys from blob storage.
  // checkov:skip=CKV_AZURE_222: public network access is the site's setting (justified on the site): Event Grid and the action group deliver over it.
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${authClientId}'
            authClientId
          ]
        }
      }
    }
  }
}

// No basic-auth publishing: deployments use the identity.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = functionApp.name
output id string = functionApp.id
output identityPrincipalId string = identity.properties.principalId
output identityClientId string = identity.properties.clientId
