// The optional virtual network (main.bicep `vnetEnabled`), as the official Flex Consumption azd
// template has it: the function app's outbound traffic leaves through a subnet delegated to
// Microsoft.App/environments, and the app's storage account is reached through private endpoints
// (blob, table, queue) resolved by private DNS zones linked to the network; so is the topic the
// app publishes its events to (privatelink.eventgrid.azure.net), when publishing is on.
param location string
param tags object
param name string
param storageName string
@description('The events topic the app publishes to (app/events-topic.bicep), reached through a private endpoint; empty when publishing is off.')
param eventsTopicName string = ''

var appSubnetName = 'app'
var privateEndpointSubnetName = 'private-endpoints'
var storageServices = [
  'blob'
  'table'
  'queue'
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageName
}

// The platform's default rules only (virtual network and load balancer in, nothing else).
resource subnetRules 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: '${name}-nsg'
  location: location
  tags: tags
  properties: {
    securityRules: []
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.0.0.0/16'
      ]
    }
    subnets: [
      {
        name: privateEndpointSubnetName
        properties: {
          addressPrefix: '10.0.1.0/24'
          privateEndpointNetworkPolicies: 'Disabled'
          privateLinkServiceNetworkPolicies: 'Enabled'
          networkSecurityGroup: {
            id: subnetRules.id
          }
        }
      }
      {
        name: appSubnetName
        properties: {
          addressPrefix: '10.0.2.0/24'
          privateEndpointNetworkPolicies: 'Disabled'
          privateLinkServiceNetworkPolicies: 'Enabled'
          networkSecurityGroup: {
            id: subnetRules.id
          }
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [for service in storageServices: {
  name: 'privatelink.${service}.${environment().suffixes.storage}'
  location: 'global'
  tags: tags
}]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [for (service, i) in storageServices: {
  parent: zones[i]
  name: '${name}-link'
  location: 'global'
  tags: tags
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}]

resource endpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [for service in storageServices: {
  name: '${storageName}-${service}-pe'
  location: location
  tags: tags
  properties: {
    subnet: {
      id: '${vnet.id}/subnets/${privateEndpointSubnetName}'
    }
    privateLinkServiceConnections: [
      {
        name: '${service}-connection'
        properties: {
          privateLinkServiceId: storage.id
          groupIds: [
            service
          ]
        }
      }
    ]
  }
}]

resource endpointRecords 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [for (service, i) in storageServices: {
  parent: endpoints[i]
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: service
        properties: {
          privateDnsZoneId: zones[i].id
        }
      }
    ]
  }
}]

resource eventsTopic 'Microsoft.EventGrid/topics@2025-02-15' existing = if (!empty(eventsTopicName)) {
  name: eventsTopicName
}

resource eventGridZone 'Microsoft.Network/privateDnsZones@2024-06-01' = if (!empty(eventsTopicName)) {
  name: 'privatelink.eventgrid.azure.net'
  location: 'global'
  tags: tags
}

resource eventGridZoneLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = if (!empty(eventsTopicName)) {
  parent: eventGridZone
  name: '${name}-link'
  location: 'global'
  tags: tags
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}

resource eventsTopicEndpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = if (!empty(eventsTopicName)) {
  name: '${eventsTopicName}-pe'
  location: location
  tags: tags
  properties: {
    subnet: {
      id: '${vnet.id}/subnets/${privateEndpointSubnetName}'
    }
    privateLinkServiceConnections: [
      {
        name: 'topic-connection'
        properties: {
          privateLinkServiceId: eventsTopic.id
          groupIds: [
            'topic'
          ]
        }
      }
    ]
  }
}

resource eventsTopicRecords 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = if (!empty(eventsTopicName)) {
  parent: eventsTopicEndpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: 'eventgrid'
        properties: {
          privateDnsZoneId: eventGridZone.id
        }
      }
    ]
  }
}

output appSubnetId string = '${vnet.id}/subnets/${appSubnetName}'
