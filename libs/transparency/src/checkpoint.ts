/** C2SP tlog-checkpoint body: "<origin>\n<size>\n<base64 root>\n" then optional extension lines. */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Buffer;
  readonly extensions?: readonly string[];
}

export class CheckpointFormatError extends Error {
  override readonly name = 'CheckpointFormatError';
}

const SIZE_PATTERN = /^(0|[1-9]\d*)$/;
const BASE64_32_BYTES = /^[A-Za-z0-9+/]{43}=$/;
// Signed notes allow no ASCII control characters but newline (C2SP signed-note).
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f]/;

function checkLine(value: string, field: string): void {
  if (value.length === 0) throw new CheckpointFormatError(`${field}: empty`);
  if (value.includes('\n') || CONTROL.test(value)) throw new CheckpointFormatError(`${field}: contains a newline or a control character`);
}

/** The checkpoint's note text (the body that is signed). */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  checkLine(checkpoint.origin, 'origin');
  if (!Number.isSafeInteger(checkpoint.size) || checkpoint.size < 0) throw new CheckpointFormatError(`size: ${checkpoint.size} is not a whole number`);
  if (!Buffer.isBuffer(checkpoint.rootHash) || checkpoint.rootHash.length !== 32) throw new CheckpointFormatError('rootHash: expected 32 bytes');
  const extensions = checkpoint.extensions ?? [];
  extensions.forEach((line, index) => checkLine(line, `extensions[${index}]`));
  return [checkpoint.origin, String(checkpoint.size), checkpoint.rootHash.toString('base64'), ...extensions].map((line) => `${line}\n`).join('');
}

/** Parses a checkpoint body (a verified note's text); throws a CheckpointFormatError naming the bad line. */
export function parseCheckpoint(body: string): Checkpoint {
  if (typeof body !== 'string' || !body.endsWith('\n')) throw new CheckpointFormatError('checkpoint: the text must end with a newline');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw new CheckpointFormatError(`checkpoint: ${lines.length} lines, expected at least origin, size and root hash`);
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  checkLine(origin, 'checkpoint origin (line 1)');
  if (!SIZE_PATTERN.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw new CheckpointFormatError(`checkpoint size (line 2): '${sizeText}' is not a decimal number without leading zeros`);
  }
  if (!BASE64_32_BYTES.test(rootText)) throw new CheckpointFormatError('checkpoint root hash (line 3): expected the base64 of 32 bytes');
  extensions.forEach((line, index) => checkLine(line, `checkpoint extension (line ${index + 4})`));
  return { origin, size: Number(sizeText), rootHash: Buffer.from(rootText, 'base64'), ...(extensions.length > 0 ? { extensions } : {}) };
}

/** One tree per Kafka partition of a lifecycle topic, named by its cluster, namespace (if any), topic and partition. */
export interface TreeCoordinates {
  readonly clusterId: string;
  readonly namespace?: string;
  readonly topic: string;
  readonly partition: number;
}

const ORIGIN_PREFIX = 'grantline';
// A component may not hold the separator, spaces (a note key name allows none) nor '+' (the vkey separator).
const COMPONENT = /^[^\s/+]+$/u;

function component(value: string | undefined, field: string): string {
  if (typeof value !== 'string' || !COMPONENT.test(value))
    throw new CheckpointFormatError(`${field}: '${String(value)}' must be non-empty, without '/', '+' or spaces`);
  return value;
}

/**
 * The checkpoint origin line of a tree: `grantline/<clusterId>/<topic>/<partition>`, or with a topic namespace
 * `grantline/<clusterId>/<namespace>/<topic>/<partition>`. The component count tells the two apart.
 */
export function treeOrigin(tree: TreeCoordinates): string {
  if (!Number.isInteger(tree.partition) || tree.partition < 0) throw new CheckpointFormatError(`partition: ${tree.partition} is not a Kafka partition number`);
  const parts = [ORIGIN_PREFIX, component(tree.clusterId, 'clusterId')];
  if (tree.namespace !== undefined && tree.namespace !== '') parts.push(component(tree.namespace, 'namespace'));
  parts.push(component(tree.topic, 'topic'), String(tree.partition));
  return parts.join('/');
}

/** The inverse of {@link treeOrigin}; throws on any other text. */
export function parseTreeOrigin(origin: string): TreeCoordinates {
  const parts = typeof origin === 'string' ? origin.split('/') : [];
  if ((parts.length !== 4 && parts.length !== 5) || parts[0] !== ORIGIN_PREFIX || !parts.every((part) => COMPONENT.test(part))) {
    throw new CheckpointFormatError(`origin: '${String(origin)}' is not grantline/<clusterId>[/<namespace>]/<topic>/<partition>`);
  }
  const partitionText = parts[parts.length - 1]!;
  if (!/^(0|[1-9]\d{0,9})$/.test(partitionText)) throw new CheckpointFormatError(`origin: '${origin}' does not end with a partition number`);
  const [, clusterId, ...rest] = parts as [string, string, ...string[]];
  return rest.length === 3
    ? { clusterId, namespace: rest[0]!, topic: rest[1]!, partition: Number(partitionText) }
    : { clusterId, topic: rest[0]!, partition: Number(partitionText) };
}
