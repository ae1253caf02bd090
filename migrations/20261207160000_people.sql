-- leadhook: one person, one lead. A new lead whose phone (E.164) or e-mail key matches a lead of
-- the duplicate window is linked to that lead's person (`repeat_of`, never chained) and takes the
-- person's owner instead of a round-robin turn; junk (`junk_reason`, until a rep sets
-- `junk_cleared_at`) is stored but never linked or routed. Decided inside the insert (trigger
-- `leads_link`) under the routing lock, so two submissions of one person arriving at once on two
-- replicas are still linked. Applies on top of 20261207150000_phone_e164.sql; every statement is
-- idempotent.
--
-- Servers from before it keep working: the new columns are nullable or have a default, they
-- ignore columns they do not know, and their inserts are linked too (by phone; their rows have no
-- e-mail key until a newer server's triage backfill reads them: `triaged` stays false for rows
-- they write, and true for rows newer servers write).

alter table public.leads add column if not exists email_key text;
alter table public.leads add column if not exists junk_reason text;
alter table public.leads add column if not exists junk_cleared_at timestamptz;
alter table public.leads add column if not exists repeat_of bigint;
alter table public.leads add column if not exists repeat_via text;
alter table public.leads add column if not exists triaged boolean not null default false;
-- Sent with each new row by the server (seconds; 0 never links), never stored: see leads_link.
alter table public.leads add column if not exists link_window bigint;
-- A person's earlier leads by key and time: one index step however many leads share a key.
drop index if exists public.leads_phone_e164;
create index if not exists leads_person_phone on public.leads (phone_e164, created_at, id)
  where phone_e164 is not null;
create index if not exists leads_person_email on public.leads (email_key, created_at, id)
  where email_key is not null;
create index if not exists leads_repeat_of on public.leads (repeat_of, created_at, id)
  where repeat_of is not null;
create index if not exists leads_untriaged on public.leads (id) where not triaged;

alter table public.activity drop constraint if exists activity_kind_check;
alter table public.activity add constraint activity_kind_check
  check (kind in ('stored', 'redelivered', 'status', 'notes', 'claim', 'release', 'assign', 'erase',
                  'exported', 'next_step', 'attempt', 'linked', 'submitted_again', 'unlinked',
                  'junk_cleared'));

-- The person a lead (`lead_id`, with these keys, `submitted` then) is a repeat of: the newest other
-- lead within `span` before or after it, not erased, not junk and not one of its own
-- repeats, with the same phone, else the same e-mail key. Call it under the routing lock.
create or replace function public.person_match(lead_id bigint, e164 text, mail text,
                                               submitted timestamptz, span interval)
returns table (person bigint, matched bigint, via text)
language plpgsql
set search_path = ''
as $$
begin
  if e164 is not null then
    return query
      select coalesce(l.repeat_of, l.id), l.id, 'phone'::text from public.leads as l
       where l.phone_e164 = e164 and l.id <> lead_id and l.erased_at is null
         and (l.junk_reason is null or l.junk_cleared_at is not null)
         and l.created_at between submitted - span and submitted + span
         and l.repeat_of is distinct from lead_id
       order by l.created_at desc, l.id desc limit 1;
    if found then
      return;
    end if;
  end if;
  if mail is not null then
    return query
      select coalesce(l.repeat_of, l.id), l.id, 'email'::text from public.leads as l
       where l.email_key = mail and l.id <> lead_id and l.erased_at is null
         and (l.junk_reason is null or l.junk_cleared_at is not null)
         and l.created_at between submitted - span and submitted + span
         and l.repeat_of is distinct from lead_id
       order by l.created_at desc, l.id desc limit 1;
  end if;
end
$$;

-- Who works the person: the owner of the lead that matched, else of the person's first lead.
create or replace function public.person_owner(matched bigint, person bigint)
returns text
language sql
set search_path = ''
as $$
  select l.owner from public.leads as l
   where l.id in (matched, person) and l.owner is not null and l.erased_at is null
   order by l.id = matched desc limit 1
$$;

-- Links a row being inserted to its person, before leads_route (triggers fire in name order), so
-- a repeat keeps its person's owner and takes no turn. A re-delivery (its insert meets a conflict
-- and is skipped or merged) is left alone, and so is a copied row (store copy keeps links as
-- they were).
create or replace function public.leads_link()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  span interval := coalesce(new.link_window, 30 * 86400) * interval '1 second';
  found record;
begin
  new.link_window := null;
  if new.repeat_of is not null or new.erased_at is not null or span <= interval '0'
     or (new.junk_reason is not null and new.junk_cleared_at is null)
     or (new.phone_e164 is null and new.email_key is null) then
    return new;
  end if;
  -- The routing lock: one new lead is placed at a time, and the match below reads afresh.
  perform pg_catalog.pg_advisory_xact_lock(7419180302);
  if new.leadgen_id is not null
     and exists (select 1 from public.leads as l where l.leadgen_id = new.leadgen_id) then
    return new;
  end if;
  select m.person, m.matched, m.via into found
    from public.person_match(new.id, new.phone_e164, new.email_key, new.created_at, span) as m;
  if found.person is not null then
    new.repeat_of := found.person;
    new.repeat_via := found.via;
    if new.owner is null then
      new.owner := public.person_owner(found.matched, found.person);
      if new.owner is not null then
        new.owner_change := 'assign';
      end if;
    end if;
  end if;
  return new;
end
$$;

create or replace trigger leads_link
  before insert on public.leads
  for each row when (not public.leadhook_copying())
  execute function public.leads_link();

-- An automatic link in both histories: `linked` on the new lead, `submitted_again` on the
-- person's first lead. (A rep's merge records its own.)
create or replace function public.leads_record_link()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.repeat_via in ('phone', 'email') and (tg_op = 'INSERT' or old.repeat_of is null) then
    insert into public.activity (lead_id, actor, kind, new) values
      (new.id, 'system', 'linked', '#' || new.repeat_of
         || case new.repeat_via when 'phone' then ' (same phone)' else ' (same e-mail)' end),
      (new.repeat_of, 'system', 'submitted_again', '#' || new.id || coalesce(' ' || new.form_name, ''));
  end if;
  return null;
end
$$;

create or replace trigger leads_record_link
  after insert or update of repeat_of on public.leads
  for each row when (new.repeat_of is not null and not public.leadhook_copying())
  execute function public.leads_record_link();

-- As in 20261201100000_route_on_insert.sql, plus: junk is not routed.
create or replace function public.leads_route()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' and new.owner is null
     and (new.junk_reason is null or new.junk_cleared_at is not null) then
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

-- Takes lead `target` out of its person: a repeat becomes its own person; a person's first lead
-- leaves its repeats together under the oldest of them. The leads whose link moved.
create or replace function public.detach_lead(target public.leads, actor text, with_history boolean)
returns bigint[]
language plpgsql
set search_path = ''
as $$
declare
  first_repeat bigint;
  moved bigint[];
begin
  if target.repeat_of is not null then
    update public.leads set repeat_of = null, repeat_via = null, changed_by = actor
     where id = target.id;
    if with_history then
      insert into public.activity (lead_id, actor, kind, old) values
        (target.id, actor, 'unlinked', '#' || target.repeat_of),
        (target.repeat_of, actor, 'unlinked', '#' || target.id);
    end if;
    return '{}';
  end if;
  select pg_catalog.array_agg(l.id order by l.created_at, l.id) into moved
    from public.leads as l where l.repeat_of = target.id;
  if moved is null then
    return '{}';
  end if;
  first_repeat := moved[1];
  update public.leads set repeat_of = null, repeat_via = null, changed_by = actor
   where id = first_repeat;
  update public.leads set repeat_of = first_repeat, changed_by = actor where repeat_of = target.id;
  if with_history then
    insert into public.activity (lead_id, actor, kind, old) values
      (target.id, actor, 'unlinked', '#' || first_repeat),
      (first_repeat, actor, 'unlinked', '#' || target.id);
  end if;
  return moved;
end
$$;

-- A rep's merge: lead target_lead (and the leads that were its repeats) join same_as's person.
-- Nothing when either is missing or erased, or they are one person already. The leads as they
-- are then: target_lead first.
create or replace function public.merge_leads(target_lead bigint, same_as bigint, actor text)
returns setof public.leads
language plpgsql
set search_path = ''
as $$
declare
  target public.leads;
  other public.leads;
  person bigint;
  moved bigint[] := '{}';
begin
  perform pg_catalog.pg_advisory_xact_lock(7419180302);
  select * into target from public.leads as l where l.id = target_lead and l.erased_at is null;
  select * into other from public.leads as l where l.id = same_as and l.erased_at is null;
  if target.id is null or other.id is null then
    return;
  end if;
  person := coalesce(other.repeat_of, other.id);
  if coalesce(target.repeat_of, target.id) <> person then
    if target.repeat_of is null then
      select coalesce(pg_catalog.array_agg(l.id), '{}') into moved
        from public.leads as l where l.repeat_of = target.id;
    end if;
    update public.leads set repeat_of = person, changed_by = actor where repeat_of = target.id;
    update public.leads set repeat_of = person, repeat_via = 'hand', changed_by = actor
     where id = target.id;
    insert into public.activity (lead_id, actor, kind, new) values
      (target.id, actor, 'linked', '#' || person || ' (merged by hand)'),
      (person, actor, 'linked', '#' || target.id || ' (merged by hand)');
  end if;
  return query select * from public.leads as l where l.id = target_lead;
  return query select * from public.leads as l where l.id = any(moved) order by l.id;
end
$$;

-- A rep's undo of a link (see detach_lead). The leads as they are then: target_lead first; none
-- when it does not exist.
create or replace function public.unlink_lead(target_lead bigint, actor text)
returns setof public.leads
language plpgsql
set search_path = ''
as $$
declare
  target public.leads;
  moved bigint[];
begin
  perform pg_catalog.pg_advisory_xact_lock(7419180302);
  select * into target from public.leads as l where l.id = target_lead;
  if target.id is null then
    return;
  end if;
  moved := public.detach_lead(target, actor, true);
  return query select * from public.leads as l where l.id = target_lead;
  return query select * from public.leads as l where l.id = any(moved) order by l.id;
end
$$;

-- A rep clears the junk flag; the lead is then linked or routed (route_to, repeat_window in seconds) as a new
-- lead would be, if it has no owner. The lead as it is then; none when it does not exist.
create or replace function public.clear_junk(target_lead bigint, actor text, route_to text[],
                                             repeat_window bigint)
returns setof public.leads
language plpgsql
set search_path = ''
as $$
declare
  target public.leads;
  found record;
  chosen text;
begin
  select null::bigint as person, null::bigint as matched, null::text as via into found;
  perform pg_catalog.pg_advisory_xact_lock(7419180302);
  select * into target from public.leads as l where l.id = target_lead;
  if target.id is null then
    return;
  end if;
  if target.junk_reason is not null and target.junk_cleared_at is null then
    update public.leads set junk_cleared_at = pg_catalog.clock_timestamp(), changed_by = actor
     where id = target_lead;
    insert into public.activity (lead_id, actor, kind, old)
      values (target_lead, actor, 'junk_cleared', target.junk_reason);
    if target.owner is null and target.erased_at is null then
      if repeat_window > 0 and target.repeat_of is null then
        select m.person, m.matched, m.via into found
          from public.person_match(target.id, target.phone_e164, target.email_key,
                                   target.created_at, repeat_window * interval '1 second') as m;
      end if;
      if found.person is not null then
        update public.leads set repeat_of = found.person, repeat_via = found.via,
                                changed_by = 'system'
         where id = target_lead;
        chosen := public.person_owner(found.matched, found.person);
      end if;
      if chosen is null and route_to is not null then
        chosen := public.route_new_lead(route_to);
      end if;
      if chosen is not null then
        update public.leads set owner = chosen, changed_by = 'system', owner_change = 'assign'
         where id = target_lead;
      end if;
    end if;
  end if;
  return query select * from public.leads as l where l.id = target_lead;
end
$$;

-- The triage backfill's write: each lead's normalised phone, e-mail key and junk reason, where
-- the lead still has the raw values read, is not erased and was not triaged; then its link to its
-- person (in the order given; owners do not change). A person's first lead stays first.
create or replace function public.store_triage(leads jsonb, repeat_window bigint)
returns void
language plpgsql
set search_path = ''
as $$
declare
  item record;
  target public.leads;
  found record;
begin
  perform pg_catalog.pg_advisory_xact_lock(7419180302);
  for item in
    select * from pg_catalog.jsonb_to_recordset(store_triage.leads)
      as p(id bigint, phone text, email text, phone_e164 text, phone_invalid boolean,
           email_key text, junk_reason text)
  loop
    update public.leads as l
       set phone_e164 = item.phone_e164, phone_invalid = item.phone_invalid,
           email_key = item.email_key, junk_reason = item.junk_reason, triaged = true
     where l.id = item.id and l.phone is not distinct from item.phone
       and l.email is not distinct from item.email and l.erased_at is null and not l.triaged
    returning * into target;
    continue when target.id is null or item.junk_reason is not null or target.repeat_of is not null
      or repeat_window <= 0
      or exists (select 1 from public.leads as l where l.repeat_of = target.id);
    select m.person, m.via into found
      from public.person_match(target.id, target.phone_e164, target.email_key, target.created_at,
                               repeat_window * interval '1 second') as m;
    if found.person is not null then
      update public.leads set repeat_of = found.person, repeat_via = found.via,
                              changed_by = 'system'
       where id = target.id;
    end if;
    target := null;
  end loop;
end
$$;

-- As in 20261207150000_phone_e164.sql, plus: the e-mail key, junk reason and triage mark are
-- derived values, not changes dashboards need; link_window is never stored.
create or replace function public.leads_stamp_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  derived constant text[] := array['changed_by', 'owner_change', 'escalated_level', 'escalated_at',
    'reminded_at', 'phone_e164', 'phone_invalid', 'email_key', 'junk_reason', 'triaged',
    'link_window'];
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

-- As in 20261207150000_phone_e164.sql, plus: erasing a person removes the e-mail key, the junk
-- reason and the person link too.
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
    new.email_key := null;
    new.junk_reason := null;
    new.repeat_of := null;
    new.repeat_via := null;
  end if;
  return new;
end
$$;

-- An erased lead's repeats stay one person, under the oldest of them.
create or replace function public.leads_unlink_erased()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform public.detach_lead(new, coalesce(new.changed_by, 'system'), false);
  return null;
end
$$;

create or replace trigger leads_unlink_erased
  after update of erased_at on public.leads
  for each row when (new.erased_at is not null and old.erased_at is null
                     and not public.leadhook_copying())
  execute function public.leads_unlink_erased();

-- As in 20261207150000_phone_e164.sql, plus: the person link, the junk flag and the other new
-- columns are not Meta's fields (a re-delivery that changes them is not `redelivered`).
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
    'reminded_at', 'phone_e164', 'phone_invalid', 'email_key', 'junk_reason', 'junk_cleared_at',
    'repeat_of', 'repeat_via', 'triaged', 'link_window'];
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

-- As in 20261207140000_reminders.sql, plus: junk waits for nobody, so it is not counted waiting.
create or replace function public.lead_queue_figures(week_start timestamptz, at_time timestamptz)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object(
    'waiting', (select pg_catalog.jsonb_build_object('count', count(*), 'oldest_created_at', min(l.created_at))
                  from public.leads as l
                 where l.status = 'New Lead' and (l.junk_reason is null or l.junk_cleared_at is not null)),
    'contacts', coalesce(
      (select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                'owner', l.owner,
                'first_contact_at', l.first_contact_at,
                'speed_secs', greatest(0, floor(extract(epoch from l.first_contact_at - l.created_at)))::bigint))
         from public.leads as l where l.first_contact_at >= week_start),
      '[]'::jsonb),
    'by_owner', coalesce(
      (select pg_catalog.jsonb_object_agg(o.owner, pg_catalog.jsonb_build_object(
                'owned', o.owned, 'open', o.open, 'contacted', o.contacted, 'won', o.won,
                'overdue', o.overdue))
         from (select l.owner, count(*) as owned,
                      count(*) filter (where l.status not in ('Won', 'Lost', 'Unqualified')) as open,
                      count(l.first_contact_at) as contacted,
                      count(*) filter (where l.status = 'Won') as won,
                      count(*) filter (where l.next_step_at <= at_time) as overdue
                 from public.leads as l where l.owner is not null group by l.owner) as o),
      '{}'::jsonb),
    'follow_ups', (
      select pg_catalog.jsonb_build_object(
               'attempts', count(*),
               'leads_attempted', count(distinct a.lead_id),
               'leads_talked', count(distinct a.lead_id)
                                 filter (where a.new = 'talked' or a.new like 'talked:%'),
               'overdue', (select count(*) from public.leads as l where l.next_step_at <= at_time))
        from public.activity as a where a.kind = 'attempt')
  )
$$;

-- As in 20261130150000_capi_switch_race.sql, plus: a lead stored as junk is reported as the stage
-- `Junk` (its event name is LEADHOOK_CAPI_STAGES's to choose), so Meta learns it is worthless.
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
           case when new.kind = 'status' then new.new
                when l.junk_reason is not null and l.junk_cleared_at is null then 'Junk'
                else l.status end,
           new.at, l.created_at
      from public.leads as l where l.id = new.lead_id and l.leadgen_id is not null;
  end if;
  return null;
end
$$;

-- People and junk beside the submission counts of lead_stats.
create or replace function public.lead_people(today_start timestamptz, week_start timestamptz)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object(
    'total', count(distinct person),
    'today', count(distinct person) filter (where created_at >= today_start),
    'last_7_days', count(distinct person) filter (where created_at >= week_start),
    'junk', (select count(*) from public.leads as j
              where j.junk_reason is not null and j.junk_cleared_at is null))
  from (select coalesce(l.repeat_of, l.id) as person, l.created_at from public.leads as l
         where l.junk_reason is null or l.junk_cleared_at is not null) as p
$$;

do $$
declare
  fn text;
begin
  foreach fn in array array[
    'public.person_match(bigint, text, text, timestamptz, interval)',
    'public.person_owner(bigint, bigint)', 'public.leads_link()', 'public.leads_record_link()',
    'public.leads_route()', 'public.detach_lead(public.leads, text, boolean)',
    'public.merge_leads(bigint, bigint, text)', 'public.unlink_lead(bigint, text)',
    'public.clear_junk(bigint, text, text[], bigint)', 'public.store_triage(jsonb, bigint)',
    'public.leads_stamp_updated_at()', 'public.leads_keep_erased()', 'public.leads_unlink_erased()',
    'public.leads_record_activity()', 'public.lead_people(timestamptz, timestamptz)',
    'public.lead_queue_figures(timestamptz, timestamptz)', 'public.capi_queue_stage()']
  loop
    execute 'revoke all on function ' || fn || ' from public, anon, authenticated';
    execute 'grant execute on function ' || fn || ' to service_role';
  end loop;
end
$$;

notify pgrst, 'reload schema';
