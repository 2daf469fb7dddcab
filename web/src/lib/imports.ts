/** The CSV import's mapping step: what a column may fill, a first guess from its header,
 * and value mappings written one a line. */

export const TARGETS = [
	{ value: 'title', label: 'Title' },
	{ value: 'description', label: 'Description' },
	{ value: 'type', label: 'Type' },
	{ value: 'priority', label: 'Priority' },
	{ value: 'status', label: 'Status' },
	{ value: 'submitter_email', label: 'Submitter email' },
	{ value: 'submitter_name', label: 'Submitter name' },
	{ value: 'assignee_email', label: 'Assignee email' },
	{ value: 'labels', label: 'Labels' },
	{ value: 'created_at', label: 'Created at' },
	{ value: 'resolved_at', label: 'Resolved at' },
	{ value: 'external_id', label: 'External id' }
] as const;

export const REQUIRED_TARGETS = ['title', 'description', 'submitter_email'];

// Header words other systems use for each field.
const SYNONYMS: Record<string, string[]> = {
	title: ['title', 'subject', 'summary'],
	description: ['description', 'body', 'details', 'text'],
	type: ['type', 'kind', 'category'],
	priority: ['priority', 'prio', 'severity', 'urgency'],
	status: ['status', 'state'],
	submitter_email: ['submitteremail', 'email', 'from', 'requester', 'requesteremail', 'reporter'],
	submitter_name: ['submittername', 'name', 'requestername', 'reportername'],
	assignee_email: ['assigneeemail', 'assignee', 'assignedto', 'owner', 'agent'],
	labels: ['labels', 'tags'],
	created_at: ['createdat', 'created', 'opened', 'date', 'createdon'],
	resolved_at: ['resolvedat', 'resolved', 'closed', 'closedat'],
	external_id: ['externalid', 'id', 'ref', 'reference', 'ticketid', 'key', 'number']
};

function squeezed(text: string): string {
	return text.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** A first mapping: each column whose header names a field (or a custom field's key or
 * label) maps to it; each field at most once; the rest are not imported. */
export function guessMapping(columns: string[], customFields: { key: string; label: string }[]): Record<string, string | null> {
	const taken = new Set<string>();
	const mapping: Record<string, string | null> = {};
	for (const column of columns) {
		const word = squeezed(column);
		const field =
			Object.keys(SYNONYMS).find((target) => SYNONYMS[target]?.includes(word)) ??
			customFields.filter((f) => squeezed(f.key) === word || squeezed(f.label) === word).map((f) => `cf.${f.key}`)[0];
		if (field && !taken.has(field)) {
			taken.add(field);
			mapping[column] = field;
		} else {
			mapping[column] = null;
		}
	}
	return mapping;
}

/** `High = high` lines into `{ High: 'high' }`; lines without `=` are left out. */
export function parseValueLines(text: string): Record<string, string> {
	const found: Record<string, string> = {};
	for (const line of text.split('\n')) {
		const at = line.lastIndexOf('=');
		if (at === -1) continue;
		const word = line.slice(0, at).trim();
		const value = line.slice(at + 1).trim().toLowerCase();
		if (word && value) found[word] = value;
	}
	return found;
}
