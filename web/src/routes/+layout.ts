import { instance } from '$lib/stores/instance.svelte';

// A client-rendered SPA: the Python server serves index.html for every non-API path.
export const ssr = false;
export const prerender = false;
export const trailingSlash = 'never';

/** Every page adapts to the server's limits and switches, so read them before the first render. */
export async function load() {
	await instance.load();
}
