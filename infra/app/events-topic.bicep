// The custom topic cachekeeper publishes its own CloudEvents to (cachekeeper.ActionApplied,
// FindingRaised, FindingResolved, VerificationFailed; docs/events/). Publishing takes an Entra
// token: local (key) auth is disabled. Public network access follows the app's network setting:
// in a virtual network the app publishes through a private endpoint (app/network.bicep) and the
// topic refuses the internet; otherwise it takes Entra-authenticated publishes from anywhere.
// Subscribers (Logic Apps, webhooks) are unaffected: Event Grid delivers outbound.
param location string
param tags object
param name string
@description('The app runs in a virtual network (main.bicep vnetEnabled).')
param privateNetwork bool

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  // checkov:skip=CKV_AZURE_193: public network access is disabled whenever the app runs in a virtual network (privateNetwork); without one the app itself publishes over the internet, with Entra ID auth only (local auth off) and EventGrid Data Sender on this topic.
  // checkov:skip=CKV_AZURE_191: the topic itself calls nothing that needs an identity: subscriptions deliver to webhooks operators choose and no dead-letter destination is configured here; an identity with no role would only add a principal.
  name: name
  location: location
  tags: tags
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    disableLocalAuth: true
    publicNetworkAccess: privateNetwork ? 'Disabled' : 'Enabled'
    minimumTlsVersionAllowed: '1.2'
  }
}

output id string = topic.id
output name string = topic.name
