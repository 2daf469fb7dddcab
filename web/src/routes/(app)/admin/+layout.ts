import { error } from '@sveltejs/kit';

export async function load({ parent }) {
	const { me } = await parent();
	if (me.role !== 'admin') error(403, 'Administration is for admins.');
}
