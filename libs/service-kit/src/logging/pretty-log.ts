/**
 * One of the services' JSON log lines made readable for a person at a terminal (`npm start`): time, level, context,
 * message, then the other fields as `key=value`. The services keep writing JSON for machines; this only formats what
 * a person reads. A line that is not a JSON record is returned as it is.
 */
export interface PrettyLogOptions {
  /** ANSI colours for the level (warnings yellow, errors red, debug dim). */
  readonly colour: boolean;
  /** Longest printed value of one field; longer ones end in `…`. */
  readonly maxValueLength?: number;
}

const HIDDEN = new Set(['level', 'time', 'service', 'pid', 'hostname', 'context', 'msg']);
const LEVEL_COLOUR: Record<string, number> = { fatal: 31, error: 31, warn: 33, info: 32, debug: 90, trace: 90 };

export function prettyLogLine(line: string, options: PrettyLogOptions): string {
  const record = parseRecord(line);
  if (record === undefined) return line;
  const paint = (code: number | undefined, text: string): string => (options.colour && code !== undefined ? `\u001b[${code}m${text}\u001b[0m` : text);
  const level = typeof record['level'] === 'string' ? record['level'] : 'info';
  const time = typeof record['time'] === 'string' ? record['time'].slice(11, 23) : '';
  const context = typeof record['context'] === 'string' ? paint(90, `[${record['context']}] `) : '';
  const message = typeof record['msg'] === 'string' ? record['msg'] : '';
  const max = options.maxValueLength ?? 240;
  const fields = Object.entries(record)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${paint(90, `${key}=`)}${clip(render(key, value), max)}`);
  const head = `${time} ${paint(LEVEL_COLOUR[level], level.toUpperCase().padEnd(5))} ${context}${level === 'warn' || level === 'error' || level === 'fatal' ? paint(LEVEL_COLOUR[level], message) : message}`;
  return fields.length === 0 ? head : `${head}  ${fields.join(' ')}`;
}

function parseRecord(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'msg' in parsed ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function render(key: string, value: unknown): string {
  if (key === 'err' && typeof value === 'object' && value !== null) {
    const { type, message } = value as { type?: unknown; message?: unknown };
    return quoted(`${typeof type === 'string' ? `${type}: ` : ''}${typeof message === 'string' ? message : JSON.stringify(value)}`);
  }
  if (typeof value === 'string') return quoted(value);
  return JSON.stringify(value) ?? String(value);
}

const quoted = (text: string): string => (/[\s"]/.test(text) ? JSON.stringify(text) : text);
const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
