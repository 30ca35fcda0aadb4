/** Injection token of the parsed `ServiceConfig`. */
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
