// Copies Swagger UI from the swagger-ui-dist package into the build, so the server's
// API docs page (/api/v1/docs) loads it from its own origin instead of a CDN.
// Runs after `vite build`; the files land in build/swagger-ui/ and so in the wheel.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const target = resolve(webDir, 'build/swagger-ui');

mkdirSync(target, { recursive: true });
for (const name of ['swagger-ui-bundle.js', 'swagger-ui.css', 'LICENSE', 'NOTICE']) {
	copyFileSync(resolve(source, name), resolve(target, name));
}
