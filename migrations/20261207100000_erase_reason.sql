-- leadhook: an erasure records its reason (the data-subject request's reference, as the admin
-- typed it) as the new value of the lead's `erase` activity row.
--
-- Applies on top of 20261130140000_erase.sql; every statement is idempotent. The two-argument
-- erase_lead stays, for servers of an older version still running beside newer ones: it erases
-- without a reason.

create or replace function public.erase_lead(target_lead bigint, actor text, reason text)
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
    -- The row leads_record_activity just inserted; a lead is erased once.
    update public.activity set new = reason where lead_id = target_lead and kind = 'erase';
  end if;
  return query select * from public.leads as l where l.id = target_lead;
end
$$;

create or replace function public.erase_lead(target_lead bigint, actor text)
returns setof public.leads
language sql
security invoker
set search_path = ''
as $$
  select * from public.erase_lead(target_lead, actor, null::text)
$$;

revoke all on function public.erase_lead(bigint, text, text) from public, anon, authenticated;
revoke all on function public.erase_lead(bigint, text) from public, anon, authenticated;
grant execute on function public.erase_lead(bigint, text, text) to service_role;
grant execute on function public.erase_lead(bigint, text) to service_role;

notify pgrst, 'reload schema';
