// One managed registry (deployed into the registry's own resource group): the app's custom role on
// the registry, its repository events to Log Analytics, and its Event Grid system topic.
param registryName string
@description('Principal id of the app identity.')
param principalId string
@description('Resource id of the app identity; seeds the role assignment name.')
param identityId string
@description('The artifact cache operator role (cache rules, credential sets, registry read).')
param roleDefinitionId string
param workspaceId string
param topicName string
param topicType string
param tags object

var roles = loadJsonContent('../roles.json')

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: registryName
}

resource cacheOperator 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, identityId, roleDefinitionId)
  scope: registry
  properties: {
    roleDefinitionId: roleDefinitionId
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// The repository catalog (data plane): a new cache rule's target must not exist yet, and the audit
// reports repositories squatting on policy targets. AcrPull is the narrowest built-in role that
// lists the catalog on registries without ABAC repository permissions.
resource catalogReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, identityId, roles.acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// ACR emits no pull events: failed pulls are found in these logs by the pull-failure alert.
resource repositoryEvents 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'cachekeeper'
  scope: registry
  properties: {
    workspaceId: workspaceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        category: 'ContainerRegistryRepositoryEvents'
        enabled: true
      }
    ]
  }
}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: topicName
  location: registry.location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: registry.id
    topicType: topicType
  }
}

output topicId string = topic.id
output topicPrincipalId string = topic.identity.principalId
