// App Configuration with the feature flags as key-values `flags:<name>` (shared/flags/appconfig.py).
// Keys are off; ARM writes the key-values with the deployer's Entra ID (pass-through), so the deployer
// gets App Configuration Data Owner, and the processes App Configuration Data Reader.
param location string
param prefix string
param token string

@description('Flag name -> value, written as flags:<name>')
param flags object

@description('Role assignments on the store: [{ principalId, roleDefinitionId }]')
param roleAssignments array = []

@description('Who runs the deployment (writes the key-values); empty: nobody')
param deployerPrincipalId string = ''

@allowed(['User', 'ServicePrincipal'])
param deployerPrincipalType string = 'User'

var dataOwner = '5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b' // App Configuration Data Owner

resource store 'Microsoft.AppConfiguration/configurationStores@2024-05-01' = {
  name: '${prefix}-appcs-${token}'
  location: location
  sku: { name: 'standard' }
  properties: {
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
    enablePurgeProtection: true
    softDeleteRetentionInDays: 7
    dataPlaneProxy: { authenticationMode: 'Pass-through', privateLinkDelegation: 'Disabled' }
  }
}

resource deployer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  scope: store
  name: guid(store.id, deployerPrincipalId, dataOwner)
  properties: {
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataOwner)
  }
}

resource values 'Microsoft.AppConfiguration/configurationStores/keyValues@2024-05-01' = [
  for flag in items(flags): {
    parent: store
    name: 'flags:${flag.key}'
    properties: { value: string(flag.value) }
    dependsOn: [deployer]
  }
]

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for assignment in roleAssignments: {
    scope: store
    name: guid(store.id, assignment.principalId, assignment.roleDefinitionId)
    properties: {
      principalId: assignment.principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', assignment.roleDefinitionId)
    }
  }
]

output endpoint string = store.properties.endpoint
output name string = store.name
