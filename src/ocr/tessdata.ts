import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** LSTM models with integer weights: tesseract.js's own default, fast and as accurate here. */
export const MODEL = '4.0.0_best_int';
/** Models the languages of OCR_LANGUAGES need, each shipped in an npm package of its own. */
export const MODEL_LANGUAGES = ['deu', 'eng'] as const;

const packageDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));
const packageVersion = (name: string) =>
  (require(`${name}/package.json`) as { version: string }).version;

/** Which tesseract.js, WASM core and models read the images: the engine's cache-key version. */
export function tesseractVersion(): string {
  const models = MODEL_LANGUAGES.map(
    (lang) => `${lang} ${packageVersion(`@tesseract.js-data/${lang}`)}`,
  );
  return `tesseract.js ${packageVersion('tesseract.js')} (core ${packageVersion('tesseract.js-core')}; ${MODEL}: ${models.join(', ')}; LSTM)`;
}

/**
 * A folder holding every model as `<lang>.traineddata.gz`. tesseract.js reads all languages of a
 * worker (e.g. `deu+eng`) from one `langPath`, but each model ships in its own package, so the
 * folder links to them. The caller removes it with `removeModelFolder`.
 */
export async function createModelFolder(): Promise<string> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'ocr-models-'));
  await Promise.all(
    MODEL_LANGUAGES.map((lang) => {
      const file = `${lang}.traineddata.gz`;
      return symlink(
        path.join(packageDir(`@tesseract.js-data/${lang}`), MODEL, file),
        path.join(folder, file),
      );
    }),
  );
  return folder;
}

export const removeModelFolder = (folder: string) => rm(folder, { recursive: true, force: true });
