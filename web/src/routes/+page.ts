import { redirect } from '@sveltejs/kit';
import { homeFor } from '$lib/navigation';
import { session } from '$lib/stores/session.svelte';

/** The start page: sign in, or the right home for the person's role. */
export async function load() {
	const me = await session.load();
	if (!me) redirect(307, '/login');
	redirect(307, homeFor(me.role));
}
