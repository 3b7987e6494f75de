-- What a calendar subscriber sees of an event moves only when the calendar entry changes
-- (title, summary, times, time zone, place, link, cancelled or not): a seat taken or a
-- capacity raised changes the event's version, but not its calendar SEQUENCE or
-- LAST-MODIFIED, so calendar clients do not treat it as a rescheduling.
-- Existing events carry their current SEQUENCE (version - 1) over, so it never goes back.

alter table events add column calendar_sequence integer not null default 0;
alter table events add column calendar_updated_at text;
update events set calendar_sequence = version - 1, calendar_updated_at = updated_at;
