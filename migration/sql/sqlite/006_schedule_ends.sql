-- A calendar window's overlap test is "starts before the window ends and
-- ends after it starts". Bounded by start, the index read a technician's
-- whole past (three entries read for each one answered in the benchmark's
-- week, and more every month); bounded by end, it reads only entries that
-- end after the window starts: the present and the future, which stay
-- small while the history grows. Time off has no maximum length, so the
-- start alone cannot bound it.
CREATE INDEX schedules_technician_ends_idx ON schedules (technician_id, ends_at);
