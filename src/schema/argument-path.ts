import { AppError } from '../vocabulary/errors.ts';

/**
 * Domain errors name the field of the value they were given; the client sent that value as the
 * argument `argument`, so its path starts there (`input.batchSize`).
 */
export async function withinArgument<T>(argument: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof AppError) || error.field === undefined) throw error;
    const field = error.field ? `${argument}.${error.field}` : argument;
    throw new AppError(error.code, error.message, field);
  }
}
