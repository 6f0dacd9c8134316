// The custom topic for cachekeeper.* CloudEvents (PullFailed, RepositoryRequested). Publishers
// authenticate with Entra ID: local (key) auth is disabled.
param location string
param tags object
param name string
param inputSchema string
@description('Principals allowed to publish (EventGrid Data Sender on this topic only).')
param publisherPrincipalIds array

var roles = loadJsonContent('../roles.json')

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  // checkov:skip=CKV_AZURE_193: publishers (build agents, cluster workloads) send from outside any private network; Entra ID auth (local auth off) and EventGrid Data Sender on this topic guard it.
  name: name
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    inputSchema: inputSchema
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
    minimumTlsVersionAllowed: '1.2'
  }
}

resource publishers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principal in publisherPrincipalIds: {
  name: guid(topic.id, principal, roles.eventGridDataSender)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventGridDataSender)
    principalId: principal
  }
}]

output id string = topic.id
output principalId string = topic.identity.principalId
