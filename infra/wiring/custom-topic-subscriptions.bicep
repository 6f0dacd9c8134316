// Event subscriptions of the cachekeeper custom topic (CloudEvents) to the functions that handle
// them: only the types they handle, Event Grid's retries, and dead letters written to blob storage
// with the topic's own identity.
param topicName string
@description('Entries of infra/events.json: { name, function, eventDeliverySchema, includedEventTypes }.')
param subscriptions array
param functionAppId string
param deadLetterStorageId string
param deadLetterContainer string
param retryPolicy object

resource topic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: topicName
}

resource eventSubscriptions 'Microsoft.EventGrid/topics/eventSubscriptions@2025-02-15' = [for entry in subscriptions: {
  parent: topic
  name: entry.name
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/${entry.function}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: entry.eventDeliverySchema
    filter: {
      includedEventTypes: entry.includedEventTypes
    }
    retryPolicy: {
      maxDeliveryAttempts: retryPolicy.maxDeliveryAttempts
      eventTimeToLiveInMinutes: retryPolicy.eventTimeToLiveInMinutes
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: deadLetterStorageId
          blobContainerName: deadLetterContainer
        }
      }
    }
  }
}]
