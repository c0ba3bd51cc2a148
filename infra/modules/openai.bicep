// Azure OpenAI with the fast and slow chat deployments and the embedding deployment of the search index.
// Keys are off: the processes call it with Entra ID (Cognitive Services OpenAI User).
param location string
param prefix string
param token string

@description('Deployments: [{ name, model, version, capacity }] (capacity in thousands of tokens per minute)')
param deployments array

@description('Role assignments on the account: [{ principalId, roleDefinitionId }]')
param roleAssignments array = []

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: '${prefix}-openai-${token}'
  location: location
  kind: 'OpenAI'
  sku: { name: 'S0' }
  identity: { type: 'SystemAssigned' }
  properties: {
    customSubDomainName: toLower('${prefix}-openai-${token}')
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
    networkAcls: { defaultAction: 'Allow' }
  }
}

@batchSize(1)
resource modelDeployments 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = [
  for deployment in deployments: {
    parent: account
    name: deployment.name
    sku: { name: 'GlobalStandard', capacity: deployment.capacity }
    properties: {
      model: { format: 'OpenAI', name: deployment.model, version: deployment.version }
      versionUpgradeOption: 'OnceNewDefaultVersionAvailable'
    }
  }
]

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for assignment in roleAssignments: {
    scope: account
    name: guid(account.id, assignment.principalId, assignment.roleDefinitionId)
    properties: {
      principalId: assignment.principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', assignment.roleDefinitionId)
    }
  }
]

output endpoint string = account.properties.endpoint
output name string = account.name
