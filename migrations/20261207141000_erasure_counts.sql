-- leadhook: the API's erasure limit (10 per admin an hour) counts an admin's `erase` history rows,
-- so every replica and restart counts the same erasures. This index keeps that count cheap.
-- Applies on top of 20261207140000_reminders.sql; idempotent; older servers are unaffected.

create index if not exists activity_erasures on public.activity (actor, at) where kind = 'erase';
