// Call Center AI on Azure, stage 2: the Event Grid system topic on ACS and one subscription per event the
// function app handles. Deployed after the function app's code is published and indexed: Event Grid checks
// at creation that each destination function exists. Event Grid schema (the one the triggers parse).
targetScope = 'resourceGroup'

@description('The ACS resource (stage 1 output communicationName)')
param communicationName string

@description('The function app (stage 1 output functionAppName)')
param functionAppName string

@description('The bot\'s phone number (E.164): only its calls and texts are delivered')
param botPhoneNumber string

@description('The storage account holding dead letters (stage 1 output storageAccountName)')
param storageAccountName string

@description('The blob container of dead letters (stage 1 output deadLetterContainer)')
param deadLetterContainer string

// ACS writes the number with or without its '+' depending on the event: match on the digits
var botDigits = replace(botPhoneNumber, '+', '')

resource communication 'Microsoft.Communication/communicationServices@2023-04-01' existing = {
  name: communicationName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

var blobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor

resource topic 'Microsoft.EventGrid/systemTopics@2024-06-01-preview' = {
  name: '${communicationName}-events'
  location: 'global'
  identity: { type: 'SystemAssigned' }
  properties: {
    source: communication.id
    topicType: 'Microsoft.Communication.CommunicationServices'
  }
}

// The topic writes undeliverable recording events to the dead-letter container with its own identity
resource deadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, topic.id, blobDataContributor)
  properties: {
    principalId: topic.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataContributor)
  }
}

// A call must be answered within seconds: a late delivery is useless, so retry briefly and let it go
resource incomingCall 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2024-06-01-preview' = {
  parent: topic
  name: 'incoming-call'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionApp.id}/functions/incoming_call'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: ['Microsoft.Communication.IncomingCall']
      advancedFilters: [
        { operatorType: 'StringContains', key: 'data.to.phoneNumber.value', values: [botDigits] }
      ]
    }
    retryPolicy: { maxDeliveryAttempts: 3, eventTimeToLiveInMinutes: 1 }
  }
}

resource smsReceived 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2024-06-01-preview' = {
  parent: topic
  name: 'sms-received'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionApp.id}/functions/sms_received'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: ['Microsoft.Communication.SMSReceived']
      advancedFilters: [{ operatorType: 'StringContains', key: 'data.to', values: [botDigits] }]
    }
    retryPolicy: { maxDeliveryAttempts: 10, eventTimeToLiveInMinutes: 60 }
  }
}

// A recording is worth keeping: retry for a day, then keep the event in the dead-letter container
resource recordingFileStatus 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2024-06-01-preview' = {
  parent: topic
  name: 'recording-file-status'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionApp.id}/functions/recording_file_status'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: { includedEventTypes: ['Microsoft.Communication.RecordingFileStatusUpdated'] }
    retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 }
    deadLetterWithResourceIdentity: {
      identity: { type: 'SystemAssigned' }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: { resourceId: storage.id, blobContainerName: deadLetterContainer }
      }
    }
  }
  dependsOn: [deadLetterWriter]
}

output topicName string = topic.name
