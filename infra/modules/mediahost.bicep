// The media host: an always-on container app serving the ACS media websocket. External ingress (ACS
// connects over wss), at least one replica, a scale rule on concurrent connections (one per call), probes
// on the host's health routes, and a termination grace longer than its call drain.
param location string

@description('The container app name (its host is <name>.<environment default domain>)')
param name string

param environmentId string

@description('Resource id of the media host identity (pulls the image, reads Key Vault secrets)')
param identityId string

param registryServer string

@description('The media host image, e.g. <registry>.azurecr.io/media-host:<tag>')
param image string

@description('The port the media host listens on')
param port int

param livenessPath string
param readinessPath string

@description('Environment variables (name -> value)')
param settings object

@description('Environment variables read from Key Vault (name -> secret URL)')
param secretSettings object = {}

@description('Seconds between SIGTERM and SIGKILL: longer than MEDIA__DRAIN_TIMEOUT_SEC')
@maxValue(600)
param terminationGraceSec int

@minValue(1)
param minReplicas int = 1

@minValue(1)
param maxReplicas int = 10

@description('Calls (websocket connections) per replica before another replica is added')
@minValue(1)
param callsPerReplica int = 8

param cpu string = '2.0'
param memory string = '4Gi'

// Container app secret names: lower case letters, digits and '-'
var secrets = [for item in items(secretSettings): { name: toLower(replace(item.key, '_', '-')), keyVaultUrl: item.value, identity: identityId }]
var plainEnv = [for item in items(settings): { name: item.key, value: string(item.value) }]
var secretEnv = [for item in items(secretSettings): { name: item.key, secretRef: toLower(replace(item.key, '_', '-')) }]

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: name
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: port
        transport: 'http'
        allowInsecure: false
        traffic: [{ latestRevision: true, weight: 100 }]
      }
      registries: [{ server: registryServer, identity: identityId }]
      secrets: secrets
    }
    template: {
      terminationGracePeriodSeconds: terminationGraceSec
      containers: [
        {
          name: 'media-host'
          image: image
          resources: { cpu: json(cpu), memory: memory }
          env: concat(plainEnv, secretEnv)
          probes: [
            {
              type: 'Startup'
              httpGet: { path: livenessPath, port: port }
              periodSeconds: 5
              failureThreshold: 60
            }
            {
              type: 'Liveness'
              httpGet: { path: livenessPath, port: port }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: { path: readinessPath, port: port }
              periodSeconds: 5
              failureThreshold: 2
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'concurrent-calls'
            http: { metadata: { concurrentRequests: string(callsPerReplica) } }
          }
        ]
      }
    }
  }
}

output name string = app.name
output fqdn string = app.properties.configuration.ingress.fqdn
