import { error } from '@sveltejs/kit';

/** Triage is for staff; the parent layout has already loaded who is signed in. */
export async function load({ parent }) {
	const { me } = await parent();
	if (me.role === 'user') error(403, 'Triage is for agents and admins.');
}
