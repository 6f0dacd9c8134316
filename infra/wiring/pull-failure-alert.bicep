// The pull-failure alert: a log search over the registries' repository events, split by registry,
// repository and status, calling the alert webhook function with its own function key.
param location string
param tags object
param functionAppName string
param webhookFunction string
param workspaceId string
param actionGroupName string
param alertRuleName string
param threshold int
param windowSize string
param evaluationFrequency string
param severity int

// ResultDescription carries the HTTP status of the request (e.g. "404").
var failedPulls = '''
ContainerRegistryRepositoryEvents
| where OperationName =~ "Pull" and ResultDescription matches regex "^[45][0-9][0-9]"
| extend ResourceId = _ResourceId
| project TimeGenerated, ResourceId, Repository, Tag, ResultDescription
'''

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource webhook 'Microsoft.Web/sites/functions@2024-04-01' existing = {
  parent: functionApp
  name: webhookFunction
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: 'cachekeeper'
    enabled: true
    webhookReceivers: [
      {
        name: 'cachekeeper-pull-failures'
        serviceUri: '${webhook.properties.invoke_url_template}?code=${webhook.listKeys().default}'
        useCommonAlertSchema: true
      }
    ]
  }
}

resource alertRule 'Microsoft.Insights/scheduledQueryRules@2022-06-15' = {
  name: alertRuleName
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'cachekeeper: failed pulls'
    description: 'Failed pulls from the managed registries, one alert per registry, repository and status; cachekeeper diagnoses each.'
    severity: severity
    enabled: true
    scopes: [
      workspaceId
    ]
    evaluationFrequency: evaluationFrequency
    windowSize: windowSize
    criteria: {
      allOf: [
        {
          query: failedPulls
          timeAggregation: 'Count'
          operator: 'GreaterThanOrEqual'
          threshold: threshold
          dimensions: [
            {
              name: 'ResourceId'
              operator: 'Include'
              values: [
                '*'
              ]
            }
            {
              name: 'Repository'
              operator: 'Include'
              values: [
                '*'
              ]
            }
            {
              name: 'ResultDescription'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}
