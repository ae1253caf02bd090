-- Insights at 100,000 leads (issue 29, the speed target): fewer and cheaper passes of
-- `lead_insights`. Backend CPU per call, 30 days of a month of 100,000 leads on a local
-- PostgreSQL 15: 147-167 ms before, 122-135 ms after (vacuumed); 188-212 ms before, 157-161 ms
-- after as the month is left by writing it through PostgREST (neither vacuumed nor analysed).
--
-- - `speed_secs` is kept on the lead: whole seconds from the form to the first contact, never
--   negative, null before the first contact. A stored generated column, so every writer keeps it
--   (an older server's too, which never names it), the leads stored before get it in place, and
--   a re-delivery that moves `created_at` moves it. It holds nothing erasure clears: the two
--   times it is made of stay on an erased lead. The period's rows need no numeric arithmetic.
-- - Every lead's `stages` hold its own status's stage too, so the period's rows read `stages`
--   alone; the covering index holds `speed_secs` instead of `first_contact_at` and `status`.
-- - The period is read from the index once (where the visibility map is not set, every read
--   visits each lead's row too), and its leads are told apart in one hashing pass by source,
--   owner and one packed integer (stages, junk, contacted, speed bucket, day): the period,
--   source, rep, day and histogram figures all add up those rows (a second pass over the period
--   counted the days and the histogram before).
-- - Persons with a repeat are found among the period's rows as read once, where a second read of
--   the index visited every lead's row again before the visibility map is set.
--
-- Adding the stored column rewrites `leads` under an exclusive lock (about 1 s per 100,000 leads
-- on the machine the figures above come from): writes wait meanwhile and none fails (the
-- servers' inboxes hold what Meta sends); apply it at a quiet hour on a large table.
--
-- Safe beside an older server: the column is generated, the triggers' column lists name it, the
-- trigger that marks stages is the one it already writes through, and `lead_insights` keeps its
-- arguments and its answer.

alter table public.leads add column if not exists speed_secs bigint
  generated always as (case when first_contact_at is not null
                            then greatest(0, floor(extract(epoch from first_contact_at - created_at)))::bigint
                       end) stored;

-- `speed_secs` is not Meta's (no re-delivery) and derived (no change of the lead), as
-- first_contact_at and the stages: the lists of 20261207202000_lead_column_roles.sql plus it.
create or replace function public.lead_not_meta_columns() returns text[]
language sql
immutable
set search_path = ''
as $$
  select array['id', 'leadgen_id', 'status', 'is_manual', 'received_at',
    'updated_at', 'notes', 'owner', 'owned_at', 'first_contact_at', 'escalated_level', 'escalated_at',
    'changed_by', 'owner_change', 'erased_at', 'route_to', 'next_step_at', 'next_step_what', 'attempts',
    'reminded_at', 'phone_e164', 'phone_invalid', 'email_key', 'junk_reason', 'junk_cleared_at',
    'repeat_of', 'repeat_via', 'triaged', 'link_window', 'stages', 'speed_secs']
$$;

create or replace function public.lead_derived_columns() returns text[]
language sql
immutable
set search_path = ''
as $$
  select array['changed_by', 'owner_change', 'escalated_level', 'escalated_at',
    'reminded_at', 'phone_e164', 'phone_invalid', 'email_key', 'junk_reason', 'triaged',
    'link_window', 'speed_secs']
$$;

-- Everything a period's insights read by Meta's groupings: the speed instead of the time of the
-- first contact, and no status (below).
drop index if exists public.leads_insights;
create index if not exists leads_insights_speed on public.leads (created_at)
  include (campaign_id, adset_id, ad_id, form_id, platform, is_organic, owner, speed_secs,
           stages, junk_reason, junk_cleared_at, repeat_of, id);

-- A lead's stages hold its own status's stage: the trigger of 20261207173000_insights_stages.sql
-- marks it at every status write since, but a lead whose status no history row shows (stored
-- before the history was kept) got only its history's. Marked here in place, so the insights read
-- `stages` alone. Not a change of the leads: their triggers stand aside as for a copy.
select pg_catalog.set_config('request.headers', '{"x-leadhook-copy": "history"}', false);
update public.leads
   set stages = stages | public.stage_bit(status)
 where stages & public.stage_bit(status) <> public.stage_bit(status);
select pg_catalog.set_config('request.headers', '{}', false);

-- As in 20261207195500_insights_one_pass.sql: the figures of leads created from day_starts[1] to
-- the last day_starts, grouped by `source_by`; medians and p90 nearest rank (the sample at rank
-- ceil(n * p), as percentile_disc and the server's `percentile`).
create or replace function public.lead_insights(source_by text, day_starts timestamptz[], speed_edges bigint[],
                                                answer_questions jsonb default null)
returns jsonb
language plpgsql
stable
set search_path = ''
set work_mem = '64MB'
-- When the period holds most leads the planner would rather read the whole table than the
-- covering index, which is a third of its size and all the statement needs.
set enable_seqscan = off
-- Nor a bitmap of the period's rows (what it chose for a store not yet analysed, reading the
-- whole table's rows where the index holds what the statement needs).
set enable_bitmapscan = off
-- The planner cannot count a materialized CTE's rows by a condition, and without this chose a
-- nested loop for the persons' first leads (tens of seconds: every period row against every
-- repeat); the joins here are hashed or small.
set enable_nestloop = off
-- Compiling the statement (PostgreSQL's JIT, at its default threshold once a store's period is a
-- few times larger than this month) cost 47 ms more per call than it saved at 100,000 leads.
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
  in_period constant text := 'l.created_at >= $1[1] and l.created_at < $1[pg_catalog.array_length($1, 1)]';
  answer jsonb;
begin
  if source is null then
    raise exception 'unknown grouping %', source_by using errcode = '22023';
  end if;
  -- The packed kinds below hold a speed bucket in 11 bits.
  if coalesce(pg_catalog.array_length(speed_edges, 1), 0) > 2000 then
    raise exception 'at most 2000 speed edges, not %', pg_catalog.array_length(speed_edges, 1) using errcode = '22023';
  end if;
  execute pg_catalog.format($q$
  with
  -- The period's leads read once (where the visibility map is not yet set, each read of the
  -- index visits every lead's row as well): source, owner, speed and one integer packing the
  -- stages reached (bits 0-2), junk (3), contacted (4), the speed bucket (5-15) and the day
  -- (16 on).
  period as materialized (
    select %1$s as k, l.owner, l.speed_secs as speed, l.id, l.repeat_of,
           l.stages::bigint
           | case when %3$s then 8 else 0 end
           | case when l.speed_secs is not null
                  then 16 | (pg_catalog.width_bucket(l.speed_secs - 1, $2)::bigint << 5) else 0 end
           | ((pg_catalog.width_bucket(l.created_at, $1) - 1)::bigint << 16) as packed
      from public.leads as l where %4$s
  ),
  -- The period's leads told apart by everything the figures count, in one hashing pass: a few
  -- thousand kinds that the period, source, rep, day and histogram figures add up.
  kinds as (
    select k, owner, packed, count(*) as leads
      from period group by k, owner, packed
  ),
  counted as (
    select grouping(k, owner) as facet, k, owner,
           coalesce(sum(leads), 0) as leads, coalesce(sum(leads) filter (where packed & 8 > 0), 0) as junk,
           coalesce(sum(leads) filter (where packed & 16 > 0), 0) as contacted,
           coalesce(sum(leads) filter (where packed & 1 > 0), 0) as qualified,
           coalesce(sum(leads) filter (where packed & 2 > 0), 0) as won,
           coalesce(sum(leads) filter (where packed & 4 > 0), 0) as lost,
           max(packed >> 16) as newest_day
      from kinds group by grouping sets ((), (k), (owner))
  ),
  spread as (
    select grouping(day, bucket) as facet, day, k, bucket, sum(leads) as leads
      from (select k, (packed >> 16)::integer as day, case when packed & 16 > 0 then ((packed >> 5) & 2047)::integer end as bucket, leads
              from kinds) as x
     group by grouping sets ((day, k), (bucket))
  ),
  -- Each facet's speeds gathered by hashing, then sorted once each for its ranks (a sort of
  -- whole numbers; sorting the rows by source or owner first compares text and cost three times
  -- as much).
  speeds as (
    select facet, k, owner,
           (select percentile_disc(array[0.5, 0.9]) within group (order by s.speed)
              from pg_catalog.unnest(speeds) as s(speed)) as ranks
      from (select grouping(k, owner) as facet, k, owner, pg_catalog.array_agg(speed) as speeds
              from period where speed is not null
             group by grouping sets ((), (k), (owner))) as gathered
  ),
  -- People are leads less the repeats of a person already counted. Only a person with a repeat in
  -- the period has two leads in it: its repeats and its first lead.
  repeats as materialized (
    select k, repeat_of as person from period where repeat_of is not null and packed & 8 = 0
  ),
  firsts as (
    select k, id as person
      from period
     where repeat_of is null and packed & 8 = 0 and id in (select person from repeats)
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
                        from spread where facet = 1), '[]'::jsonb),
    'speed_histogram', (select pg_catalog.jsonb_agg(coalesce(b.leads, 0) order by slot)
                          from pg_catalog.generate_series(0, pg_catalog.array_length($2, 1)) as slot
                          left join spread as b on b.facet = 2 and b.bucket = slot)
  )
  $q$, source,
  -- A source's name: the newest name among its leads of the period, read back from the end of
  -- the day of its newest lead.
  case when name is null then 'null::text' else pg_catalog.format(
    'select l.%1$I from public.leads as l where l.%2$I = f.k and l.%1$I is not null
        and l.created_at >= $1[1]
        and l.created_at < $1[(select c.newest_day from counted as c where c.facet = 1 and c.k = f.k) + 2]
      order by l.created_at desc, l.id desc limit 1', name, source_by || '_id') end,
  junk, in_period)
  into answer using day_starts, speed_edges, answer_questions;
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
