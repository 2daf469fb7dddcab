import { error } from '@sveltejs/kit';
import { triageView } from '$lib/tickets/filters';

export function load({ params }) {
	const view = triageView(params.view);
	if (!view) error(404, 'No such view');
	return { view };
}
