-- leadhook: a new lead gets its owner in the statement that inserts it, so no reader ever sees it
-- unowned and no crash can leave it unrouted. Applies on top of 20261130150000_capi_switch_race.sql;
-- every statement is idempotent.
--
-- The server sends what routing needs with each new row: `route_to`, the reps who take turns
-- (round-robin mode; absent otherwise). The BEFORE trigger `leads_route` decides the owner through
-- route_new_lead, the one place a new lead's routing is decided, and clears route_to, which is
-- never stored. A server of the previous release sends no route_to and still calls
-- assign_next_rep after its insert: that keeps working, and leaves a lead that is owned alone.

alter table public.leads add column if not exists route_to text[];

-- Round robin: the available rep of rep_names assigned least recently (never assigned first, then
-- in the order given), whose turn is taken; null when everyone is away. Serialised by a
-- transaction-scoped lock, so concurrent inserts and replicas take turns one at a time; turns are
-- strictly increasing, so two leads of one statement never share one.
create or replace function public.route_new_lead(rep_names text[])
returns text
language plpgsql
security invoker
set search_path = ''
as $$
declare
  chosen text;
begin
  -- Lock key: an arbitrary constant that names "leadhook round-robin turn".
  perform pg_catalog.pg_advisory_xact_lock(7419180302);
  insert into public.reps (name) select w.name from pg_catalog.unnest(rep_names) as w(name)
    on conflict (name) do nothing;
  select r.name into chosen
    from public.reps as r
    join pg_catalog.unnest(rep_names) with ordinality as w(name, position) on w.name = r.name
   where r.available
   order by r.last_assigned_at asc nulls first, w.position
   limit 1;
  if chosen is not null then
    update public.reps as r
       set last_assigned_at = greatest(
             pg_catalog.clock_timestamp(),
             (select max(t.last_assigned_at) from public.reps as t) + interval '1 microsecond')
     where r.name = chosen;
  end if;
  return chosen;
end
$$;

-- Routes a row being inserted with route_to. Under the routing lock a lead that another
-- transaction stored meanwhile is visible (each statement of a volatile function reads afresh), so
-- a re-delivery, whose insert meets a conflict and is skipped or merged, takes no turn.
create or replace function public.leads_route()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' and new.owner is null then
    perform pg_catalog.pg_advisory_xact_lock(7419180302);
    if new.leadgen_id is null
       or not exists (select 1 from public.leads as l where l.leadgen_id = new.leadgen_id) then
      new.owner := public.route_new_lead(new.route_to);
      if new.owner is not null then
        new.owner_change := 'assign';
      end if;
    end if;
  end if;
  new.route_to := null;
  return new;
end
$$;

-- BEFORE triggers fire in name order: leads_route sets the owner before leads_track_queue stamps
-- owned_at, and clears route_to before leads_stamp_updated_at compares rows.
create or replace trigger leads_route
  before insert or update on public.leads
  for each row when (new.route_to is not null)
  execute function public.leads_route();

-- As in 20261130100000_work_queue.sql, but the turn is route_new_lead's.
create or replace function public.assign_next_rep(target_lead bigint, rep_names text[])
returns text
language plpgsql
security invoker
set search_path = ''
as $$
declare
  chosen text;
begin
  perform pg_catalog.pg_advisory_xact_lock(7419180302);
  if not exists (select 1 from public.leads as l where l.id = target_lead and l.owner is null) then
    return null;
  end if;
  chosen := public.route_new_lead(rep_names);
  if chosen is null then
    return null;
  end if;
  update public.leads as l set owner = chosen, changed_by = 'system', owner_change = 'assign'
   where l.id = target_lead;
  return chosen;
end
$$;

-- As in 20261130140000_erase.sql, plus: an owner set as the row was inserted by leads_route is the
-- system's assignment (as assign_next_rep records it), and route_to is not one of Meta's fields.
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
    'changed_by', 'owner_change', 'erased_at', 'route_to'];
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

revoke all on function public.route_new_lead(text[]) from public, anon, authenticated;
revoke all on function public.leads_route() from public, anon, authenticated;
grant execute on function public.route_new_lead(text[]) to service_role;
grant execute on function public.leads_route() to service_role;

notify pgrst, 'reload schema';
