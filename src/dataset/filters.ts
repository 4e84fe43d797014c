import { BUNDESLAND_CODES, type Bundesland } from '../vocabulary/bundeslaender.ts';
import { DOC_TYPES, type DocType } from '../vocabulary/doc-types.ts';
import { badInput } from '../vocabulary/errors.ts';

const isBundesland = (code: string): code is Bundesland =>
  (BUNDESLAND_CODES as readonly string[]).includes(code);

/** State codes of a filter; an unknown one is BAD_USER_INPUT on `field`. */
export function checkBundeslaender(codes: readonly string[], field: string): Bundesland[] {
  const unknown = codes.filter((code) => !isBundesland(code));
  if (unknown.length > 0) {
    throw badInput(
      field,
      `${field}: unknown state code ${unknown.join(', ')}; allowed: ${BUNDESLAND_CODES.join(' ')}`,
    );
  }
  return codes as Bundesland[];
}

export function checkDocType(value: string, field: string): DocType {
  if (!(DOC_TYPES as readonly string[]).includes(value)) {
    throw badInput(field, `${field} must be one of ${DOC_TYPES.join(' ')}`);
  }
  return value as DocType;
}
