import type { Role, TicketPriority, TicketStatus, TicketType } from '$lib/api/types';

export const STATUSES: TicketStatus[] = ['open', 'in_progress', 'waiting', 'resolved', 'closed'];
export const OPEN_STATUSES: TicketStatus[] = ['open', 'in_progress', 'waiting'];
export const PRIORITIES: TicketPriority[] = ['low', 'medium', 'high', 'critical'];
export const TYPES: TicketType[] = ['bug', 'feature', 'support'];

export const STATUS_LABEL: Record<TicketStatus, string> = {
	open: 'Open',
	in_progress: 'In progress',
	waiting: 'Waiting',
	resolved: 'Resolved',
	closed: 'Closed'
};
export const PRIORITY_LABEL: Record<TicketPriority, string> = {
	low: 'Low',
	medium: 'Medium',
	high: 'High',
	critical: 'Critical'
};
export const TYPE_LABEL: Record<TicketType, string> = { bug: 'Bug', feature: 'Feature request', support: 'Support' };

export const STATUS_CLASS: Record<TicketStatus, string> = {
	open: 'bg-sky-100 text-sky-900 border-sky-300 dark:bg-sky-950 dark:text-sky-200 dark:border-sky-800',
	in_progress: 'bg-violet-100 text-violet-900 border-violet-300 dark:bg-violet-950 dark:text-violet-200 dark:border-violet-800',
	waiting: 'bg-amber-100 text-amber-900 border-amber-300 dark:bg-amber-950 dark:text-amber-200 dark:border-amber-800',
	resolved: 'bg-emerald-100 text-emerald-900 border-emerald-300 dark:bg-emerald-950 dark:text-emerald-200 dark:border-emerald-800',
	closed: 'bg-zinc-100 text-zinc-700 border-zinc-300 dark:bg-zinc-800 dark:text-zinc-300 dark:border-zinc-700'
};
export const PRIORITY_CLASS: Record<TicketPriority, string> = {
	low: 'text-zinc-600 dark:text-zinc-400',
	medium: 'text-sky-700 dark:text-sky-300',
	high: 'text-orange-700 dark:text-orange-300',
	critical: 'text-red-700 dark:text-red-300 font-semibold'
};

export function isStaff(role: Role | undefined | null): boolean {
	return role === 'agent' || role === 'admin';
}
