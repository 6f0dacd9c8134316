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

// What the query assumes about ContainerRegistryRepositoryEvents (docs/operations.md, "What the
// pull-failure alert assumes"): pulls are logged with an OperationName containing "pull" in any
// case (the exact literal is not documented); ResultDescription carries the HTTP status as text
// (Microsoft's sample queries filter it with `contains "40"`). Status is the first three-digit
// code in ResultDescription, else in ResultType; a row with no code counts as a failure only when
// ResultDescription or ResultType says so in words, and is reported with Status "unknown".
// Identity is who pulled as ACR logs it (an object id for managed identities; other formats are
// not documented), "unknown" when empty, so the alert is also split by puller.
var failedPulls = '''
ContainerRegistryRepositoryEvents
| where OperationName in~ ("Pull", "PullManifest", "PullBlob", "ImagePull") or OperationName contains "pull"
| where isnotempty(Repository)
| extend Code = coalesce(extract(@"\b([1-5][0-9][0-9])\b", 1, ResultDescription), extract(@"\b([1-5][0-9][0-9])\b", 1, ResultType))
| where (isnotempty(Code) and toint(Code) >= 400) or (isempty(Code) and (ResultDescription has_any ("fail", "failed", "failure", "error", "denied", "unauthorized", "forbidden", "notfound") or ResultType has_any ("fail", "failed", "failure", "error")))
| extend Status = iff(isnotempty(Code), Code, "unknown"), ResourceId = _ResourceId, Identity = iff(isempty(Identity), "unknown", Identity)
| project TimeGenerated, ResourceId, Repository, Tag, Status, Identity, ResultDescription, OperationName
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
    description: 'Failed pulls from the managed registries, one alert per registry, repository, status (a three-digit code, or unknown) and identity; cachekeeper diagnoses each.'
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
              name: 'Status'
              operator: 'Include'
              values: [
                '*'
              ]
            }
            {
              name: 'Identity'
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
