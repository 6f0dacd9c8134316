// Lets the app publish to its events topic: EventGrid Data Sender on that topic only.
param topicName string
param principalId string

var roles = loadJsonContent('../roles.json')

resource topic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: topicName
}

resource sender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, principalId, roles.eventGridDataSender)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventGridDataSender)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
