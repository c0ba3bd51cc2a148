// Call Center AI on Azure, stage 1: every resource but the Event Grid subscriptions (events.bicep, stage 2,
// deployed once the function app's code is published and indexed, since Event Grid checks at creation
// that the destination function exists). `make deploy name=RG` runs both stages (docs/deploy.md).
targetScope = 'resourceGroup'

@description('Azure region of the resources (ACS, which is global, keeps its data in dataLocation)')
param location string = resourceGroup().location

@description('Short prefix of every resource name: lower-case letters and digits (storage and registry names allow nothing else)')
@minLength(2)
@maxLength(8)
param prefix string = 'cca'

@description('Environment name, part of the Durable task hub name (one hub per environment)')
@minLength(2)
@maxLength(12)
param environmentName string = 'prod'

@description('The bot\'s phone number (E.164), bought in the ACS resource (docs/deploy.md); empty on the first deployment, which creates that resource')
param botPhoneNumber string = ''

@description('Where ACS keeps its data at rest')
param communicationDataLocation string = 'Europe'

@description('The media host image (<registry>/media-host:<tag>); empty: the container app is not deployed yet')
param mediaImage string = ''

@description('Object id of whoever runs the deployment: may write Key Vault secrets and App Configuration values')
param deployerPrincipalId string = ''

@allowed(['User', 'ServicePrincipal'])
param deployerPrincipalType string = 'User'

@description('Seconds a live call may go on after the media host is told to stop (scale-in, rollout)')
@minValue(30)
@maxValue(540)
param callDrainSec int = 540

@description('Media host replicas always running')
@minValue(1)
param mediaMinReplicas int = 1

@minValue(1)
param mediaMaxReplicas int = 10

@description('Calls per media host replica before another one is added')
@minValue(1)
param callsPerReplica int = 8

@description('Chat and embedding deployments of Azure OpenAI')
param openAiDeployments object = {
  fast: { name: 'gpt-4.1-nano', model: 'gpt-4.1-nano', version: '2025-04-14', capacity: 50 }
  slow: { name: 'gpt-4.1', model: 'gpt-4.1', version: '2025-04-14', capacity: 50 }
  embedding: { name: 'text-embedding-3-large', model: 'text-embedding-3-large', version: '1', capacity: 50 }
}

@description('Feature flags written to App Configuration as flags:<name> (flags.example.yaml lists them)')
param featureFlags object = {
  answer_hard_timeout_sec: 15
  answer_soft_timeout_sec: 4
  callback_timeout_hour: 3
  phone_silence_timeout_sec: 20
  recognition_retry_max: 3
  recording_enabled: false
  slow_llm_for_chat: false
  vad_cutoff_timeout_ms: 250
  vad_silence_timeout_ms: 500
  vad_threshold: '0.5'
}

var token = toLower(uniqueString(subscription().id, resourceGroup().id, prefix))
var functionAppName = '${prefix}-func-${token}'
var mediaAppName = '${prefix}-media-${token}'
var durableTaskHub = 'callcenter${environmentName}'

// Names the code uses (tests/infra compares them with the code)
var cosmosDatabase = 'call-center-ai'
var cosmosContainer = 'calls'
var cosmosPartitionKey = '/caller_phone'
var cosmosCompositeIndexes = [
  [
    { path: '/created_sort', order: 'descending' }
    { path: '/id', order: 'descending' }
  ]
]
var postCallQueue = 'post-call'
var recordingsContainer = 'recordings'
var deploymentContainer = 'function-package'
var deadLetterContainer = 'event-dead-letters'
var jobsConnection = 'JobsStorage'
var alwaysReadyFunctions = ['incoming_call']
var mediaPort = 8765
var mediaLivenessPath = '/health/liveness'
var mediaReadinessPath = '/health/readiness'
var searchIndex = 'trainings'

// Built-in role definition ids
var roles = {
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
  appConfigDataReader: '516239f1-63e1-4d78-a4de-a74fb236a071'
  cognitiveServicesOpenAiUser: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'
  cognitiveServicesUser: 'a97b65f3-24c7-4388-baec-2e87135dc908'
  contributor: 'b24988ac-6180-42a0-925d-310dc38e9e5d'
  cosmosDataContributor: '00000000-0000-0000-0000-000000000002'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  searchIndexDataReader: '1407120a-92aa-4202-b7e9-c0e197c71c8f'
  searchServiceContributor: '7ca78c08-252a-4471-8644-bb5ff32d4ba0'
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}

module identities 'modules/identities.bicep' = {
  name: 'identities'
  params: { location: location, prefix: prefix, token: token }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    prefix: prefix
    token: token
    roleAssignments: [
      { principalId: identities.outputs.functionPrincipalId, roleDefinitionId: roles.monitoringMetricsPublisher }
      { principalId: identities.outputs.mediaPrincipalId, roleDefinitionId: roles.monitoringMetricsPublisher }
    ]
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    location: location
    prefix: prefix
    token: token
    deployerPrincipalId: deployerPrincipalId
    deployerPrincipalType: deployerPrincipalType
    roleAssignments: [
      { principalId: identities.outputs.functionPrincipalId, roleDefinitionId: roles.keyVaultSecretsUser }
      { principalId: identities.outputs.mediaPrincipalId, roleDefinitionId: roles.keyVaultSecretsUser }
    ]
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    prefix: prefix
    token: token
    postCallQueueName: postCallQueue
    recordingsContainerName: recordingsContainer
    deploymentContainerName: deploymentContainer
    deadLetterContainerName: deadLetterContainer
    roleAssignments: [
      { principalId: identities.outputs.functionPrincipalId, roleDefinitionId: roles.storageBlobDataOwner }
      { principalId: identities.outputs.functionPrincipalId, roleDefinitionId: roles.storageQueueDataContributor }
      { principalId: identities.outputs.functionPrincipalId, roleDefinitionId: roles.storageTableDataContributor }
    ]
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    location: location
    prefix: prefix
    token: token
    databaseName: cosmosDatabase
    containerName: cosmosContainer
    partitionKeyPath: cosmosPartitionKey
    compositeIndexes: cosmosCompositeIndexes
    roleAssignments: [
      { principalId: identities.outputs.functionPrincipalId, roleDefinitionId: roles.cosmosDataContributor }
      { principalId: identities.outputs.mediaPrincipalId, roleDefinitionId: roles.cosmosDataContributor }
    ]
  }
}

module redis 'modules/redis.bicep' = {
  name: 'redis'
  params: { location: location, prefix: prefix, token: token, keyVaultName: keyVault.outputs.name }
}

module appConfig 'modules/appconfig.bicep' = {
  name: 'appconfig'
  params: {
    location: location
    prefix: prefix
    token: token
    flags: featureFlags
    deployerPrincipalId: deployerPrincipalId
    deployerPrincipalType: deployerPrincipalType
    roleAssignments: [
      { principalId: identities.outputs.functionPrincipalId, roleDefinitionId: roles.appConfigDataReader }
      { principalId: identities.outputs.mediaPrincipalId, roleDefinitionId: roles.appConfigDataReader }
    ]
  }
}

module openAi 'modules/openai.bicep' = {
  name: 'openai'
  params: {
    location: location
    prefix: prefix
    token: token
    deployments: [openAiDeployments.fast, openAiDeployments.slow, openAiDeployments.embedding]
    roleAssignments: [
      { principalId: identities.outputs.functionPrincipalId, roleDefinitionId: roles.cognitiveServicesOpenAiUser }
      { principalId: identities.outputs.mediaPrincipalId, roleDefinitionId: roles.cognitiveServicesOpenAiUser }
    ]
  }
}

module communication 'modules/communication.bicep' = {
  name: 'communication'
  params: {
    prefix: prefix
    token: token
    dataLocation: communicationDataLocation
    roleAssignments: [
      { principalId: identities.outputs.functionPrincipalId, roleDefinitionId: roles.contributor }
      { principalId: identities.outputs.mediaPrincipalId, roleDefinitionId: roles.contributor }
    ]
  }
}

module aiServices 'modules/aiservices.bicep' = {
  name: 'aiservices'
  params: {
    location: location
    prefix: prefix
    token: token
    keyVaultName: keyVault.outputs.name
    roleAssignments: [
      { principalId: communication.outputs.principalId, roleDefinitionId: roles.cognitiveServicesUser }
      // Translator through the account's custom endpoint with Entra ID (the phrases of other languages)
      { principalId: identities.outputs.functionPrincipalId, roleDefinitionId: roles.cognitiveServicesUser }
      { principalId: identities.outputs.mediaPrincipalId, roleDefinitionId: roles.cognitiveServicesUser }
    ]
  }
}

module search 'modules/search.bicep' = {
  name: 'search'
  params: {
    location: location
    prefix: prefix
    token: token
    roleAssignments: [
      { principalId: identities.outputs.functionPrincipalId, roleDefinitionId: roles.searchIndexDataReader }
      { principalId: identities.outputs.functionPrincipalId, roleDefinitionId: roles.searchServiceContributor }
      { principalId: identities.outputs.mediaPrincipalId, roleDefinitionId: roles.searchIndexDataReader }
      { principalId: identities.outputs.mediaPrincipalId, roleDefinitionId: roles.searchServiceContributor }
    ]
  }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  params: {
    location: location
    prefix: prefix
    token: token
    roleAssignments: [
      { principalId: identities.outputs.mediaPrincipalId, roleDefinitionId: roles.acrPull }
    ]
  }
}

module containerEnvironment 'modules/containerenv.bicep' = {
  name: 'containerenv'
  params: { location: location, prefix: prefix, token: token, workspaceId: monitoring.outputs.workspaceId }
}

var storageSuffix = environment().suffixes.storage
var queueServiceUri = 'https://${storage.outputs.name}.queue.${storageSuffix}'
var vaultUri = keyVault.outputs.uri

// Settings both processes read (shared/settings.py; azure.settings.example.json lists them per process)
var commonSettings = {
  MODE: 'azure'
  API__PUBLIC_URL: 'https://${functionAppName}.azurewebsites.net'
  MEDIA__PUBLIC_URL: 'wss://${mediaAppName}.${containerEnvironment.outputs.defaultDomain}'
  STORE__COSMOS__ENDPOINT: cosmos.outputs.endpoint
  STORE__COSMOS__DATABASE: cosmosDatabase
  STORE__COSMOS__CONTAINER: cosmosContainer
  FLAGS__APPCONFIG__ENDPOINT: appConfig.outputs.endpoint
  LLM__FAST__ENDPOINT: openAi.outputs.endpoint
  LLM__FAST__DEPLOYMENT: openAiDeployments.fast.name
  LLM__FAST__MODEL: openAiDeployments.fast.model
  LLM__SLOW__ENDPOINT: openAi.outputs.endpoint
  LLM__SLOW__DEPLOYMENT: openAiDeployments.slow.name
  LLM__SLOW__MODEL: openAiDeployments.slow.model
  SEARCH__AZURE__ENDPOINT: search.outputs.endpoint
  SEARCH__AZURE__INDEX: searchIndex
  SEARCH__AZURE__EMBEDDING__ENDPOINT: openAi.outputs.endpoint
  SEARCH__AZURE__EMBEDDING__DEPLOYMENT: openAiDeployments.embedding.name
  SEARCH__AZURE__EMBEDDING__MODEL: openAiDeployments.embedding.model
  ACS__ENDPOINT: communication.outputs.endpoint
  ACS__PHONE_NUMBER: botPhoneNumber
  ACS__CALLBACK_JWT__AUDIENCE: communication.outputs.immutableResourceId
  ACS__COGNITIVE_SERVICES_ENDPOINT: aiServices.outputs.endpoint
  TRANSLATOR__ENDPOINT: aiServices.outputs.endpoint
  TRANSLATOR__REGION: aiServices.outputs.region
}

// The function app's settings: the Functions host's own (identity-based storage, task hub) and the app's
var functionSettings = union(commonSettings, {
  AZURE_CLIENT_ID: identities.outputs.functionClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identities.outputs.functionClientId};Authorization=AAD'
  AzureWebJobsStorage__accountName: storage.outputs.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identities.outputs.functionClientId
  '${jobsConnection}__queueServiceUri': queueServiceUri
  '${jobsConnection}__credential': 'managedidentity'
  '${jobsConnection}__clientId': identities.outputs.functionClientId
  DURABLE_TASK_HUB: durableTaskHub
  JOBS__ACCOUNT_URL: queueServiceUri
  JOBS__QUEUE_NAME: postCallQueue
  BLOBS__ACCOUNT_URL: 'https://${storage.outputs.name}.blob.${storageSuffix}'
  BLOBS__CONTAINER: recordingsContainer
  API__KEY: '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/api-key)'
  REPORT__SIGNING_KEY: '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/report-signing-key)'
  CACHE__REDIS__URL: '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/${redis.outputs.secretName})'
})

// The media host's environment; its secrets come from Key Vault through container app secrets
var mediaSettings = union(commonSettings, {
  AZURE_CLIENT_ID: identities.outputs.mediaClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identities.outputs.mediaClientId};Authorization=AAD'
  SPEECH__BACKEND: 'azure'
  SPEECH__AZURE__REGION: aiServices.outputs.region
  MEDIA__DRAIN_TIMEOUT_SEC: callDrainSec
})
var mediaSecrets = {
  CACHE__REDIS__URL: '${vaultUri}secrets/${redis.outputs.secretName}'
  SPEECH__AZURE__KEY: '${vaultUri}secrets/${aiServices.outputs.secretName}'
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    prefix: prefix
    token: token
    name: functionAppName
    identityId: identities.outputs.functionId
    blobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainer
    alwaysReadyFunctions: alwaysReadyFunctions
    appSettings: functionSettings
  }
}

module mediaHost 'modules/mediahost.bicep' = if (!empty(mediaImage)) {
  name: 'mediahost'
  params: {
    location: location
    name: mediaAppName
    environmentId: containerEnvironment.outputs.id
    identityId: identities.outputs.mediaId
    registryServer: registry.outputs.loginServer
    image: mediaImage
    port: mediaPort
    livenessPath: mediaLivenessPath
    readinessPath: mediaReadinessPath
    settings: mediaSettings
    secretSettings: mediaSecrets
    terminationGraceSec: callDrainSec + 60
    minReplicas: mediaMinReplicas
    maxReplicas: mediaMaxReplicas
    callsPerReplica: callsPerReplica
  }
}

// Read by events.bicep (stage 2), scripts/deploy.sh and the smoke test
output functionAppName string = functionApp.outputs.name
output functionAppUrl string = 'https://${functionApp.outputs.hostName}'
output mediaAppName string = mediaAppName
output mediaUrl string = 'https://${mediaAppName}.${containerEnvironment.outputs.defaultDomain}'
output mediaLivenessPath string = mediaLivenessPath
output mediaReadinessPath string = mediaReadinessPath
output registryName string = registry.outputs.name
output registryServer string = registry.outputs.loginServer
output keyVaultName string = keyVault.outputs.name
output communicationName string = communication.outputs.name
output storageAccountName string = storage.outputs.name
output deadLetterContainer string = deadLetterContainer
output workspaceName string = monitoring.outputs.workspaceName
output botPhoneNumber string = botPhoneNumber
