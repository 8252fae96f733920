import { AipoError } from '@aipo/core';
import type { z } from 'zod';
import type { SourcedRecord } from './read-records';

/** Validate every record with a zod schema; the first bad one throws INVALID_DATASET naming file and line. */
export function validateRecords<Schema extends z.ZodType>(
  schema: Schema,
  records: readonly SourcedRecord[],
): Array<{ file: string; line: number; value: z.output<Schema> }> {
  return records.map(({ file, line, value }) => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` at "${issue.path.join('.')}"` : '';
      throw new AipoError({
        code: 'INVALID_DATASET',
        message: `${file}:${line}: invalid record${where}: ${issue?.message ?? 'does not match the schema'}`,
        details: { file, line, issues: parsed.error.issues },
      });
    }
    return { file, line, value: parsed.data };
  });
}
