// What points at the deployed functions: Event Grid subscriptions (AzureFunction destinations) and
// the pull-failure alert, whose action group calls the alert webhook with its function key. An
// AzureFunction destination is validated against an existing function, and the key exists only
// once the code is deployed, so the azd postdeploy hook deploys this file after `azd deploy`.
// Its parameters come from main.bicep's CACHEKEEPER_WIRING_PARAMETERS output.
targetScope = 'subscription'

param location string
param tags object
param appResourceGroup string
param functionAppName string
@description('The app storage account that holds the dead-letter container.')
param deadLetterStorageId string
@description('System topics of the managed vaults: [{ source, name, group }].')
param keyVaultTopics array
@description('System topics of the managed registries: [{ source, name, group }].')
param registryTopics array
param customTopicId string
param workspaceId string
param actionGroupName string
param alertRuleName string
@minValue(1)
param pullFailureThreshold int
param pullFailureWindow string
param pullFailureEvaluationFrequency string
@minValue(0)
@maxValue(4)
param pullFailureSeverity int

var events = loadJsonContent('events.json')
var functionAppId = '/subscriptions/${subscription().subscriptionId}/resourceGroups/${appResourceGroup}/providers/Microsoft.Web/sites/${functionAppName}'

module keyVaultSubscriptions 'wiring/system-topic-subscriptions.bicep' = [for (topic, i) in keyVaultTopics: {
  name: 'wiring-keyvault-${i}-${uniqueString(topic.source)}'
  scope: resourceGroup(split(topic.group, '/')[2], split(topic.group, '/')[4])
  params: {
    topicName: topic.name
    subscriptions: events.keyVault.subscriptions
    functionAppId: functionAppId
    deadLetterStorageId: deadLetterStorageId
    deadLetterContainer: events.deadLetterContainer
    retryPolicy: events.retryPolicy
  }
}]

module registrySubscriptions 'wiring/system-topic-subscriptions.bicep' = [for (topic, i) in registryTopics: {
  name: 'wiring-registry-${i}-${uniqueString(topic.source)}'
  scope: resourceGroup(split(topic.group, '/')[2], split(topic.group, '/')[4])
  params: {
    topicName: topic.name
    subscriptions: events.registry.subscriptions
    functionAppId: functionAppId
    deadLetterStorageId: deadLetterStorageId
    deadLetterContainer: events.deadLetterContainer
    retryPolicy: events.retryPolicy
  }
}]

module customSubscriptions 'wiring/custom-topic-subscriptions.bicep' = {
  name: 'wiring-custom-topic'
  scope: resourceGroup(appResourceGroup)
  params: {
    topicName: last(split(customTopicId, '/'))
    subscriptions: events.custom.subscriptions
    functionAppId: functionAppId
    deadLetterStorageId: deadLetterStorageId
    deadLetterContainer: events.deadLetterContainer
    retryPolicy: events.retryPolicy
  }
}

module pullFailureAlert 'wiring/pull-failure-alert.bicep' = {
  name: 'wiring-pull-failure-alert'
  scope: resourceGroup(appResourceGroup)
  params: {
    location: location
    tags: tags
    functionAppName: functionAppName
    webhookFunction: events.alertWebhookFunction
    workspaceId: workspaceId
    actionGroupName: actionGroupName
    alertRuleName: alertRuleName
    threshold: pullFailureThreshold
    windowSize: pullFailureWindow
    evaluationFrequency: pullFailureEvaluationFrequency
    severity: pullFailureSeverity
  }
}
