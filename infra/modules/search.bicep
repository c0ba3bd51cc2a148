// Azure AI Search: the knowledge index the assistant's search_document tool reads. Keys are off; the
// processes query with Entra ID, and create the index when it is missing (Search Service Contributor).
param location string
param prefix string
param token string

@allowed(['basic', 'standard'])
param skuName string = 'basic'

@description('Role assignments on the service: [{ principalId, roleDefinitionId }]')
param roleAssignments array = []

resource search 'Microsoft.Search/searchServices@2023-11-01' = {
  name: toLower('${prefix}-search-${token}')
  location: location
  sku: { name: skuName }
  identity: { type: 'SystemAssigned' }
  properties: {
    replicaCount: 1
    partitionCount: 1
    disableLocalAuth: true
    publicNetworkAccess: 'enabled'
    semanticSearch: 'free'
  }
}

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for assignment in roleAssignments: {
    scope: search
    name: guid(search.id, assignment.principalId, assignment.roleDefinitionId)
    properties: {
      principalId: assignment.principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', assignment.roleDefinitionId)
    }
  }
]

output endpoint string = 'https://${search.name}.search.windows.net'
output name string = search.name
