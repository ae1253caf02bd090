-- leadhook: reminders. A follow-up's reminder is announced once when it falls due, whichever
-- replica notices: the mark `reminded_at` is taken by a conditional update on the step's time, and
-- cleared whenever the step changes. Reps keep their IANA time zone. Applies on top of
-- 20261207130000_follow_ups.sql; every statement is idempotent. Servers from before it keep
-- working: the new columns are nullable, they ignore columns they do not know, taking a mark does
-- not move `updated_at` nor write history, and `lead_queue_figures(week_start)` stays beside the
-- new `lead_queue_figures(week_start, at_time)`.

alter table public.leads add column if not exists reminded_at timestamptz;
create index if not exists leads_reminded on public.leads (reminded_at) where reminded_at is not null;
alter table public.reps add column if not exists time_zone text;

-- As in 20261130100000_work_queue.sql, plus: a reminder mark is not a change dashboards need.
create or replace function public.leads_stamp_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' then
    new.updated_at := old.updated_at;
    if (pg_catalog.to_jsonb(new) - array['changed_by', 'owner_change', 'escalated_level', 'escalated_at', 'reminded_at'])
       = (pg_catalog.to_jsonb(old) - array['changed_by', 'owner_change', 'escalated_level', 'escalated_at', 'reminded_at']) then
      return new;
    end if;
  end if;
  perform pg_catalog.pg_advisory_xact_lock(7419180301);
  new.updated_at := greatest(
    pg_catalog.clock_timestamp(),
    (select max(l.updated_at) from public.leads as l) + interval '1 microsecond'
  );
  return new;
end
$$;

-- As in 20261207130000_follow_ups.sql, plus: a changed step is a new follow-up, not yet reminded.
create or replace function public.leads_follow_up_rules()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.erased_at is not null
     or (new.status in ('Won', 'Lost', 'Unqualified') and new.status is distinct from old.status) then
    new.next_step_at := null;
    new.next_step_what := null;
  end if;
  if new.next_step_at is distinct from old.next_step_at
     or new.next_step_what is distinct from old.next_step_what then
    new.reminded_at := null;
  end if;
  return new;
end
$$;

-- As in 20261207130000_follow_ups.sql, plus: the reminder mark is not Meta's field.
create or replace function public.leads_record_activity()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  who text;
  -- Everything that is not Meta's: a difference in the rest is a re-delivery that changed data.
  not_meta constant text[] := array['id', 'leadgen_id', 'status', 'is_manual', 'received_at',
    'updated_at', 'notes', 'owner', 'owned_at', 'first_contact_at', 'escalated_level', 'escalated_at',
    'changed_by', 'owner_change', 'erased_at', 'route_to', 'next_step_at', 'next_step_what', 'attempts',
    'reminded_at'];
  changed_fields text;
begin
  who := coalesce(new.changed_by, 'system');
  if tg_op = 'INSERT' then
    insert into public.activity (lead_id, actor, kind) values (new.id, who, 'stored');
    if new.owner is not null then
      insert into public.activity (lead_id, actor, kind, new)
        values (new.id, case when new.owner_change = 'assign' then 'system' else who end, 'assign', new.owner);
    end if;
    return null;
  end if;
  if new.erased_at is not null and old.erased_at is null then
    insert into public.activity (lead_id, actor, kind) values (new.id, who, 'erase');
    return null;
  end if;
  select pg_catalog.string_agg(n.key, ', ' order by n.key) into changed_fields
    from pg_catalog.jsonb_each(pg_catalog.to_jsonb(new) - not_meta) as n
   where n.value is distinct from (pg_catalog.to_jsonb(old) -> n.key);
  if changed_fields is not null then
    insert into public.activity (lead_id, actor, kind, new) values (new.id, who, 'redelivered', changed_fields);
  end if;
  if new.status is distinct from old.status then
    insert into public.activity (lead_id, actor, kind, old, new) values (new.id, who, 'status', old.status, new.status);
  end if;
  if new.next_step_at is distinct from old.next_step_at or new.next_step_what is distinct from old.next_step_what then
    insert into public.activity (lead_id, actor, kind, old, new)
      values (new.id, who, 'next_step', public.next_step_text(old.next_step_at, old.next_step_what),
              public.next_step_text(new.next_step_at, new.next_step_what));
  end if;
  if new.notes is distinct from old.notes then
    insert into public.activity (lead_id, actor, kind, old, new) values (new.id, who, 'notes', old.notes, new.notes);
  end if;
  if new.owner is distinct from old.owner then
    insert into public.activity (lead_id, actor, kind, old, new)
      values (new.id, who, coalesce(new.owner_change, 'assign'), old.owner, new.owner);
  end if;
  return null;
end
$$;

-- As in 20261130100000_work_queue.sql, plus: each owner's overdue next steps, and the call
-- attempts over every lead (`follow_ups`), as of `at_time`.
create or replace function public.lead_queue_figures(week_start timestamptz, at_time timestamptz)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object(
    'waiting', (select pg_catalog.jsonb_build_object('count', count(*), 'oldest_created_at', min(l.created_at))
                  from public.leads as l where l.status = 'New Lead'),
    'contacts', coalesce(
      (select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                'owner', l.owner,
                'first_contact_at', l.first_contact_at,
                'speed_secs', greatest(0, floor(extract(epoch from l.first_contact_at - l.created_at)))::bigint))
         from public.leads as l where l.first_contact_at >= week_start),
      '[]'::jsonb),
    'by_owner', coalesce(
      (select pg_catalog.jsonb_object_agg(o.owner, pg_catalog.jsonb_build_object(
                'owned', o.owned, 'open', o.open, 'contacted', o.contacted, 'won', o.won,
                'overdue', o.overdue))
         from (select l.owner, count(*) as owned,
                      count(*) filter (where l.status not in ('Won', 'Lost', 'Unqualified')) as open,
                      count(l.first_contact_at) as contacted,
                      count(*) filter (where l.status = 'Won') as won,
                      count(*) filter (where l.next_step_at <= at_time) as overdue
                 from public.leads as l where l.owner is not null group by l.owner) as o),
      '{}'::jsonb),
    'follow_ups', (
      select pg_catalog.jsonb_build_object(
               'attempts', count(*),
               'leads_attempted', count(distinct a.lead_id),
               'leads_talked', count(distinct a.lead_id)
                                 filter (where a.new = 'talked' or a.new like 'talked:%'),
               'overdue', (select count(*) from public.leads as l where l.next_step_at <= at_time))
        from public.activity as a where a.kind = 'attempt')
  )
$$;

revoke all on function public.leads_follow_up_rules() from public, anon, authenticated;
revoke all on function public.leads_record_activity() from public, anon, authenticated;
revoke all on function public.lead_queue_figures(timestamptz, timestamptz) from public, anon, authenticated;
grant execute on function public.leads_follow_up_rules() to service_role;
grant execute on function public.leads_record_activity() to service_role;
grant execute on function public.lead_queue_figures(timestamptz, timestamptz) to service_role;

notify pgrst, 'reload schema';
