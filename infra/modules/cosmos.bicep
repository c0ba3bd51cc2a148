// Cosmos DB (NoSQL, serverless): one document per call, partitioned by the caller's number, with the
// composite index the keyset paging of the report needs. Keys are off: Entra ID data-plane roles only.
param location string
param prefix string
param token string

param databaseName string
param containerName string

@description('The partition key path, e.g. /caller_phone')
param partitionKeyPath string

@description('Composite indexes: a list of lists of { path, order }')
param compositeIndexes array

@description('Data-plane role assignments: [{ principalId, roleDefinitionId }] (built-in Cosmos DB data roles)')
param roleAssignments array = []

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' = {
  name: toLower('${prefix}-cosmos-${token}')
  location: location
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [{ locationName: location, failoverPriority: 0, isZoneRedundant: false }]
    consistencyPolicy: { defaultConsistencyLevel: 'Session' }
    capabilities: [{ name: 'EnableServerless' }]
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-05-15' = {
  parent: account
  name: databaseName
  properties: { resource: { id: databaseName } }
}

resource container 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-05-15' = {
  parent: database
  name: containerName
  properties: {
    resource: {
      id: containerName
      partitionKey: { paths: [partitionKeyPath], kind: 'Hash', version: 2 }
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [{ path: '/*' }]
        excludedPaths: [{ path: '/"_etag"/?' }]
        compositeIndexes: compositeIndexes
      }
    }
  }
}

resource assignments 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-05-15' = [
  for assignment in roleAssignments: {
    parent: account
    name: guid(account.id, assignment.principalId, assignment.roleDefinitionId)
    properties: {
      principalId: assignment.principalId
      roleDefinitionId: '${account.id}/sqlRoleDefinitions/${assignment.roleDefinitionId}'
      scope: account.id
    }
  }
]

output endpoint string = account.properties.documentEndpoint
output name string = account.name
