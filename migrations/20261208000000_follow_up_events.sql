-- leadhook: the outbox hears of follow-ups and people too. Which history rows queue which event is
-- now a table, public.outbox_event_kinds (an activity kind and the event type its rows queue), read
-- by the outbox's statement trigger: a later event type is a row here, not a new copy of the
-- trigger. The rows are the server's EventType::activity_kinds (a test holds them equal). New:
--   next_step       -> lead.next_step_changed   a rep set, moved or cleared the next step
--   attempt         -> lead.attempt_logged      a rep logged a call attempt
--   reminded        -> lead.follow_up_due       the next step fell due (new history kind)
--   submitted_again -> lead.submitted_again     the person filled in a form again
--   linked          -> lead.linked              the lead joined another lead's person
--   unlinked        -> lead.unlinked            a rep undid that
--   junk_cleared    -> lead.junk_cleared        a rep cleared the junk flag
-- A reminder mark (a conditional PATCH of reminded_at, by any replica) now writes a 'reminded'
-- history row in its transaction, as the escalation mark writes 'escalated'.
-- Applies on top of 20261207214000_history_per_statement.sql; every statement is idempotent. An
-- older replica keeps working: its marks get their history row from the trigger, it reads the
-- new kind as an unknown one, and a delivery of an event type it does not know is sent with the
-- type as text (its routes never name one).

create table if not exists public.outbox_event_kinds (
  kind       text primary key,
  event_type text not null
);

insert into public.outbox_event_kinds (kind, event_type) values
  ('stored', 'lead.created'),
  ('status', 'lead.status_changed'),
  ('claim', 'lead.assigned'),
  ('assign', 'lead.assigned'),
  ('escalated', 'lead.escalated'),
  ('next_step', 'lead.next_step_changed'),
  ('attempt', 'lead.attempt_logged'),
  ('reminded', 'lead.follow_up_due'),
  ('submitted_again', 'lead.submitted_again'),
  ('linked', 'lead.linked'),
  ('unlinked', 'lead.unlinked'),
  ('junk_cleared', 'lead.junk_cleared')
on conflict (kind) do update set event_type = excluded.event_type;

alter table public.activity drop constraint if exists activity_kind_check;
alter table public.activity add constraint activity_kind_check
  check (kind in ('stored', 'redelivered', 'status', 'notes', 'claim', 'release', 'assign', 'erase',
                  'exported', 'next_step', 'attempt', 'linked', 'submitted_again', 'unlinked',
                  'junk_cleared', 'escalated', 'reminded'));

-- 20261207214000_history_per_statement.sql's function, with each row's event type read from
-- public.outbox_event_kinds instead of spelled in a CASE. The Conversions API keeps its own rule:
-- the 'stored' and 'status' rows of leads from Meta.
create or replace function public.outbox_queue_inserted()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  capi_on boolean := false;
begin
  if exists (select 1 from inserted as a where a.kind in ('stored', 'status')) then
    -- The key-share lock of 20261130150000_capi_switch_race.sql: a switch in progress is waited for.
    capi_on := coalesce((select s.enabled from public.capi_switch as s where s.id = 1 for key share), false);
  end if;
  insert into public.capi_events (destination, event_type, activity_id, lead_id, leadgen_id, stage,
                                  at, lead_created_at, queued_at)
  select r.destination, a.event, a.id, l.id, l.leadgen_id,
         case when a.kind = 'status' then coalesce(a.new, l.status)
              when r.destination = 'capi' and l.junk_reason is not null
                   and l.junk_cleared_at is null then 'Junk'
              else l.status end,
         a.at, l.created_at, a.at
    from (select n.id, n.lead_id, n.kind, n.new, n.at, pg_catalog.row_number() over () as place,
                 k.event_type as event
            from inserted as n
            join public.outbox_event_kinds as k on k.kind = n.kind) as a
    join public.leads as l on l.id = a.lead_id
   cross join lateral (
         select 'capi'::text as destination, 0 as rank, null::tid as spot
          where capi_on and a.kind in ('stored', 'status')
         union all
         select o.destination, 1, o.ctid from public.outbox_routes as o where o.event_type = a.event
       ) as r
   where r.destination <> 'capi' or l.leadgen_id is not null
   order by a.place, r.rank, r.spot;
  return null;
end
$$;

-- The reminder mark writes its history row in the same transaction: the step that fell due.
create or replace function public.lead_reminded()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  insert into public.activity (lead_id, at, actor, kind, new)
  values (new.id, new.reminded_at, 'system', 'reminded',
          public.next_step_text(new.next_step_at, new.next_step_what));
  return null;
end
$$;

create or replace trigger lead_reminded
  after update of reminded_at on public.leads
  for each row when (new.reminded_at is not null and old.reminded_at is null
                     and not public.leadhook_copying())
  execute function public.lead_reminded();

alter table public.outbox_event_kinds enable row level security;
revoke all on table public.outbox_event_kinds from public, anon, authenticated;
grant select on table public.outbox_event_kinds to service_role;
revoke all on function public.outbox_queue_inserted() from public, anon, authenticated;
revoke all on function public.lead_reminded() from public, anon, authenticated;
