/** Timeline events in words. Kinds are matched loosely so new server kinds still read sensibly. */
import type { TicketEvent } from '$lib/api/types';
import { PRIORITY_LABEL, STATUS_LABEL, TYPE_LABEL } from './meta';

type Data = Record<string, unknown>;

function label(map: Record<string, string>, value: unknown): string {
	return typeof value === 'string' ? (map[value] ?? value) : String(value ?? 'none');
}

function refName(value: unknown): string | null {
	if (value && typeof value === 'object' && 'name' in value) return String((value as { name: unknown }).name);
	return typeof value === 'string' ? value : null;
}

function numberOf(value: unknown): string {
	return value && typeof value === 'object' && 'number' in value ? String((value as { number: unknown }).number) : '?';
}

/**
 * One timeline line. `nameOf` turns a user id into a name (assignment events carry ids);
 * data shapes follow the server: `{from, to}` for field changes, `{added, removed}` for tags.
 */
export function describeEvent(event: Pick<TicketEvent, 'kind' | 'data'>, nameOf: (id: string) => string | null = () => null): string {
	const d = (event.data ?? {}) as Data;
	const kind = event.kind.replace(/^ticket[._]/, '');
	const oldV = d.old ?? d.from;
	const newV = d.new ?? d.to;
	switch (kind) {
		case 'created': {
			const customer = refName(d.on_behalf_of);
			return customer ? `opened this ticket on behalf of ${customer}` : 'created this ticket';
		}
		case 'status':
		case 'status_changed':
			if (newV === 'closed' && typeof d.after_days === 'number')
				return `closed this ticket automatically after ${d.after_days} day${d.after_days === 1 ? '' : 's'} without a reply`;
			if (newV === 'closed') return 'closed this ticket';
			if (newV === 'open' && (oldV === 'resolved' || oldV === 'closed')) return 'reopened this ticket';
			return `changed the status from ${label(STATUS_LABEL, oldV)} to ${label(STATUS_LABEL, newV)}`;
		case 'resolved':
			return 'marked this ticket resolved';
		case 'closed':
			return 'closed this ticket';
		case 'reopened':
			return 'reopened this ticket';
		case 'priority':
		case 'priority_changed':
			return `changed the priority from ${label(PRIORITY_LABEL, oldV)} to ${label(PRIORITY_LABEL, newV)}`;
		case 'type':
		case 'type_changed':
			return `changed the type from ${label(TYPE_LABEL, oldV)} to ${label(TYPE_LABEL, newV)}`;
		case 'assigned':
		case 'assignment':
		case 'assignee_changed': {
			const to = d.assignee ?? newV;
			if (!to) return 'unassigned this ticket';
			const who = typeof to === 'string' ? (nameOf(to) ?? 'an agent') : refName(to);
			return `assigned this to ${who ?? 'an agent'}`;
		}
		case 'unassigned':
			return 'unassigned this ticket';
		case 'team_changed': {
			const team = refName(newV);
			return team ? `routed this to the ${team} team` : 'took this off its team';
		}
		case 'rule_applied': {
			const rule = refName(d.rule);
			return rule ? `applied the assignment rule “${rule}”` : 'applied an assignment rule';
		}
		case 'labels':
		case 'tags':
		case 'labels_changed':
		case 'tags_changed': {
			const before = new Set(Array.isArray(oldV) ? (oldV as string[]) : []);
			const after = new Set(Array.isArray(newV) ? (newV as string[]) : []);
			const added = Array.isArray(d.added) ? (d.added as string[]) : [...after].filter((t) => !before.has(t));
			const removed = Array.isArray(d.removed) ? (d.removed as string[]) : [...before].filter((t) => !after.has(t));
			const parts = [];
			if (added.length) parts.push(`added ${added.join(', ')}`);
			if (removed.length) parts.push(`removed ${removed.join(', ')}`);
			return parts.length ? `${parts.join(' and ')} label${added.length + removed.length > 1 ? 's' : ''}` : 'changed the labels';
		}
		case 'attachment':
		case 'attachment_added':
		case 'attached':
			return `attached ${typeof d.filename === 'string' ? d.filename : 'a file'}`;
		case 'github_linked':
		case 'github_link':
		case 'github':
			return d.issue_number ? `linked GitHub issue #${d.issue_number}` : 'linked a GitHub issue';
		case 'github_link_requested':
			return d.issue_number ? `linked GitHub issue #${d.issue_number}` : 'asked for a new GitHub issue';
		case 'github_issue_renamed':
			return `renamed the GitHub issue from “${String(oldV ?? '')}” to “${String(newV ?? '')}”`;
		case 'github_synced':
		case 'github_sync':
			return 'synced with GitHub';
		case 'title_changed':
			return `renamed this from “${String(oldV ?? '')}” to “${String(newV ?? '')}”`;
		case 'description_changed':
			return 'edited the description';
		case 'metadata_changed':
			return 'updated the ticket details';
		case 'custom_field_changed': {
			const label = typeof d.label === 'string' ? d.label : String(d.field ?? 'a field');
			const show = (v: unknown) => (Array.isArray(v) ? v.join(', ') : typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v));
			if (newV === null || newV === undefined) return `cleared ${label}`;
			if (oldV === null || oldV === undefined) return `set ${label} to “${show(newV)}”`;
			return `changed ${label} from “${show(oldV)}” to “${show(newV)}”`;
		}
		case 'attachment_deleted':
			return `removed ${typeof d.filename === 'string' ? d.filename : 'an attachment'}`;
		case 'merged':
			return d.role === 'main' ? `merged #${numberOf(d.duplicate)} into this ticket` : `merged this ticket into #${numberOf(d.main)}`;
		case 'unmerged':
			return d.role === 'main' ? `took #${numberOf(d.duplicate)} back out of this ticket` : `undid the merge into #${numberOf(d.main)}`;
		case 'rated':
			return d.previous ? `changed the rating from ${String(d.previous)} to ${String(d.rating)}` : `rated ${String(d.rating)}`;
		case 'escalated':
			return typeof d.after_hours === 'number'
				? `alerted admins: no reply from staff within ${d.after_hours} hour${d.after_hours === 1 ? '' : 's'}`
				: 'alerted admins: no reply from staff yet';
		case 'sla_breached': {
			const target = d.target === 'first_response' ? 'first response' : 'resolution';
			const due = typeof d.due_at === 'string' ? `, due ${new Date(d.due_at).toLocaleString()}` : '';
			return `missed the SLA ${target} target${typeof d.policy === 'string' ? ` of “${d.policy}”` : ''}${due}`;
		}
		case 'edited':
		case 'updated':
			return 'edited the ticket';
		default:
			return kind.replace(/[._]/g, ' ');
	}
}

/** Comment events duplicate the comments shown in the conversation, so the timeline skips them. */
export function isCommentEvent(event: Pick<TicketEvent, 'kind'>): boolean {
	return /comment/.test(event.kind);
}
