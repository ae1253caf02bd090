-- Insights at 100,000 leads (issue 29, the speed target): a period's figures from day roll-ups.
--
-- `lead_insight_days` holds, per UTC day of `created_at`, source (campaign, ad set, ad, form,
-- platform, organic) and owner, the counts the insights add up (leads, junk, contacted,
-- qualified, won, lost), the speeds of its contacted leads as a sorted array, and the second of
-- the day each lead was created at as a sorted array. A period reads its whole UTC days from
-- here (a few thousand rows for a month, not 100,000 leads) and only its two partial days from
-- the leads. The sorted arrays keep the figures exact: a nearest-rank percentile is taken over
-- the speeds themselves, a day of the viewer's zone counts the leads of the UTC days it
-- overlaps by binary search in their seconds (`width_bucket` over a sorted array), as does the
-- speed histogram.
--
-- Statement triggers on `leads` keep the roll-ups in the writing transaction: every insert,
-- update (status, first contact, owner, junk, erasure, a re-delivery that moves the lead) and
-- delete, whoever writes it (an older server, the store copy, a migration), since they do not
-- stand aside for the copy. A truncate of the leads empties the roll-ups.
--
-- Where the roll-ups cannot answer, the period is read from the leads as before: the answer
-- grouping (form answers are not rolled up) and a day start that is not a whole second.
--
-- People (repeats of a person counted once) stay lead by lead: a partial index holds the
-- period's repeats, so only they and their first leads are read.
--
-- What a write pays: a lead's row of the roll-ups is taken and rewritten with the lead's write,
-- so two transactions writing leads of the same day, source and owner wait for each other's
-- commit there. They never deadlock there: before it changes any, each statement takes every
-- row it touches (those its leads leave and those they enter, together, made as needed) in one
-- order, the key's, so two transactions moving leads between the same rows in opposite
-- directions (a rep claiming one lead while releasing another) only wait for each other and
-- both commit. The server's own writes are queued before that by the `updated_at` stamp's
-- lock; the writes that skip it (the store copy's, deletes) rely on this order.
--
-- Safe beside an older server: it writes leads as before and the triggers keep the roll-ups;
-- `lead_insights` keeps its arguments and its answer. Filling the roll-ups holds writes to the
-- leads back for the few seconds it takes (a share lock; reads go on).

create table if not exists public.lead_insight_days (
  day date not null,
  campaign_id text,
  adset_id text,
  ad_id text,
  form_id text,
  platform text,
  is_organic boolean not null,
  owner text,
  leads integer not null,
  junk integer not null,
  contacted integer not null,
  qualified integer not null,
  won integer not null,
  lost integer not null,
  -- Contacted leads' `speed_secs`, ascending.
  speeds bigint[] not null,
  -- Every lead's whole seconds since the day's UTC midnight, ascending.
  seconds integer[] not null
);

create unique index if not exists lead_insight_days_key on public.lead_insight_days
  (day, campaign_id, adset_id, ad_id, form_id, platform, is_organic, owner) nulls not distinct;

alter table public.lead_insight_days enable row level security;
revoke all on table public.lead_insight_days from public, anon, authenticated;
grant select, insert, update, delete, truncate on table public.lead_insight_days to service_role;

-- The period's repeats, for the people: a few percent of the leads.
create index if not exists leads_insights_repeats on public.leads (created_at)
  include (campaign_id, adset_id, ad_id, form_id, platform, is_organic, repeat_of, junk_reason, junk_cleared_at)
  where repeat_of is not null;

-- One lead's part in a roll-up: its row's key and what it adds there.
do $$
begin
  if not exists (select 1 from pg_catalog.pg_type as t
                   join pg_catalog.pg_namespace as n on n.oid = t.typnamespace
                  where n.nspname = 'public' and t.typname = 'lead_insight_part') then
    create type public.lead_insight_part as (
      day date, campaign_id text, adset_id text, ad_id text, form_id text, platform text,
      is_organic boolean, owner text, junk boolean, stages smallint, speed bigint, second integer);
  end if;
end
$$;

-- PL/pgSQL, as the function below, so that each session plans its statements once (a SQL
-- function with its own search_path is planned again at every call: a write paid for it).
create or replace function public.lead_insight_parts(rows public.leads[])
returns setof public.lead_insight_part
language plpgsql
immutable
rows 10
set search_path = ''
as $$
begin
  return query
  select d.day, l.campaign_id, l.adset_id, l.ad_id, l.form_id, l.platform, l.is_organic, l.owner,
         l.junk_reason is not null and l.junk_cleared_at is null, l.stages, l.speed_secs,
         pg_catalog.floor(extract(epoch from l.created_at - (d.day::timestamp at time zone 'UTC')))::integer
    from pg_catalog.unnest(rows) as l
   cross join lateral (select (l.created_at at time zone 'UTC')::date as day) as d;
end
$$;

-- Counts the leads `removed` out of the roll-ups and the leads `added` in; emptied rows go.
create or replace function public.lead_insight_apply(added public.leads[], removed public.leads[])
returns void
language plpgsql
set search_path = ''
-- A write touches a few rows of one or two days: each found by its day in the key's index, not by
-- reading every roll-up row (the plan the planner's guess of a thousand parts chose).
set enable_seqscan = off
set enable_hashjoin = off
set enable_mergejoin = off
as $$
begin
  -- Every row the leads leave or enter, taken at once in key order before any changes: the
  -- missing ones made empty, the others locked and left as they are (`where false` locks the
  -- row without writing it). Taking the rows left first and the rows entered after would let
  -- two opposite moves each hold one row and wait for the other's.
  insert into public.lead_insight_days as d
    (day, campaign_id, adset_id, ad_id, form_id, platform, is_organic, owner,
     leads, junk, contacted, qualified, won, lost, speeds, seconds)
  select distinct c.day, c.campaign_id, c.adset_id, c.ad_id, c.form_id, c.platform, c.is_organic, c.owner,
         0, 0, 0, 0, 0, 0, '{}'::bigint[], '{}'::integer[]
    from (select * from public.lead_insight_parts(removed)
          union all select * from public.lead_insight_parts(added)) as c
   order by 1, 2, 3, 4, 5, 6, 7, 8
  on conflict (day, campaign_id, adset_id, ad_id, form_id, platform, is_organic, owner) do update
     set leads = d.leads
   where false;

  if coalesce(pg_catalog.cardinality(removed), 0) > 0 then
    update public.lead_insight_days as d
       set leads = d.leads - g.leads, junk = d.junk - g.junk, contacted = d.contacted - g.contacted,
           qualified = d.qualified - g.qualified, won = d.won - g.won, lost = d.lost - g.lost,
           speeds = array(select pg_catalog.unnest(d.speeds) except all select pg_catalog.unnest(g.speeds)
                          order by 1),
           seconds = array(select pg_catalog.unnest(d.seconds) except all select pg_catalog.unnest(g.seconds)
                           order by 1)
      from (select c.day, c.campaign_id, c.adset_id, c.ad_id, c.form_id, c.platform, c.is_organic, c.owner,
                   count(*) as leads, count(*) filter (where c.junk) as junk, count(c.speed) as contacted,
                   count(*) filter (where c.stages & 1 > 0) as qualified,
                   count(*) filter (where c.stages & 2 > 0) as won,
                   count(*) filter (where c.stages & 4 > 0) as lost,
                   pg_catalog.array_agg(c.speed) filter (where c.speed is not null) as speeds,
                   pg_catalog.array_agg(c.second) as seconds
              from public.lead_insight_parts(removed) as c
             group by 1, 2, 3, 4, 5, 6, 7, 8
             order by 1, 2, 3, 4, 5, 6, 7, 8) as g
     where d.day = g.day and d.campaign_id is not distinct from g.campaign_id
       and d.adset_id is not distinct from g.adset_id and d.ad_id is not distinct from g.ad_id
       and d.form_id is not distinct from g.form_id and d.platform is not distinct from g.platform
       and d.is_organic = g.is_organic and d.owner is not distinct from g.owner;
  end if;

  if coalesce(pg_catalog.cardinality(added), 0) > 0 then
    insert into public.lead_insight_days as d
      (day, campaign_id, adset_id, ad_id, form_id, platform, is_organic, owner,
       leads, junk, contacted, qualified, won, lost, speeds, seconds)
    select c.day, c.campaign_id, c.adset_id, c.ad_id, c.form_id, c.platform, c.is_organic, c.owner,
           count(*), count(*) filter (where c.junk), count(c.speed),
           count(*) filter (where c.stages & 1 > 0), count(*) filter (where c.stages & 2 > 0),
           count(*) filter (where c.stages & 4 > 0),
           coalesce(pg_catalog.array_agg(c.speed order by c.speed) filter (where c.speed is not null), '{}'),
           pg_catalog.array_agg(c.second order by c.second)
      from public.lead_insight_parts(added) as c
     group by 1, 2, 3, 4, 5, 6, 7, 8
     order by 1, 2, 3, 4, 5, 6, 7, 8
    on conflict (day, campaign_id, adset_id, ad_id, form_id, platform, is_organic, owner) do update
       set leads = d.leads + excluded.leads, junk = d.junk + excluded.junk,
           contacted = d.contacted + excluded.contacted, qualified = d.qualified + excluded.qualified,
           won = d.won + excluded.won, lost = d.lost + excluded.lost,
           speeds = array(select m.v from (select pg_catalog.unnest(d.speeds)
                                           union all select pg_catalog.unnest(excluded.speeds)) as m(v)
                          order by m.v),
           seconds = array(select m.v from (select pg_catalog.unnest(d.seconds)
                                            union all select pg_catalog.unnest(excluded.seconds)) as m(v)
                           order by m.v);
  end if;

  if coalesce(pg_catalog.cardinality(removed), 0) > 0 then
    delete from public.lead_insight_days as d
     where d.leads = 0
       and d.day = any(array(select (l.created_at at time zone 'UTC')::date from pg_catalog.unnest(removed) as l));
  end if;
end
$$;

create or replace function public.leads_count_inserted()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform public.lead_insight_apply(array(select n::public.leads from inserted as n), '{}');
  return null;
end
$$;

create or replace function public.leads_count_deleted()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform public.lead_insight_apply('{}', array(select o::public.leads from deleted as o));
  return null;
end
$$;

-- Only the leads whose part changed: most updates (notes, reminders, escalations) change none.
create or replace function public.leads_count_updated()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  moved public.leads[];
  left_as public.leads[];
begin
  select pg_catalog.array_agg(n::public.leads), pg_catalog.array_agg(o::public.leads) into moved, left_as
    from after as n join before as o on o.id = n.id
   where (n.created_at, n.campaign_id, n.adset_id, n.ad_id, n.form_id, n.platform, n.is_organic,
          n.owner, n.stages, n.speed_secs, n.junk_reason is not null and n.junk_cleared_at is null)
         is distinct from
         (o.created_at, o.campaign_id, o.adset_id, o.ad_id, o.form_id, o.platform, o.is_organic,
          o.owner, o.stages, o.speed_secs, o.junk_reason is not null and o.junk_cleared_at is null);
  if moved is not null then
    perform public.lead_insight_apply(moved, left_as);
  end if;
  return null;
end
$$;

create or replace function public.leads_count_truncated()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  truncate public.lead_insight_days;
  return null;
end
$$;

do $$
declare
  fn text;
begin
  foreach fn in array array['public.lead_insight_parts(public.leads[])',
                            'public.lead_insight_apply(public.leads[], public.leads[])',
                            'public.leads_count_inserted()', 'public.leads_count_deleted()',
                            'public.leads_count_updated()', 'public.leads_count_truncated()'] loop
    execute 'revoke all on function ' || fn || ' from public, anon, authenticated';
    execute 'grant execute on function ' || fn || ' to service_role';
  end loop;
end
$$;

-- The roll-ups filled from the leads as they are, the triggers in place, while no write can
-- slip between the two (one block: one transaction even where each statement would commit on
-- its own). Applied again, this file fills them afresh.
do $$
declare
  day date;
begin
  lock table public.leads in share row exclusive mode;
  drop trigger if exists leads_count_inserted on public.leads;
  create trigger leads_count_inserted after insert on public.leads
    referencing new table as inserted
    for each statement execute function public.leads_count_inserted();
  drop trigger if exists leads_count_updated on public.leads;
  create trigger leads_count_updated after update on public.leads
    referencing old table as before new table as after
    for each statement execute function public.leads_count_updated();
  drop trigger if exists leads_count_deleted on public.leads;
  create trigger leads_count_deleted after delete on public.leads
    referencing old table as deleted
    for each statement execute function public.leads_count_deleted();
  drop trigger if exists leads_count_truncated on public.leads;
  create trigger leads_count_truncated after truncate on public.leads
    for each statement execute function public.leads_count_truncated();

  truncate public.lead_insight_days;
  -- A day's leads at a time, so a large store is not held in memory at once.
  for day in select distinct (l.created_at at time zone 'UTC')::date from public.leads as l loop
    perform public.lead_insight_apply(array(
      select l from public.leads as l
       where l.created_at >= day::timestamp at time zone 'UTC'
         and l.created_at < (day + 1)::timestamp at time zone 'UTC'), '{}');
  end loop;
end
$$;

-- As in 20261207211000_insights_speed_on_lead.sql: the figures of leads created from
-- day_starts[1] to the last day_starts, grouped by `source_by`; medians and p90 nearest rank
-- (the sample at rank ceil(n * p), as percentile_disc and the server's `percentile`). The whole
-- UTC days of the period come from the roll-ups, the rest from the leads.
create or replace function public.lead_insights(source_by text, day_starts timestamptz[], speed_edges bigint[],
                                                answer_questions jsonb default null)
returns jsonb
language plpgsql
stable
set search_path = ''
set work_mem = '64MB'
-- The period's partial days are read from the covering index, never the whole table.
set enable_seqscan = off
set enable_bitmapscan = off
-- Compiling the statement (PostgreSQL's JIT) costs more than it saves here.
set jit = off
as $fn$
declare
  source text := case source_by
    when 'campaign' then 'l.campaign_id' when 'adset' then 'l.adset_id' when 'ad' then 'l.ad_id'
    when 'form' then 'l.form_id' when 'platform' then 'l.platform'
    when 'organic' then 'case when l.is_organic then ''1'' else ''0'' end'
    when 'answer' then $a$(select case pg_catalog.jsonb_typeof(l.fields -> q.question)
                              when 'array' then (select pg_catalog.string_agg(v.value, ', ' order by v.n)
                                                   from pg_catalog.jsonb_array_elements_text(l.fields -> q.question)
                                                          with ordinality as v(value, n))
                              else l.fields ->> q.question end
                            from (select coalesce($3 ->> l.form_id, $3 ->> '*') as question) as q)$a$
  end;
  name text := case when source_by in ('campaign', 'adset', 'ad', 'form') then source_by || '_name' end;
  junk constant text := '(l.junk_reason is not null and l.junk_cleared_at is null)';
  first_start timestamptz := day_starts[1];
  -- The whole UTC days [rolled_from, rolled_to) are read from the roll-ups.
  rolled_from timestamptz := pg_catalog.date_trunc('day', day_starts[1], 'UTC');
  rolled_to timestamptz := pg_catalog.date_trunc('day', day_starts[pg_catalog.array_length(day_starts, 1)], 'UTC');
  answer jsonb;
begin
  if source is null then
    raise exception 'unknown grouping %', source_by using errcode = '22023';
  end if;
  if coalesce(pg_catalog.array_length(speed_edges, 1), 0) > 2000 then
    raise exception 'at most 2000 speed edges, not %', pg_catalog.array_length(speed_edges, 1) using errcode = '22023';
  end if;
  if rolled_from < first_start then
    rolled_from := rolled_from + interval '24 hours';
  end if;
  -- Form answers are not rolled up, and a rolled-up day is cut at whole seconds.
  if not coalesce(source_by <> 'answer' and rolled_from < rolled_to
                  and not exists (select 1 from pg_catalog.unnest(day_starts) as s(at)
                                   where s.at > rolled_from and s.at < rolled_to
                                     and s.at <> pg_catalog.date_trunc('second', s.at)), false) then
    rolled_from := first_start;
    rolled_to := first_start;
  end if;
  execute pg_catalog.format($q$
  with
  -- The period's leads outside the rolled-up days (its first and last partial days, or all of it).
  raw as materialized (
    select x.* from (values ($1[1], $4), ($5, $1[pg_catalog.array_length($1, 1)])) as r(since, until)
     cross join lateral (
           select %1$s as k, l.owner, l.speed_secs as speed, l.created_at, l.stages, %3$s as junk
             from public.leads as l where l.created_at >= r.since and l.created_at < r.until) as x
  ),
  -- Each source and owner's counts and sorted speeds: the rolled-up days' rows (a few per day
  -- and source) and the rest's leads.
  parts as materialized (
    select %4$s as k, l.owner, l.leads, l.junk, l.contacted, l.qualified, l.won, l.lost, l.speeds,
           l.seconds, l.day::timestamp at time zone 'UTC' as day_start,
           (l.day + 1)::timestamp at time zone 'UTC' as newest
      from public.lead_insight_days as l
     where l.day >= ($4 at time zone 'UTC')::date and l.day < ($5 at time zone 'UTC')::date and l.leads > 0
    union all
    select k, owner, count(*), count(*) filter (where junk), count(speed),
           count(*) filter (where stages & 1 > 0), count(*) filter (where stages & 2 > 0),
           count(*) filter (where stages & 4 > 0),
           coalesce(pg_catalog.array_agg(speed order by speed) filter (where speed is not null), '{}'),
           null, null, max(created_at) + interval '1 microsecond'
      from raw group by k, owner
  ),
  counted as (
    select grouping(k, owner) as facet, k, owner,
           coalesce(sum(leads), 0) as leads, coalesce(sum(junk), 0) as junk,
           coalesce(sum(contacted), 0) as contacted, coalesce(sum(qualified), 0) as qualified,
           coalesce(sum(won), 0) as won, coalesce(sum(lost), 0) as lost, max(newest) as newest
      from parts group by grouping sets ((), (k), (owner))
  ),
  speeds as (
    select grouping(p.k, p.owner) as facet, p.k, p.owner,
           percentile_disc(array[0.5, 0.9]) within group (order by s.speed) as ranks
      from parts as p cross join lateral pg_catalog.unnest(p.speeds) as s(speed)
     group by grouping sets ((), (p.k), (p.owner))
  ),
  -- Contacted leads no slower than each edge of the histogram (binary search in the sorted speeds).
  at_most as (
    select e.slot, sum(pg_catalog.width_bucket(e.edge, p.speeds)) as leads
      from parts as p cross join pg_catalog.unnest($2) with ordinality as e(edge, slot)
     group by e.slot
  ),
  -- Leads per day of the viewer's zone and source: the rolled-up days' leads counted in the
  -- viewer's days they overlap by their seconds, the rest's by their time.
  spread as (
    select d.day, d.k, sum(d.leads) as leads
      from (select pg_catalog.width_bucket(r.created_at, $1) - 1 as day, r.k, count(*) as leads
              from raw as r group by 1, 2
            union all
            select i - 1, p.k,
                   pg_catalog.width_bucket(extract(epoch from least($1[i + 1], p.day_start + interval '24 hours')
                                                              - p.day_start)::integer - 1, p.seconds)
                   - pg_catalog.width_bucket(extract(epoch from greatest($1[i], p.day_start)
                                                                - p.day_start)::integer - 1, p.seconds)
              from parts as p
             cross join lateral pg_catalog.generate_series(
                     pg_catalog.width_bucket(p.day_start, $1),
                     pg_catalog.width_bucket(p.day_start + interval '24 hours' - interval '1 microsecond', $1)) as i
             where p.seconds is not null) as d
     group by d.day, d.k
    having sum(d.leads) > 0
  ),
  -- People are leads less the repeats of a person already counted. Only a person with a repeat in
  -- the period has two leads in it: its repeats (a partial index of them) and its first lead.
  repeats as materialized (
    select %1$s as k, l.repeat_of as person
      from public.leads as l
     where l.repeat_of is not null and not %3$s
       and l.created_at >= $1[1] and l.created_at < $1[pg_catalog.array_length($1, 1)]
  ),
  firsts as (
    select %1$s as k, l.id as person
      from public.leads as l
     where l.id = any(array(select distinct person from repeats)) and l.repeat_of is null and not %3$s
       and l.created_at >= $1[1] and l.created_at < $1[pg_catalog.array_length($1, 1)]
  ),
  persons as (
    select grouping(k) as facet, k, count(*) as n
      from (select k, person from repeats union all select k, person from firsts) as p
     group by grouping sets ((k, person), (person))
  ),
  extra as (
    select facet, k, sum(n - 1) as leads from persons group by facet, k
  ),
  figures as (
    select c.facet, c.k, c.owner, pg_catalog.jsonb_build_object(
             'leads', c.leads, -- People are counted where the figures show them: the period and its sources.
             'people', case when c.facet = 2 then 0 else c.leads - c.junk - coalesce(e.leads, 0) end, 'junk', c.junk,
             'contacted', c.contacted, 'qualified', c.qualified, 'won', c.won, 'lost', c.lost,
             'median_speed_secs', s.ranks[1], 'p90_speed_secs', s.ranks[2]) as j
      from counted as c
      left join speeds as s
        on c.facet = s.facet and s.k is not distinct from c.k
           and s.owner is not distinct from c.owner
      left join extra as e on (c.facet, e.facet) in ((3, 1), (1, 0)) and e.k is not distinct from c.k
  )
  select pg_catalog.jsonb_build_object(
    'total', coalesce((select j from figures where facet = 3),
                      pg_catalog.jsonb_build_object('leads', 0, 'people', 0, 'junk', 0,
                        'contacted', 0, 'qualified', 0, 'won', 0, 'lost', 0,
                        'median_speed_secs', null, 'p90_speed_secs', null)),
    'groups', coalesce((select pg_catalog.jsonb_agg(f.j || pg_catalog.jsonb_build_object('key', f.k, 'name', (
                          %2$s)))
                          from figures as f where f.facet = 1), '[]'::jsonb),
    -- Unowned leads are no rep's.
    'reps', coalesce((select pg_catalog.jsonb_agg(j || pg_catalog.jsonb_build_object('key', owner, 'name', owner))
                        from figures where facet = 2 and owner is not null), '[]'::jsonb),
    'days', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('day', day, 'key', k, 'leads', leads))
                        from spread), '[]'::jsonb),
    'speed_histogram', (select pg_catalog.jsonb_agg(coalesce(above.leads, total.contacted) - coalesce(below.leads, 0)
                                                    order by b.slot)
                          from pg_catalog.generate_series(0, pg_catalog.array_length($2, 1)) as b(slot)
                          cross join (select c.contacted from counted as c where c.facet = 3) as total
                          left join at_most as below on below.slot = b.slot
                          left join at_most as above on above.slot = b.slot + 1)
  )
  $q$, source,
  -- A source's name: the newest name among its leads of the period, read back from just after
  -- its newest lead (or the end of that lead's rolled-up day).
  case when name is null then 'null::text' else pg_catalog.format(
    'select l.%1$I from public.leads as l where l.%2$I = f.k and l.%1$I is not null
        and l.created_at >= $1[1]
        and l.created_at < (select c.newest from counted as c where c.facet = 1 and c.k = f.k)
      order by l.created_at desc, l.id desc limit 1', name, source_by || '_id') end,
  junk,
  -- The roll-ups hold no answers (and are not read for that grouping).
  case when source_by = 'answer' then 'null::text' else source end)
  into answer using day_starts, speed_edges, answer_questions, rolled_from, rolled_to;
  return answer;
end
$fn$;

do $$
begin
  revoke all on function public.lead_insights(text, timestamptz[], bigint[], jsonb) from public, anon, authenticated;
  grant execute on function public.lead_insights(text, timestamptz[], bigint[], jsonb) to service_role;
end
$$;

notify pgrst, 'reload schema';
