import { error } from '@sveltejs/kit';

export async function load({ parent }) {
	const { me } = await parent();
	if (me.role === 'user') error(403, 'Reports are for agents and admins.');
}
