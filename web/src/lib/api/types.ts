/** Friendly names for the generated OpenAPI schemas (one place to adapt when names change). */
import type { components, operations } from './schema';

type S = components['schemas'];

export type Me = S['Me'];
export type Role = Me['role'];
export type User = S['User'];
export type UserRef = S['UserRef'];
export type Token = S['Token'];
export type NewToken = S['NewToken'];
export type TicketSummary = S['TicketSummary'];
export type TicketDetail = S['TicketDetail'];
export type TicketStatus = TicketDetail['status'];
export type TicketPriority = TicketDetail['priority'];
export type TicketType = TicketDetail['type'];
export type TicketCreate = S['TicketCreate'];
export type TicketUpdate = S['TicketUpdate'];
export type Comment = S['Comment'];
export type Attachment = S['Attachment'];
export type TicketEvent = S['Event'];
export type Label = S['Label'];
export type BulkRequest = S['BulkRequest'];
export type BulkAction = BulkRequest['action'];
export type BulkResult = S['BulkResult'];
export type Problem = S['Problem'];
export type GitHubLink = S['GitHubLink'];
export type GitHubLinkRequest = S['GitHubLinkRequest'];
export type InstanceConfig = S['InstanceConfig'];
export type Job = S['Job'];
export type Automation = S['Automation'];
export type InboundMail = S['InboundMail'];
export type NotificationSettings = S['NotificationSettings'];
export type KindChoice = S['KindChoice'];
export type NotificationKind = KindChoice['kind'];
export type FailedMail = S['FailedMail'];
export type TicketListQuery = NonNullable<operations['listTickets']['parameters']['query']>;
export type TicketSort = NonNullable<TicketListQuery['sort']>;
