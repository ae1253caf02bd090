-- The outbox's routes per server, for rolling deploys (issue 27).
--
-- Each server used to replace every route with its channels file's at start (outbox_set_routes).
-- During a rolling deploy, a server started later with the older file (a restart, a crash, a
-- scale-up) took away the routes a server with the newer file had written: the events of the new
-- channels were no longer queued at all, until a newer server started again. Lost, not late.
--
-- Now a running server holds its routes for a while and renews them (outbox_hold_routes, every
-- 30 s, held 5 minutes); public.outbox_routes, which the outbox_queue trigger reads (unchanged),
-- is kept equal to the union of the routes held and not expired. A server started with another
-- file adds its routes and takes away no one else's: events are queued for every destination
-- some running server sends to. An older server still calls outbox_set_routes at its start: its
-- routes now replace only the older servers' (held under the holder '', never expiring), and a
-- newer server drops those when it starts.
--
-- Applies on top of 20261207202000_lead_column_roles.sql; every statement is idempotent.

create table if not exists public.outbox_route_holds (
  holder      text not null,
  destination text not null constraint outbox_route_holds_not_capi check (destination <> 'capi'),
  event_type  text not null,
  -- null: an older server's route, until a newer server starts.
  expires_at  timestamptz,
  primary key (holder, destination, event_type)
);

alter table public.outbox_route_holds enable row level security;
revoke all on table public.outbox_route_holds from public, anon, authenticated;
grant select, insert, update, delete on table public.outbox_route_holds to service_role;

-- The routes in force when this file first applies are an older server's.
insert into public.outbox_route_holds (holder, destination, event_type, expires_at)
select '', o.destination, o.event_type, null
  from public.outbox_routes as o
 where not exists (select 1 from public.outbox_route_holds)
on conflict do nothing;

-- public.outbox_routes as the union of the routes held and not expired; the caller holds the
-- transaction lock that orders every change of the holds.
create or replace function public.outbox_routes_refresh()
returns void
language sql
security invoker
set search_path = ''
as $$
  delete from public.outbox_route_holds where expires_at <= pg_catalog.now();
  -- Rewritten whole, in one order (the trigger queues in the table's order), in the caller's
  -- transaction: a write in between sees the routes before or after, never none.
  delete from public.outbox_routes where true;
  insert into public.outbox_routes (destination, event_type)
  select h.destination, h.event_type from public.outbox_route_holds as h
   group by h.destination, h.event_type
   order by h.destination, h.event_type
  on conflict do nothing;
$$;

-- A running server's routes, held for hold_seconds; drop_older (its start) also drops the routes
-- of the older servers.
create or replace function public.outbox_hold_routes(holder text, routes jsonb,
                                                     hold_seconds double precision,
                                                     drop_older boolean)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if holder is null or holder = '' then
    raise exception 'outbox_hold_routes needs a holder';
  end if;
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('leadhook.outbox_routes'));
  delete from public.outbox_route_holds as h
   where h.holder = outbox_hold_routes.holder or (drop_older and h.holder = '');
  insert into public.outbox_route_holds (holder, destination, event_type, expires_at)
  select outbox_hold_routes.holder, r ->> 'destination', r ->> 'event_type',
         pg_catalog.now() + pg_catalog.make_interval(secs => hold_seconds)
    from pg_catalog.jsonb_array_elements(routes) as r
  on conflict do nothing;
  perform public.outbox_routes_refresh();
end
$$;

-- An older server's call at its start (and this version's for a store it owns alone): replaces
-- the older servers' routes only.
create or replace function public.outbox_set_routes(routes jsonb)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('leadhook.outbox_routes'));
  delete from public.outbox_route_holds where holder = '';
  insert into public.outbox_route_holds (holder, destination, event_type, expires_at)
  select '', r ->> 'destination', r ->> 'event_type', null
    from pg_catalog.jsonb_array_elements(routes) as r
  on conflict do nothing;
  perform public.outbox_routes_refresh();
end
$$;

do $$
declare
  fn text;
begin
  foreach fn in array array[
    'public.outbox_routes_refresh()',
    'public.outbox_hold_routes(text, jsonb, double precision, boolean)',
    'public.outbox_set_routes(jsonb)']
  loop
    execute 'revoke all on function ' || fn || ' from public, anon, authenticated';
    execute 'grant execute on function ' || fn || ' to service_role';
  end loop;
end
$$;

notify pgrst, 'reload schema';
