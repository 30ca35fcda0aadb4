import { BadRequestException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import { isObservable, lastValueFrom } from 'rxjs';
import type { Observable } from 'rxjs';
import { PROBLEMS, ProblemException } from './problem-details';
import { ProblemDetailsFilter, toProblem } from './problem-details.filter';

const bodyParserError = (type: string, status: number): Error => Object.assign(new Error(type), { type, status });

describe('toProblem', () => {
  it('keeps a problem thrown on purpose', () => {
    const thrown = ProblemException.of(PROBLEMS.invalidRequest, 'bad', [{ field: 'subject', message: 'required' }]);
    expect(toProblem(thrown)).toBe(thrown.problem);
  });

  it('turns body-parser errors into 413 / 400 naming the body', () => {
    expect(toProblem(bodyParserError('entity.too.large', 413))).toMatchObject({ status: 413, errors: [{ field: '(body)' }] });
    expect(toProblem(bodyParserError('entity.parse.failed', 400))).toMatchObject({ status: 400, detail: 'The request body is not valid JSON' });
  });

  it('maps Nest exceptions and hides unexpected errors', () => {
    expect(toProblem(new NotFoundException())).toMatchObject({ status: 404, type: 'https://grantline.dev/problems/not-found' });
    expect(toProblem(new PayloadTooLargeException())).toMatchObject({ status: 413 });
    expect(toProblem(new BadRequestException('Unexpected token'))).toMatchObject({ status: 400, errors: [{ field: '(body)', message: 'Unexpected token' }] });
    expect(toProblem(new Error('secret connection string'))).toEqual({
      type: 'https://grantline.dev/problems/internal',
      title: 'Internal error',
      status: 500,
      detail: 'An unexpected error occurred',
    });
  });
});

describe('ProblemDetailsFilter outside HTTP', () => {
  it('given an event handler that failed, then the original error goes back to the transport (not an HTTP rendering)', async () => {
    const failure = new Error('policy state was not loaded: the service is stopping');
    const rpcHost = { getType: () => 'rpc', getArgByIndex: () => ({}), getArgs: () => [] } as unknown as ArgumentsHost;

    const result = new ProblemDetailsFilter().catch(failure, rpcHost);

    expect(isObservable(result)).toBe(true);
    await expect(lastValueFrom(result as Observable<never>)).rejects.toBe(failure);
  });
});
