/** How triage words a ticket's SLA: time left, overdue, paused or met. */
import type { SlaState, TicketStatus } from '$lib/api/types';

export const SLA_STATES: SlaState[] = ['breached', 'at_risk', 'ok'];
export const SLA_STATE_LABEL: Record<SlaState, string> = { ok: 'On track', at_risk: 'At risk', breached: 'Breached' };

/** `1d 3h`, `2h 05m`, `12m`: a span of time, to the minute. */
export function span(ms: number): string {
	const minutes = Math.max(0, Math.floor(Math.abs(ms) / 60000));
	const days = Math.floor(minutes / 1440);
	const hours = Math.floor((minutes % 1440) / 60);
	const mins = minutes % 60;
	if (days) return `${days}d ${hours}h`;
	if (hours) return `${hours}h ${String(mins).padStart(2, '0')}m`;
	return `${mins}m`;
}

export interface SlaText {
	text: string;
	tone: SlaState | 'idle';
}

/** What the SLA cell says of a ticket at `now`; null when no policy applies. */
export function slaText(ticket: { sla_state?: SlaState | null; sla_due_at?: string | null; status: TicketStatus }, now = Date.now()): SlaText | null {
	const state = ticket.sla_state;
	if (!state) return null;
	if (ticket.sla_due_at) {
		const left = new Date(ticket.sla_due_at).getTime() - now;
		if (left <= 0) return { text: `Overdue ${span(left)}`, tone: 'breached' };
		return { text: `${span(left)} left`, tone: state };
	}
	if (ticket.status === 'waiting') return { text: 'Paused', tone: state === 'breached' ? 'breached' : 'idle' };
	return { text: state === 'breached' ? 'Breached' : 'Met', tone: state === 'breached' ? 'breached' : 'idle' };
}
