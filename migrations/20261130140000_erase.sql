-- leadhook: erasing a person's data (data-subject requests and retention). Applies on top of
-- 20261130120000_capi.sql; every statement is idempotent and nothing stored is lost.
-- An erased lead keeps its id, leadgen_id, times and status (a tombstone, so the stats stay right)
-- and stays erased when Meta delivers it again or the sweeper finds it again.

-- Rep-side, like status and notes: not one of Meta's fields.
alter table public.leads add column if not exists erased_at timestamptz;
create index if not exists leads_not_erased_by_age on public.leads (created_at) where erased_at is null;

alter table public.activity drop constraint if exists activity_kind_check;
alter table public.activity add constraint activity_kind_check
  check (kind in ('stored', 'redelivered', 'status', 'notes', 'claim', 'release', 'assign', 'erase'));

-- Runs before the other BEFORE triggers (they fire in name order): an erased row keeps no
-- personal data whatever an upsert sends, and stays erased.
create or replace function public.leads_keep_erased()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.erased_at is not null then
    new.name := null;
    new.email := null;
    new.phone := null;
    new.fields := '{}'::jsonb;
    new.notes := null;
    new.erased_at := old.erased_at;
  end if;
  return new;
end
$$;

create or replace trigger leads_keep_erased
  before update on public.leads
  for each row execute function public.leads_keep_erased();

-- As in 20261130100000_work_queue.sql, plus: the erase itself is one `erase` row without values,
-- and erased_at is not one of Meta's fields.
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
    'changed_by', 'owner_change', 'erased_at'];
  changed_fields text;
begin
  who := coalesce(new.changed_by, 'system');
  if tg_op = 'INSERT' then
    insert into public.activity (lead_id, actor, kind) values (new.id, who, 'stored');
    if new.owner is not null then
      insert into public.activity (lead_id, actor, kind, new) values (new.id, who, 'assign', new.owner);
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

-- Erases one lead and the values of its activity rows in one transaction; the lead as it is now
-- (no row when no lead has that id). An erased lead is left as it is.
create or replace function public.erase_lead(target_lead bigint, actor text)
returns setof public.leads
language plpgsql
security invoker
set search_path = ''
as $$
begin
  update public.leads
     set name = null, email = null, phone = null, fields = '{}'::jsonb, notes = null,
         erased_at = pg_catalog.clock_timestamp(), changed_by = actor
   where id = target_lead and erased_at is null;
  if found then
    update public.activity set old = null, new = null where lead_id = target_lead and kind <> 'erase';
  end if;
  return query select * from public.leads as l where l.id = target_lead;
end
$$;

-- One row: when the daily retention run was last taken, so one replica a day takes it.
create table if not exists public.retention_run (
  id          smallint primary key default 1 constraint retention_run_one check (id = 1),
  last_run_at timestamptz
);
insert into public.retention_run (id, last_run_at) values (1, null) on conflict (id) do nothing;

-- Takes the run at run_at when none was taken in the day before; true for the one caller that did.
create or replace function public.take_retention_run(run_at timestamptz)
returns boolean
language sql
security invoker
set search_path = ''
as $$
  with taken as (
    update public.retention_run as r set last_run_at = run_at
     where r.id = 1 and (r.last_run_at is null or r.last_run_at <= run_at - interval '1 day')
    returning r.id)
  select exists (select 1 from taken)
$$;

alter table public.retention_run enable row level security;
revoke all on table public.retention_run from public, anon, authenticated;
revoke all on function public.leads_keep_erased() from public, anon, authenticated;
revoke all on function public.erase_lead(bigint, text) from public, anon, authenticated;
revoke all on function public.take_retention_run(timestamptz) from public, anon, authenticated;
grant select, insert, update, delete on table public.retention_run to service_role;
grant execute on function public.leads_keep_erased() to service_role;
grant execute on function public.erase_lead(bigint, text) to service_role;
grant execute on function public.take_retention_run(timestamptz) to service_role;

notify pgrst, 'reload schema';
