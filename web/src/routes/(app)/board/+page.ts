import { error } from '@sveltejs/kit';

export async function load({ parent }) {
	const { me } = await parent();
	if (me.role === 'user') error(403, 'The board is for agents and admins.');
}
