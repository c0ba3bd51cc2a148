// The container registry holding the media host image. No admin user: the media host pulls with its
// identity (AcrPull) and `az acr build` pushes with the deployer's Entra ID.
param location string
param prefix string
param token string

@description('Role assignments on the registry: [{ principalId, roleDefinitionId }]')
param roleAssignments array = []

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: take(toLower('${prefix}acr${token}'), 50)
  location: location
  sku: { name: 'Basic' }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for assignment in roleAssignments: {
    scope: registry
    name: guid(registry.id, assignment.principalId, assignment.roleDefinitionId)
    properties: {
      principalId: assignment.principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', assignment.roleDefinitionId)
    }
  }
]

output name string = registry.name
output loginServer string = registry.properties.loginServer
