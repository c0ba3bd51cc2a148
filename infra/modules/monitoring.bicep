// Log Analytics workspace and the workspace-based Application Insights both processes report to.
@description('Azure region')
param location string

@description('Resource name prefix')
param prefix string

@description('Suffix making the names unique')
param token string

@description('Days the logs are kept')
@minValue(30)
param retentionDays int = 30

@description('Role assignments on Application Insights: [{ principalId, roleDefinitionId }]')
param roleAssignments array = []

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${prefix}-logs-${token}'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: retentionDays
    features: { enableLogAccessUsingOnlyResourcePermissions: true }
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${prefix}-insights-${token}'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true // telemetry is sent with Entra ID (APPLICATIONINSIGHTS_AUTHENTICATION_STRING)
    IngestionMode: 'LogAnalytics'
  }
}

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for assignment in roleAssignments: {
    scope: insights
    name: guid(insights.id, assignment.principalId, assignment.roleDefinitionId)
    properties: {
      principalId: assignment.principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', assignment.roleDefinitionId)
    }
  }
]

output workspaceId string = workspace.id
output workspaceName string = workspace.name
output workspaceCustomerId string = workspace.properties.customerId
output connectionString string = insights.properties.ConnectionString
output insightsName string = insights.name
