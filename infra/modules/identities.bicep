// One user-assigned identity per process: the function app and the media host. Each gets only the roles
// its settings need (main.bicep); AZURE_CLIENT_ID selects it inside the process.
param location string
param prefix string
param token string

resource functionIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${prefix}-func-id-${token}'
  location: location
}

resource mediaIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${prefix}-media-id-${token}'
  location: location
}

output functionId string = functionIdentity.id
output functionClientId string = functionIdentity.properties.clientId
output functionPrincipalId string = functionIdentity.properties.principalId
output mediaId string = mediaIdentity.id
output mediaClientId string = mediaIdentity.properties.clientId
output mediaPrincipalId string = mediaIdentity.properties.principalId
