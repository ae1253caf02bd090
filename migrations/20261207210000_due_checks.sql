-- The escalation and reminder checks in one request each: every server checks every second, so
-- an idle replica's cost is what these two reads cost (leadhook-bench replicas lists it by job).
-- Each function returns what the check used to read in two or three requests: the leads due,
-- and the marks taken recently (by any server) for it to announce. The same answers as the
-- SQLite store (server/src/store/sqlite/{escalation,reminders}.rs);
-- server/tests/store/conformance/{queue,reminders}.rs holds both to them.
--
-- Only adds functions: an older server keeps reading the table as before.

-- A lead as the PostgREST store reads it (`select=*,next_step`): every column, and the computed
-- `next_step`.
create or replace function public.lead_json(lead public.leads)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select to_jsonb(lead) || jsonb_build_object('next_step', public.next_step(lead))
$$;

-- due_before holds one time per level, level 1 first (longer thresholds, earlier times). A lead
-- is due for the highest level whose time it was submitted at or before and that it has not
-- reached yet: escalated once, for the longest threshold it waited past.
create or replace function public.escalation_check(created_after timestamptz,
  due_before timestamptz[], due_limit integer, marked_after timestamptz, marked_limit integer)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  with due as (
    select lead, level.due_level
    from public.leads lead
    cross join lateral (
      select max(n) as due_level
      from generate_subscripts(due_before, 1) n
      where lead.created_at <= due_before[n] and lead.escalated_level < n
    ) level
    where lead.status = 'New Lead'
      and lead.created_at > created_after
      and lead.created_at <= (select max(t) from unnest(due_before) t)
      and (lead.junk_reason is null or lead.junk_cleared_at is not null)
      and level.due_level is not null
    order by lead.created_at, lead.id
    limit due_limit
  ), marked as (
    select lead
    from public.leads lead
    where lead.escalated_at > marked_after
    order by lead.escalated_at, lead.id
    limit marked_limit
  )
  select jsonb_build_object(
    'due', coalesce((select jsonb_agg(public.lead_json(due.lead) || jsonb_build_object('due_level', due.due_level)
                                      order by (due.lead).created_at, (due.lead).id) from due), '[]'),
    'marked', coalesce((select jsonb_agg(public.lead_json(marked.lead)
                                         order by (marked.lead).escalated_at, (marked.lead).id)
                        from marked), '[]'))
$$;

-- A step is due after due_after and at or before due_before, its reminder not taken; a mark
-- is announced while the step it was taken for is still the lead's (the follow-up trigger clears
-- reminded_at when the step changes).
create or replace function public.reminder_check(due_after timestamptz, due_before timestamptz,
  due_limit integer, marked_after timestamptz, marked_limit integer)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  with due as (
    select lead
    from public.leads lead
    where lead.next_step_at > due_after and lead.next_step_at <= due_before
      and lead.reminded_at is null and lead.erased_at is null
    order by lead.next_step_at, lead.id
    limit due_limit
  ), marked as (
    select lead
    from public.leads lead
    where lead.reminded_at > marked_after and lead.next_step_at is not null
      and lead.erased_at is null
    order by lead.reminded_at, lead.id
    limit marked_limit
  )
  select jsonb_build_object(
    'due', coalesce((select jsonb_agg(public.lead_json(due.lead)
                                      order by (due.lead).next_step_at, (due.lead).id) from due), '[]'),
    'marked', coalesce((select jsonb_agg(public.lead_json(marked.lead)
                                         order by (marked.lead).reminded_at, (marked.lead).id)
                        from marked), '[]'))
$$;

do $$
declare
  fn text;
begin
  foreach fn in array array[
    'public.lead_json(public.leads)',
    'public.escalation_check(timestamptz, timestamptz[], integer, timestamptz, integer)',
    'public.reminder_check(timestamptz, timestamptz, integer, timestamptz, integer)']
  loop
    execute 'revoke all on function ' || fn || ' from public, anon, authenticated';
    execute 'grant execute on function ' || fn || ' to service_role';
  end loop;
end
$$;

notify pgrst, 'reload schema';
