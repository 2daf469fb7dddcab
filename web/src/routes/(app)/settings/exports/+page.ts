import { error } from '@sveltejs/kit';

/** Exports are for staff; the parent layout has already loaded who is signed in. */
export async function load({ parent }) {
	const { me } = await parent();
	if (me.role === 'user') error(403, 'Exports are for agents and admins.');
}
