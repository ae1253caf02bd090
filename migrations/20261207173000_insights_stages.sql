-- Insights over a large store (GET /api/insights, issue 29): keep on each lead the stages it ever
-- reached, so a period's figures are one read of a narrow covering index, never a look into every
-- lead's history; and count in as few passes as PostgreSQL allows. The same figures as the SQLite
-- store (server/src/store/sqlite/insights/); server/tests/store/conformance/insights.rs holds both
-- to it.
--
-- Safe beside an older server: the new column has a default, a trigger keeps it for every
-- writer's status changes, and `lead_insights` keeps its arguments and its answer.

alter table public.leads add column if not exists stages smallint not null default 0;

-- The bit of a stage the insights count: Qualified 1, Won 2, Lost 4.
create or replace function public.stage_bit(status text) returns smallint
language sql
immutable
set search_path = ''
as $$
  select (case status when 'Qualified' then 1 when 'Won' then 2 when 'Lost' then 4 else 0 end)::smallint
$$;

-- A lead's status change marks its stage in the same row write (no second update, which the
-- history trigger would record as a change of the lead).
create or replace function public.leads_note_stage() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.stages := new.stages | public.stage_bit(new.status);
  return new;
end
$$;

drop trigger if exists leads_note_stage on public.leads;
create trigger leads_note_stage before insert or update of status on public.leads
  for each row execute function public.leads_note_stage();

-- As in 20261207160000_people.sql, plus: `stages` is not Meta's (marking a stage is no
-- re-delivery).
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
    'repeat_of', 'repeat_via', 'triaged', 'link_window', 'stages'];
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

-- A copied history (`store copy`, where the leads' triggers stand aside) marks the stages it
-- holds on its lead.
create or replace function public.activity_stage_reached() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  update public.leads set stages = stages | public.stage_bit(new.new) where id = new.lead_id;
  return null;
end
$$;

drop trigger if exists activity_stage_reached on public.activity;
create trigger activity_stage_reached after insert on public.activity
  for each row when (new.kind = 'status' and new.new in ('Qualified', 'Won', 'Lost')
                     and public.leadhook_copying())
  execute function public.activity_stage_reached();

-- The leads stored before: their stages from their history. Not a change of the leads: their
-- triggers (updated_at, the history, the outbox) stand aside as for a copy.
select pg_catalog.set_config('request.headers', '{"x-leadhook-copy": "history"}', false);
update public.leads as l
   set stages = l.stages | s.bits
  from (select lead_id, pg_catalog.bit_or(public.stage_bit(new)) as bits
          from public.activity
         where kind = 'status' and new in ('Qualified', 'Won', 'Lost')
         group by lead_id) as s
 where l.id = s.lead_id and l.stages | s.bits <> l.stages;
select pg_catalog.set_config('request.headers', '{}', false);

-- Everything a period's insights read by Meta's groupings, so the read never visits the heap.
create index if not exists leads_insights on public.leads (created_at)
  include (id, campaign_id, adset_id, ad_id, form_id, platform, is_organic, owner, first_contact_at,
           status, stages, repeat_of, junk_reason, junk_cleared_at);

-- The history lookup this replaces.
drop index if exists public.activity_status_by_lead;

-- The figures of leads created from day_starts[1] to the last day_starts (each pair of
-- neighbours one local day, computed by the server from the viewer's zone), grouped by
-- `source_by`. Speeds are whole seconds from the form to the first contact, never negative;
-- medians and p90 are nearest rank (percentile_disc: the sample at rank ceil(n * p)), as the
-- server's `percentile`. A speed bucket is the number of `speed_edges` the speed is above.
create or replace function public.lead_insights(source_by text, day_starts timestamptz[], speed_edges bigint[],
                                                answer_questions jsonb default null)
returns jsonb
language sql
stable
set search_path = ''
set work_mem = '64MB'
as $$
  with p as materialized (
    -- Written out here rather than in helper functions: a function with its own search_path is
    -- never inlined, and calling one per lead cost seconds at 100,000 leads.
    select l.created_at,
           case source_by
             when 'campaign' then l.campaign_id
             when 'adset' then l.adset_id
             when 'ad' then l.ad_id
             when 'form' then l.form_id
             when 'platform' then l.platform
             when 'organic' then case when l.is_organic then '1' else '0' end
             when 'answer' then (
               -- The answer to the lead's form's question (several values joined with ', ').
               select case pg_catalog.jsonb_typeof(l.fields -> q.question)
                        when 'array' then (select pg_catalog.string_agg(v.value, ', ' order by v.n)
                                             from pg_catalog.jsonb_array_elements_text(l.fields -> q.question)
                                                    with ordinality as v(value, n))
                        else l.fields ->> q.question end
                 from (select coalesce(answer_questions ->> l.form_id, answer_questions ->> '*')
                                as question) as q)
           end as k,
           l.owner, (l.junk_reason is not null and l.junk_cleared_at is null) as junk,
           coalesce(l.repeat_of, l.id) as person,
           case when l.first_contact_at is not null
                then greatest(0, floor(extract(epoch from l.first_contact_at - l.created_at)))::bigint
           end as speed,
           l.stages | case l.status when 'Qualified' then 1 when 'Won' then 2 when 'Lost' then 4 else 0 end
             as reached
      from public.leads as l
     where l.created_at >= day_starts[1]
       and l.created_at < day_starts[pg_catalog.array_length(day_starts, 1)]
  ),
  -- Everything that adds up, for the period, each source and each owner, in one hashing pass.
  counted as (
    select case when grouping(k) = 0 then 'g' when grouping(owner) = 0 then 'r' else 't' end as facet,
           case when grouping(k) = 0 then k else owner end as k,
           count(*) as leads, count(*) filter (where junk) as junk, count(speed) as contacted,
           count(*) filter (where reached & 1 > 0) as qualified,
           count(*) filter (where reached & 2 > 0) as won,
           count(*) filter (where reached & 4 > 0) as lost,
           max(created_at) as newest
      from p group by grouping sets ((), (k), (owner))
  ),
  speeds as (
    select case when grouping(k) = 0 then 'g' when grouping(owner) = 0 then 'r' else 't' end as facet,
           case when grouping(k) = 0 then k else owner end as k,
           percentile_disc(array[0.5, 0.9]) within group (order by speed) as ranks
      from p where speed is not null group by grouping sets ((), (k), (owner))
  ),
  people as (
    select case when grouping(k) = 0 then 'g' else 't' end as facet, k, count(*) as people
      from (select distinct k, person from p where not junk) as d
     group by grouping sets ((), (k))
  ),
  -- A source's name: the newest name among its leads of the period (read back from its newest
  -- lead, one index step in the usual case where that lead has one).
  names as (
    select c.k,
           (select n.nm from public.leads as l
              cross join lateral (select case source_by
                                           when 'campaign' then l.campaign_id when 'adset' then l.adset_id
                                           when 'ad' then l.ad_id when 'form' then l.form_id end as k,
                                         case source_by
                                           when 'campaign' then l.campaign_name when 'adset' then l.adset_name
                                           when 'ad' then l.ad_name when 'form' then l.form_name end as nm) as n
             where n.k = c.k and n.nm is not null
               and l.created_at >= day_starts[1] and l.created_at <= c.newest
             order by l.created_at desc, l.id desc limit 1) as nm
      from counted as c
     where c.facet = 'g' and c.k is not null and source_by in ('campaign', 'adset', 'ad', 'form')
  ),
  figures as (
    select c.facet, pg_catalog.jsonb_build_object(
             'key', c.k, 'name', n.nm,
             'leads', c.leads, 'people', coalesce(pe.people, 0), 'junk', c.junk,
             'contacted', c.contacted, 'qualified', c.qualified, 'won', c.won, 'lost', c.lost,
             'median_speed_secs', s.ranks[1], 'p90_speed_secs', s.ranks[2]) as j
      from counted as c
      left join speeds as s on s.facet = c.facet and s.k is not distinct from c.k
      left join people as pe on pe.facet = c.facet and pe.k is not distinct from c.k
      left join names as n on c.facet = 'g' and n.k = c.k
     -- Unowned leads are no rep's.
     where not (c.facet = 'r' and c.k is null)
  ),
  days as (
    select pg_catalog.width_bucket(p.created_at, day_starts) - 1 as day, p.k, count(*) as leads
      from p group by 1, 2
  ),
  buckets as (
    -- Whole seconds, so "above an edge" is "at or above edge + 1".
    select pg_catalog.width_bucket(p.speed - 1, speed_edges) as bucket, count(*) as n
      from p where p.speed is not null group by 1
  )
  select pg_catalog.jsonb_build_object(
    'total', coalesce((select j from figures where facet = 't'),
                      pg_catalog.jsonb_build_object('leads', 0, 'people', 0, 'junk', 0,
                        'contacted', 0, 'qualified', 0, 'won', 0, 'lost', 0,
                        'median_speed_secs', null, 'p90_speed_secs', null)),
    'groups', coalesce((select pg_catalog.jsonb_agg(j) from figures where facet = 'g'), '[]'::jsonb),
    'reps', coalesce((select pg_catalog.jsonb_agg(j || pg_catalog.jsonb_build_object('name', j -> 'key'))
                        from figures where facet = 'r'), '[]'::jsonb),
    'days', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                               'day', days.day, 'key', days.k, 'leads', days.leads))
                        from days), '[]'::jsonb),
    'speed_histogram', (select pg_catalog.jsonb_agg(coalesce(b.n, 0) order by slot)
                          from pg_catalog.generate_series(0, pg_catalog.array_length(speed_edges, 1)) as slot
                          left join buckets as b on b.bucket = slot)
  )
$$;

do $$
declare
  fn text;
begin
  foreach fn in array array[
    'public.lead_insights(text, timestamptz[], bigint[], jsonb)',
    'public.activity_stage_reached()', 'public.leads_note_stage()', 'public.stage_bit(text)']
  loop
    execute 'revoke all on function ' || fn || ' from public, anon, authenticated';
    execute 'grant execute on function ' || fn || ' to service_role';
  end loop;
end
$$;

notify pgrst, 'reload schema';
