-- Locations (WGS 84 degrees): a customer's service address and a
-- technician's base, where its day starts. Both coordinates or neither.
ALTER TABLE customers
    ADD COLUMN latitude DOUBLE PRECISION CHECK (latitude BETWEEN -90 AND 90),
    ADD COLUMN longitude DOUBLE PRECISION CHECK (longitude BETWEEN -180 AND 180),
    ADD CONSTRAINT customers_location_pair CHECK ((latitude IS NULL) = (longitude IS NULL));
ALTER TABLE technicians
    ADD COLUMN base_latitude DOUBLE PRECISION CHECK (base_latitude BETWEEN -90 AND 90),
    ADD COLUMN base_longitude DOUBLE PRECISION CHECK (base_longitude BETWEEN -180 AND 180),
    ADD CONSTRAINT technicians_base_pair CHECK ((base_latitude IS NULL) = (base_longitude IS NULL));

-- Dispatch suggestions read a day of bookings for every technician, and each
-- technician's UNAVAILABLE entries in a window: indexes for both. A booking
-- lasts at most 24 hours (as assignJob says), so a day's bookings are found
-- by a bounded range of starts.
CREATE INDEX job_assignments_live_starts_idx ON job_assignments (starts_at) WHERE live;
CREATE INDEX schedules_unavailable_idx ON schedules (technician_id, starts_at) WHERE kind = 'UNAVAILABLE';
ALTER TABLE job_assignments ADD CONSTRAINT job_assignments_at_most_a_day CHECK (ends_at - starts_at <= interval '24 hours');
