-- leadhook: paging reps' phones. A rep's own ntfy topic and quiet hours live with the rep
-- (public.reps, beside their availability and time zone); an escalation mark now writes an
-- 'escalated' history row in its own transaction, so the outbox queues 'lead.escalated' like
-- any other event; a delivery may be 'dropped' on purpose (a page for a lead that is no longer
-- the rep's) or held (a rep's quiet hours, outbox_hold); and the claim links used so far, so a
-- link from a phone claims once whichever replica answers it.
-- Applies on top of 20261207190000_change_notify.sql; every statement is idempotent. An older
-- replica keeps working: it reads the new history kind as an unknown one, never claims or counts
-- a dropped delivery, and leaves the new columns alone.

alter table public.reps add column if not exists ntfy_topic text;
alter table public.reps add column if not exists quiet_start smallint;
alter table public.reps add column if not exists quiet_end smallint;
alter table public.reps drop constraint if exists reps_quiet_hours_check;
alter table public.reps add constraint reps_quiet_hours_check
  check ((quiet_start is null) = (quiet_end is null)
         and quiet_start between 0 and 1439 and quiet_end between 0 and 1439);

alter table public.capi_events drop constraint if exists capi_events_state_check;
alter table public.capi_events add constraint capi_events_state_check
  check (state in ('queued', 'sent', 'failed', 'dropped'));

alter table public.activity drop constraint if exists activity_kind_check;
alter table public.activity add constraint activity_kind_check
  check (kind in ('stored', 'redelivered', 'status', 'notes', 'claim', 'release', 'assign', 'erase',
                  'exported', 'next_step', 'attempt', 'linked', 'submitted_again', 'unlinked',
                  'junk_cleared', 'escalated'));

-- 20261207180000_outbox.sql's function, with 'escalated' queuing 'lead.escalated'. The event type
-- of an activity kind is the server's EventType::activity_kinds; the SQLite store's trigger
-- (server/src/store/sqlite/outbox.rs) spells the same.
create or replace function public.outbox_queue()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  event text := case new.kind when 'stored' then 'lead.created'
                              when 'status' then 'lead.status_changed'
                              when 'claim' then 'lead.assigned'
                              when 'assign' then 'lead.assigned'
                              when 'escalated' then 'lead.escalated' end;
  capi_on boolean := false;
begin
  if event is null then
    return null;
  end if;
  if new.kind in ('stored', 'status') then
    -- The key-share lock of 20261130150000_capi_switch_race.sql: a switch in progress is waited for.
    capi_on := coalesce((select s.enabled from public.capi_switch as s where s.id = 1 for key share), false);
  end if;
  insert into public.capi_events (destination, event_type, activity_id, lead_id, leadgen_id, stage,
                                  at, lead_created_at, queued_at)
  select r.destination, event, new.id, l.id, l.leadgen_id,
         case when new.kind = 'status' then coalesce(new.new, l.status)
              when r.destination = 'capi' and l.junk_reason is not null
                   and l.junk_cleared_at is null then 'Junk'
              else l.status end,
         new.at, l.created_at, new.at
    from public.leads as l,
         (select 'capi'::text as destination where capi_on
          union all
          select o.destination from public.outbox_routes as o where o.event_type = event) as r
   where l.id = new.lead_id and (r.destination <> 'capi' or l.leadgen_id is not null);
  return null;
end
$$;

create or replace trigger outbox_queue
  after insert on public.activity
  for each row when (new.kind in ('stored', 'status', 'claim', 'assign', 'escalated')
                     and not public.leadhook_copying())
  execute function public.outbox_queue();

-- The escalation mark (a conditional PATCH of escalated_level, by any replica) writes its history
-- row in the same transaction.
create or replace function public.lead_escalated()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  insert into public.activity (lead_id, at, actor, kind, new)
  values (new.id, coalesce(new.escalated_at, pg_catalog.clock_timestamp()), 'system', 'escalated',
          new.escalated_level::text);
  return null;
end
$$;

create or replace trigger lead_escalated
  after update of escalated_level on public.leads
  for each row when (new.escalated_level > old.escalated_level and not public.leadhook_copying())
  execute function public.lead_escalated();

-- Holds a delivery until `until` (a rep's quiet hours): the claim's attempt is not counted and
-- its expiry counts from `until`.
create or replace function public.outbox_hold(delivery_id bigint, until timestamptz)
returns void
language sql
security invoker
set search_path = ''
as $$
  update public.capi_events as e
     set not_before = until, queued_at = until, attempts = greatest(e.attempts - 1, 0),
         reason = null
   where e.id = delivery_id and e.state = 'queued'
$$;

-- 20261207120000_rep_tokens.sql's remove_rep, now also forgetting the rep's ntfy topic and quiet
-- hours: their phone is no longer theirs to be paged on.
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
  update public.reps as r set ntfy_topic = null, quiet_start = null, quiet_end = null
   where r.name = rep_name;
  update public.leads as l
     set owner = null, changed_by = actor, owner_change = 'release'
   where l.owner = rep_name and l.erased_at is null
     and l.status not in ('Won', 'Lost', 'Unqualified');
  get diagnostics released = row_count;
  return released;
end
$$;

-- A claim link's nonce, once used (server/src/claim_link.rs): the insert that conflicts is the
-- second use.
create table if not exists public.claim_links (
  nonce   text primary key,
  lead_id bigint not null,
  rep     text not null,
  used_at timestamptz not null default pg_catalog.clock_timestamp()
);

alter table public.claim_links enable row level security;
revoke all on table public.claim_links from public, anon, authenticated;
grant select, insert, update, delete on table public.claim_links to service_role;

do $$
declare
  fn text;
begin
  foreach fn in array array[
    'public.outbox_queue()', 'public.lead_escalated()',
    'public.outbox_hold(bigint, timestamptz)', 'public.remove_rep(text, text)']
  loop
    execute 'revoke all on function ' || fn || ' from public, anon, authenticated';
    execute 'grant execute on function ' || fn || ' to service_role';
  end loop;
end
$$;

notify pgrst, 'reload schema';
