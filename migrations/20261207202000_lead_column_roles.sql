-- The leads' column roles in one place each. Until now every migration that added a column
-- to one of these lists wrote the whole trigger function again (`leads_record_activity` nine
-- times, `leads_stamp_updated_at` five); from here on a new column replaces only the list.
-- The lists and the triggers' behaviour are as in 20261207173000_insights_stages.sql and
-- 20261207160000_people.sql.

-- Every column that is not Meta's: a difference in the rest is a re-delivery that changed data
-- (`leads_record_activity` records it as `redelivered`).
create or replace function public.lead_not_meta_columns() returns text[]
language sql
immutable
set search_path = ''
as $$
  select array['id', 'leadgen_id', 'status', 'is_manual', 'received_at',
    'updated_at', 'notes', 'owner', 'owned_at', 'first_contact_at', 'escalated_level', 'escalated_at',
    'changed_by', 'owner_change', 'erased_at', 'route_to', 'next_step_at', 'next_step_what', 'attempts',
    'reminded_at', 'phone_e164', 'phone_invalid', 'email_key', 'junk_reason', 'junk_cleared_at',
    'repeat_of', 'repeat_via', 'triaged', 'link_window', 'stages']
$$;

-- Columns the server derives from others or from its own jobs: a change of only these is no
-- change of the lead (`leads_stamp_updated_at` keeps its `updated_at`, so no cursor moves).
create or replace function public.lead_derived_columns() returns text[]
language sql
immutable
set search_path = ''
as $$
  select array['changed_by', 'owner_change', 'escalated_level', 'escalated_at',
    'reminded_at', 'phone_e164', 'phone_invalid', 'email_key', 'junk_reason', 'triaged',
    'link_window']
$$;

create or replace function public.leads_record_activity()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  who text;
  not_meta constant text[] := public.lead_not_meta_columns();
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

create or replace function public.leads_stamp_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  derived constant text[] := public.lead_derived_columns();
begin
  if tg_op = 'UPDATE' then
    new.updated_at := old.updated_at;
    if (pg_catalog.to_jsonb(new) - derived) = (pg_catalog.to_jsonb(old) - derived) then
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

do $$
declare
  fn text;
begin
  foreach fn in array array['public.lead_not_meta_columns()', 'public.lead_derived_columns()']
  loop
    execute 'revoke all on function ' || fn || ' from public, anon, authenticated';
    execute 'grant execute on function ' || fn || ' to service_role';
  end loop;
end
$$;

notify pgrst, 'reload schema';
