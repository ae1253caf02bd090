-- leadhook: exports in the activity history. Applies on top of 20261201100000_route_on_insert.sql;
-- every statement is idempotent. Servers from before it keep working: they never write the new
-- kind.

alter table public.activity drop constraint if exists activity_kind_check;
alter table public.activity add constraint activity_kind_check
  check (kind in ('stored', 'redelivered', 'status', 'notes', 'claim', 'release', 'assign', 'erase',
                  'exported'));

-- One `exported` row by `exported_by` for each of the leads `lead_ids` still stored, in one
-- statement (one request for a page of an export). The leads are not touched: their updated_at,
-- and so the change cursor, stay where they were.
create or replace function public.record_exports(lead_ids bigint[], exported_by text)
returns void
language sql
set search_path = ''
as $$
  insert into public.activity (lead_id, actor, kind)
    select l.id, exported_by, 'exported' from public.leads as l
     where l.id = any (lead_ids) order by l.id;
$$;

revoke all on function public.record_exports(bigint[], text) from public, anon, authenticated;
grant execute on function public.record_exports(bigint[], text) to service_role;

notify pgrst, 'reload schema';
