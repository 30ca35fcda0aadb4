import { Inject, Injectable } from '@nestjs/common';
import type { NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { INTAKE_CONFIG } from '../config/intake-config';
import type { IntakeConfig } from '../config/intake-config';
import { scimErrorBody } from './scim.error';
import { SCIM_CONTENT_TYPE } from './scim-attributes.schema';

type BodyRequest = IncomingMessage & { body?: unknown };

/** `application/scim+json`, with or without parameters such as `charset=utf-8`. */
export const isScimJson = (contentType: string | undefined): boolean => (contentType ?? '').split(';')[0]?.trim().toLowerCase() === SCIM_CONTENT_TYPE;

function fail(response: ServerResponse, status: number, detail: string, scimType: 'invalidSyntax' | 'tooMany'): void {
  response.statusCode = status;
  response.setHeader('Content-Type', SCIM_CONTENT_TYPE);
  response.end(JSON.stringify(scimErrorBody(status, detail, scimType)));
}

/**
 * RFC 7644 §3.1: SCIM bodies are `application/scim+json`. The intake's JSON parser (HttpPlatformSetup) reads only
 * `application/json` and leaves these unread, so this parses them for the SCIM routes, with the intake's body limit.
 * It answers a malformed body itself, in SCIM form: an error here would otherwise reach only the global
 * problem+json handler.
 */
@Injectable()
export class ScimJsonBodyParser implements NestMiddleware<BodyRequest, ServerResponse> {
  constructor(@Inject(INTAKE_CONFIG) private readonly config: IntakeConfig) {}

  use(request: BodyRequest, response: ServerResponse, next: (error?: unknown) => void): void {
    if (request.body !== undefined || !isScimJson(request.headers['content-type'])) {
      next();
      return;
    }
    const limit = this.config.bodyLimitBytes;
    const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') {
      fail(response, 415, `Content-Encoding ${encoding} is not supported`, 'invalidSyntax');
      return;
    }
    if (Number(request.headers['content-length'] ?? 0) > limit) {
      fail(response, 413, `The request body exceeds ${limit} bytes`, 'tooMany');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    request.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        fail(response, 413, `The request body exceeds ${limit} bytes`, 'tooMany');
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('error', (error) => {
      if (done) return;
      done = true;
      next(error);
    });
    request.on('end', () => {
      if (done) return;
      done = true;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        next();
        return;
      }
      try {
        request.body = JSON.parse(text) as unknown;
      } catch (error) {
        fail(response, 400, `The request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, 'invalidSyntax');
        return;
      }
      next();
    });
  }
}
