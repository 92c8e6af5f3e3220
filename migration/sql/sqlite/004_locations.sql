-- Locations (WGS 84 degrees): a customer's service address and a
-- technician's base, where its day starts. Both coordinates or neither
-- (SQLite adds no table constraint to an existing table: the pair check
-- rides on the second column, which may name the first).
ALTER TABLE customers ADD COLUMN latitude REAL CHECK (latitude BETWEEN -90 AND 90);
ALTER TABLE customers ADD COLUMN longitude REAL
    CHECK (longitude BETWEEN -180 AND 180 AND (latitude IS NULL) = (longitude IS NULL));
ALTER TABLE technicians ADD COLUMN base_latitude REAL CHECK (base_latitude BETWEEN -90 AND 90);
ALTER TABLE technicians ADD COLUMN base_longitude REAL
    CHECK (base_longitude BETWEEN -180 AND 180 AND (base_latitude IS NULL) = (base_longitude IS NULL));

-- Dispatch suggestions read a day of bookings for every technician, and each
-- technician's UNAVAILABLE entries in a window: indexes for both. (The
-- 24-hour cap on a booking is the domain's here: SQLite adds no CHECK to an
-- existing table.)
CREATE INDEX job_assignments_live_starts_idx ON job_assignments (starts_at) WHERE live;
CREATE INDEX schedules_unavailable_idx ON schedules (technician_id, starts_at) WHERE kind = 'UNAVAILABLE';
