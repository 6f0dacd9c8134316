// cachekeeper: everything `azd provision` creates. The Event Grid subscriptions and the alert that
// call the functions are in wiring.bicep, deployed by the azd postdeploy hook once the code exists.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; seeds resource names and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Region of the resource group and the app resources: one where Flex Consumption runs.')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'eastus2euap'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Entra ID object id of the developer running azd (azd sets AZURE_PRINCIPAL_ID): data roles on the app storage and telemetry; empty grants nobody.')
param principalId string = ''

@description('Resource group to create; empty for rg-<environmentName>.')
param resourceGroupName string = ''

@minLength(1)
@description('Registries to manage: resource ids of existing registries, comma-separated (other resource groups and subscriptions are fine).')
param managedRegistries string

@description('Key Vaults whose secrets credential sets reference: resource ids of existing vaults, comma-separated.')
param managedVaults string = ''

@allowed([
  'report'
  'fix'
])
@description('report: record findings with the fix. fix: also grant Key Vault Secrets User at secret scope to credential-set identities, and AcrPull (or a repository-conditioned Repository Reader) at registry scope to pullers the pull rows of the policy table name.')
param remediationMode string = 'report'

@description('Six-field NCRONTAB schedule (seconds first) of the audit timer.')
param auditSchedule string = '0 0 * * * *'

@minValue(1)
@maxValue(365)
@description('Secrets expiring within this many days are reported.')
param expiryHorizonDays int = 30

@minValue(1)
@maxValue(1000)
@description('Cache rules one signal (an alert, however many repositories it names) may create; the rest is recorded deferred.')
param maxRulesPerSignal int = 10

@minValue(1)
@maxValue(1000)
@description('Cache rules all signals together may create in one registry per UTC hour; the rest is recorded deferred.')
param maxRulesPerRegistryHour int = 50

@description('Let the audit apply the safe fixes it finds.')
param autoReconcile bool = false

@minValue(0)
@maxValue(200)
@description('Reads of each subscription\'s ARM budget the app\'s pacing leaves for the identity\'s other tools.')
param armReadReserve int = 50

@description('In fix mode, pin a versionless secret reference whose latest version is disabled to the newest valid version.')
param pinOnDisabledLatest bool = false

@description('Read the puller\'s service principal from Microsoft Graph for pull rows by name prefix (needs the Graph app role Application.Read.All, granted by an operator).')
param directoryLookup bool = false

@description('Scopes whose registries the scheduled audit also covers, found through Azure Resource Graph (/subscriptions/<id>, /subscriptions/<id>/resourceGroups/<name>, /providers/Microsoft.Management/managementGroups/<name>, comma-separated); empty: MANAGED_REGISTRIES only. The identity needs read access there, which this template does not grant.')
param registryScope string = ''

@description('With registryScope: tags the found registries must carry, key=value,key=value.')
param registryTagFilter string = ''

@description('App role an Entra ID caller needs for admin writes when App Service authentication fronts the app.')
param adminAppRole string = 'Cachekeeper.Admin'

@description('Put App Service authentication (Entra ID) in front of the app: only then are caller names recorded and ADMIN_APP_ROLE checked. Needs authClientId.')
param enableAppServiceAuthentication bool = false

@description('Client id of the Entra ID app registration that defines ADMIN_APP_ROLE (with enableAppServiceAuthentication).')
param authClientId string = ''

@allowed([
  '3.11'
  '3.12'
  '3.13'
])
@description('Python version of the Functions runtime (Flex Consumption). 3.13, the default, is the version the real-runtime test tier runs the app on; requires-python in pyproject.toml is the same range.')
param pythonVersion string = '3.13'

@minValue(40)
@maxValue(1000)
@description('Flex Consumption: most instances the app scales out to.')
param maximumInstanceCount int = 40

@allowed([
  512
  2048
  4096
])
@description('Flex Consumption: memory of each instance, in MB.')
param instanceMemoryMB int = 2048

@description('Flex Consumption: spread instances across availability zones (only in regions that support it).')
param zoneRedundant bool = false

@description('Put the app in a virtual network, as the Flex Consumption azd template does: outbound traffic through a subnet delegated to Microsoft.App/environments, the storage account reached through private endpoints (blob, table, queue) and denying other networks. Off by default.')
param vnetEnabled bool = false

@minValue(1)
@description('Pull-failure alert: failed pulls of one repository within the window that fire the alert.')
param pullFailureThreshold int = 1

@allowed([
  'PT5M'
  'PT10M'
  'PT15M'
  'PT30M'
  'PT1H'
])
@description('Pull-failure alert: window the failed pulls are counted over.')
param pullFailureWindow string = 'PT5M'

@allowed([
  'PT5M'
  'PT10M'
  'PT15M'
  'PT30M'
  'PT1H'
])
@description('Pull-failure alert: how often the query runs.')
param pullFailureEvaluationFrequency string = 'PT5M'

@minValue(0)
@maxValue(4)
@description('Pull-failure alert: severity (0 critical to 4 verbose).')
param pullFailureSeverity int = 2

@description('Principals (object ids, comma-separated) allowed to publish cachekeeper.* events to the custom topic.')
param eventPublisherPrincipalIds string = ''

@description('Publish cachekeeper\'s own events (cachekeeper.ActionApplied, FindingRaised, FindingResolved, VerificationFailed) to a custom topic of their own; the app gets EventGrid Data Sender on that topic only.')
param publishEvents bool = true

@minValue(30)
@maxValue(730)
@description('Log Analytics retention, in days.')
param logRetentionDays int = 90

var abbrs = loadJsonContent('abbreviations.json')
var events = loadJsonContent('events.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
// Resource ids and object ids contain no spaces: drop them, split on commas, ignore empty entries.
var registryIds = filter(split(replace(managedRegistries, ' ', ''), ','), id => !empty(id))
var vaultIds = filter(split(replace(managedVaults, ' ', ''), ','), id => !empty(id))
var publisherIds = filter(split(replace(eventPublisherPrincipalIds, ' ', ''), ','), id => !empty(id))
var registryGroupList = [for id in registryIds: '/subscriptions/${split(id, '/')[2]}/resourceGroups/${split(id, '/')[4]}']
var registryGroups = union(registryGroupList, [])
var keyVaultFunctions = [for s in events.keyVault.subscriptions: s.function]
var registryFunctions = [for s in events.registry.subscriptions: s.function]
var customTopicFunctions = [for s in events.custom.subscriptions: s.function]
var appName = '${abbrs.webSitesFunctions}${resourceToken}'
var identityName = '${abbrs.managedIdentityUserAssignedIdentities}${resourceToken}'
var storageName = '${abbrs.storageStorageAccounts}${resourceToken}'
var policyTable = 'cachekeeperpolicy'
var journalTable = 'cachekeeperjournal'
// The fanned-out audit's work queue (shared/domain/fanout.py); the host moves failed messages to
// '<queue>-poison'.
var auditQueue = 'cachekeeper-audit'
var deploymentContainer = 'app-package-${take(resourceToken, 7)}'
var customTopicName = '${abbrs.eventGridTopics}${resourceToken}'
var eventsTopicName = '${abbrs.eventGridTopics}events-${resourceToken}'
// the endpoint Azure gives a custom topic: https://<topic>.<region>-1.eventgrid.azure.net/api/events
var eventsTopicEndpoint = publishEvents ? 'https://${eventsTopicName}.${location}-1.eventgrid.azure.net/api/events' : ''
var workspaceName = '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
// System topics live beside their source (same resource group and region); one per source.
var registryTopics = [for id in registryIds: {
  source: id
  name: '${abbrs.eventGridSystemTopics}${split(id, '/')[8]}-${take(resourceToken, 6)}'
  group: '/subscriptions/${split(id, '/')[2]}/resourceGroups/${split(id, '/')[4]}'
}]
var vaultTopics = [for id in vaultIds: {
  source: id
  name: '${abbrs.eventGridSystemTopics}${split(id, '/')[8]}-${take(resourceToken, 6)}'
  group: '/subscriptions/${split(id, '/')[2]}/resourceGroups/${split(id, '/')[4]}'
}]

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: empty(resourceGroupName) ? '${abbrs.resourcesResourceGroups}${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

// Ids known before deployment: they seed role assignment names and the wiring parameters.
var identityId = '${rg.id}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${identityName}'
var storageId = '${rg.id}/providers/Microsoft.Storage/storageAccounts/${storageName}'
var workspaceId = '${rg.id}/providers/Microsoft.OperationalInsights/workspaces/${workspaceName}'
var customTopicId = '${rg.id}/providers/Microsoft.EventGrid/topics/${customTopicName}'

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    workspaceName: workspaceName
    appInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    retentionInDays: logRetentionDays
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    location: location
    tags: tags
    name: storageName
    denyPublicNetworks: vnetEnabled
    deploymentContainer: deploymentContainer
    deadLetterContainer: events.deadLetterContainer
    tables: [
      policyTable
      journalTable
    ]
    queues: [
      auditQueue
      '${auditQueue}-poison'
    ]
  }
}

module eventsTopic 'app/events-topic.bicep' = if (publishEvents) {
  name: 'events-topic'
  scope: rg
  params: {
    location: location
    tags: tags
    name: eventsTopicName
    privateNetwork: vnetEnabled
  }
}

module network 'app/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    location: location
    tags: tags
    name: '${abbrs.networkVirtualNetworks}${resourceToken}'
    storageName: storage.outputs.name
    auditQueue: auditQueue
    eventsTopicName: publishEvents ? eventsTopic.outputs.name : ''
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    location: location
    tags: tags
    name: appName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    identityName: identityName
    storageName: storage.outputs.name
    deploymentContainer: deploymentContainer
    appInsightsName: monitoring.outputs.appInsightsName
    pythonVersion: pythonVersion
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    zoneRedundant: zoneRedundant
    appSubnetId: vnetEnabled ? network.outputs.appSubnetId : ''
    principalId: principalId
    enableAppServiceAuthentication: enableAppServiceAuthentication
    authClientId: authClientId
    settings: [
      {
        name: 'CACHEKEEPER_MODE'
        value: 'azure'
      }
      {
        name: 'MANAGED_REGISTRIES'
        value: join(registryIds, ',')
      }
      {
        name: 'VAULT_ALLOWLIST'
        value: join(vaultIds, ',')
      }
      {
        name: 'POLICY_TABLE'
        value: policyTable
      }
      {
        name: 'JOURNAL_TABLE'
        value: journalTable
      }
      {
        name: 'REMEDIATION_MODE'
        value: remediationMode
      }
      {
        name: 'EXPIRY_HORIZON_DAYS'
        value: string(expiryHorizonDays)
      }
      {
        name: 'MAX_RULES_PER_SIGNAL'
        value: string(maxRulesPerSignal)
      }
      {
        name: 'MAX_RULES_PER_REGISTRY_HOUR'
        value: string(maxRulesPerRegistryHour)
      }
      {
        name: 'ARM_READ_RESERVE'
        value: string(armReadReserve)
      }
      {
        name: 'AUDIT_SCHEDULE'
        value: auditSchedule
      }
      {
        name: 'AUTO_RECONCILE'
        value: autoReconcile ? 'true' : 'false'
      }
      {
        name: 'PIN_ON_DISABLED_LATEST'
        value: pinOnDisabledLatest ? 'true' : 'false'
      }
      {
        name: 'DIRECTORY_LOOKUP'
        value: directoryLookup ? 'true' : 'false'
      }
      {
        name: 'REGISTRY_SCOPE'
        value: registryScope
      }
      {
        name: 'REGISTRY_TAG_FILTER'
        value: registryTagFilter
      }
      {
        // the role means something only when App Service authentication injects the principal
        name: 'ADMIN_APP_ROLE'
        value: enableAppServiceAuthentication ? adminAppRole : ''
      }
      {
        name: 'APP_SERVICE_AUTHENTICATION'
        value: enableAppServiceAuthentication ? 'true' : 'false'
      }
      {
        name: 'EVENTS_TOPIC_ENDPOINT'
        value: eventsTopicEndpoint
      }
    ]
  }
}

// A custom role: cache rules and credential sets, plus reading the registry and its diagnostic
// settings (the audit checks that pull logs reach the alert's workspace); nothing else.
resource registryRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, environmentName, 'cachekeeper-artifact-cache-operator')
  properties: {
    roleName: 'cachekeeper artifact cache operator (${environmentName}-${resourceToken})'
    description: 'Read registries and their diagnostic settings; manage their cache rules and credential sets. Used by the cachekeeper function app.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.ContainerRegistry/registries/read'
          'Microsoft.ContainerRegistry/registries/cacheRules/*'
          'Microsoft.ContainerRegistry/registries/credentialSets/*'
          'Microsoft.Insights/diagnosticSettings/read'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: registryGroups
  }
}

module registries 'app/registry.bicep' = [for (id, i) in registryIds: {
  name: 'registry-${i}-${uniqueString(id)}'
  scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])
  params: {
    registryName: split(id, '/')[8]
    principalId: api.outputs.identityPrincipalId
    identityId: identityId
    roleDefinitionId: registryRole.id
    grantPullRoles: remediationMode == 'fix'
    workspaceId: monitoring.outputs.workspaceId
    topicName: registryTopics[i].name
    topicType: events.registry.topicType
    tags: tags
  }
}]

module vaults 'app/vault.bicep' = [for (id, i) in vaultIds: {
  name: 'vault-${i}-${uniqueString(id)}'
  scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])
  params: {
    vaultName: split(id, '/')[8]
    principalId: api.outputs.identityPrincipalId
    identityId: identityId
    grantSecretsUserAtSecretScope: remediationMode == 'fix'
    topicName: vaultTopics[i].name
    topicType: events.keyVault.topicType
    tags: tags
  }
}]

module customTopic 'app/custom-topic.bicep' = {
  name: 'custom-topic'
  scope: rg
  params: {
    location: location
    tags: tags
    name: customTopicName
    inputSchema: events.custom.inputSchema
    publisherPrincipalIds: publisherIds
  }
}

module eventsTopicSender 'app/events-topic-sender.bicep' = if (publishEvents) {
  name: 'events-topic-sender'
  scope: rg
  params: {
    topicName: publishEvents ? eventsTopic.outputs.name : ''
    principalId: api.outputs.identityPrincipalId
  }
}

// Each topic dead-letters with its own identity: Storage Blob Data Contributor on the container only.
module registryTopicDeadLetter 'app/dead-letter-access.bicep' = [for (id, i) in registryIds: {
  name: 'dead-letter-registry-${i}-${uniqueString(id)}'
  scope: rg
  params: {
    storageName: storage.outputs.name
    containerName: events.deadLetterContainer
    principalId: registries[i].outputs.topicPrincipalId
    principalKey: id
  }
}]

module vaultTopicDeadLetter 'app/dead-letter-access.bicep' = [for (id, i) in vaultIds: {
  name: 'dead-letter-vault-${i}-${uniqueString(id)}'
  scope: rg
  params: {
    storageName: storage.outputs.name
    containerName: events.deadLetterContainer
    principalId: vaults[i].outputs.topicPrincipalId
    principalKey: id
  }
}]

module customTopicDeadLetter 'app/dead-letter-access.bicep' = {
  name: 'dead-letter-custom-topic'
  scope: rg
  params: {
    storageName: storage.outputs.name
    containerName: events.deadLetterContainer
    principalId: customTopic.outputs.principalId
    principalKey: customTopicId
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
// The app identity's object id, for grants made by hand (access-policy vaults, see docs/deploy.md).
output CACHEKEEPER_IDENTITY_PRINCIPAL_ID string = api.outputs.identityPrincipalId
// Where cachekeeper publishes its own events (empty when publishEvents is off): subscribe here.
output CACHEKEEPER_EVENTS_TOPIC string = publishEvents ? eventsTopicName : ''
// The functions the wiring points at; the postdeploy hook waits until the host lists them all.
output CACHEKEEPER_WIRED_FUNCTIONS string = join(union(keyVaultFunctions, registryFunctions, customTopicFunctions, [events.alertWebhookFunction]), ' ')
// The parameters of wiring.bicep, in deployment-parameters shape; the postdeploy hook passes them on.
output CACHEKEEPER_WIRING_PARAMETERS object = {
  location: { value: location }
  tags: { value: tags }
  appResourceGroup: { value: rg.name }
  functionAppName: { value: appName }
  deadLetterStorageId: { value: storageId }
  keyVaultTopics: { value: vaultTopics }
  registryTopics: { value: registryTopics }
  customTopicId: { value: customTopicId }
  workspaceId: { value: workspaceId }
  actionGroupName: { value: '${abbrs.insightsActionGroups}${resourceToken}' }
  alertRuleName: { value: '${abbrs.insightsScheduledQueryRules}pull-failures-${resourceToken}' }
  pullFailureThreshold: { value: pullFailureThreshold }
  pullFailureWindow: { value: pullFailureWindow }
  pullFailureEvaluationFrequency: { value: pullFailureEvaluationFrequency }
  pullFailureSeverity: { value: pullFailureSeverity }
}
