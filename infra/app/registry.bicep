// One managed registry (deployed into the registry's own resource group): the app's custom role on
// the registry, its repository events to Log Analytics, and its Event Grid system topic.
param registryName string
@description('Principal id of the app identity.')
param principalId string
@description('Resource id of the app identity; seeds the role assignment name.')
param identityId string
@description('The artifact cache operator role (cache rules, credential sets, registry read).')
param roleDefinitionId string
@description('fix mode: let the app assign AcrPull or Container Registry Repository Reader (and nothing else) to service principals, for pullers the policy table names.')
param grantPullRoles bool = false
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

// Pullers' grants: role assignments are written only for AcrPull or Container Registry Repository
// Reader (the least roles that pull, in RBAC and ABAC registries), only to service principals and
// never to the app's own identity; every other role assignment write or delete is refused. Which identity gets one is the policy
// table's pull rows' decision, which the app enforces.
// (AcrPull, Container Registry Repository Reader: roles.json)
var pullRolesOnlyCondition = '((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/write\'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {7f951dda-4ed3-4680-a7ca-43fe172d538d, b93aa761-3e63-49ed-ac28-beffa264f7ac} AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {\'ServicePrincipal\'} AND @Request[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAllValues:GuidNotEquals {${principalId}})) AND ((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/delete\'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {7f951dda-4ed3-4680-a7ca-43fe172d538d, b93aa761-3e63-49ed-ac28-beffa264f7ac} AND @Resource[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {\'ServicePrincipal\'} AND @Resource[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAllValues:GuidNotEquals {${principalId}}))'

resource pullGranter 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantPullRoles) {
  name: guid(registry.id, identityId, roles.roleBasedAccessControlAdministrator)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.roleBasedAccessControlAdministrator)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'cachekeeper fix mode: may assign only AcrPull or Container Registry Repository Reader, only to service principals other than itself.'
    condition: pullRolesOnlyCondition
    conditionVersion: '2.0'
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
