export { ASYNCAPI_VERSION, PAYLOAD_SCHEMA_FORMAT, buildAsyncApiDocument, missingEventTypes } from './asyncapi.document';
export type { AsyncApiChannel, AsyncApiDocument, AsyncApiMessage, AsyncApiOptions } from './asyncapi.document';
