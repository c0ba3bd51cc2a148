// Azure Communication Services: Call Automation and SMS. The phone number is bought outside Bicep
// (docs/deploy.md) and given to main.bicep as botPhoneNumber. Its system identity lets Call Automation
// use the AI services resource (ACS__COGNITIVE_SERVICES_ENDPOINT).
param prefix string
param token string

@description('Where ACS keeps its data at rest, e.g. Europe, United States')
param dataLocation string

@description('Role assignments on the resource: [{ principalId, roleDefinitionId }]')
param roleAssignments array = []

resource communication 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: '${prefix}-acs-${token}'
  location: 'global'
  identity: { type: 'SystemAssigned' }
  properties: { dataLocation: dataLocation }
}

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for assignment in roleAssignments: {
    scope: communication
    name: guid(communication.id, assignment.principalId, assignment.roleDefinitionId)
    properties: {
      principalId: assignment.principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', assignment.roleDefinitionId)
    }
  }
]

output id string = communication.id
output name string = communication.name
output endpoint string = 'https://${communication.properties.hostName}'
output immutableResourceId string = communication.properties.immutableResourceId
output principalId string = communication.identity.principalId
