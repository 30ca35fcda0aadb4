import { ScimError } from './scim.error';

/**
 * RFC 7644 §3.4.2.2 filters and §3.5.2 PATCH paths, parsed into a tree. Attribute names and operators are
 * case-insensitive; `and` binds tighter than `or`; `not` applies to a parenthesised filter; a value path
 * (`emails[type eq "work"]`) filters the elements of a multi-valued attribute and cannot nest.
 */

/** `userName`, `name.familyName`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`. */
export interface AttrPath {
  /** The schema URN qualifying the attribute: everything before its last colon. */
  readonly schema?: string;
  readonly attribute: string;
  readonly subAttribute?: string;
}

export const COMPARE_OPERATORS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'lt', 'ge', 'le'] as const;
export type CompareOperator = (typeof COMPARE_OPERATORS)[number];
export type CompareValue = string | number | boolean | null;

export type ScimFilter =
  | { readonly kind: 'logical'; readonly operator: 'and' | 'or'; readonly left: ScimFilter; readonly right: ScimFilter }
  | { readonly kind: 'not'; readonly filter: ScimFilter }
  | { readonly kind: 'present'; readonly path: AttrPath }
  | { readonly kind: 'compare'; readonly path: AttrPath; readonly operator: CompareOperator; readonly value: CompareValue }
  | { readonly kind: 'valuePath'; readonly path: AttrPath; readonly filter: ScimFilter };

/** A PATCH target: `members`, `members[value eq "2819c223"]`, `addresses[type eq "work"].streetAddress`. */
export interface PatchPath {
  readonly attrPath: AttrPath;
  readonly valueFilter?: ScimFilter;
  /** After a value filter: the sub-attribute of the matching elements. */
  readonly subAttribute?: string;
}

type Token =
  | { readonly kind: 'word'; readonly text: string; readonly at: number }
  | { readonly kind: 'string'; readonly value: string; readonly at: number }
  | { readonly kind: 'number'; readonly value: number; readonly at: number }
  | { readonly kind: '(' | ')' | '[' | ']'; readonly at: number }
  /** `.streetAddress` directly after `]`. */
  | { readonly kind: 'subAttr'; readonly name: string; readonly at: number };

/** Thrown for text that is not a filter or path; callers answer it as invalidFilter or invalidPath. */
export class ScimSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScimSyntaxError';
  }
}

const WORD = /[A-Za-z$][\w\-:.$]*/y;
const NAME = /^[A-Za-z$][\w\-$]*$/;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const MAX_LENGTH = 2_000;
const MAX_DEPTH = 32;

function tokenize(text: string): Token[] {
  if (text.length > MAX_LENGTH) throw new ScimSyntaxError(`longer than ${MAX_LENGTH} characters`);
  const tokens: Token[] = [];
  let at = 0;
  while (at < text.length) {
    const char = text[at] as string;
    if (/\s/.test(char)) {
      at += 1;
    } else if (char === '(' || char === ')' || char === '[') {
      tokens.push({ kind: char, at });
      at += 1;
    } else if (char === ']') {
      tokens.push({ kind: ']', at });
      at += 1;
      if (text[at] === '.') {
        WORD.lastIndex = at + 1;
        const name = WORD.exec(text)?.[0];
        if (name === undefined || !NAME.test(name)) throw new ScimSyntaxError(`expected a sub-attribute name at ${at + 1}`);
        tokens.push({ kind: 'subAttr', name, at });
        at += 1 + name.length;
      }
    } else if (char === '"') {
      let end = at + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (end >= text.length) throw new ScimSyntaxError(`unterminated string at ${at}`);
      let value: unknown;
      try {
        value = JSON.parse(text.slice(at, end + 1));
      } catch {
        throw new ScimSyntaxError(`invalid string at ${at}`);
      }
      tokens.push({ kind: 'string', value: value as string, at });
      at = end + 1;
    } else if (/[-\d]/.test(char)) {
      NUMBER.lastIndex = at;
      const match = NUMBER.exec(text)?.[0];
      if (match === undefined) throw new ScimSyntaxError(`unexpected "${char}" at ${at}`);
      tokens.push({ kind: 'number', value: Number(match), at });
      at += match.length;
    } else {
      WORD.lastIndex = at;
      const match = WORD.exec(text)?.[0];
      if (match === undefined) throw new ScimSyntaxError(`unexpected "${char}" at ${at}`);
      tokens.push({ kind: 'word', text: match, at });
      at += match.length;
    }
  }
  return tokens;
}

/** Splits `urn:...:User:name.familyName` at the last colon (the schema) and the dot (the sub-attribute). */
export function attrPathOf(text: string): AttrPath {
  const colon = text.lastIndexOf(':');
  const schema = colon >= 0 ? text.slice(0, colon) : undefined;
  const parts = text.slice(colon + 1).split('.');
  const [attribute = '', subAttribute, ...rest] = parts;
  if (rest.length > 0 || !NAME.test(attribute) || (subAttribute !== undefined && !NAME.test(subAttribute))) {
    throw new ScimSyntaxError(`"${text}" is not an attribute path`);
  }
  if (schema !== undefined && !/^urn:/i.test(schema)) throw new ScimSyntaxError(`"${schema}" is not a schema URN`);
  return { ...(schema === undefined ? {} : { schema }), attribute, ...(subAttribute === undefined ? {} : { subAttribute }) };
}

class Parser {
  private position = 0;
  private depth = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  filter(): ScimFilter {
    const filter = this.or(false);
    this.end();
    return filter;
  }

  path(): PatchPath {
    const first = this.next();
    if (first?.kind !== 'word') throw new ScimSyntaxError('expected an attribute path');
    const attrPath = attrPathOf(first.text);
    if (this.peek()?.kind !== '[') {
      this.end();
      return { attrPath };
    }
    if (attrPath.subAttribute !== undefined) throw new ScimSyntaxError('a value filter follows an attribute, not a sub-attribute');
    this.next();
    const valueFilter = this.or(true);
    this.expect(']');
    const sub = this.peek();
    if (sub?.kind === 'subAttr') this.next();
    this.end();
    return { attrPath, valueFilter, ...(sub?.kind === 'subAttr' ? { subAttribute: sub.name } : {}) };
  }

  private or(inValuePath: boolean): ScimFilter {
    let left = this.and(inValuePath);
    while (this.keyword('or')) {
      this.next();
      left = { kind: 'logical', operator: 'or', left, right: this.and(inValuePath) };
    }
    return left;
  }

  private and(inValuePath: boolean): ScimFilter {
    let left = this.unary(inValuePath);
    while (this.keyword('and')) {
      this.next();
      left = { kind: 'logical', operator: 'and', left, right: this.unary(inValuePath) };
    }
    return left;
  }

  private unary(inValuePath: boolean): ScimFilter {
    this.depth += 1;
    // Nesting is bounded: a hostile filter of ten thousand parentheses must not overflow the stack.
    if (this.depth > MAX_DEPTH) throw new ScimSyntaxError(`nested deeper than ${MAX_DEPTH} levels`);
    try {
      if (this.keyword('not')) {
        this.next();
        this.expect('(');
        const filter = this.or(inValuePath);
        this.expect(')');
        return { kind: 'not', filter };
      }
      if (this.peek()?.kind === '(') {
        this.next();
        const filter = this.or(inValuePath);
        this.expect(')');
        return filter;
      }
      return this.attributeExpression(inValuePath);
    } finally {
      this.depth -= 1;
    }
  }

  private attributeExpression(inValuePath: boolean): ScimFilter {
    const token = this.next();
    if (token?.kind !== 'word')
      throw new ScimSyntaxError(token === undefined ? 'unexpected end: expected an attribute' : `expected an attribute at ${token.at}`);
    const path = attrPathOf(token.text);
    if (this.peek()?.kind === '[') {
      if (inValuePath) throw new ScimSyntaxError(`value filters cannot nest (at ${token.at})`);
      if (path.subAttribute !== undefined) throw new ScimSyntaxError('a value filter follows an attribute, not a sub-attribute');
      this.next();
      const filter = this.or(true);
      this.expect(']');
      return { kind: 'valuePath', path, filter };
    }
    const operator = this.next();
    if (operator?.kind !== 'word') throw new ScimSyntaxError(`expected an operator after "${token.text}"`);
    const name = operator.text.toLowerCase();
    if (name === 'pr') return { kind: 'present', path };
    if (!(COMPARE_OPERATORS as readonly string[]).includes(name)) throw new ScimSyntaxError(`unknown operator "${operator.text}" at ${operator.at}`);
    return { kind: 'compare', path, operator: name as CompareOperator, value: this.compareValue() };
  }

  private compareValue(): CompareValue {
    const token = this.next();
    if (token?.kind === 'string' || token?.kind === 'number') return token.value;
    if (token?.kind === 'word') {
      const word = token.text.toLowerCase();
      if (word === 'true') return true;
      if (word === 'false') return false;
      if (word === 'null') return null;
    }
    throw new ScimSyntaxError(
      token === undefined ? 'unexpected end: expected a value' : `expected a value (a JSON string, number, true, false or null) at ${token.at}`,
    );
  }

  private keyword(word: string): boolean {
    const token = this.peek();
    return token?.kind === 'word' && token.text.toLowerCase() === word;
  }

  private peek(): Token | undefined {
    return this.tokens[this.position];
  }

  private next(): Token | undefined {
    const token = this.tokens[this.position];
    this.position += 1;
    return token;
  }

  private expect(kind: '(' | ')' | '[' | ']'): void {
    const token = this.next();
    if (token?.kind !== kind) throw new ScimSyntaxError(token === undefined ? `unexpected end: expected "${kind}"` : `expected "${kind}" at ${token.at}`);
  }

  private end(): void {
    const token = this.peek();
    if (token !== undefined) throw new ScimSyntaxError(`unexpected ${token.kind === 'word' ? `"${token.text}"` : token.kind} at ${token.at}`);
  }
}

/** Parses a `filter` query parameter; a malformed one is a 400 invalidFilter. */
export function parseFilter(text: string): ScimFilter {
  try {
    return new Parser(tokenize(text)).filter();
  } catch (error) {
    if (error instanceof ScimSyntaxError) throw ScimError.invalidFilter(`filter: ${error.message}`);
    throw error;
  }
}

/** Parses a PATCH operation's `path`; a malformed one is a 400 invalidPath. */
export function parsePath(text: string): PatchPath {
  try {
    return new Parser(tokenize(text)).path();
  } catch (error) {
    if (error instanceof ScimSyntaxError) throw ScimError.invalidPath(`path "${text}": ${error.message}`);
    throw error;
  }
}
