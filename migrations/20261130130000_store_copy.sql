-- leadhook: `leadhook-server store copy` writes leads and their history as they were.
-- Applies on top of 20261130120000_capi.sql; every statement is idempotent.
--
-- A copy's requests carry the header `X-Leadhook-Copy: history` (PostgREST exposes request
-- headers to SQL). For those rows the triggers stand aside: updated_at, owned_at and
-- first_contact_at keep the copied values, no activity is invented for them, and the copied
-- activity queues no Conversions API stage (that history was reported, or predates CAPI).
-- Only service_role can write these tables, so the header gives nobody new powers.

create or replace function public.leadhook_copying()
returns boolean
language sql
stable
set search_path = ''
as $$
  select coalesce(
    pg_catalog.current_setting('request.headers', true)::json ->> 'x-leadhook-copy', '') = 'history'
$$;

create or replace trigger leads_stamp_updated_at
  before insert or update on public.leads
  for each row when (not public.leadhook_copying())
  execute function public.leads_stamp_updated_at();

create or replace trigger leads_track_queue
  before insert or update on public.leads
  for each row when (not public.leadhook_copying())
  execute function public.leads_track_queue();

create or replace trigger leads_record_activity
  after insert or update on public.leads
  for each row when (not public.leadhook_copying())
  execute function public.leads_record_activity();

create or replace trigger capi_queue_stage
  after insert on public.activity
  for each row when (not public.leadhook_copying())
  execute function public.capi_queue_stage();

-- Copied rows keep their ids; afterwards the id sequences must continue past them.
create or replace function public.leadhook_copy_finished()
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform pg_catalog.setval(pg_catalog.pg_get_serial_sequence('public.leads', 'id'),
    greatest(coalesce((select max(id) from public.leads), 0), 1));
  perform pg_catalog.setval(pg_catalog.pg_get_serial_sequence('public.activity', 'id'),
    greatest(coalesce((select max(id) from public.activity), 0), 1));
end
$$;

revoke all on function public.leadhook_copying() from public, anon, authenticated;
revoke all on function public.leadhook_copy_finished() from public, anon, authenticated;
grant execute on function public.leadhook_copying() to service_role;
grant execute on function public.leadhook_copy_finished() to service_role;

notify pgrst, 'reload schema';
