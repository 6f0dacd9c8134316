// The app's own storage: Functions host state, the deployment package, the policy and journal
// tables, the audit queues, and the Event Grid dead-letter container. Entra ID only: shared keys are disabled.
param location string
param tags object
param name string
param deploymentContainer string
param deadLetterContainer string
param tables array
@description('Queues of the app: the audit work queue and its poison queue (created here so the app needs no right to create queues).')
param queues array = []
@description('The app reaches this account through private endpoints (main.bicep vnetEnabled): deny every other network except trusted Azure services.')
param denyPublicNetworks bool = false

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35: other networks are denied when main.bicep vnetEnabled puts the app in a virtual network with private endpoints; without one, Flex Consumption reaches its storage over public endpoints, Entra ID only (shared keys off).
  // checkov:skip=CKV_AZURE_59: the public endpoint stays on (denying other networks when vnetEnabled) because Event Grid writes dead letters here as a trusted Azure service; anonymous and shared-key access are off.
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_GRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    isLocalUserEnabled: false
    isSftpEnabled: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    // Event Grid writes dead letters here as a trusted Azure service, which needs the public
    // endpoint on: with a virtual network it denies every network but lets trusted services in.
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: denyPublicNetworks ? 'Deny' : 'Allow'
    }
    encryption: {
      requireInfrastructureEncryption: true
      keySource: 'Microsoft.Storage'
      services: {
        blob: {
          enabled: true
        }
        file: {
          enabled: true
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource packages 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: deploymentContainer
  properties: {
    publicAccess: 'None'
  }
}

resource deadLetters 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: deadLetterContainer
  properties: {
    publicAccess: 'None'
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource appTables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for table in tables: {
  parent: tableService
  name: table
}]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource appQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queue in queues: {
  parent: queueService
  name: queue
}]

output name string = storage.name
output id string = storage.id
