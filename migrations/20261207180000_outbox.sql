-- leadhook: the outbox. The Conversions API's queue, public.capi_events, becomes the queue of
-- everything that leaves the server: one row (a delivery) per event and destination, queued by a
-- trigger on public.activity in the transaction that records the event, whichever server or
-- path made the change. The Conversions API is the destination 'capi' (still switched by
-- capi_switch); every other destination takes the event types public.outbox_routes names, which
-- the servers write from their channels file (outbox_set_routes).
--
-- The table keeps its name: the earlier files must still apply again (they are idempotent, and
-- capi_claim returns its row type), and an older replica's Conversions API sender keeps calling
-- capi_set_switch, capi_claim, capi_settle and capi_figures, which now touch only 'capi'.
-- Applies on top of 20261207170000_insights.sql; every statement is idempotent.

alter table public.capi_events add column if not exists destination text not null default 'capi';
alter table public.capi_events add column if not exists event_type text;
update public.capi_events as e
   set event_type = case when a.kind = 'status' then 'lead.status_changed' else 'lead.created' end
  from public.activity as a
 where a.id = e.activity_id and e.event_type is null;
alter table public.capi_events alter column event_type set not null;
alter table public.capi_events add column if not exists queued_at timestamptz;
update public.capi_events set queued_at = at where queued_at is null;
alter table public.capi_events alter column queued_at set not null;
alter table public.capi_events alter column leadgen_id drop not null;
alter table public.capi_events drop constraint if exists capi_events_activity_id_key;
create unique index if not exists outbox_once on public.capi_events (activity_id, destination);
drop index if exists public.capi_events_due;
drop index if exists public.capi_events_done;
create index if not exists outbox_due on public.capi_events (destination, state, not_before, id);
create index if not exists outbox_done on public.capi_events (destination, state, done_at);

create table if not exists public.outbox_routes (
  destination text not null constraint outbox_routes_not_capi check (destination <> 'capi'),
  event_type  text not null,
  primary key (destination, event_type)
);

-- The event type of an activity kind is the server's EventType::activity_kinds; the SQLite
-- store's trigger (server/src/store/sqlite/outbox.rs) spells the same.
create or replace function public.outbox_queue()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  event text := case new.kind when 'stored' then 'lead.created'
                              when 'status' then 'lead.status_changed'
                              when 'claim' then 'lead.assigned'
                              when 'assign' then 'lead.assigned' end;
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

drop trigger if exists capi_queue_stage on public.activity;
-- A copy's history (`leadhook-server store copy`) happened elsewhere: it queues nothing, as the
-- CAPI trigger it replaces (20261130130000_store_copy.sql).
create or replace trigger outbox_queue
  after insert on public.activity
  for each row when (new.kind in ('stored', 'status', 'claim', 'assign')
                     and not public.leadhook_copying())
  execute function public.outbox_queue();

-- Replaces every route (the 'capi' destination has none: its switch says).
create or replace function public.outbox_set_routes(routes jsonb)
returns void
language sql
security invoker
set search_path = ''
as $$
  delete from public.outbox_routes where true;
  insert into public.outbox_routes (destination, event_type)
  select r ->> 'destination', r ->> 'event_type' from pg_catalog.jsonb_array_elements(routes) as r
  on conflict do nothing;
$$;

create or replace function public.capi_set_switch(turn_on boolean, backfill_since timestamptz)
returns bigint
language plpgsql
security invoker
set search_path = ''
as $$
declare
  was boolean;
  added bigint := 0;
begin
  select s.enabled into was from public.capi_switch as s where s.id = 1 for update;
  update public.capi_switch set enabled = turn_on where id = 1;
  if turn_on and not coalesce(was, false) then
    insert into public.capi_events (destination, event_type, activity_id, lead_id, leadgen_id,
                                    stage, at, lead_created_at, queued_at)
    select 'capi', case when a.kind = 'status' then 'lead.status_changed' else 'lead.created' end,
           a.id, l.id, l.leadgen_id,
           case when a.kind = 'status' then a.new else 'New Lead' end, a.at, l.created_at,
           pg_catalog.clock_timestamp()
      from public.activity as a join public.leads as l on l.id = a.lead_id
     where a.kind in ('stored', 'status') and a.at >= backfill_since and l.leadgen_id is not null
     order by a.id
    on conflict (activity_id, destination) do nothing;
    get diagnostics added = row_count;
  end if;
  return added;
end
$$;

-- Leases up to claim_limit due deliveries of dest, oldest first; concurrent dispatchers skip
-- each other's rows.
create or replace function public.outbox_claim(dest text, claim_limit integer, lease_seconds double precision)
returns setof public.capi_events
language sql
security invoker
set search_path = ''
as $$
  update public.capi_events as e
     set not_before = pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => lease_seconds),
         attempts = e.attempts + 1
   where e.id in (select d.id from public.capi_events as d
                   where d.destination = dest and d.state = 'queued'
                     and d.not_before <= pg_catalog.clock_timestamp()
                   order by d.id limit claim_limit for update skip locked)
  returning e.*
$$;

-- An older replica's sender: the Conversions API's deliveries only.
create or replace function public.capi_claim(claim_limit integer, lease_seconds double precision)
returns setof public.capi_events
language sql
security invoker
set search_path = ''
as $$
  select * from public.outbox_claim('capi', claim_limit, lease_seconds)
$$;

-- capi_settle (20261130120000_capi.sql) settles deliveries by id, whatever their destination.

create or replace function public.outbox_figures(today_start timestamptz, failure_limit integer)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select coalesce(pg_catalog.jsonb_object_agg(d.destination, pg_catalog.jsonb_build_object(
    'queued', d.queued,
    'retrying', d.retrying,
    'retry_reason', (select r.reason from public.capi_events as r
                      where r.destination = d.destination and r.state = 'queued'
                        and r.reason is not null
                      order by r.not_before desc limit 1),
    'sent_today', d.sent_today,
    'failed', d.failed,
    'last_success_at', d.last_success_at,
    'recent_failures', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
        'delivery_id', f.id, 'lead_id', f.lead_id, 'activity_id', f.activity_id,
        'stage', f.stage, 'reason', coalesce(f.reason, ''), 'failed_at', f.done_at))
      from (select * from public.capi_events as x
             where x.destination = d.destination and x.state = 'failed'
             order by x.done_at desc, x.id desc limit failure_limit) as f), '[]'::jsonb))),
    '{}'::jsonb)
  from (select e.destination,
               count(*) filter (where e.state = 'queued') as queued,
               count(*) filter (where e.state = 'queued' and e.reason is not null) as retrying,
               count(*) filter (where e.state = 'sent' and e.done_at >= today_start) as sent_today,
               count(*) filter (where e.state = 'failed') as failed,
               max(e.done_at) filter (where e.state = 'sent') as last_success_at
          from public.capi_events as e group by e.destination) as d
$$;

-- An older replica's health report: the Conversions API's figures only.
create or replace function public.capi_figures(today_start timestamptz, failure_limit integer)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select coalesce(public.outbox_figures(today_start, failure_limit) -> 'capi',
                  pg_catalog.jsonb_build_object('queued', 0, 'retrying', 0, 'retry_reason', null,
                    'sent_today', 0, 'failed', 0, 'last_success_at', null,
                    'recent_failures', '[]'::jsonb))
$$;

alter table public.outbox_routes enable row level security;
revoke all on table public.outbox_routes from public, anon, authenticated;
grant select, insert, update, delete on table public.outbox_routes to service_role;

do $$
declare
  fn text;
begin
  foreach fn in array array[
    'public.outbox_queue()', 'public.outbox_set_routes(jsonb)',
    'public.capi_set_switch(boolean, timestamptz)',
    'public.outbox_claim(text, integer, double precision)',
    'public.capi_claim(integer, double precision)',
    'public.outbox_figures(timestamptz, integer)', 'public.capi_figures(timestamptz, integer)']
  loop
    execute 'revoke all on function ' || fn || ' from public, anon, authenticated';
    execute 'grant execute on function ' || fn || ' to service_role';
  end loop;
end
$$;

notify pgrst, 'reload schema';
