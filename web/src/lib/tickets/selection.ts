/** Which tickets stay selected in a list that was loaded again. */
export function keepListed(selected: ReadonlySet<string>, listed: readonly { id: string }[]): Set<string> {
	const ids = new Set(listed.map((t) => t.id));
	return new Set([...selected].filter((id) => ids.has(id)));
}
