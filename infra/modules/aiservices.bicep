// Azure AI services (Speech included): the media host's speech-to-text and text-to-speech, and the
// resource ACS connects to (ACS__COGNITIVE_SERVICES_ENDPOINT). The Speech SDK client of the media host
// takes a key, so local auth stays on here; the key is kept in Key Vault as `speech-key`.
param location string
param prefix string
param token string

@description('The vault the key is written to')
param keyVaultName string

param secretName string = 'speech-key'

@description('Role assignments on the account: [{ principalId, roleDefinitionId }]')
param roleAssignments array = []

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: '${prefix}-ai-${token}'
  location: location
  kind: 'AIServices'
  sku: { name: 'S0' }
  identity: { type: 'SystemAssigned' }
  properties: {
    customSubDomainName: toLower('${prefix}-ai-${token}')
    disableLocalAuth: false
    publicNetworkAccess: 'Enabled'
    networkAcls: { defaultAction: 'Allow' }
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource key 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: secretName
  properties: { value: account.listKeys().key1, contentType: 'text/plain' }
}

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
output region string = account.location
output name string = account.name
output secretName string = key.name
