/** Clients that balance and fail over through checkups: undici (fetch), ioredis, mysql2. */
export { createDispatcher, createInterceptor, type ClientCheckups, type DispatcherOptions } from './dispatcher.js'
export { createRedisClient, CheckupsRedis, isRetryableCommand, IDEMPOTENT_WRITES, type RedisClient, type RedisClientOptions } from './redis.js'
export { createMysqlClient, CheckupsMysql, type MysqlClientOptions } from './mysql.js'
export { isConnectError, isRetryableRequest } from './retry.js'
