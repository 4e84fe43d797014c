import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { badInput } from '../vocabulary/errors.ts';

/**
 * The row id inside a global ID of the given type. A malformed ID, or one of another type, is
 * BAD_USER_INPUT on `field`.
 */
export function rowId(globalId: string, typename: string, field = 'id'): string {
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    throw badInput(field, `${field} must be a ${typename} ID as returned by this API`);
  }
  if (decoded.typename !== typename) {
    throw badInput(field, `${field} must be a ${typename} ID, not a ${decoded.typename} ID`);
  }
  return decoded.id;
}

export { encodeGlobalID };
