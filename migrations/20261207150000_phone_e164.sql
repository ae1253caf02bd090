-- leadhook: normalised phone numbers. Each lead's phone read with libphonenumber's rules: `phone_e164`
-- when it is a valid number, `phone_invalid` when there is a phone that is not one (kept as
-- typed, in `phone`). Both are derived values: filling them in (the servers' backfill of leads
-- stored before) neither moves `updated_at` nor writes history. Applies on top of
-- 20261207140000_reminders.sql; every statement is idempotent. Servers from before it keep
-- working: the new columns are nullable or have a default, and they ignore columns they do not
-- know.

alter table public.leads add column if not exists phone_e164 text;
alter table public.leads add column if not exists phone_invalid boolean not null default false;
create index if not exists leads_phone_e164 on public.leads (phone_e164) where phone_e164 is not null;

-- As in 20261207140000_reminders.sql, plus: the normalised phone is not a change dashboards need.
create or replace function public.leads_stamp_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' then
    new.updated_at := old.updated_at;
    if (pg_catalog.to_jsonb(new) - array['changed_by', 'owner_change', 'escalated_level', 'escalated_at', 'reminded_at', 'phone_e164', 'phone_invalid'])
       = (pg_catalog.to_jsonb(old) - array['changed_by', 'owner_change', 'escalated_level', 'escalated_at', 'reminded_at', 'phone_e164', 'phone_invalid']) then
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

-- As in 20261130140000_erase.sql, plus: erasing a person removes the normalised phone too, and
-- an erased row keeps none.
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
  if new.erased_at is not null then
    new.phone_e164 := null;
    new.phone_invalid := false;
  end if;
  return new;
end
$$;

-- As in 20261207140000_reminders.sql, plus: the normalised phone is derived, not Meta's field (a
-- re-delivery with another phone lists `phone`).
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
    'reminded_at', 'phone_e164', 'phone_invalid'];
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

-- The backfill's write: each lead's normalised phone, where the lead still has the phone that was
-- read and is not erased. Through the triggers above it changes nothing else.
create or replace function public.store_read_phones(phones jsonb)
returns void
language sql
set search_path = ''
as $$
  update public.leads as l
     set phone_e164 = p.phone_e164, phone_invalid = p.phone_invalid
    from pg_catalog.jsonb_to_recordset(phones) as p(id bigint, phone text, phone_e164 text, phone_invalid boolean)
   where l.id = p.id and l.phone = p.phone and l.erased_at is null;
$$;

revoke all on function public.leads_stamp_updated_at() from public, anon, authenticated;
revoke all on function public.leads_keep_erased() from public, anon, authenticated;
revoke all on function public.leads_record_activity() from public, anon, authenticated;
revoke all on function public.store_read_phones(jsonb) from public, anon, authenticated;
grant execute on function public.leads_stamp_updated_at() to service_role;
grant execute on function public.leads_keep_erased() to service_role;
grant execute on function public.leads_record_activity() to service_role;
grant execute on function public.store_read_phones(jsonb) to service_role;
