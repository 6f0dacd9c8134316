// One managed Key Vault (deployed into the vault's own resource group): read access for the app
// (metadata, never values), the fix-mode grant right limited by an ABAC condition, and the vault's
// Event Grid system topic.
param vaultName string
@description('Principal id of the app identity.')
param principalId string
@description('Resource id of the app identity; seeds the role assignment names.')
param identityId string
@description('fix mode: let the app assign Key Vault Secrets User (and nothing else) to service principals.')
param grantSecretsUserAtSecretScope bool
param topicName string
param topicType string
param tags object

var roles = loadJsonContent('../roles.json')

// Role assignments are written (or deleted) only for Key Vault Secrets User, only to service
// principals (the credential sets' identities) and never to the app's own identity; every other
// role assignment write or delete is refused. Conditions cannot name the scope: that the grant is
// at one secret, not the vault, only the app enforces (docs/deploy.md).
var secretsUserOnlyCondition = '((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/write\'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {4633458b-17de-408a-b874-0445c86b69e6} AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {\'ServicePrincipal\'} AND @Request[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAllValues:GuidNotEquals {${principalId}})) AND ((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/delete\'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {4633458b-17de-408a-b874-0445c86b69e6} AND @Resource[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {\'ServicePrincipal\'} AND @Resource[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAllValues:GuidNotEquals {${principalId}}))'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

// Vault properties (permission model, access policies) and role assignments and definitions at and
// below the vault: what the access checks read.
resource reader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identityId, roles.reader)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.reader)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Secret versions and their attributes: metadata only, never a value.
resource keyVaultReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identityId, roles.keyVaultReader)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultReader)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource secretsUserGranter 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantSecretsUserAtSecretScope) {
  name: guid(vault.id, identityId, roles.roleBasedAccessControlAdministrator)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.roleBasedAccessControlAdministrator)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'cachekeeper fix mode: may assign only Key Vault Secrets User, only to service principals other than itself.'
    condition: secretsUserOnlyCondition
    conditionVersion: '2.0'
  }
}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: topicName
  location: vault.location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: vault.id
    topicType: topicType
  }
}

output topicId string = topic.id
output topicPrincipalId string = topic.identity.principalId
