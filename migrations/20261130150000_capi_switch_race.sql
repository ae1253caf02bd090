-- leadhook: a lead stored while a server switches the Conversions API on lost its New Lead stage.
-- The trigger read capi_switch without a lock: it could read "off" while capi_set_switch was
-- turning it on, and the switch's backfill could not see the lead's uncommitted activity either.
-- The trigger now holds a key-share lock on the switch row, which capi_set_switch's
-- `for update` waits for (and the trigger waits for a switch in progress, then reads it "on").
-- Applies on top of 20261130140000_erase.sql; every statement is idempotent.

create or replace function public.capi_queue_stage()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.kind in ('stored', 'status')
     and coalesce((select s.enabled from public.capi_switch as s where s.id = 1 for key share), false) then
    insert into public.capi_events (activity_id, lead_id, leadgen_id, stage, at, lead_created_at)
    select new.id, l.id, l.leadgen_id,
           case when new.kind = 'status' then new.new else l.status end, new.at, l.created_at
      from public.leads as l where l.id = new.lead_id and l.leadgen_id is not null;
  end if;
  return null;
end
$$;

revoke all on function public.capi_queue_stage() from public, anon, authenticated;
grant execute on function public.capi_queue_stage() to service_role;

notify pgrst, 'reload schema';
