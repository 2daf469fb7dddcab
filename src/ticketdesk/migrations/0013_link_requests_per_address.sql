-- Requests for mailed links are counted per client by the rate limiter now (in Redis, or
-- in each process); the table counts them per address only.
drop index link_requests_ip_idx;
