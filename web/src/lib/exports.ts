import type { Export, TicketPriority, TicketStatus, TicketType, ViewFilters } from '$lib/api/types';

/** What the export form holds: checked statuses, types, priorities, a label, a team, and a
 * created range as dates (from the start of the first day to the end of the last). */
export interface ExportForm {
	status: TicketStatus[];
	type: TicketType[];
	priority: TicketPriority[];
	label: string;
	team: string;
	createdFrom: string;
	createdTo: string;
}

/** The next day of a `YYYY-MM-DD` date, as one. */
function nextDay(date: string): string {
	const [y, m, d] = date.split('-').map(Number);
	const next = new Date(Date.UTC(y, m - 1, d + 1));
	return next.toISOString().slice(0, 10);
}

/** The form as the API's filters (`ViewFilters`): only what was chosen; dates in UTC. */
export function exportFilters(form: ExportForm): ViewFilters {
	const filters: ViewFilters = {};
	if (form.status.length) filters.status = form.status;
	if (form.type.length) filters.type = form.type;
	if (form.priority.length) filters.priority = form.priority;
	if (form.label) filters.tags = [form.label];
	if (form.team) filters.team = form.team;
	if (form.createdFrom) filters.created_after = `${form.createdFrom}T00:00:00Z`;
	if (form.createdTo) filters.created_before = `${nextDay(form.createdTo)}T00:00:00Z`;
	return filters;
}

/** How far an export has come, 0–100; null while its total is not known. */
export function percentDone(e: Pick<Export, 'status' | 'rows_done' | 'rows_total'>): number | null {
	if (e.status === 'done') return 100;
	if (e.rows_total === null || e.rows_total === undefined) return null;
	if (e.rows_total === 0) return 0;
	return Math.min(100, Math.floor((e.rows_done / e.rows_total) * 100));
}

/** Whether an export's job has yet to end. */
export function inProgress(e: Pick<Export, 'status'>): boolean {
	return e.status === 'queued' || e.status === 'running';
}

/** A size in bytes as people read it. */
export function formatBytes(bytes: number): string {
	if (bytes < 1024) return `${bytes} B`;
	const units = ['KB', 'MB', 'GB'];
	let value = bytes / 1024;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit += 1;
	}
	return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
