import type { LoggerService } from '@nestjs/common';
import type { MessagingLogger } from '@grantline/messaging';
import pino from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import type { LogLevel } from '../config/service-config.schema';

export interface JsonLoggerOptions {
  readonly serviceName: string;
  readonly level?: LogLevel;
  /** Defaults to stdout, written synchronously so nothing is lost when the process exits. */
  readonly destination?: DestinationStream;
  /** Context used when a caller gives none. */
  readonly context?: string;
}

type Fields = Record<string, unknown>;

/** Fields that may hold a secret, at the top of a record or one or two levels down (docs/adr/0017). */
const SECRET_FIELDS = ['password', 'KAFKA_SASL_PASSWORD', 'sasl'];
const REDACTED_PATHS = SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);
type PinoLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

function isPlainObject(value: unknown): value is Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * One JSON line per record: `{"level","time","service","context","msg",...fields}`. Implements both
 * Nest's LoggerService (message, ...optional params, context last) and the messaging port
 * (message, fields), so the framework, the transport and the handlers share one format and one
 * level setting.
 */
export class JsonLogger implements LoggerService, MessagingLogger {
  private readonly pino: PinoLogger;
  private readonly defaultContext: string | undefined;

  constructor(options: JsonLoggerOptions);
  constructor(options: JsonLoggerOptions, parent: PinoLogger);
  constructor(options: JsonLoggerOptions, parent?: PinoLogger) {
    this.defaultContext = options.context;
    this.pino =
      parent ??
      pino(
        {
          level: options.level ?? 'info',
          messageKey: 'msg',
          base: { service: options.serviceName, pid: process.pid },
          timestamp: pino.stdTimeFunctions.isoTime,
          formatters: { level: (label) => ({ level: label }) },
          // a credential handed to a log call by mistake (a config, an env dump, client options) is censored
          redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
        },
        options.destination ?? pino.destination({ dest: 1, sync: true }),
      );
  }

  /** A logger whose records carry `context` unless the call names another. */
  withContext(context: string): JsonLogger {
    return new JsonLogger({ serviceName: '', context }, this.pino);
  }

  isLevelEnabled(level: PinoLevel): boolean {
    return this.pino.isLevelEnabled(level);
  }

  log(message: unknown, ...optionalParams: unknown[]): void {
    this.write('info', message, optionalParams);
  }

  info(message: unknown, ...optionalParams: unknown[]): void {
    this.write('info', message, optionalParams);
  }

  error(message: unknown, ...optionalParams: unknown[]): void {
    this.write('error', message, optionalParams, true);
  }

  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.write('warn', message, optionalParams);
  }

  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.write('debug', message, optionalParams);
  }

  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.write('trace', message, optionalParams);
  }

  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.write('fatal', message, optionalParams, true);
  }

  /**
   * Nest passes `(message, context)` or, for errors, `(message, stack, context)`; the messaging port
   * passes `(message, fields)`. Strings after the message are therefore the stack (errors only, when
   * two are given) and the context (always the last one); objects are merged as fields.
   */
  private write(level: PinoLevel, message: unknown, params: readonly unknown[], mayCarryStack = false): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const record: Fields = {};
    const strings: string[] = [];
    for (const param of params) {
      if (typeof param === 'string') strings.push(param);
      else if (param instanceof Error) record['err'] = param;
      else if (isPlainObject(param)) Object.assign(record, param);
      else if (param !== undefined) record['detail'] = param;
    }
    const context = strings.length > 0 ? strings.pop() : this.defaultContext;
    if (mayCarryStack && strings.length > 0) record['stack'] = strings.join('\n');
    if (context !== undefined) record['context'] = context;

    let text: string;
    if (typeof message === 'string') text = message;
    else if (message instanceof Error) {
      text = message.message;
      record['err'] = message;
    } else if (isPlainObject(message)) {
      // Nest callers sometimes log an object; keep its `msg`/`message` as the line's message.
      const { msg, message: inner, ...rest } = message;
      Object.assign(record, rest);
      text = typeof msg === 'string' ? msg : typeof inner === 'string' ? inner : '';
    } else text = String(message);
    this.pino[level](record, text);
  }
}
