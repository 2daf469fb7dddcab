import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	compilerOptions: {
		runes: true
	},
	kit: {
		// A single-page app: the Python server serves build/ and falls back to index.html.
		adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: true }),
		// Absolute asset URLs: the SPA fallback is served at every depth (/tickets/12/…).
		paths: { relative: false },
		alias: {
			$components: 'src/lib/components'
		}
	}
};

export default config;
