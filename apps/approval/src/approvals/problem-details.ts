import { Catch, HttpException } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { z } from 'zod';

/** One bad field (a dotted path into the body or query). */
export interface ProblemError {
  readonly field: string;
  readonly message: string;
}

/** RFC 9457 problem details. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly errors?: readonly ProblemError[];
}

export class ProblemDetailsException extends HttpException {
  constructor(readonly problem: ProblemDetails) {
    super(problem, problem.status);
  }
}

export const problem = (status: number, slug: string, title: string, detail: string): ProblemDetailsException =>
  new ProblemDetailsException({ type: `https://grantline.dev/problems/${slug}`, title, status, detail });

export const invalidInput = (error: z.ZodError, where: 'body' | 'query'): ProblemDetailsException => {
  const errors = error.issues.map((issue) => ({ field: issue.path.map(String).join('.') || `(${where})`, message: issue.message }));
  return new ProblemDetailsException({
    type: `https://grantline.dev/problems/invalid-${where}`,
    title: `Invalid request ${where}`,
    status: 400,
    detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
    errors,
  });
};

/** The part of the HTTP platform's response the filter uses (express's, without depending on its types). */
interface ProblemResponse {
  status(code: number): ProblemResponse;
  type(contentType: string): ProblemResponse;
  send(body: string): unknown;
}

/** Writes ProblemDetailsException as application/problem+json. */
@Catch(ProblemDetailsException)
export class ProblemDetailsFilter implements ExceptionFilter<ProblemDetailsException> {
  catch(exception: ProblemDetailsException, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<ProblemResponse>();
    response.status(exception.problem.status).type('application/problem+json').send(JSON.stringify(exception.problem));
  }
}
