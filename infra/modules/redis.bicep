// Azure Cache for Redis: the per-call cache and locks. TLS only (6380). The code connects with a
// rediss:// URL carrying the access key, kept in Key Vault as the secret `redis-url`.
param location string
param prefix string
param token string

@description('The vault the rediss:// URL is written to')
param keyVaultName string

param secretName string = 'redis-url'

@allowed(['Basic', 'Standard', 'Premium'])
param skuName string = 'Standard'

@allowed(['C', 'P'])
param skuFamily string = 'C'

param capacity int = 1

resource redis 'Microsoft.Cache/redis@2024-03-01' = {
  name: '${prefix}-redis-${token}'
  location: location
  properties: {
    sku: { name: skuName, family: skuFamily, capacity: capacity }
    enableNonSslPort: false
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    redisVersion: '6'
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource url 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: secretName
  properties: {
    value: 'rediss://:${redis.listKeys().primaryKey}@${redis.properties.hostName}:${redis.properties.sslPort}/0'
    contentType: 'text/plain'
  }
}

output hostName string = redis.properties.hostName
output secretName string = url.name
