-- A realistic mix of writes for history_statements.rs: routed leads over three reps, junk,
-- repeats linked by phone and e-mail, a manual lead, a lead with its owner given, a window of 0,
-- status, owner, notes and link changes, an erasure, an export, the Conversions API on then off,
-- channel routes, and a copy writing its own history.
insert into reps (name) values ('alice'), ('bob'), ('carol') on conflict do nothing;
insert into outbox_routes (destination, event_type) values
  ('slack', 'lead.created'), ('hook', 'lead.assigned'), ('hook', 'lead.created'),
  ('slack', 'lead.status_changed'), ('hook', 'lead.status_changed'), ('hook', 'lead.escalated');
insert into capi_switch (id, enabled) values (1, true) on conflict (id) do update set enabled = true;
-- piece 1: routed leads from Meta, junk among them, repeats by phone and e-mail
insert into leads (leadgen_id, name, email_key, phone_e164, form_name, route_to, changed_by, junk_reason)
select 'g' || i, 'N' || i, 'p' || (i % 37) || '@x.com',
       case when i % 3 = 0 then '+3161234' || lpad((i % 23)::text, 4, '0') end,
       case when i % 2 = 0 then 'Form ' || (i % 4) end,
       case when i % 5 <> 0 then array['alice', 'bob', 'carol'] end,
       case when i % 7 = 0 then 'webhook' end,
       case when i % 11 = 0 then 'spam' end
  from generate_series(1, 300) as i;
-- a manual lead and one with an owner given
insert into leads (name, phone_e164, is_manual, changed_by, owner) values ('Manual', '+31612340001', true, 'alice', 'alice');
insert into leads (leadgen_id, name, email_key, changed_by, owner) values ('own1', 'O', 'p3@x.com', 'bob', 'carol');
-- piece 2: more, no routing, with a window of 0 for some
insert into leads (leadgen_id, name, email_key, phone_e164, form_name, link_window)
select 'h' || i, 'M' || i, 'p' || (i % 51) || '@x.com', '+3161234' || lpad((i % 29)::text, 4, '0'),
       'Form B', case when i % 9 = 0 then 0 end
  from generate_series(1, 200) as i;
-- updates keep their row triggers
update leads set status = 'Contacted', changed_by = 'alice' where leadgen_id in ('g1', 'g2', 'h5');
update leads set status = 'Won', changed_by = 'bob' where leadgen_id = 'g2';
update leads set owner = 'bob', changed_by = 'alice' where leadgen_id = 'g4';
update leads set notes = 'called', changed_by = 'carol' where leadgen_id = 'h7';
update leads set repeat_of = (select id from leads where leadgen_id = 'g1'), repeat_via = 'email', changed_by = 'alice' where leadgen_id = 'g5';
update leads set erased_at = now(), changed_by = 'alice' where leadgen_id = 'g6';
select record_exports(array(select id from leads where leadgen_id in ('g1', 'g3', 'h1')), 'alice');
-- several activity rows in one statement, and an escalation
insert into activity (lead_id, actor, kind, new)
select id, 'bob', 'claim', 'bob' from leads where leadgen_id in ('h1', 'h2', 'h3') order by id;
update leads set escalated_level = 1 where leadgen_id = 'g8';
-- CAPI off, another piece
update capi_switch set enabled = false where id = 1;
insert into leads (leadgen_id, name, email_key, route_to)
select 'k' || i, 'K' || i, 'p' || (i % 13) || '@x.com', array['alice', 'bob'] from generate_series(1, 40) as i;
-- a copy writes its own history
begin;
select set_config('request.headers', '{"x-leadhook-copy": "history"}', true);
insert into leads (id, leadgen_id, name, email_key) values (100000, 'copy1', 'C', 'p1@x.com');
insert into activity (lead_id, actor, kind) values (100000, 'system', 'stored');
commit;
