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
