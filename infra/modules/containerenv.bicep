// The Container Apps environment of the media host; its logs go to the Log Analytics workspace through
// Azure Monitor (no workspace shared key in the template).
param location string
param prefix string
param token string

@description('Log Analytics workspace resource id')
param workspaceId string

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${prefix}-cae-${token}'
  location: location
  properties: {
    appLogsConfiguration: { destination: 'azure-monitor' }
    workloadProfiles: [{ name: 'Consumption', workloadProfileType: 'Consumption' }]
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: environment
  name: 'logs'
  properties: {
    workspaceId: workspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
  }
}

output id string = environment.id
output defaultDomain string = environment.properties.defaultDomain
