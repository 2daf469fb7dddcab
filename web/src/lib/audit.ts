/** Reading the audit trail: what an action changed, field by field. */

export type State = Record<string, unknown> | null | undefined;

export interface FieldChange {
	field: string;
	before: string | null;
	after: string | null;
}

function shown(value: unknown): string {
	return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The fields an action changed, by name: each with its value before and after as text
 * (null where the field was absent on that side). A creation lists every field as added,
 * a deletion every field as removed; fields equal on both sides are left out.
 */
export function changedFields(before: State, after: State): FieldChange[] {
	const fields = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])].sort();
	const changes: FieldChange[] = [];
	for (const field of fields) {
		const had = before != null && field in before;
		const has = after != null && field in after;
		const old = had ? shown(before[field]) : null;
		const now = has ? shown(after[field]) : null;
		if (old !== now) changes.push({ field, before: old, after: now });
	}
	return changes;
}

/** The query string of an audit search, without the empty filters. */
export function auditQuery(filters: Record<string, string | null | undefined>): string {
	const params = new URLSearchParams();
	for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
	return params.toString();
}
