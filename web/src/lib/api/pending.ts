/**
 * Endpoints the contract promises but the committed openapi.json does not describe yet
 * (GitHub link/create, admin job log). They go through the same openapi-fetch client
 * machinery (credentials, CSRF), typed by hand from the contract and the backend source.
 * Delete this file and use `api` once `npm run gen:api` brings these paths in.
 */
import createClient from 'openapi-fetch';
import { csrfMiddleware } from './client';
import type { components } from './schema';

type Problem = components['schemas']['Problem'];
type Json<T> = { content: { 'application/json': T } };
type ProblemResponse = { content: { 'application/problem+json': Problem } };

export interface GitHubLink {
	issue_number: number | null;
	issue_url: string | null;
	state: 'pending' | 'synced' | 'error';
	last_synced_at: string | null;
	last_error: string | null;
}

export interface Job {
	id: number;
	task_name: string;
	queue_name: string;
	args: Record<string, unknown>;
	status: string;
	attempts: number;
	error: string | null;
	failed_at: string | null;
}

export interface JobPage {
	items: Job[];
	next_cursor: string | null;
}

interface PendingPaths {
	'/api/v1/tickets/{id}/github': {
		post: {
			parameters: { path: { id: string } };
			requestBody: Json<{ issue_number?: number; create?: boolean }>;
			responses: { 202: Json<GitHubLink>; 200: Json<GitHubLink>; 404: ProblemResponse; 409: ProblemResponse; 422: ProblemResponse };
		};
	};
	'/api/v1/admin/jobs': {
		get: {
			parameters: { query?: { status?: 'failed'; cursor?: string | null; limit?: number } };
			responses: { 200: Json<JobPage>; 403: ProblemResponse };
		};
	};
	'/api/v1/admin/jobs/{job_id}/retry': {
		post: {
			parameters: { path: { job_id: number } };
			responses: { 200: Json<Job>; 404: ProblemResponse; 409: ProblemResponse };
		};
	};
}

const pending = createClient<PendingPaths>({
	baseUrl: typeof window === 'undefined' ? 'http://localhost' : window.location.origin,
	credentials: 'include'
});
pending.use(csrfMiddleware);

export function linkGithubIssue(ticketId: string, request: { issue_number?: number; create?: boolean }) {
	return pending.POST('/api/v1/tickets/{id}/github', { params: { path: { id: ticketId } }, body: request });
}

export function listFailedJobs(cursor: string | null = null, limit = 25) {
	return pending.GET('/api/v1/admin/jobs', { params: { query: { status: 'failed', cursor, limit } } });
}

export function retryJob(jobId: number) {
	return pending.POST('/api/v1/admin/jobs/{job_id}/retry', { params: { path: { job_id: jobId } } });
}
