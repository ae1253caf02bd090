-- leadhook: what several servers on one Supabase project coordinate through.
--
-- leases: which server runs a scheduled job (the backfill sweep) now. Taken, renewed and released
-- with conditional updates through PostgREST; a lease without a holder is free, and its
-- expires_at then says when the job is next due.
-- sweep_positions: per lead form, the newest created_time (unix seconds) a complete sweep has
-- seen, so whichever server sweeps next continues where the last one stopped.
-- Idempotent, like every migration here.

create table if not exists public.leases (
  name       text primary key,
  holder     text,
  expires_at timestamptz not null
);

create table if not exists public.sweep_positions (
  form_id           text primary key,
  newest_created_at bigint not null
);

-- Only the server (service_role) may touch them, as with leads.
alter table public.leases enable row level security;
alter table public.sweep_positions enable row level security;

revoke all on table public.leases from public, anon, authenticated;
revoke all on table public.sweep_positions from public, anon, authenticated;

grant select, insert, update, delete on table public.leases to service_role;
grant select, insert, update, delete on table public.sweep_positions to service_role;

notify pgrst, 'reload schema';
