-- A lead's deliveries, for its details in the dashboard (`GET /api/leads/{id}/deliveries`): one
-- index step per lead instead of a scan of the outbox.

create index if not exists outbox_by_lead on public.capi_events (lead_id, id);

notify pgrst, 'reload schema';
