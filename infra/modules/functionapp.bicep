// The function app on Flex Consumption (Linux, Python 3.11): HTTP API, Event Grid triggers, the post-call
// queue trigger and Durable orchestration, timers. Runs as its user-assigned identity; its package is
// deployed to a blob container read with that identity.
param location string
param prefix string
param token string

@description('The function app name (its host name is <name>.azurewebsites.net)')
param name string

@description('Resource id of the function app identity')
param identityId string

@description('Blob endpoint of the storage account (https://<account>.blob.core.windows.net/)')
param blobEndpoint string

@description('The container the package is deployed to')
param deploymentContainerName string

@description('App settings (name -> value), Key Vault references included')
param appSettings object

@description('Functions kept warm besides the HTTP group, e.g. [\'incoming_call\']')
param alwaysReadyFunctions array

@description('Warm instances of the HTTP group and of each function in alwaysReadyFunctions')
@minValue(1)
param alwaysReadyInstances int = 1

@description('Upper bound of instances')
@minValue(40)
param maximumInstanceCount int = 100

@allowed([2048, 4096])
param instanceMemoryMB int = 2048

var functionAlwaysReady = [for functionName in alwaysReadyFunctions: { name: 'function:${functionName}', instanceCount: alwaysReadyInstances }]

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${prefix}-plan-${token}'
  location: location
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: concat([{ name: 'http', instanceCount: alwaysReadyInstances }], functionAlwaysReady)
      }
      runtime: { name: 'python', version: '3.11' }
    }
  }
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: appSettings
}

resource ftp 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: { allow: false }
}

resource scm 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: { allow: false }
}

output id string = site.id
output name string = site.name
output hostName string = site.properties.defaultHostName
