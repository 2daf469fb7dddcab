/**
 * The ticket on its page: read with its ETag, written with `If-Match`. Every write (fields,
 * status, labels, assignment, closing) goes through one place, so a stale one — HTTP 412
 * `stale_version`, someone else changed the ticket since it was read — is handled the same
 * way everywhere: the ticket is reloaded and a toast says what changed meanwhile. A write
 * that answers after the user opened another ticket leaves that one alone.
 */
import { api as defaultApi, type ApiClient } from '$lib/api/client';
import { toFormProblem, type ProblemDoc } from '$lib/api/problem';
import type { TicketDetail, TicketUpdate } from '$lib/api/types';
import { toast } from '$lib/stores/toast.svelte';
import { PRIORITY_LABEL, STATUS_LABEL, TYPE_LABEL } from './meta';

interface WriteAnswer {
	data?: TicketDetail;
	error?: unknown;
	response: Response;
}

type TicketFacts = Pick<TicketDetail, 'status' | 'priority' | 'type' | 'tags' | 'title' | 'description' | 'assigned_to'>;

/** What differs between two versions of a ticket, in words ("the status became Resolved"). */
export function describeChanges(before: TicketFacts, after: TicketFacts): string[] {
	const changes: string[] = [];
	if (after.status !== before.status) changes.push(`the status became ${STATUS_LABEL[after.status]}`);
	if (after.priority !== before.priority) changes.push(`the priority became ${PRIORITY_LABEL[after.priority]}`);
	if (after.type !== before.type) changes.push(`the type became ${TYPE_LABEL[after.type]}`);
	if ((after.assigned_to?.id ?? null) !== (before.assigned_to?.id ?? null)) {
		changes.push(after.assigned_to ? `it was assigned to ${after.assigned_to.name}` : 'it was unassigned');
	}
	if (after.tags.join('\n') !== before.tags.join('\n')) {
		changes.push(after.tags.length ? `the labels became ${after.tags.join(', ')}` : 'its labels were removed');
	}
	if (after.title !== before.title) changes.push(`the title became “${after.title}”`);
	if (after.description !== before.description) changes.push('the description was edited');
	return changes;
}

/** "a", "a and b", "a, b and c". */
function inWords(phrases: string[]): string {
	return phrases.length <= 1 ? (phrases[0] ?? '') : `${phrases.slice(0, -1).join(', ')} and ${phrases.at(-1)}`;
}

/** The write was refused as stale (HTTP 412 `stale_version`): someone else changed the ticket since it was read. */
export function isStale(answer: Pick<WriteAnswer, 'error' | 'response'>): boolean {
	return answer.response.status === 412 || (answer.error as ProblemDoc | undefined)?.code === 'stale_version';
}

export class TicketState {
	ticket = $state<TicketDetail | null>(null);
	loading = $state(true);
	/** Why the ticket cannot be shown (status 404: it does not exist, or is not yours to see). */
	error = $state<{ message: string; status?: number } | null>(null);
	/** A write is on its way; the page's controls wait for it. */
	busy = $state(false);

	readonly #api: ApiClient;
	readonly #onchange: (ticket: TicketDetail) => void;
	#ref = '';
	#etag: string | null = null;
	// Every read and write starts a new generation; a read answering an older one is dropped.
	#generation = 0;
	// Counts the writes sent: only the latest one's end lets the controls go.
	#writes = 0;

	/** `onchange` hears of every new version of the ticket (to refresh what depends on it). */
	constructor({ api = defaultApi, onchange = () => undefined }: { api?: ApiClient; onchange?: (ticket: TicketDetail) => void } = {}) {
		this.#api = api;
		this.#onchange = onchange;
	}

	/** Show the ticket `ref` (its UUID or number) instead of the one shown so far. */
	open(ref: string): Promise<void> {
		this.#ref = ref;
		this.ticket = null;
		this.#etag = null;
		this.error = null;
		this.busy = false;
		return this.load();
	}

	/** Read the ticket again; `quiet` keeps the current one on screen and ignores failures. */
	async load({ quiet = false }: { quiet?: boolean } = {}): Promise<void> {
		// A background refresh never races a write: the write's answer is newer.
		if (quiet && this.busy) return;
		const generation = ++this.#generation;
		if (!quiet) this.loading = true;
		try {
			const { data, error, response } = await this.#api.GET('/api/v1/tickets/{id}', { params: { path: { id: this.#ref } } });
			if (generation !== this.#generation) return;
			if (data) {
				this.error = null;
				this.#accept(data, response);
			} else if (!quiet) {
				this.error = { message: toFormProblem(error).message, status: response.status };
			}
		} catch (e) {
			if (generation === this.#generation && !quiet) this.error = { message: toFormProblem(e).message };
		} finally {
			if (generation === this.#generation) this.loading = false;
		}
	}

	/** Change fields or the status. */
	update(patch: TicketUpdate, success = 'Saved'): Promise<boolean> {
		return this.#write(this.#describe(patch), success, (id, ifMatch) =>
			this.#api.PUT('/api/v1/tickets/{id}', { params: { path: { id }, header: { 'if-match': ifMatch } }, body: patch })
		);
	}

	/** Assign to an agent, or unassign with null. */
	assign(assigneeId: string | null): Promise<boolean> {
		return this.#write(
			'change the assignee',
			(ticket) => (ticket.assigned_to ? `Assigned to ${ticket.assigned_to.name}` : 'Unassigned'),
			(id, ifMatch) => this.#api.PUT('/api/v1/tickets/{id}/assign', { params: { path: { id }, header: { 'if-match': ifMatch } }, body: { assignee_id: assigneeId } })
		);
	}

	/** Close the ticket (a submitter accepting a resolution, or staff closing it). */
	close(success: string): Promise<boolean> {
		return this.#write('close the ticket', success, (id, ifMatch) =>
			this.#api.DELETE('/api/v1/tickets/{id}/close', { params: { path: { id }, header: { 'if-match': ifMatch } } })
		);
	}

	#describe(patch: TicketUpdate): string {
		if (patch.status === 'open' && (this.ticket?.status === 'resolved' || this.ticket?.status === 'closed')) return 'reopen the ticket';
		if (patch.status) return 'change the status';
		if (patch.priority) return 'change the priority';
		if (patch.type) return 'change the type';
		if (patch.tags) return 'change the labels';
		if (patch.custom_fields) return 'change the fields';
		return 'save the change';
	}

	/** Send one write with the version we read; `action` completes "Could not …". */
	async #write(
		action: string,
		success: string | ((ticket: TicketDetail) => string),
		send: (id: string, ifMatch: string) => Promise<WriteAnswer>
	): Promise<boolean> {
		const before = this.ticket;
		if (!before) return false;
		// Whether the page shows the ticket written: the user may have opened another one (and
		// even come back to this one, 7 → 8 → 7) while the write was on its way.
		const shown = () => this.ticket?.id === before.id;
		const write = ++this.#writes;
		const latest = () => write === this.#writes;
		// Once the user has opened another ticket, what is said names the one the write was for.
		const about = (message: string) => (shown() ? message : `#${before.number}: ${message}`);
		this.busy = true;
		++this.#generation;
		try {
			const answer = await send(before.id, this.#etag ?? `"${before.version}"`);
			if (answer.data) {
				// A version read meanwhile (the ticket opened again) may be newer still.
				if (shown() && answer.data.version >= (this.ticket?.version ?? 0)) this.#accept(answer.data, answer.response);
				toast.success(about(typeof success === 'string' ? success : success(answer.data)));
				return true;
			}
			if (!isStale(answer)) {
				toast.error(about(`Could not ${action}`), toFormProblem(answer.error).message);
				return false;
			}
			if (shown() && latest()) {
				this.busy = false;
				await this.load({ quiet: true });
			}
			// Checked again: the user may have left while the ticket was read again.
			if (shown()) {
				const changes = describeChanges(before, this.ticket ?? before);
				toast.error(
					'Someone else changed this ticket',
					`Meanwhile ${changes.length ? inWords(changes) : 'it was edited'}, so we did not ${action}. The page shows the latest version; check it and try again.`
				);
			} else {
				toast.error(about('Someone else changed this ticket'), `We did not ${action}. Open #${before.number} again to see the latest version.`);
			}
			return false;
		} catch (e) {
			toast.error(about(`Could not ${action}`), toFormProblem(e).message);
			return false;
		} finally {
			// Opening another ticket let the controls go already; a write sent there since holds them.
			if (latest()) this.busy = false;
		}
	}

	#accept(ticket: TicketDetail, response: Response): void {
		this.ticket = ticket;
		this.#etag = response.headers.get('ETag') ?? `"${ticket.version}"`;
		this.#onchange(ticket);
	}
}
