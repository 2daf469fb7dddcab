import { redirect } from '@sveltejs/kit';
import { session } from '$lib/stores/session.svelte';

/** Every page in this group needs a signed-in person. */
export async function load({ url }) {
	const me = await session.load();
	if (!me) redirect(307, `/login?next=${encodeURIComponent(url.pathname + url.search)}`);
	return { me };
}
