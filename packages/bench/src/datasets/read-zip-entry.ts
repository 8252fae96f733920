import { AipoError } from '@aipo/core';
import { configure, TextWriter, Uint8ArrayReader, ZipReader } from '@zip.js/zip.js';

/**
 * Read one text member of a (possibly password-protected, ZipCrypto or AES) zip entirely in
 * memory. GPQA's authors ask that the plain text never be written to disk, so nothing here touches
 * the file system.
 */
export async function readZipEntry({ bytes, entry, password, file }: { bytes: Uint8Array; entry: string; password?: string; file: string }): Promise<string> {
  configure({ useWebWorkers: false });
  const reader = new ZipReader(new Uint8ArrayReader(bytes), password === undefined ? {} : { password });
  try {
    const entries = await reader.getEntries();
    const found = entries.find((candidate) => candidate.filename === entry);
    if (found === undefined || found.directory) {
      throw new AipoError({ code: 'INVALID_DATASET', message: `${file}: no member "${entry}" in the archive`, details: { file, entry } });
    }
    return await found.getData(new TextWriter(), password === undefined ? {} : { password });
  } catch (error) {
    if (AipoError.isInstance(error)) throw error;
    throw new AipoError({
      code: 'INVALID_DATASET',
      message: `${file}: cannot read "${entry}" (${error instanceof Error ? error.message : String(error)})`,
      cause: error,
      details: { file, entry },
    });
  } finally {
    await reader.close();
  }
}
