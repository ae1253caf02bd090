-- leadhook: follow-ups. A lead's next step (when, what) and its count of call attempts; the
-- history kinds `next_step` and `attempt`. Applies on top of 20261207120000_rep_tokens.sql; every
-- statement is idempotent. Servers from before it keep working: the new columns are nullable or
-- have a default, they read leads with `select=*` and ignore columns they do not know, and they
-- never write the new kinds.

alter table public.leads add column if not exists next_step_at timestamptz;
alter table public.leads add column if not exists next_step_what text;
alter table public.leads add column if not exists attempts integer not null default 0;
create index if not exists leads_next_step on public.leads (next_step_at) where next_step_at is not null;

alter table public.activity drop constraint if exists activity_kind_check;
alter table public.activity add constraint activity_kind_check
  check (kind in ('stored', 'redelivered', 'status', 'notes', 'claim', 'release', 'assign', 'erase',
                  'exported', 'next_step', 'attempt'));

-- The lead's next step as the API spells it, `{"at": ..., "what": ...}` or null: a computed field
-- PostgREST serves when asked for `select=*,next_step`.
create or replace function public.next_step(public.leads)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select case when $1.next_step_at is null then null
              else pg_catalog.jsonb_build_object('at', $1.next_step_at, 'what', $1.next_step_what) end
$$;

-- A next step as its `next_step` history entry spells it (NextStep::history_text in the server):
-- `2026-12-08T09:00:00Z Call back`.
create or replace function public.next_step_text(at timestamptz, what text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when at is null then null
              else pg_catalog.to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ' ' || what end
$$;

-- Whoever writes it (this server, an older one, SQL): closing a lead (Won, Lost, Unqualified) or
-- erasing it clears its next step.
create or replace function public.leads_follow_up_rules()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.erased_at is not null
     or (new.status in ('Won', 'Lost', 'Unqualified') and new.status is distinct from old.status) then
    new.next_step_at := null;
    new.next_step_what := null;
  end if;
  return new;
end
$$;

create or replace trigger leads_follow_up_rules
  before update on public.leads
  for each row when (not public.leadhook_copying())
  execute function public.leads_follow_up_rules();

-- As in 20261201100000_route_on_insert.sql, plus: the next step and the attempt count are not
-- Meta's fields, and a change of the next step is a `next_step` row.
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
    'changed_by', 'owner_change', 'erased_at', 'route_to', 'next_step_at', 'next_step_what', 'attempts'];
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

-- Counts `actor`'s call attempt on a lead that is not erased, records it as an `attempt` row
-- (`history` is the outcome and the note, CallOutcome::history_text in the server) and, when
-- `schedule_at` is given, sets the next step to its entry for this attempt's number (none past its
-- end), in one transaction with the lead locked: concurrent attempts each get their own number. The lead as it is now
-- (no row when no lead has that id or it is erased).
create or replace function public.record_attempt(target_lead bigint, actor text, history text,
                                                 schedule_at timestamptz[], schedule_what text[])
returns setof public.leads
language plpgsql
security invoker
set search_path = ''
as $$
begin
  perform 1 from public.leads as l where l.id = target_lead and l.erased_at is null for update;
  if not found then
    return;
  end if;
  insert into public.activity (lead_id, actor, kind, new) values (target_lead, actor, 'attempt', history);
  update public.leads as l
     set attempts = l.attempts + 1,
         next_step_at = case when schedule_at is null then l.next_step_at else schedule_at[l.attempts + 1] end,
         next_step_what = case when schedule_at is null then l.next_step_what else schedule_what[l.attempts + 1] end,
         changed_by = actor
   where l.id = target_lead;
  return query select * from public.leads as l where l.id = target_lead and l.erased_at is null;
end
$$;

revoke all on function public.next_step(public.leads) from public, anon, authenticated;
revoke all on function public.next_step_text(timestamptz, text) from public, anon, authenticated;
revoke all on function public.leads_follow_up_rules() from public, anon, authenticated;
revoke all on function public.record_attempt(bigint, text, text, timestamptz[], text[])
  from public, anon, authenticated;
grant execute on function public.next_step(public.leads) to service_role;
grant execute on function public.next_step_text(timestamptz, text) to service_role;
grant execute on function public.leads_follow_up_rules() to service_role;
grant execute on function public.record_attempt(bigint, text, text, timestamptz[], text[]) to service_role;

notify pgrst, 'reload schema';
