-- leadhook: reps and their tokens in the store, managed with `leadhook-server reps ...` and read
-- by every server every few seconds, so a new rep, a rotated token, a role change or a removal
-- reaches every replica without a restart. Applies on top of 20261201100000_route_on_insert.sql;
-- every statement is idempotent. It only adds a table and a function: a server of the previous
-- release keeps working against it (its reps stay in LEADHOOK_API_TOKENS).
--
-- Only the SHA-256 (hex) of a token is stored. previous_token_hash is the token before the last
-- rotation, accepted until previous_valid_until (the grace period). The `reps` table of the work
-- queue is another thing: availability and round-robin turns of every name that owned a lead.

create table if not exists public.rep_tokens (
  name                 text primary key,
  role                 text not null check (role in ('rep', 'manager', 'admin')),
  token_hash           text not null unique,
  previous_token_hash  text,
  previous_valid_until timestamptz,
  created_at           timestamptz not null default pg_catalog.now(),
  last_used_at         timestamptz
);

-- Removes a rep and returns their open leads to the unowned queue in one transaction, each
-- recorded as a release by `actor` (the activity trigger writes it; histories keep the rep's
-- name). The number of leads released, or null when no rep has that name.
create or replace function public.remove_rep(rep_name text, actor text)
returns bigint
language plpgsql
security invoker
set search_path = ''
as $$
declare
  released bigint;
begin
  delete from public.rep_tokens as r where r.name = rep_name;
  if not found then
    return null;
  end if;
  update public.leads as l
     set owner = null, changed_by = actor, owner_change = 'release'
   where l.owner = rep_name and l.erased_at is null
     and l.status not in ('Won', 'Lost', 'Unqualified');
  get diagnostics released = row_count;
  return released;
end
$$;

-- Only the server (service_role) may touch them, as with leads.
alter table public.rep_tokens enable row level security;

revoke all on table public.rep_tokens from public, anon, authenticated;
revoke all on function public.remove_rep(text, text) from public, anon, authenticated;

grant select, insert, update, delete on table public.rep_tokens to service_role;
grant execute on function public.remove_rep(text, text) to service_role;

notify pgrst, 'reload schema';
