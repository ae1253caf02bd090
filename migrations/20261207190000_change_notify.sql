-- Push from the database (issue 30): every write to public.leads tells the servers listening on
-- the channel `leadhook_changes` the change cursor of its newest row, "<updated_at in
-- microseconds>.<id>" (shared/src/cursor.rs), in the writing transaction itself. PostgreSQL
-- delivers it when that transaction commits, so every writer notifies: any server version,
-- Studio, SQL, a CRM. A server that is not listening at that moment gets nothing (PostgreSQL
-- queues nothing for it); it reads from its own cursor when it listens again, so a missed
-- notification loses no change.
--
-- Once per statement, not per row: a batch of 500 leads is one notification. Stamps are handed
-- out under the stamp's advisory lock and transactions commit in stamp order
-- (20261129065055_create_leads.sql), so a server whose cursor is at or past a notified cursor has
-- already read that change and need not ask PostgREST again.
--
-- Only adds a function and two triggers: an older server keeps working beside it (its writes
-- notify too; it does not listen, and polls as before).

create or replace function public.leads_notify_change()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  newest text;
begin
  select (extract(epoch from c.updated_at) * 1000000)::bigint || '.' || c.id
    into newest
    from changed as c
   order by c.updated_at desc, c.id desc
   limit 1;
  if newest is not null then
    perform pg_catalog.pg_notify('leadhook_changes', newest);
  end if;
  return null;
end
$$;

-- PostgreSQL allows a transition table only on a trigger of one event: one trigger each.
create or replace trigger leads_notify_insert
  after insert on public.leads
  referencing new table as changed
  for each statement execute function public.leads_notify_change();

create or replace trigger leads_notify_update
  after update on public.leads
  referencing new table as changed
  for each statement execute function public.leads_notify_change();

revoke all on function public.leads_notify_change() from public, anon, authenticated;
grant execute on function public.leads_notify_change() to service_role;
