import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const pkgPath = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
/** r2s version from package.json, recorded in every stage.json. */
export const version: string = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version;
