-- Insights (GET /api/insights): a period's leads counted by source, by owner, by day and by
-- speed to lead, in the database. The same figures as the SQLite store
-- (server/src/store/sqlite/insights.rs); server/tests/store/conformance/insights.rs holds both to it.
--
-- A stage (Qualified, Won, Lost) counts the leads that ever reached it: their status now, or a
-- `status` row of their history. Contacted is `first_contact_at`. Speeds are whole seconds from
-- the form to the first contact, never negative; medians and p90 are nearest rank (the sample at
-- rank ceil(n * p / 100)), as the server's `percentile`.
--
-- Only adds an index and a function: an older server keeps working beside it.

create index if not exists activity_status_by_lead on public.activity (lead_id, new)
  where kind = 'status';

-- The figures of leads created from day_starts[1] to the last day_starts (each pair of
-- neighbours one local day, computed by the server from the viewer's zone), grouped by `source_by`.
create or replace function public.lead_insights(source_by text, day_starts timestamptz[], speed_edges bigint[],
                                                answer_questions jsonb default null)
returns jsonb
language sql
stable
set search_path = ''
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
           case source_by
             when 'campaign' then l.campaign_name
             when 'adset' then l.adset_name
             when 'ad' then l.ad_name
             when 'form' then l.form_name
           end as nm,
           l.owner, (l.junk_reason is not null and l.junk_cleared_at is null) as junk,
           coalesce(l.repeat_of, l.id) as person,
           case when l.first_contact_at is not null
                then greatest(0, floor(extract(epoch from l.first_contact_at - l.created_at)))::bigint
           end as speed,
           (case l.status when 'Qualified' then 1 when 'Won' then 2 when 'Lost' then 4 else 0 end)
             | coalesce((select bit_or(case a.new when 'Qualified' then 1 when 'Won' then 2
                                                   when 'Lost' then 4 else 0 end)
                           from public.activity as a
                          where a.lead_id = l.id and a.kind = 'status'), 0) as reached
      from public.leads as l
     where l.created_at >= day_starts[1]
       and l.created_at < day_starts[pg_catalog.array_length(day_starts, 1)]
  ),
  f as (
    select 't' as facet, null::text as k, person, junk, speed, reached from p
    union all select 'g', k, person, junk, speed, reached from p
    union all select 'r', owner, person, junk, speed, reached from p where owner is not null
  ),
  counted as (
    select facet, k, count(*) as leads, count(distinct person) filter (where not junk) as people,
           count(*) filter (where junk) as junk, count(speed) as contacted,
           count(*) filter (where reached & 1 > 0) as qualified,
           count(*) filter (where reached & 2 > 0) as won,
           count(*) filter (where reached & 4 > 0) as lost
      from f group by facet, k
  ),
  ranked as (
    select facet, k, speed,
           row_number() over (partition by facet, k order by speed) as rank,
           count(*) over (partition by facet, k) as n
      from f where speed is not null
  ),
  speeds as (
    select facet, k, min(speed) filter (where rank = (n * 50 + 99) / 100) as median,
           min(speed) filter (where rank = (n * 90 + 99) / 100) as p90
      from ranked group by facet, k
  ),
  names as (
    select distinct on (k) k, nm from p where nm is not null order by k, created_at desc
  ),
  figures as (
    select c.facet, c.leads,
           pg_catalog.jsonb_build_object(
             'key', c.k, 'name', case when c.facet = 'g' then n.nm end,
             'leads', c.leads, 'people', c.people, 'junk', c.junk, 'contacted', c.contacted,
             'qualified', c.qualified, 'won', c.won, 'lost', c.lost,
             'median_speed_secs', s.median, 'p90_speed_secs', s.p90) as j
      from counted as c
      left join speeds as s on s.facet = c.facet and s.k is not distinct from c.k
      left join names as n on c.facet = 'g' and n.k is not distinct from c.k
  ),
  days as (
    select d.i - 1 as day, p.k, count(*) as leads
      from unnest(day_starts[1:pg_catalog.array_length(day_starts, 1) - 1],
                  day_starts[2:pg_catalog.array_length(day_starts, 1)])
             with ordinality as d(s, e, i)
      join p on p.created_at >= d.s and p.created_at < d.e
     group by d.i, p.k
  ),
  buckets as (
    select (select count(*) from pg_catalog.unnest(speed_edges) as e where p.speed > e) as bucket,
           count(*) as n
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
    'public.lead_insights(text, timestamptz[], bigint[], jsonb)']
  loop
    execute 'revoke all on function ' || fn || ' from public, anon, authenticated';
    execute 'grant execute on function ' || fn || ' to service_role';
  end loop;
end
$$;

notify pgrst, 'reload schema';
