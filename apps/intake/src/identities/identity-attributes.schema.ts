import { z } from 'zod';
import { AttributesSchema } from '@grantline/contracts';

/** `PATCH /v1/identities/:id/attributes`: the attributes a source owns, `null` to remove one. */
export const AttributesBodySchema = z.strictObject({
  attributes: AttributesSchema.refine((attributes) => Object.keys(attributes).length > 0, { message: 'name at least one attribute' }),
});
