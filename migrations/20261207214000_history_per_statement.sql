-- Issue 26: a piece of leads writes its history in one statement, not one per row.
--
-- Until now every inserted lead fired `leads_record_activity` and `leads_record_link`, each running
-- its own INSERT into `activity` ('stored', 'assign', 'linked', 'submitted_again'), and every
-- activity row fired `outbox_queue`, which ran its own INSERT into `capi_events`. Each nested
-- statement builds a fresh executor; for a piece of 500 leads that is thousands of statements.
-- Here the insert half of both lead triggers is one statement trigger per INSERT into `leads`
-- (`leads_record_inserts`), and the outbox queue one statement trigger per INSERT into
-- `activity` (`outbox_queue_inserted`), both reading their statement's transition table.
--
-- They write the same rows as the row triggers did, ids included: each lead's rows together in
-- the order the row triggers wrote them (`stored`, `assign`, `linked`, `submitted_again`), the
-- leads in the order they were inserted; each activity row's outbox rows in activity order, the
-- Conversions API first, then the routes in the order a scan of `outbox_routes` gives them (its
-- physical order, `ctid`, which is what the row trigger's scan of the tiny table read). The
-- row-trigger functions are unchanged and keep the updates (an UPDATE fires them as before).
-- `leadhook-server store copy` writes the history itself: both statement triggers skip while
-- `public.leadhook_copying()` holds, as the row triggers' WHEN conditions did.
--
-- An older server's inserts go through these same triggers, so they get the same rows. One
-- difference, in ids only: an INSERT ... ON CONFLICT DO UPDATE that both inserts and updates
-- leads (the server's merge upsert updates leads that exist; it inserts only if one vanished in
-- between) used to interleave the two kinds' history by row; now the updated leads' rows come
-- first, then the inserted leads'. Each lead's own rows keep their order.

create or replace function public.leads_record_inserts()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  insert into public.activity (lead_id, actor, kind, new)
  select h.lead_id, h.actor, h.kind, h.new
    from (select n.id, n.changed_by, n.owner, n.owner_change, n.repeat_of, n.repeat_via,
                 n.form_name, pg_catalog.row_number() over () as place
            from inserted as n) as l
   cross join lateral (values
       (1, true, l.id, coalesce(l.changed_by, 'system'), 'stored', null::text),
       (2, l.owner is not null, l.id,
        case when l.owner_change = 'assign' then 'system'
             else coalesce(l.changed_by, 'system') end,
        'assign', l.owner),
       (3, l.repeat_of is not null and l.repeat_via in ('phone', 'email'), l.id, 'system', 'linked',
        '#' || l.repeat_of
          || case l.repeat_via when 'phone' then ' (same phone)' else ' (same e-mail)' end),
       (4, l.repeat_of is not null and l.repeat_via in ('phone', 'email'), l.repeat_of, 'system',
        'submitted_again', '#' || l.id || coalesce(' ' || l.form_name, ''))
     ) as h(step, wanted, lead_id, actor, kind, new)
   where h.wanted
   order by l.place, h.step;
  return null;
end
$$;

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
                 case n.kind when 'stored' then 'lead.created'
                             when 'status' then 'lead.status_changed'
                             when 'claim' then 'lead.assigned'
                             when 'assign' then 'lead.assigned'
                             when 'escalated' then 'lead.escalated' end as event
            from inserted as n) as a
    join public.leads as l on l.id = a.lead_id
   cross join lateral (
         select 'capi'::text as destination, 0 as rank, null::tid as spot
          where capi_on and a.kind in ('stored', 'status')
         union all
         select o.destination, 1, o.ctid from public.outbox_routes as o where o.event_type = a.event
       ) as r
   where a.event is not null and (r.destination <> 'capi' or l.leadgen_id is not null)
   order by a.place, r.rank, r.spot;
  return null;
end
$$;

revoke all on function public.leads_record_inserts() from public, anon, authenticated;
revoke all on function public.outbox_queue_inserted() from public, anon, authenticated;

-- Updates keep the row triggers; inserts move to the statement triggers.
create or replace trigger leads_record_activity
  after update on public.leads
  for each row when (not public.leadhook_copying())
  execute function public.leads_record_activity();

create or replace trigger leads_record_link
  after update of repeat_of on public.leads
  for each row when (new.repeat_of is not null and not public.leadhook_copying())
  execute function public.leads_record_link();

drop trigger if exists leads_record_inserts on public.leads;
create trigger leads_record_inserts
  after insert on public.leads
  referencing new table as inserted
  for each statement when (not public.leadhook_copying())
  execute function public.leads_record_inserts();

drop trigger if exists outbox_queue on public.activity;
-- Its row function has no trigger left (earlier files, applied again, define it again first).
drop function if exists public.outbox_queue();
drop trigger if exists outbox_queue_inserted on public.activity;
create trigger outbox_queue_inserted
  after insert on public.activity
  referencing new table as inserted
  for each statement when (not public.leadhook_copying())
  execute function public.outbox_queue_inserted();
