/** Which tickets stay selected in a list that was loaded again. */
export function keepListed(selected: ReadonlySet<string>, listed: readonly { id: string }[]): Set<string> {
	const ids = new Set(listed.map((t) => t.id));
	return new Set([...selected].filter((id) => ids.has(id)));
}

export interface StatusChoice<S extends string> {
	status: S;
	/** The selected tickets that may not go there, counted by the status they are in. */
	refused: { from: S; count: number }[];
}

/**
 * What a bulk status change may offer for `selected`: each status, with the selected
 * tickets that may not move there (their `transitions`, the server's word; a ticket
 * already in that status is no change, so no refusal). A status with refusals would fail
 * as a whole: bulk actions are all or nothing.
 */
export function bulkStatusChoices<S extends string>(statuses: readonly S[], selected: readonly { status: S; transitions: readonly S[] }[]): StatusChoice<S>[] {
	return statuses.map((status) => {
		const refused = new Map<S, number>();
		for (const ticket of selected) {
			if (ticket.status !== status && !ticket.transitions.includes(status)) refused.set(ticket.status, (refused.get(ticket.status) ?? 0) + 1);
		}
		return { status, refused: [...refused].map(([from, count]) => ({ from, count })) };
	});
}
